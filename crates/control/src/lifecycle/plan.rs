//! The pure planner: `plan(desired, observed, facts) -> actions`, one reconcile step.
//!
//! It never performs anything. The shell (serve) executes the actions in order and plans again
//! (requeue); every destructive action is bracketed by an intent in the store
//! ([`Action::intent_kind`]): written as pending before it runs, finished after. An upgrade is
//! one intent whose payload ([`UpgradeIntent`]) records its progress; while it is pending the
//! planner only asks [`resume`] for its next step, so a crash at any instant continues where the
//! store says it was.

use serde::{Deserialize, Serialize};

use super::upgrade::{UpgradeIntent, resume};
use crate::store::{IntentKind, IntentState};

/// A spec version: the number in the store and the hash that identifies the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRef {
    pub version: i64,
    pub spec_hash: String,
}

/// What the spec wants for one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub job: String,
    pub version: VersionRef,
    /// `suspend`ed by a person: stop with a savepoint and stay stopped.
    pub suspended: bool,
}

/// A Flink job's state, reduced to what decisions need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    /// CREATED, INITIALIZING, RESTARTING, RECONCILING: on its way, do not disturb.
    Starting,
    Running,
    /// FAILING, CANCELLING: on its way out.
    Stopping,
    /// FAILED: Flink's restart strategy gave up.
    Failed,
    /// CANCELED or SUSPENDED.
    Stopped,
    /// FINISHED: a bounded job completed, or a job was stopped with a savepoint.
    Finished,
}

impl JobStatus {
    /// Maps Flink's job state names.
    pub fn from_flink(state: &str) -> JobStatus {
        match state {
            "RUNNING" => JobStatus::Running,
            "FAILING" | "CANCELLING" => JobStatus::Stopping,
            "FAILED" => JobStatus::Failed,
            "FINISHED" => JobStatus::Finished,
            "CANCELED" | "SUSPENDED" => JobStatus::Stopped,
            _ => JobStatus::Starting,
        }
    }

    /// Neither terminal nor leaving.
    pub fn is_active(self) -> bool {
        matches!(self, JobStatus::Starting | JobStatus::Running)
    }
}

/// One Flink job that belongs to the managed job (by its name; see [`flink_job_name`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveJob {
    pub flink_job_id: String,
    /// The spec hash it was started from (from its name), if known.
    pub spec_hash: Option<String>,
    pub status: JobStatus,
    /// Completed checkpoints since it started.
    pub completed_checkpoints: u64,
    /// Age of its latest completed checkpoint (None: none yet).
    pub last_checkpoint_age_ms: Option<i64>,
    /// The latest savepoint Flink reports for it (a stop-with-savepoint's result).
    pub savepoint: Option<String>,
}

/// What is on the cluster for one managed job.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observed {
    /// False when the cluster's REST API does not answer.
    pub cluster_reachable: bool,
    /// Its Flink jobs, newest first.
    pub jobs: Vec<LiveJob>,
}

impl Observed {
    /// The newest active job.
    pub fn active(&self) -> Option<&LiveJob> {
        self.jobs.iter().find(|j| j.status.is_active())
    }

    /// The newest active job started from `hash`.
    pub fn active_with_hash(&self, hash: &str) -> Option<&LiveJob> {
        self.jobs.iter().find(|j| j.status.is_active() && same_spec(j.spec_hash.as_deref(), hash))
    }

    pub fn job(&self, flink_job_id: &str) -> Option<&LiveJob> {
        self.jobs.iter().find(|j| j.flink_job_id == flink_job_id)
    }
}

/// What a recovery restores from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestoreKind {
    Checkpoint,
    Savepoint,
}

/// A checkpoint or savepoint to restore from, chosen by [`crate::recovery`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreSource {
    pub path: String,
    pub kind: RestoreKind,
}

/// A pending exclusive intent of the job, as read from the store.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingIntent {
    Upgrade { id: i64, intent: UpgradeIntent },
    /// A one-shot intent (deploy, recover, rollback, suspend) left pending by a crash.
    Other { id: i64, kind: IntentKind },
}

