//! How often a job gets a full reconcile step (watch-driven, with a periodic resync, as kube-rs
//! controllers do) and when the overview comparison alone — a *light* step — is enough.
//!
//! A full step reads the store, the job's checkpoint statistics and its health sample (several
//! Flink requests and store queries); a light step compares what the environment's shared
//! `/jobs/overview` shows of the job (one request per environment and tick, read by every job)
//! with what the last full step saw. A job gets a full step when:
//!
//! - it never had one, a command or the supervisor asked for one ([`Why::Requested`]);
//! - its last full step left it unsettled ([`unsettled`]: it acted, an intent is pending, it
//!   waits for something, it is not running with a completed checkpoint yet, it has an
//!   autoscaler, …);
//! - its overview entries changed ([`fingerprint`]: job id, state, start and end time, last state
//!   change, task counts), or the overview is not known (the cluster does not answer);
//! - something time-based is due ([`FullStep::due_ms`]): the resync ([`resync`], at least every
//!   30 s), the end of a pending alert's `for`, the instant `FlinkNoRecentCheckpoint` would start
//!   to hold without a new checkpoint, the instant the planner would find the checkpoints stale,
//!   a periodic savepoint.
//!
//! The health rule that follows: a job's health sample is read, and every rule evaluated, at
//! each full step — on every change of the job seen in the overview (within a tick), at least
//! every [`resync`] period, and at the instant a pending alert's `for` ends or
//! `FlinkNoRecentCheckpoint` would start to hold. A rule whose condition only metrics show
//! (restarts, failed checkpoints, checkpoint duration, backpressure, busy time) is thus seen at
//! most one resync period late — the order of Prometheus' own scrape plus evaluation interval
//! (15 s + 15 s by default) — and a `for` duration, once pending, ends on time.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use flinkops_control::lifecycle::Phase;
use flinkops_rest::JobOverview;

/// The shortest resync: a settled job gets a full step at least this often.
pub const RESYNC_MIN: Duration = Duration::from_secs(30);

/// How often a settled job gets a full step when nothing else asks for one: [`RESYNC_MIN`], or
/// the tick when that is longer.
pub fn resync(tick: Duration) -> Duration {
    tick.max(RESYNC_MIN)
}

/// A hash of what the environment's overview shows of one managed job: every Flink job of that
/// name with its id, name, state, start and end time, last state change and task counts (not
/// its duration, which grows by itself). Equal fingerprints: nothing a reconcile step reacts to
/// changed in the overview.
pub type Fingerprint = u64;

pub fn fingerprint(entries: Option<&Vec<JobOverview>>) -> Fingerprint {
    type Part<'a> = (&'a str, &'a str, &'a str, i64, i64, i64, &'a BTreeMap<String, u32>);
    let mut parts: Vec<Part<'_>> = entries
        .into_iter()
        .flatten()
        .map(|j| (j.jid.as_str(), j.name.as_str(), j.state.as_str(), j.start_time, j.end_time, j.last_modification, &j.tasks))
        .collect();
    parts.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// What a job's last full step leaves for the decisions until the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullStep {
    /// When it started (epoch ms).
    pub at_ms: i64,
    /// The job's overview entries it ended with (None: the cluster did not answer).
    pub seen: Option<Fingerprint>,
    /// Why the job is not settled (None: settled; light steps may follow).
    pub unsettled: Option<&'static str>,
    /// When the next full step is due at the latest (epoch ms; see [`due`]).
    pub due_ms: i64,
}

/// What the next step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Compare the overview entries only: no store, no further Flink request.
    Light,
    Full(Why),
}

/// Why a step is a full one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The job never had a full step (or the last one failed).
    First,
    /// A command, a spec reload or the supervisor asked for one.
    Requested,
    /// The last full step left the job unsettled.
    Unsettled,
    /// The overview is not known now (no client, the cluster did not answer, no recent poll).
    Unobserved,
    /// The job's overview entries changed since the last full step.
    Changed,
    /// A time-based deadline (resync, alert `for`, checkpoint age, periodic savepoint) came.
    Due,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::First => "first",
            Why::Requested => "requested",
            Why::Unsettled => "unsettled",
            Why::Unobserved => "unobserved",
            Why::Changed => "changed",
            Why::Due => "due",
        }
    }
}

/// The next step of a job: `last` is its last full step, `now` the time, `current` the
/// fingerprint of its entries in a recent overview (None when none is known), `requested`
/// whether something asked for a full step since.
pub fn decide(last: Option<&FullStep>, now_ms: i64, current: Option<Fingerprint>, requested: bool) -> Kind {
    let Some(last) = last else { return Kind::Full(Why::First) };
    if requested {
        return Kind::Full(Why::Requested);
    }
    if last.unsettled.is_some() {
        return Kind::Full(Why::Unsettled);
    }
    let Some(current) = current else { return Kind::Full(Why::Unobserved) };
    if last.seen != Some(current) {
        return Kind::Full(Why::Changed);
    }
    if now_ms >= last.due_ms {
        return Kind::Full(Why::Due);
    }
    Kind::Light
}

