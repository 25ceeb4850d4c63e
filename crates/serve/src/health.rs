//! Health of managed jobs: after each reconcile step, a sample of the job is read from Flink's
//! REST API (`flinkops_notify::sample_job`), the built-in rules are evaluated
//! (`flinkops_notify::evaluate_job`: for-durations, deduplication, resolution), changed alert
//! states are stored, and notifications go out through the spec's channels; every delivery is
//! recorded in the store. serve's own "a person has to act" alert goes the same way.

use std::collections::BTreeMap;

use flinkops_control::store::{AlertState, AlertStatus, ObservedJob, Store};
use flinkops_notify::{HealthHistory, JobHealthSample, Notification, NotificationStatus, Notifier, NotifierOptions, RuleSettings};
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
/// `observed` is the row the reconcile step just stored.
pub async fn evaluate(shared: &Shared, mj: &ManagedJob, env: &EnvRuntime, observed: ObservedJob) {
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