/// What the store and the recovery selector know.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub now_ms: i64,
    pub pending: Option<PendingIntent>,
    /// The version that last ran successfully (the rollback and recovery target).
    pub deployed: Option<VersionRef>,
    /// The best restore source ([`crate::recovery::select_source`]); None when nothing is restorable.
    pub recovery_source: Option<RestoreSource>,
    /// The circuit breaker of recoveries is open: only a person can go on.
    pub breaker_open: bool,
    /// Backoff: no recovery before this instant.
    pub next_recovery_at_ms: Option<i64>,
    /// A running job whose latest checkpoint is older than this is recovered (None: never).
    pub checkpoint_stale_after_ms: Option<i64>,
    /// How long a new version has to run and complete a checkpoint before it is rolled back.
    pub upgrade_health_timeout_ms: i64,
    /// The Flink job flinkops itself stopped (stop-with-savepoint of an upgrade or a rescale
    /// that then failed): FINISHED because of us, not a bounded job that completed — recovered.
    pub stopped_by_flinkops: Option<String>,
}

/// One step for the shell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Requeue later.
    Wait { why: String, until_ms: Option<i64> },
    /// Submit a version that never ran (no state to restore).
    Deploy { version: VersionRef },
    /// Record this upgrade intent as pending; the next action performs its first step.
    BeginUpgrade(UpgradeIntent),
    /// Stop the job with a savepoint (upgrade) and record the savepoint in the intent.
    StopWithSavepoint { flink_job_id: String },
    /// Submit a version from a savepoint (the upgrade's new version, or the rollback's old one);
    /// the shell first records the savepoint and the attempt in the intent.
    Submit { version: VersionRef, from_savepoint: String, rollback: bool },
    /// Wait for the new version to run and complete a checkpoint; the shell records the job id
    /// and deadline in the intent if they are not there yet.
    AwaitHealthy { flink_job_id: String, deadline_ms: i64 },
    /// Mark the upgrade as rolling back (then cancel the new version and restart the old one).
    StartRollback { reason: String },
    /// Cancel a job (the new version during a rollback).
    Cancel { flink_job_id: String },
    /// Resubmit the job from a retained checkpoint or savepoint, cancelling a stuck job first.
    Recover { version: VersionRef, source: RestoreSource, cancel_first: Option<String> },
    /// Stop with a savepoint and stay stopped.
    Suspend { flink_job_id: String },
    /// End the pending intent.
    FinishIntent { id: i64, state: IntentState, reason: String },
    /// Raise a critical alert: a person has to act.
    Alert { summary: String },
}

impl Action {
    /// The intent kind the shell records as pending before performing this action (None for
    /// actions that change nothing or that run inside an already recorded intent).
    pub fn intent_kind(&self) -> Option<IntentKind> {
        match self {
            Action::Deploy { .. } => Some(IntentKind::Deploy),
            Action::BeginUpgrade(_) => Some(IntentKind::Upgrade),
            Action::Recover { .. } => Some(IntentKind::Recover),
            Action::Suspend { .. } => Some(IntentKind::Suspend),
            _ => None,
        }
    }
}

/// The Flink job name flinkops gives a managed job's version, so that observing a cluster tells
/// which spec a job was started from.
pub fn flink_job_name(job: &str, spec_hash: &str) -> String {
    let short: String = spec_hash.chars().take(12).collect();
    format!("{job}@{short}")
}

/// Whether an observed (possibly shortened, see [`flink_job_name`]) hash names the spec `full`.
pub fn same_spec(observed: Option<&str>, full: &str) -> bool {
    observed.is_some_and(|o| !o.is_empty() && full.starts_with(o))
}

/// The managed job and the spec-hash prefix a Flink job name carries.
pub fn parse_flink_job_name(name: &str) -> Option<(&str, &str)> {
    let (job, hash) = name.rsplit_once('@')?;
    (!job.is_empty() && !hash.is_empty()).then_some((job, hash))
}

