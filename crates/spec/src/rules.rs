//! The alert rules: one table, rendered as a PrometheusRule and a plain rule file for every
//! environment. Every metric name is one a real Flink 2.x Prometheus reporter exports (the
//! committed fixture `tests/fixtures/flink-2.3-metric-names.txt`, dumped from a live local
//! cluster, is checked in a unit test). Flink's counters-as-gauges (`numRestarts`,
//! `numberOfFailedCheckpoints`, GC time) are compared with `delta`, never `rate`.

use crate::plan::EnvPlan;
use crate::types::Severity;

/// The rule names (also the runbook file names under `docs/runbooks/`).
pub const RULE_NAMES: &[&str] = &[
    "FlinkJobNotRunning",
    "FlinkJobManagerDown",
    "FlinkJobRestarting",
    "FlinkCheckpointFailures",
    "FlinkCheckpointDurationHigh",
    "FlinkNoRecentCheckpoint",
    "FlinkBackpressureHigh",
    "FlinkTaskBusy",
    "FlinkHeapUsageHigh",
    "FlinkGcTimeHigh",
    "FlinkNoTaskManagers",
    "FlinkNoFreeSlots",
    "FlinkThroughputDrop",
];

/// Metric names the rules and the dashboard use (checked against the live-cluster fixture).
pub const METRICS: &[&str] = &[
    "flink_jobmanager_job_uptime",
    "flink_jobmanager_job_numRestarts",
    "flink_jobmanager_job_numberOfFailedCheckpoints",
    "flink_jobmanager_job_numberOfCompletedCheckpoints",
    "flink_jobmanager_job_lastCheckpointDuration",
    "flink_jobmanager_job_lastCheckpointSize",
    "flink_jobmanager_numRegisteredTaskManagers",
    "flink_jobmanager_numRunningJobs",
    "flink_jobmanager_taskSlotsAvailable",
    "flink_jobmanager_taskSlotsTotal",
    "flink_taskmanager_job_task_backPressuredTimeMsPerSecond",
    "flink_taskmanager_job_task_busyTimeMsPerSecond",
    "flink_taskmanager_job_task_numRecordsInPerSecond",
    "flink_taskmanager_job_task_numRecordsOutPerSecond",
    "flink_taskmanager_job_task_operator_numRecordsOutPerSecond",
    "flink_taskmanager_Status_JVM_Memory_Heap_Used",
    "flink_taskmanager_Status_JVM_Memory_Heap_Max",
    "flink_taskmanager_Status_JVM_GarbageCollector_All_TimeMsPerSecond",
    "flink_jobmanager_Status_JVM_Memory_Heap_Used",
    "flink_jobmanager_Status_JVM_Memory_Heap_Max",
];

/// One rendered alert rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: &'static str,
    pub expr: String,
    pub for_: String,
    pub severity: Severity,
    pub summary: String,
    pub description: String,
}

/// The label every scrape config adds to the environment's series.
pub const ENV_LABEL: &str = "flinkops_env";

fn ms(d: std::time::Duration) -> u128 {
    d.as_millis()
}

