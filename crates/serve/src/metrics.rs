//! serve's own metrics, exported at `/metrics` in Prometheus's text format (prometheus-client).

use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

fn reconcile_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The metrics of one serve process.
pub struct SelfMetrics {
    registry: Mutex<Registry>,
    reconcile_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    reconcile_errors: Family<Labels, Counter>,
    reconcile_steps: Family<Labels, Counter>,
    actions: Family<Labels, Counter>,
    recoveries: Counter,
    savepoints: Family<Labels, Counter>,
    retention_deleted: Counter,
    retention_failed: Counter,
    local_restarts: Family<Labels, Counter>,
    alerts_firing: Family<Labels, Gauge>,
    job_health: Family<Labels, Gauge>,
    notifications: Family<Labels, Counter>,
    jobs: Gauge,
}

impl Default for SelfMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl SelfMetrics {
    pub fn new() -> SelfMetrics {
        let mut r = Registry::with_prefix("flinkops");
        let m = SelfMetrics {
            registry: Mutex::new(Registry::default()),
            reconcile_seconds: Family::new_with_constructor(reconcile_histogram as fn() -> Histogram),
            reconcile_errors: Family::default(),
            reconcile_steps: Family::default(),
            actions: Family::default(),
            recoveries: Counter::default(),
            savepoints: Family::default(),
            retention_deleted: Counter::default(),
            retention_failed: Counter::default(),
            local_restarts: Family::default(),
            alerts_firing: Family::default(),
            job_health: Family::default(),
            notifications: Family::default(),
            jobs: Gauge::default(),
        };
        r.register("reconcile_duration_seconds", "Duration of one reconcile step of one job", m.reconcile_seconds.clone());
        r.register("reconcile_errors", "Reconcile steps that ended in an error, by kind", m.reconcile_errors.clone());
        r.register(
            "reconcile_steps",
            "Reconcile steps: light (the overview comparison only) or full, by why it was full (first, requested, unsettled, unobserved, changed, due); reconcile_duration_seconds counts the full ones",
            m.reconcile_steps.clone(),
        );
        r.register("actions", "Actions performed on jobs, by action and result", m.actions.clone());
        r.register("recoveries", "Automatic recoveries started", m.recoveries.clone());
        r.register("savepoints", "Savepoints taken, by reason and result", m.savepoints.clone());
        r.register("retention_deleted_snapshots", "Savepoints whose files retention deleted", m.retention_deleted.clone());
        r.register("retention_failed_deletions", "Savepoint deletions that failed", m.retention_failed.clone());
        r.register("local_process_restarts", "Local cluster processes started again by supervision", m.local_restarts.clone());
        r.register("alerts_firing", "Firing alerts, by severity", m.alerts_firing.clone());
        r.register("job_health", "1 when a job is healthy, 0 when not, by job", m.job_health.clone());
        r.register("notifications", "Notifications sent, by channel kind and result", m.notifications.clone());
        r.register("managed_jobs", "Jobs serve manages", m.jobs.clone());
        *m.registry.lock().unwrap_or_else(|p| p.into_inner()) = r;
        m
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// A light reconcile step ([`crate::cadence::Kind::Light`]).
    pub fn step_light(&self) {
        self.reconcile_steps.get_or_create(&Self::l(&[("kind", "light")])).inc();
    }

    /// A full reconcile step and why it was one ([`crate::cadence::Why`]).
    pub fn step_full(&self, why: &str) {
        self.reconcile_steps.get_or_create(&Self::l(&[("kind", "full"), ("why", why)])).inc();
    }

    pub fn reconciled(&self, job: &str, seconds: f64) {
        self.reconcile_seconds.get_or_create(&Self::l(&[("job", job)])).observe(seconds);
    }
    pub fn reconcile_error(&self, kind: &str) {
        self.reconcile_errors.get_or_create(&Self::l(&[("kind", kind)])).inc();
    }
    pub fn action(&self, action: &str, result: &str) {
        self.actions.get_or_create(&Self::l(&[("action", action), ("result", result)])).inc();
    }
    pub fn recovery(&self) {
        self.recoveries.inc();
    }
    pub fn savepoint(&self, reason: &str, result: &str) {
        self.savepoints.get_or_create(&Self::l(&[("reason", reason), ("result", result)])).inc();
    }
    pub fn retention(&self, deleted: u64, failed: u64) {
        self.retention_deleted.inc_by(deleted);
        self.retention_failed.inc_by(failed);
    }
    pub fn local_restart(&self, env: &str, process: &str) {
        self.local_restarts.get_or_create(&Self::l(&[("env", env), ("process", process)])).inc();
    }
    pub fn set_alerts_firing(&self, severity: &str, n: i64) {
        self.alerts_firing.get_or_create(&Self::l(&[("severity", severity)])).set(n);
    }
    pub fn set_job_health(&self, job: &str, healthy: bool) {
        self.job_health.get_or_create(&Self::l(&[("job", job)])).set(i64::from(healthy));
    }
    pub fn notification(&self, kind: &str, ok: bool) {
        self.notifications.get_or_create(&Self::l(&[("kind", kind), ("result", if ok { "ok" } else { "failed" })])).inc();
    }
    pub fn set_jobs(&self, n: usize) {
        self.jobs.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let r = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if encode(&mut out, &r).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_labels() {
        let m = SelfMetrics::new();
        m.action("deploy", "ok");
        m.action("deploy", "ok");
        m.reconciled("local/a", 0.02);
        m.set_job_health("local/a", true);
        let text = m.render();
        assert!(text.contains("flinkops_actions_total{action=\"deploy\",result=\"ok\"} 2"), "{text}");
        assert!(text.contains("flinkops_reconcile_duration_seconds_count{job=\"local/a\"} 1"), "{text}");
        assert!(text.contains("flinkops_job_health{job=\"local/a\"} 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
