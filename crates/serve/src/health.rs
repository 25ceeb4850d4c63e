//! Health of managed jobs: after each reconcile step, a sample of the job is read from Flink's
//! REST API (`flinkops_notify::sample_job`), the built-in rules are evaluated
//! (`flinkops_notify::evaluate_job`: for-durations, deduplication, resolution), changed alert
//! states are stored, and notifications go out through the spec's channels; every delivery is
//! recorded in the store. serve's own "a person has to act" alert goes the same way.

use std::collections::BTreeMap;

use flinkops_control::store::{AlertState, AlertStatus, ObservedJob, Store};
use flinkops_notify::{HealthHistory, JobHealthSample, Notification, NotificationStatus, Notifier, NotifierOptions, Rule, RuleSettings};
use flinkops_rest::JobId;
use flinkops_spec::types::{JobAlerts, Severity};

use crate::env::EnvRuntime;
use crate::model::{ManagedJob, Platform};
use crate::state::Shared;
use flinkops_control::store::now_ms;

/// The rule of serve's own "a person has to act" alert (circuit breaker open, rollback, nothing
/// restorable).
pub const ACTION_NEEDED: &str = "FlinkopsActionNeeded";

/// Deliveries kept in the store (all jobs together: `Store::record_delivery` trims globally).
const DELIVERIES_KEPT: i64 = 500;

/// The notifier of a platform: the spec's channels, each job (by its key `env/job`) routed to
/// the channels it names.
pub fn notifier(platform: &Platform, external_url: Option<String>) -> Notifier {
    let routes: BTreeMap<String, JobAlerts> = platform.jobs.iter().map(|j| (j.key.clone(), JobAlerts { channels: j.alert_channels.clone() })).collect();
    let n = Notifier::new(&platform.alerting, &routes, NotifierOptions { external_url, ..NotifierOptions::default() });
    for p in n.problems() {
        tracing::warn!(channel = %p.channel, "alert channel problem: {}", p.message);
    }
    n
}

/// Whether the job is meant to run now (a suspended, finished or deliberately stopping job
/// resolves its alerts instead of raising them).
fn expected_running(phase: &str) -> bool {
    !matches!(phase, "suspended" | "finished" | "upgrading" | "rolling_back" | "savepointing")
}

/// Reads the job's health sample from Flink.
async fn sample(mj: &ManagedJob, env: &EnvRuntime, flink_job: Option<&str>, now: i64) -> JobHealthSample {
    let (Some(client), Some(id)) = (env.client().await, flink_job.and_then(|j| j.parse::<JobId>().ok())) else {
        return JobHealthSample::new(&mj.key, now);
    };
    match flinkops_notify::sample_job(&client, &id, Some(&mj.key), now).await {
        Ok(s) => {
            if !s.missing.is_empty() {
                tracing::debug!(job = %mj.key, missing = ?s.missing, "parts of the health sample could not be read");
            }
            s.sample
        }
        Err(e) => {
            tracing::debug!(job = %mj.key, "health sample: {e}");
            e.unknown_sample(&mj.key, now)
        }
    }
}

/// Evaluates the job's health rules after a reconcile step, stores what changed, notifies, and
/// sets the job's health (`healthy`, `degraded`, `unhealthy`).
/// `observed` is the row the reconcile step just stored. Returns when the rules need a new
/// sample at the latest ([`next_evaluation_at`]; None: only when something changes).
pub async fn evaluate(shared: &Shared, mj: &ManagedJob, env: &EnvRuntime, observed: ObservedJob) -> Option<i64> {
    let now = now_ms();
    let phase = observed.phase.clone();
    let mut s = sample(mj, env, observed.flink_job_id.as_deref(), now).await;
    s.expected_running = expected_running(&phase);
    if s.checkpoint_interval_ms.is_none() {
        s.checkpoint_interval_ms = mj.checkpoint_interval_ms;
    }
    let settings: RuleSettings = shared.platform.read().await.rule_settings.get(&mj.env).cloned().unwrap_or_default();
    let prev = shared.store.alerts(&mj.key).await.unwrap_or_default();
    let evaluation = {
        let mut histories = shared.health.lock().unwrap_or_else(|p| p.into_inner());
        let history = histories.entry(mj.key.clone()).or_insert_with(HealthHistory::default);
        if crate::autoscale::recently_rescaled(shared, &mj.key, now) {
            // An in-place rescale restarts the job by design: counters restart their history
            // after it instead of raising "restarts rising".
            *history = HealthHistory::default();
        }
        flinkops_notify::evaluate_job(&prev, &s, history, &settings, now)
    };
    let next = next_evaluation_at(&evaluation, &s, &settings);
    for st in evaluation.changed_states() {
        if let Err(e) = shared.store.put_alert(st).await {
            tracing::error!(job = %mj.key, rule = %st.rule, "storing the alert state failed: {e}");
        }
    }
    for n in evaluation.notifications() {
        deliver(shared, n).await;
    }
    let firing: Vec<&AlertState> = evaluation.states().filter(|a| a.status == AlertStatus::Firing).collect();
    let action_needed = prev.iter().any(|a| a.rule == ACTION_NEEDED && a.status == AlertStatus::Firing);
    let running = s.state.as_deref() == Some("RUNNING");
    let health = match (running, firing.is_empty() && !action_needed) {
        (true, true) => "healthy",
        (true, false) => "degraded",
        (false, _) if !s.expected_running && firing.is_empty() => "healthy",
        (false, _) => "unhealthy",
    };
    shared.metrics.set_job_health(&mj.key, health == "healthy");
    let mut o = observed;
    if o.health != health {
        o.health = health.to_string();
        let _ = shared.store.put_observed(&o).await;
    }
    next
}