fn secs_range(d: std::time::Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

/// The rules of one environment, overrides applied, disabled ones left out.
pub fn rules(p: &EnvPlan<'_>) -> Vec<Rule> {
    let sel = format!("{ENV_LABEL}=\"{}\"", p.name);
    let mut out = Vec::new();
    let mut add = |name: &'static str, expr: String, for_: &str, severity: Severity, summary: &str, description: &str| {
        out.push(Rule { name, expr, for_: for_.to_string(), severity, summary: summary.to_string(), description: description.to_string() });
    };

    // Job not running: every expected job must have live job metrics with a positive uptime.
    let mut not_running = format!("max by ({ENV_LABEL}, job_name) (flink_jobmanager_job_uptime{{{sel}}}) <= 0");
    for j in &p.jobs {
        not_running.push_str(&format!("\nor absent(flink_jobmanager_job_uptime{{{sel}, job_name=\"{}\"}})", prom_label(j.name)));
    }
    add(
        "FlinkJobNotRunning",
        not_running,
        "1m",
        Severity::Critical,
        "Flink job {{ $labels.job_name }} is not running in {{ $labels.flinkops_env }}",
        "The job has no running attempt (it failed, was cancelled, or is restarting): its uptime metric is 0 or gone.",
    );
    add(
        "FlinkJobManagerDown",
        format!("absent(flink_jobmanager_numRegisteredTaskManagers{{{sel}}})"),
        "2m",
        Severity::Critical,
        "No JobManager of environment {{ $labels.flinkops_env }} is reporting metrics",
        "Prometheus scrapes no JobManager of this environment: the cluster is down or unreachable.",
    );
    add(
        "FlinkJobRestarting",
        format!("delta(flink_jobmanager_job_numRestarts{{{sel}}}[10m]) > 0"),
        "0m",
        Severity::Warning,
        "Flink job {{ $labels.job_name }} restarted {{ $value }} times in 10 minutes",
        "The job's restart counter increased; it fails and recovers repeatedly.",
    );
    add(
        "FlinkCheckpointFailures",
        format!("delta(flink_jobmanager_job_numberOfFailedCheckpoints{{{sel}}}[10m]) > 0"),
        "0m",
        Severity::Critical,
        "Checkpoints of {{ $labels.job_name }} are failing",
        "{{ $value }} checkpoints failed in the last 10 minutes; recovery would replay from an older checkpoint.",
    );
    let interval = p.env.checkpointing.as_ref().and_then(|c| flinkops_config::units::parse_duration(&c.interval).ok());
    let timeout = p.env.checkpointing.as_ref().and_then(|c| c.timeout.as_deref()).and_then(|t| flinkops_config::units::parse_duration(t).ok());
    let slow = timeout.map(|t| t / 2).or(interval).unwrap_or(std::time::Duration::from_secs(60));
    add(
        "FlinkCheckpointDurationHigh",
        format!("max by ({ENV_LABEL}, job_name) (flink_jobmanager_job_lastCheckpointDuration{{{sel}}}) > {}", ms(slow)),
        "5m",
        Severity::Warning,
        "The last checkpoint of {{ $labels.job_name }} took {{ $value }} ms",
        &format!("The last checkpoint took longer than {} ms (half the checkpoint timeout, or the interval).", ms(slow)),
    );
    if let (Some(iv), Some(c)) = (interval, &p.env.checkpointing) {
        let window = iv * c.alert_after_missed;
        add(
            "FlinkNoRecentCheckpoint",
            format!(
                "delta(flink_jobmanager_job_numberOfCompletedCheckpoints{{{sel}}}[{w}]) < 1\nand on ({ENV_LABEL}, job_name) flink_jobmanager_job_uptime{{{sel}}} > {uptime}",
                w = secs_range(window),
                uptime = ms(window)
            ),
            "0m",
            Severity::Critical,
            &format!("No checkpoint of {{{{ $labels.job_name }}}} completed in the last {} checkpoint intervals", c.alert_after_missed),
            &format!("The job runs but completed no checkpoint within {} checkpoint intervals ({}); its state is not being saved.", c.alert_after_missed, secs_range(window)),
        );
    }
    add(
        "FlinkBackpressureHigh",
        format!("max by ({ENV_LABEL}, job_name, task_name) (flink_taskmanager_job_task_backPressuredTimeMsPerSecond{{{sel}}}) > 500"),
        "5m",
        Severity::Warning,
        "{{ $labels.task_name }} of {{ $labels.job_name }} is back-pressured",
        "A task spends more than half of each second back-pressured (the metric tops out at 1000 ms/s); a downstream operator cannot keep up.",
    );
    add(
        "FlinkTaskBusy",
        format!("max by ({ENV_LABEL}, job_name, task_name) (flink_taskmanager_job_task_busyTimeMsPerSecond{{{sel}}}) > 900"),
        "10m",
        Severity::Warning,
        "{{ $labels.task_name }} of {{ $labels.job_name }} is saturated",
        "A task is busy more than 90% of the time: it is the bottleneck and needs more parallelism.",
    );
    add(
        "FlinkHeapUsageHigh",
        format!(
            "flink_taskmanager_Status_JVM_Memory_Heap_Used{{{sel}}} / flink_taskmanager_Status_JVM_Memory_Heap_Max{{{sel}}} > 0.9"
        ),
        "5m",
        Severity::Warning,
        "TaskManager {{ $labels.tm_id }} uses {{ $value | humanizePercentage }} of its heap",
        "Heap usage above 90% for 5 minutes; expect long GC pauses or OutOfMemoryError.",
    );
    add(
        "FlinkGcTimeHigh",
        format!("flink_taskmanager_Status_JVM_GarbageCollector_All_TimeMsPerSecond{{{sel}}} > 250"),
        "5m",
        Severity::Warning,
        "TaskManager {{ $labels.tm_id }} spends {{ $value }} ms per second in GC",
        "More than a quarter of wall time in garbage collection for 5 minutes (the metric tops out at 1000 ms/s).",
    );
    add(
        "FlinkNoTaskManagers",
        format!("flink_jobmanager_numRegisteredTaskManagers{{{sel}}} == 0"),
        "1m",
        Severity::Critical,
        "No TaskManager is registered in {{ $labels.flinkops_env }}",
        "The JobManager has no TaskManagers: no job can run.",
    );
    add(
        "FlinkNoFreeSlots",
        format!("flink_jobmanager_taskSlotsAvailable{{{sel}}} == 0 and flink_jobmanager_taskSlotsTotal{{{sel}}} > 0"),
        "15m",
        Severity::Info,
        "No free task slots in {{ $labels.flinkops_env }}",
        "Every slot is in use: a restarted or rescaled job has to wait for TaskManagers.",
    );
    add(
        "FlinkThroughputDrop",
        format!(
            "sum by ({ENV_LABEL}, job_name) (flink_taskmanager_job_task_numRecordsOutPerSecond{{{sel}}})\n< 0.5 * sum by ({ENV_LABEL}, job_name) (avg_over_time(flink_taskmanager_job_task_numRecordsOutPerSecond{{{sel}}}[1h] offset 10m))\nand sum by ({ENV_LABEL}, job_name) (avg_over_time(flink_taskmanager_job_task_numRecordsOutPerSecond{{{sel}}}[1h] offset 10m)) > 10"
        ),
        "10m",
        Severity::Warning,
        "Throughput of {{ $labels.job_name }} dropped by more than half",
        "Records out per second are below half of the hour before (the job was doing more than 10 records/s).",
    );

    out.retain(|r| !p.env.alerts.get(r.name).is_some_and(|o| o.disabled));
    for r in &mut out {
        if let Some(f) = p.env.alerts.get(r.name).and_then(|o| o.for_.clone()) {
            r.for_ = f;
        }
    }
    out
}