/// When the next full step is due: the resync after `at_ms`, or the earliest deadline when that
/// comes first.
pub fn due(at_ms: i64, resync: Duration, deadlines: impl IntoIterator<Item = Option<i64>>) -> i64 {
    let resync_at = at_ms.saturating_add(i64::try_from(resync.as_millis()).unwrap_or(i64::MAX));
    deadlines.into_iter().flatten().fold(resync_at, i64::min)
}

/// How a full step ended, for [`unsettled`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub phase: Phase,
    /// It performed an action, took a savepoint or ran the autoscaler's rescale.
    pub acted: bool,
    /// An exclusive intent was pending before or after it.
    pub pending: bool,
    /// The planner waits for something (`StepReport::waiting`) or asked to be requeued sooner
    /// than the tick.
    pub waiting: bool,
    /// The cluster answered.
    pub reachable: bool,
    /// The job has an autoscaler (its metric window needs a sample at every tick).
    pub autoscaler: bool,
    /// The active Flink job runs (RUNNING).
    pub running: bool,
    /// Checkpointing is configured and the active Flink job has not completed one yet.
    pub awaiting_checkpoint: bool,
    /// Automatic recovery counts an attempt that has not been confirmed by a checkpoint.
    pub recovering: bool,
}

/// Why a job is not settled after a full step (None: settled). A settled job is running with a
/// completed checkpoint, suspended or finished, with nothing pending, nothing done and nothing
/// waited for: as long as its overview entries stay the same, a new full step would plan
/// nothing either, until something time-based is due.
pub fn unsettled(o: &Outcome) -> Option<&'static str> {
    if !o.reachable {
        return Some("the cluster does not answer");
    }
    if o.acted {
        return Some("the step acted");
    }
    if o.pending {
        return Some("an intent is pending");
    }
    if o.waiting {
        return Some("the planner waits");
    }
    if o.autoscaler {
        return Some("the autoscaler samples at every tick");
    }
    match o.phase {
        Phase::Running if !o.running => Some("the job is not running yet"),
        Phase::Running if o.awaiting_checkpoint => Some("the job has not completed a checkpoint yet"),
        Phase::Running if o.recovering => Some("a recovery is not confirmed yet"),
        Phase::Running | Phase::Suspended | Phase::Finished => None,
        _ => Some("the job is in a transitional phase"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(at_ms: i64, seen: Fingerprint, due_ms: i64) -> FullStep {
        FullStep { at_ms, seen: Some(seen), unsettled: None, due_ms }
    }

    #[test]
    fn decide_table() {
        let last = settled(1_000, 7, 31_000);
        let unsettled_last = FullStep { unsettled: Some("the step acted"), ..last.clone() };
        let unreachable_last = FullStep { seen: None, unsettled: Some("the cluster does not answer"), ..last.clone() };
        // (name, last, now, current, requested) → kind
        type Case<'a> = (&'a str, Option<&'a FullStep>, i64, Option<Fingerprint>, bool, Kind);
        let cases: Vec<Case<'_>> = vec![
            ("never stepped", None, 2_000, Some(7), false, Kind::Full(Why::First)),
            ("never stepped, requested", None, 2_000, Some(7), true, Kind::Full(Why::First)),
            ("unchanged, before the deadline", Some(&last), 2_000, Some(7), false, Kind::Light),
            ("unchanged, just before the deadline", Some(&last), 30_999, Some(7), false, Kind::Light),
            ("unchanged, at the deadline", Some(&last), 31_000, Some(7), false, Kind::Full(Why::Due)),
            ("unchanged, past the deadline", Some(&last), 90_000, Some(7), false, Kind::Full(Why::Due)),
            ("changed entries", Some(&last), 2_000, Some(8), false, Kind::Full(Why::Changed)),
            ("no overview known", Some(&last), 2_000, None, false, Kind::Full(Why::Unobserved)),
            ("a command", Some(&last), 2_000, Some(7), true, Kind::Full(Why::Requested)),
            ("a command beats a change", Some(&last), 2_000, Some(8), true, Kind::Full(Why::Requested)),
            ("unsettled, unchanged", Some(&unsettled_last), 2_000, Some(7), false, Kind::Full(Why::Unsettled)),
            ("unreachable before, answers now", Some(&unreachable_last), 2_000, Some(7), false, Kind::Full(Why::Unsettled)),
        ];
        for (name, last, now, current, requested, want) in cases {
            assert_eq!(decide(last, now, current, requested), want, "{name}");
        }
    }

    #[test]
    fn a_settled_job_seen_unreachable_gets_a_full_step() {
        // A settled job whose last full step saw its entries, then the overview cannot be read.
        assert_eq!(decide(Some(&settled(0, 1, 30_000)), 5_000, None, false), Kind::Full(Why::Unobserved));
    }

    #[test]
    fn due_is_the_earliest_deadline_or_the_resync() {
        let r = Duration::from_secs(30);
        assert_eq!(due(1_000, r, []), 31_000);
        assert_eq!(due(1_000, r, [None, None]), 31_000);
        assert_eq!(due(1_000, r, [Some(20_000), None, Some(25_000)]), 20_000);
        assert_eq!(due(1_000, r, [Some(40_000)]), 31_000, "a later deadline does not postpone the resync");
        assert_eq!(due(1_000, r, [Some(500)]), 500, "a deadline already past is due at once");
        assert_eq!(resync(Duration::from_secs(5)), Duration::from_secs(30));
        assert_eq!(resync(Duration::from_secs(90)), Duration::from_secs(90), "never more often than the tick");
    }

    fn outcome() -> Outcome {
        Outcome {
            phase: Phase::Running,
            acted: false,
            pending: false,
            waiting: false,
            reachable: true,
            autoscaler: false,
            running: true,
            awaiting_checkpoint: false,
            recovering: false,
        }
    }

    #[test]
    fn unsettled_table() {
        let cases: Vec<(&str, Outcome, bool)> = vec![
            ("running with a checkpoint", outcome(), true),
            ("suspended", Outcome { phase: Phase::Suspended, running: false, ..outcome() }, true),
            ("finished", Outcome { phase: Phase::Finished, running: false, ..outcome() }, true),
            ("acted", Outcome { acted: true, ..outcome() }, false),
            ("intent pending", Outcome { pending: true, ..outcome() }, false),
            ("waiting", Outcome { waiting: true, ..outcome() }, false),
            ("unreachable", Outcome { reachable: false, ..outcome() }, false),
            ("autoscaler", Outcome { autoscaler: true, ..outcome() }, false),
            ("no checkpoint yet", Outcome { awaiting_checkpoint: true, ..outcome() }, false),
            ("recovery not confirmed", Outcome { recovering: true, ..outcome() }, false),
            ("running phase, job starting", Outcome { running: false, ..outcome() }, false),
            ("deploying", Outcome { phase: Phase::Deploying, running: false, ..outcome() }, false),
            ("recovering", Outcome { phase: Phase::Recovering, running: false, ..outcome() }, false),
            ("failed (breaker open)", Outcome { phase: Phase::Failed, running: false, ..outcome() }, false),
            ("upgrading", Outcome { phase: Phase::Upgrading, ..outcome() }, false),
        ];
        for (name, o, settled) in cases {
            assert_eq!(unsettled(&o).is_none(), settled, "{name}: {:?}", unsettled(&o));
        }
    }

    fn entry(jid: &str, state: &str, last_modification: i64, running_tasks: u32) -> JobOverview {
        serde_json::from_value(serde_json::json!({
            "jid": jid,
            "name": "orders@0123456789ab",
            "state": state,
            "start-time": 1_000,
            "end-time": -1,
            "duration": 5_000,
            "last-modification": last_modification,
            "tasks": {"total": 2, "running": running_tasks, "deploying": 2 - running_tasks},
        }))
        .expect("an overview entry")
    }

    const A: &str = "0000000000000000000000000000000a";
    const B: &str = "0000000000000000000000000000000b";

    #[test]
    fn fingerprint_sees_what_a_step_reacts_to() {
        let base = vec![entry(A, "RUNNING", 2_000, 2)];
        let fp = fingerprint(Some(&base));
        assert_eq!(fp, fingerprint(Some(&base.clone())), "stable");
        let mut longer = base.clone();
        longer[0].duration = 99_000;
        assert_eq!(fingerprint(Some(&longer)), fp, "a growing duration is no change");
        let changes: Vec<(&str, Vec<JobOverview>)> = vec![
            ("state", vec![entry(A, "RESTARTING", 2_000, 2)]),
            ("last state change (a restart that is over)", vec![entry(A, "RUNNING", 3_000, 2)]),
            ("task counts", vec![entry(A, "RUNNING", 2_000, 1)]),
            ("another job id", vec![entry(B, "RUNNING", 2_000, 2)]),
            ("a second job", vec![entry(A, "RUNNING", 2_000, 2), entry(B, "CANCELED", 2_000, 0)]),
            ("gone", vec![]),
        ];
        for (what, entries) in changes {
            assert_ne!(fingerprint(Some(&entries)), fp, "{what}");
        }
        assert_eq!(fingerprint(None), fingerprint(Some(&vec![])), "absent and no entries are the same");
        let two = vec![entry(A, "RUNNING", 2_000, 2), entry(B, "CANCELED", 2_000, 0)];
        let swapped = vec![two[1].clone(), two[0].clone()];
        assert_eq!(fingerprint(Some(&two)), fingerprint(Some(&swapped)), "the order of the overview does not matter");
    }
}