/// The earliest instant the job's rules have to be evaluated again even if nothing changes: a
/// pending alert's `for` ends (it fires then if its condition still holds), a firing one is due
/// to be repeated, or `FlinkNoRecentCheckpoint` would start to hold if no checkpoint completes
/// meanwhile ([`no_recent_checkpoint_at`]).
pub fn next_evaluation_at(evaluation: &flinkops_notify::JobEvaluation, sample: &JobHealthSample, settings: &RuleSettings) -> Option<i64> {
    let alerts = evaluation.outcomes.iter().filter_map(|o| {
        let s = o.state.as_ref()?;
        match s.status {
            AlertStatus::Pending => Some(s.since.saturating_add(settings.rule(o.rule).for_ms.max(0))),
            AlertStatus::Firing => s.last_notified_at.map(|t| t.saturating_add(settings.repeat_interval_ms)),
            _ => None,
        }
    });
    alerts.chain(no_recent_checkpoint_at(sample, settings)).min()
}

/// When `FlinkNoRecentCheckpoint` would start to hold for a running job if no checkpoint
/// completed after this sample: its window (`alertAfterMissed` checkpoint intervals) after the
/// newest completed checkpoint of the current attempt, or after the attempt started. None when
/// the rule cannot hold (disabled, not running, checkpointing off, nothing known).
pub fn no_recent_checkpoint_at(sample: &JobHealthSample, settings: &RuleSettings) -> Option<i64> {
    if settings.rule(Rule::FlinkNoRecentCheckpoint).disabled || !sample.expected_running || !sample.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("RUNNING")) {
        return None;
    }
    let interval = sample.checkpoint_interval_ms.filter(|i| *i > 0)?;
    let uptime = sample.uptime_ms?;
    if sample.completed_checkpoints.is_none() && sample.last_completed_checkpoint_at.is_none() {
        return None;
    }
    let started = sample.at.saturating_sub(uptime);
    let reference = sample.last_completed_checkpoint_at.map_or(started, |c| c.max(started));
    // The condition is `age > window`: it holds from one millisecond after the window.
    Some(reference.saturating_add(interval.saturating_mul(i64::from(settings.missed_checkpoints.max(1)))).saturating_add(1))
}

/// Sends one notification to its channels and records each delivery.
async fn deliver(shared: &Shared, n: &Notification) {
    let notifier = shared.notifier.read().await.clone();
    for r in notifier.deliver(n).await {
        shared.metrics.notification(r.kind.as_str(), r.ok);
        if !r.ok {
            tracing::warn!(job = %n.job, rule = %n.rule, channel = %r.channel, "alert delivery failed: {}", r.error.as_deref().unwrap_or("?"));
        }
        if let Err(e) = shared.store.record_delivery(&r.to_delivery(n), DELIVERIES_KEPT).await {
            tracing::error!(job = %n.job, "recording the delivery failed: {e}");
        }
    }
}