/// A value as Flink's Prometheus reporter writes it into a label: every character outside
/// `[A-Za-z0-9:_]` becomes `_` (the job `flinkops-demo` is `job_name="flinkops_demo"`).
pub fn prom_label(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == ':' || c == '_' { c } else { '_' }).collect()
}

/// The runbook URL of a rule.
pub fn runbook_url(base: Option<&str>, rule: &str) -> String {
    format!("{}/{rule}.md", base.unwrap_or("docs/runbooks").trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::collections::BTreeSet<String> {
        include_str!("../tests/fixtures/flink-2.3-metric-names.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_metric_is_exported_by_a_real_flink() {
        let names = fixture();
        for m in METRICS {
            assert!(names.contains(*m), "{m} is not in the metric names a live Flink 2.3 exports");
        }
    }

    #[test]
    fn every_rule_has_a_runbook() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/runbooks");
        for r in RULE_NAMES {
            assert!(dir.join(format!("{r}.md")).is_file(), "docs/runbooks/{r}.md is missing");
        }
    }

    #[test]
    fn rule_expressions_use_only_known_metrics() {
        let names = fixture();
        let text = include_str!("rules.rs");
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("flink_") && word.len() > 10 && word.chars().any(|c| c.is_ascii_uppercase() || c == '_') {
                assert!(names.contains(word), "{word} is used in rules.rs but not exported by Flink");
            }
        }
    }
}