/// One reconcile step for one job.
pub fn plan(desired: &Desired, observed: &Observed, facts: &Facts) -> Vec<Action> {
    if !observed.cluster_reachable {
        return vec![Action::Wait { why: "the cluster's REST API does not answer".into(), until_ms: None }];
    }
    match &facts.pending {
        Some(PendingIntent::Upgrade { id, intent }) => return vec![resume(*id, intent, observed, facts.now_ms)],
        Some(PendingIntent::Other { id, kind }) => return vec![finish_one_shot(*id, *kind, desired, observed)],
        None => {}
    }
    let active = observed.active();
    if desired.suspended {
        return match active {
            Some(j) if j.status == JobStatus::Running => vec![Action::Suspend { flink_job_id: j.flink_job_id.clone() }],
            Some(_) => vec![Action::Wait { why: "the job is starting; it is suspended once it runs".into(), until_ms: None }],
            None => vec![],
        };
    }
    match active {
        None if observed.jobs.is_empty() && facts.deployed.is_none() => vec![Action::Deploy { version: desired.version.clone() }],
        // A bounded job that completed (the newest run FINISHED with no one stopping it): done.
        None if observed.jobs.first().is_some_and(|j| j.status == JobStatus::Finished && facts.stopped_by_flinkops.as_deref() != Some(j.flink_job_id.as_str())) => vec![],
        None => recover(desired, facts, None, "the job is not running"),
        Some(j) if j.status == JobStatus::Starting => vec![Action::Wait { why: "the job is starting".into(), until_ms: None }],
        Some(j) if same_spec(j.spec_hash.as_deref(), &desired.version.spec_hash) => {
            match (facts.checkpoint_stale_after_ms, j.last_checkpoint_age_ms) {
                (Some(limit), Some(age)) if age > limit => {
                    recover(desired, facts, Some(j.flink_job_id.clone()), &format!("no checkpoint completed for {age} ms"))
                }
                _ => vec![],
            }
        }
        Some(j) => {
            let Some(from) = facts.deployed.clone() else {
                return vec![Action::Alert { summary: format!("job {} runs a version flinkops did not deploy; cannot upgrade it safely", desired.job) }];
            };
            let intent = UpgradeIntent::new(from, desired.version.clone(), j.flink_job_id.clone(), facts.upgrade_health_timeout_ms);
            vec![Action::BeginUpgrade(intent), Action::StopWithSavepoint { flink_job_id: j.flink_job_id.clone() }]
        }
    }
}

fn recover(desired: &Desired, facts: &Facts, cancel_first: Option<String>, why: &str) -> Vec<Action> {
    if facts.breaker_open {
        return vec![Action::Wait { why: format!("{why}; recoveries are stopped (circuit breaker open) until someone acts"), until_ms: None }];
    }
    if let Some(at) = facts.next_recovery_at_ms.filter(|at| *at > facts.now_ms) {
        return vec![Action::Wait { why: format!("{why}; backing off before the next recovery"), until_ms: Some(at) }];
    }
    let Some(source) = facts.recovery_source.clone() else {
        return vec![Action::Alert { summary: format!("job {}: {why} and no checkpoint or savepoint is restorable; a person has to decide", desired.job) }];
    };
    // State is restored into the version that wrote it; an upgrade follows once it runs.
    let version = facts.deployed.clone().unwrap_or_else(|| desired.version.clone());
    vec![Action::Recover { version, source, cancel_first }]
}