/// Sends the "a person has to act" alert through the job's channels.
pub async fn notify_action_needed(shared: &Shared, mj: &ManagedJob, summary: &str) {
    let now = now_ms();
    let labels = BTreeMap::from([
        ("alertname".to_string(), ACTION_NEEDED.to_string()),
        ("severity".to_string(), Severity::Critical.as_str().to_string()),
        ("job_name".to_string(), mj.job.clone()),
        ("flinkops_env".to_string(), mj.env.clone()),
    ]);
    let n = Notification {
        job: mj.key.clone(),
        rule: ACTION_NEEDED.to_string(),
        severity: Severity::Critical,
        status: NotificationStatus::Firing,
        repeat: false,
        summary: summary.to_string(),
        description: format!("flinkops serve needs a person to act on {}: {summary}", mj.key),
        runbook_url: String::new(),
        dedup_key: flinkops_notify::dedup_key(&mj.key, ACTION_NEEDED),
        starts_at: now,
        ends_at: None,
        labels,
    };
    deliver(shared, &n).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use flinkops_notify::health::{Condition, condition};

    fn running(at: i64, uptime: i64, last_checkpoint: Option<i64>) -> JobHealthSample {
        JobHealthSample {
            state: Some("RUNNING".into()),
            uptime_ms: Some(uptime),
            checkpoint_interval_ms: Some(10_000),
            completed_checkpoints: Some(if last_checkpoint.is_some() { 4 } else { 0 }),
            last_completed_checkpoint_at: last_checkpoint,
            ..JobHealthSample::new("env/job", at)
        }
    }

    /// The instant predicted for FlinkNoRecentCheckpoint is the first at which its condition
    /// holds when no checkpoint completes in between: one millisecond earlier it does not.
    #[test]
    fn no_recent_checkpoint_at_is_when_the_condition_starts_to_hold() {
        let settings = RuleSettings::default(); // 3 missed intervals
        let history = HealthHistory::default();
        for (name, sample) in [
            ("checkpoint 4 s ago", running(100_000, 60_000, Some(96_000))),
            ("no checkpoint since the start 5 s ago", running(100_000, 5_000, None)),
            ("a checkpoint of an earlier attempt", running(100_000, 5_000, Some(50_000))),
        ] {
            let at = no_recent_checkpoint_at(&sample, &settings).unwrap_or_else(|| panic!("{name}: a deadline"));
            assert!(at > sample.at, "{name}: in the future");
            let later = |t: i64| JobHealthSample { at: t, uptime_ms: sample.uptime_ms.map(|u| u + (t - sample.at)), ..sample.clone() };
            assert_eq!(condition(Rule::FlinkNoRecentCheckpoint, &later(at - 1), &history, &settings), Condition::Clear, "{name}: clear just before");
            assert!(matches!(condition(Rule::FlinkNoRecentCheckpoint, &later(at), &history, &settings), Condition::Holds { .. }), "{name}: holds at the deadline");
        }
    }

    #[test]
    fn no_recent_checkpoint_at_is_none_when_the_rule_cannot_hold() {
        let settings = RuleSettings::default();
        let base = running(100_000, 60_000, Some(96_000));
        let disabled = RuleSettings::default().with_overrides(&BTreeMap::from([("FlinkNoRecentCheckpoint".to_string(), flinkops_spec::types::AlertOverride { disabled: true, ..Default::default() })])).expect("settings");
        assert_eq!(no_recent_checkpoint_at(&base, &disabled), None, "disabled");
        assert_eq!(no_recent_checkpoint_at(&JobHealthSample { state: Some("RESTARTING".into()), ..base.clone() }, &settings), None, "not running");
        assert_eq!(no_recent_checkpoint_at(&JobHealthSample { expected_running: false, ..base.clone() }, &settings), None, "suspended");
        assert_eq!(no_recent_checkpoint_at(&JobHealthSample { checkpoint_interval_ms: None, ..base.clone() }, &settings), None, "checkpointing off");
        assert_eq!(no_recent_checkpoint_at(&JobHealthSample { completed_checkpoints: None, last_completed_checkpoint_at: None, ..base.clone() }, &settings), None, "statistics unread");
    }

    /// A pending alert asks for a sample when its `for` ends, and the sample taken then fires it.
    #[test]
    fn a_pending_alert_is_evaluated_again_when_its_for_ends() {
        let settings = RuleSettings::default(); // FlinkJobNotRunning: for 60 s
        let mut history = HealthHistory::default();
        let down = |at: i64| JobHealthSample { state: Some("RESTARTING".into()), ..JobHealthSample::new("env/job", at) };
        let first = flinkops_notify::evaluate_job(&[], &down(1_000), &mut history, &settings, 1_000);
        let pending: Vec<AlertState> = first.states().cloned().collect();
        assert!(pending.iter().any(|a| a.rule == "FlinkJobNotRunning" && a.status == AlertStatus::Pending), "{pending:?}");
        let next = next_evaluation_at(&first, &down(1_000), &settings).expect("a deadline");
        assert_eq!(next, 61_000);
        let early = flinkops_notify::evaluate_job(&pending, &down(next - 1), &mut history, &settings, next - 1);
        assert!(early.notifications().next().is_none(), "not before the for-duration");
        let then = flinkops_notify::evaluate_job(&pending, &down(next), &mut history, &settings, next);
        assert!(then.states().any(|a| a.rule == "FlinkJobNotRunning" && a.status == AlertStatus::Firing), "fires at the deadline");
        // Firing: the next deadline is the repeat, far away.
        let firing: Vec<AlertState> = then.states().cloned().collect();
        let after = flinkops_notify::evaluate_job(&firing, &down(next + 1), &mut history, &settings, next + 1);
        assert_eq!(next_evaluation_at(&after, &down(next + 1), &settings), Some(next + settings.repeat_interval_ms));
    }

    #[test]
    fn a_healthy_job_without_checkpointing_has_no_deadline() {
        let settings = RuleSettings::default();
        let mut history = HealthHistory::default();
        let s = JobHealthSample { checkpoint_interval_ms: None, ..running(100_000, 60_000, Some(96_000)) };
        let e = flinkops_notify::evaluate_job(&[], &s, &mut history, &settings, 100_000);
        assert_eq!(next_evaluation_at(&e, &s, &settings), None);
    }
}