/// A one-shot intent (deploy, recover, suspend, rollback) found pending after a restart: its
/// action either took effect (a job of the wanted version is active, or the suspended job is
/// gone) or it did not; either way it ends, and the next plan starts afresh.
fn finish_one_shot(id: i64, kind: IntentKind, desired: &Desired, observed: &Observed) -> Action {
    let took_effect = match kind {
        IntentKind::Suspend => observed.active().is_none(),
        _ => observed.active().is_some(),
    };
    if took_effect {
        Action::FinishIntent { id, state: IntentState::Done, reason: format!("{kind} of {} took effect before the restart", desired.job) }
    } else {
        Action::FinishIntent { id, state: IntentState::Failed, reason: format!("{kind} of {} did not take effect before the restart", desired.job) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn v(n: i64) -> VersionRef {
        VersionRef { version: n, spec_hash: format!("hash{n}") }
    }

    pub(crate) fn job(id: &str, hash: Option<&str>, status: JobStatus, checkpoints: u64) -> LiveJob {
        LiveJob {
            flink_job_id: id.into(),
            spec_hash: hash.map(str::to_string),
            status,
            completed_checkpoints: checkpoints,
            last_checkpoint_age_ms: (checkpoints > 0).then_some(1_000),
            savepoint: None,
        }
    }

    fn facts() -> Facts {
        Facts {
            now_ms: 1_000_000,
            pending: None,
            deployed: Some(v(1)),
            recovery_source: Some(RestoreSource { path: "file:///c/j/chk-7".into(), kind: RestoreKind::Checkpoint }),
            breaker_open: false,
            next_recovery_at_ms: None,
            checkpoint_stale_after_ms: Some(600_000),
            upgrade_health_timeout_ms: 120_000,
            stopped_by_flinkops: None,
        }
    }

    fn desired(n: i64) -> Desired {
        Desired { job: "orders".into(), version: v(n), suspended: false }
    }

    fn on_cluster(jobs: Vec<LiveJob>) -> Observed {
        Observed { cluster_reachable: true, jobs }
    }

    #[test]
    fn deploys_when_absent_and_does_nothing_when_unchanged() {
        let f = Facts { deployed: None, ..facts() };
        assert_eq!(plan(&desired(1), &on_cluster(vec![]), &f), vec![Action::Deploy { version: v(1) }]);
        let running = on_cluster(vec![job("a", Some("hash1"), JobStatus::Running, 3)]);
        assert_eq!(plan(&desired(1), &running, &facts()), vec![]);
    }

    #[test]
    fn a_changed_spec_records_the_upgrade_before_stopping() {
        let running = on_cluster(vec![job("a", Some("hash1"), JobStatus::Running, 3)]);
        let actions = plan(&desired(2), &running, &facts());
        assert_eq!(actions.len(), 2, "{actions:?}");
        match &actions[0] {
            Action::BeginUpgrade(u) => {
                assert_eq!((&u.from, &u.to, u.old_flink_job.as_str()), (&v(1), &v(2), "a"));
                assert_eq!(u.savepoint, None);
            }
            other => panic!("the intent comes first, got {other:?}"),
        }
        assert_eq!(actions[1], Action::StopWithSavepoint { flink_job_id: "a".into() });
        assert_eq!(actions[0].intent_kind(), Some(IntentKind::Upgrade));
    }

    #[test]
    fn a_failed_job_is_recovered_from_the_selected_source_with_backoff_and_breaker() {
        let failed = on_cluster(vec![job("a", Some("hash1"), JobStatus::Failed, 3)]);
        let got = plan(&desired(1), &failed, &facts());
        assert_eq!(got, vec![Action::Recover { version: v(1), source: facts().recovery_source.expect("source"), cancel_first: None }]);
        // State goes back into the version that wrote it, even when a newer one is desired.
        let got = plan(&desired(2), &failed, &facts());
        assert!(matches!(&got[..], [Action::Recover { version, .. }] if *version == v(1)), "{got:?}");
        let later = Facts { next_recovery_at_ms: Some(1_005_000), ..facts() };
        assert!(matches!(&plan(&desired(1), &failed, &later)[..], [Action::Wait { until_ms: Some(1_005_000), .. }]));
        let open = Facts { breaker_open: true, ..facts() };
        assert!(matches!(&plan(&desired(1), &failed, &open)[..], [Action::Wait { until_ms: None, .. }]));
        let nothing = Facts { recovery_source: None, ..facts() };
        assert!(matches!(&plan(&desired(1), &failed, &nothing)[..], [Action::Alert { .. }]), "never a fresh deploy that drops state");
    }

    #[test]
    fn stale_checkpoints_recover_and_cancel_the_stuck_job_first() {
        let mut j = job("a", Some("hash1"), JobStatus::Running, 3);
        j.last_checkpoint_age_ms = Some(700_000);
        let got = plan(&desired(1), &on_cluster(vec![j]), &facts());
        assert!(matches!(&got[..], [Action::Recover { cancel_first: Some(id), .. }] if id == "a"), "{got:?}");
    }

    #[test]
    fn starting_jobs_and_unreachable_clusters_wait() {
        let starting = on_cluster(vec![job("a", Some("hash1"), JobStatus::Starting, 0)]);
        assert!(matches!(&plan(&desired(2), &starting, &facts())[..], [Action::Wait { .. }]), "no upgrade of a starting job");
        let gone = Observed { cluster_reachable: false, jobs: vec![] };
        assert!(matches!(&plan(&desired(1), &gone, &Facts { deployed: None, ..facts() })[..], [Action::Wait { .. }]));
    }

    #[test]
    fn suspend_stops_a_running_job_once() {
        let d = Desired { suspended: true, ..desired(1) };
        let running = on_cluster(vec![job("a", Some("hash1"), JobStatus::Running, 1)]);
        assert_eq!(plan(&d, &running, &facts()), vec![Action::Suspend { flink_job_id: "a".into() }]);
        let stopped = on_cluster(vec![job("a", Some("hash1"), JobStatus::Stopped, 1)]);
        assert_eq!(plan(&d, &stopped, &facts()), vec![]);
    }

    #[test]
    fn a_finished_bounded_job_is_left_alone_but_a_cancelled_one_is_recovered() {
        let finished = on_cluster(vec![job("a", Some("hash1"), JobStatus::Finished, 3)]);
        assert_eq!(plan(&desired(1), &finished, &facts()), vec![]);
        let cancelled = on_cluster(vec![job("a", Some("hash1"), JobStatus::Stopped, 3)]);
        assert!(matches!(&plan(&desired(1), &cancelled, &facts())[..], [Action::Recover { .. }]));
        // FINISHED because a failed upgrade stopped it (no savepoint came of it): recovered from
        // its latest checkpoint, not left alone as a completed bounded job.
        let ours = Facts { stopped_by_flinkops: Some("a".into()), ..facts() };
        assert!(matches!(&plan(&desired(1), &finished, &ours)[..], [Action::Recover { cancel_first: None, .. }]));
        let other = Facts { stopped_by_flinkops: Some("older".into()), ..facts() };
        assert_eq!(plan(&desired(1), &finished, &other), vec![]);
    }

    #[test]
    fn an_unknown_running_version_is_not_upgraded() {
        let running = on_cluster(vec![job("a", None, JobStatus::Running, 1)]);
        let f = Facts { deployed: None, ..facts() };
        assert!(matches!(&plan(&desired(1), &running, &f)[..], [Action::Alert { .. }]));
    }

    #[test]
    fn one_shot_intents_left_pending_are_closed() {
        let running = on_cluster(vec![job("b", Some("hash1"), JobStatus::Running, 0)]);
        let f = Facts { pending: Some(PendingIntent::Other { id: 4, kind: IntentKind::Recover }), ..facts() };
        assert!(matches!(&plan(&desired(1), &running, &f)[..], [Action::FinishIntent { id: 4, state: IntentState::Done, .. }]));
        let f = Facts { pending: Some(PendingIntent::Other { id: 5, kind: IntentKind::Deploy }), ..facts() };
        assert!(matches!(&plan(&desired(1), &on_cluster(vec![]), &f)[..], [Action::FinishIntent { id: 5, state: IntentState::Failed, .. }]));
        let f = Facts { pending: Some(PendingIntent::Other { id: 6, kind: IntentKind::Suspend }), ..facts() };
        assert!(matches!(&plan(&desired(1), &on_cluster(vec![]), &f)[..], [Action::FinishIntent { id: 6, state: IntentState::Done, .. }]));
    }

    #[test]
    fn job_names_carry_the_spec_hash() {
        let name = flink_job_name("orders", "0123456789abcdef");
        assert_eq!(name, "orders@0123456789ab");
        assert_eq!(parse_flink_job_name(&name), Some(("orders", "0123456789ab")));
        assert_eq!(parse_flink_job_name("a@b@c"), Some(("a@b", "c")));
        assert_eq!(parse_flink_job_name("plain"), None);
        assert_eq!(parse_flink_job_name("@x"), None);
        assert!(same_spec(Some("0123456789ab"), "0123456789abcdef"));
        assert!(!same_spec(Some(""), "0123"), "an empty hash names nothing");
        assert!(!same_spec(None, "0123"));
        assert_eq!(JobStatus::from_flink("RESTARTING"), JobStatus::Starting);
        assert_eq!(JobStatus::from_flink("FINISHED"), JobStatus::Finished);
        assert_eq!(JobStatus::from_flink("CANCELED"), JobStatus::Stopped);
        assert!(!JobStatus::from_flink("FAILING").is_active());
    }
}
