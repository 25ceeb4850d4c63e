//! Health rules over Flink REST samples and the per-(job, rule) alert state machine.
//!
//! Pure: no I/O and no clock. Every time is epoch milliseconds (`i64`) passed in.
//!
//! Per tick and job, serve reads a [`JobHealthSample`] from Flink's REST API and calls
//! [`evaluate_job`] with the job's stored [`AlertState`]s and its in-memory [`HealthHistory`]:
//!
//! ```text
//! rule condition (Holds / Clear / Unknown)  ──▶  transition(prev state)  ──▶  new AlertState
//!                                                                       └──▶  Option<Notification>
//! ```
//!
//! States: no row (inactive) → `Pending{since}` → `Firing{since}` → `Resolved{since}`. A rule whose
//! `for` is 0 goes straight to firing. `Unknown` (the data a rule needs could not be read) keeps
//! the state as it is: it neither advances a pending alert nor resolves a firing one.

use std::collections::{BTreeMap, VecDeque};

use flinkops_control::store::{AlertState, AlertStatus};
use flinkops_spec::types::{AlertOverride, Severity};
use serde::{Deserialize, Serialize};

/// The rules serve evaluates. Names are those of the Prometheus rules and of the runbooks
/// (`docs/runbooks/<Name>.md`, `flinkops_spec::rules::RULE_NAMES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Rule {
    FlinkJobNotRunning,
    FlinkJobRestarting,
    FlinkCheckpointFailures,
    FlinkNoRecentCheckpoint,
    FlinkCheckpointDurationHigh,
    FlinkBackpressureHigh,
    FlinkTaskBusy,
}

impl Rule {
    /// Every rule, in evaluation order.
    pub const ALL: [Rule; 7] = [
        Rule::FlinkJobNotRunning,
        Rule::FlinkJobRestarting,
        Rule::FlinkCheckpointFailures,
        Rule::FlinkNoRecentCheckpoint,
        Rule::FlinkCheckpointDurationHigh,
        Rule::FlinkBackpressureHigh,
        Rule::FlinkTaskBusy,
    ];

    /// The rule's name (`FlinkJobNotRunning`), as in the spec's `alerts` overrides.
    pub fn name(self) -> &'static str {
        match self {
            Rule::FlinkJobNotRunning => "FlinkJobNotRunning",
            Rule::FlinkJobRestarting => "FlinkJobRestarting",
            Rule::FlinkCheckpointFailures => "FlinkCheckpointFailures",
            Rule::FlinkNoRecentCheckpoint => "FlinkNoRecentCheckpoint",
            Rule::FlinkCheckpointDurationHigh => "FlinkCheckpointDurationHigh",
            Rule::FlinkBackpressureHigh => "FlinkBackpressureHigh",
            Rule::FlinkTaskBusy => "FlinkTaskBusy",
        }
    }

    /// The rule of that name, if serve evaluates it.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Default severity: the same as the Prometheus rule of that name (`flinkops_spec::rules`),
    /// so both paths route an alert to the same channels.
    pub fn default_severity(self) -> Severity {
        match self {
            Rule::FlinkJobNotRunning | Rule::FlinkNoRecentCheckpoint | Rule::FlinkCheckpointFailures => Severity::Critical,
            Rule::FlinkJobRestarting | Rule::FlinkCheckpointDurationHigh | Rule::FlinkBackpressureHigh | Rule::FlinkTaskBusy => {
                Severity::Warning
            }
        }
    }

    /// Default `for` in milliseconds (the Prometheus rule's `for`).
    pub fn default_for_ms(self) -> i64 {
        match self {
            Rule::FlinkJobNotRunning => 60_000,
            Rule::FlinkJobRestarting | Rule::FlinkCheckpointFailures | Rule::FlinkNoRecentCheckpoint => 0,
            Rule::FlinkCheckpointDurationHigh | Rule::FlinkBackpressureHigh => 5 * 60_000,
            Rule::FlinkTaskBusy => 10 * 60_000,
        }
    }

    /// What the rule means, for people (the notification's description).
    pub fn description(self) -> &'static str {
        match self {
            Rule::FlinkJobNotRunning => {
                "The job has no running attempt (it failed, was cancelled, is restarting, or its cluster is unreachable)."
            }
            Rule::FlinkJobRestarting => "The job's restart counter increased; it fails and recovers repeatedly.",
            Rule::FlinkCheckpointFailures => {
                "Checkpoints of the job are failing; recovery would replay from an older checkpoint."
            }
            Rule::FlinkNoRecentCheckpoint => {
                "The job runs but completed no checkpoint within the allowed number of checkpoint intervals; its state is not being saved."
            }
            Rule::FlinkCheckpointDurationHigh => {
                "The last checkpoint took more than the allowed share of the checkpoint interval; checkpoints may start to overlap or time out."
            }
            Rule::FlinkBackpressureHigh => {
                "A task spends more than half of each second back-pressured (the metric tops out at 1000 ms/s); a downstream operator cannot keep up."
            }
            Rule::FlinkTaskBusy => {
                "A task is busy more than 90% of the time: it is the bottleneck and needs more parallelism."
            }
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What serve observed of one job at one tick (from Flink's REST API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobHealthSample {
    /// The flinkops job name (the spec's key).
    pub job: String,
    /// When the sample was taken (epoch ms).
    pub at: i64,
    /// Flink's job state (`RUNNING`, `FAILED`, `RESTARTING`, …); None: the job was not found
    /// or its cluster did not answer.
    pub state: Option<String>,
    /// Whether the job is meant to run. False for a job that is suspended or being stopped on
    /// purpose: then no rule holds (firing alerts resolve).
    #[serde(default = "yes")]
    pub expected_running: bool,
    /// `numRestarts` of the job.
    pub num_restarts: Option<i64>,
    /// Completed checkpoints (`/jobs/:id/checkpoints` `counts.completed`). Some(_) whenever the
    /// checkpoint statistics were read, even if zero.
    pub completed_checkpoints: Option<i64>,
    /// Failed checkpoints (`counts.failed`).
    pub failed_checkpoints: Option<i64>,
    /// When the newest completed checkpoint finished (`latest.completed.latest_ack_timestamp`).
    pub last_completed_checkpoint_at: Option<i64>,
    /// End-to-end duration of the newest completed checkpoint.
    pub last_checkpoint_duration_ms: Option<i64>,
    /// Highest `backPressuredTimeMsPerSecond` over the job's subtasks.
    pub max_backpressured_ms_per_s: Option<f64>,
    /// Highest `busyTimeMsPerSecond` over the job's subtasks.
    pub max_busy_ms_per_s: Option<f64>,
    /// Checkpoint interval (`execution.checkpointing.interval`); None or ≤ 0: checkpointing off.
    pub checkpoint_interval_ms: Option<i64>,
    /// How long the current job attempt has been running.
    pub uptime_ms: Option<i64>,
}

fn yes() -> bool {
    true
}

impl JobHealthSample {
    /// A sample with only the job and time set (everything else unknown, expected to run).
    pub fn new(job: impl Into<String>, at: i64) -> Self {
        JobHealthSample {
            job: job.into(),
            at,
            state: None,
            expected_running: true,
            num_restarts: None,
            completed_checkpoints: None,
            failed_checkpoints: None,
            last_completed_checkpoint_at: None,
            last_checkpoint_duration_ms: None,
            max_backpressured_ms_per_s: None,
            max_busy_ms_per_s: None,
            checkpoint_interval_ms: None,
            uptime_ms: None,
        }
    }

    fn is_running(&self) -> bool {
        self.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("RUNNING"))
    }
}

/// Settings of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleConfig {
    /// How long the condition must hold before the alert fires (0: at once).
    pub for_ms: i64,
    /// Leave the rule out (a firing alert of it resolves).
    pub disabled: bool,
    pub severity: Severity,
}

/// Thresholds, `for` durations and notification settings of the health rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSettings {
    /// Per rule; a rule missing here uses its defaults.
    pub rules: BTreeMap<Rule, RuleConfig>,
    /// A firing alert notifies again after this long (default 4 h, as the rendered
    /// Alertmanager configuration's `repeat_interval`).
    pub repeat_interval_ms: i64,
    /// FlinkJobRestarting holds while the restart counter rose within this window (10 min).
    pub restart_window_ms: i64,
    /// FlinkCheckpointFailures holds while the failed-checkpoint counter rose within this
    /// window (10 min).
    pub checkpoint_failure_window_ms: i64,
    /// FlinkNoRecentCheckpoint: this many checkpoint intervals without a completed checkpoint
    /// (the spec's `checkpointing.alertAfterMissed`, default 3).
    pub missed_checkpoints: u32,
    /// FlinkCheckpointDurationHigh: last checkpoint duration above this share of the interval
    /// (0.5).
    pub checkpoint_duration_ratio: f64,
    /// FlinkBackpressureHigh: max back-pressured time above this many ms per second (500).
    pub backpressure_ms_per_s: f64,
    /// FlinkTaskBusy: max busy time above this many ms per second (900).
    pub busy_ms_per_s: f64,
    /// Base of the runbook URLs (`<base>/<Rule>.md`; the spec's `alerting.runbookBaseUrl`).
    pub runbook_base_url: Option<String>,
    /// Labels added to every notification (e.g. `flinkops_env`).
    pub labels: BTreeMap<String, String>,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            rules: BTreeMap::new(),
            repeat_interval_ms: 4 * 3_600_000,
            restart_window_ms: 10 * 60_000,
            checkpoint_failure_window_ms: 10 * 60_000,
            missed_checkpoints: 3,
            checkpoint_duration_ratio: 0.5,
            backpressure_ms_per_s: 500.0,
            busy_ms_per_s: 900.0,
            runbook_base_url: None,
            labels: BTreeMap::new(),
        }
    }
}

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "alert override `{rule}`: `for: {value}` is not a duration: {reason}; write a Prometheus duration such as `30s`, `5m` or `1h30m`"
    )]
    BadFor { rule: String, value: String, reason: String },
    #[error("the spec has no environment `{env}`; its environments are: {known}")]
    UnknownEnvironment { env: String, known: String },
}

impl RuleSettings {
    /// The settings of one rule (defaults unless overridden).
    pub fn rule(&self, rule: Rule) -> RuleConfig {
        self.rules.get(&rule).copied().unwrap_or(RuleConfig {
            for_ms: rule.default_for_ms(),
            disabled: false,
            severity: rule.default_severity(),
        })
    }

    /// The settings of one environment of a spec: its `alerts` overrides, its checkpointing's
    /// `alertAfterMissed`, the spec's `alerting.runbookBaseUrl` and the label `flinkops_env`
    /// (as on the Prometheus rules of the same names).
    pub fn for_environment(spec: &flinkops_spec::Spec, env: &str) -> Result<Self, SettingsError> {
        let Some(e) = spec.environments.get(env) else {
            let known: Vec<&str> = spec.environments.keys().map(String::as_str).collect();
            return Err(SettingsError::UnknownEnvironment { env: env.to_string(), known: known.join(", ") });
        };
        let mut s = RuleSettings { runbook_base_url: spec.alerting.runbook_base_url.clone(), ..RuleSettings::default() };
        if let Some(c) = &e.checkpointing {
            s.missed_checkpoints = c.alert_after_missed.max(1);
        }
        s.labels.insert(flinkops_spec::rules::ENV_LABEL.to_string(), env.to_string());
        s.with_overrides(&e.alerts)
    }

    /// Applies the spec's per-environment `alerts` overrides (`FlinkJobNotRunning: {for: 30s}`,
    /// `FlinkTaskBusy: {disabled: true}`). Names of rules serve does not evaluate (those only
    /// Prometheus evaluates, like `FlinkHeapUsageHigh`) are skipped.
    pub fn with_overrides(mut self, overrides: &BTreeMap<String, AlertOverride>) -> Result<Self, SettingsError> {
        for (name, o) in overrides {
            let Some(rule) = Rule::from_name(name) else { continue };
            let mut cfg = self.rule(rule);
            if let Some(f) = &o.for_ {
                cfg.for_ms = parse_prom_duration(f).map_err(|reason| SettingsError::BadFor {
                    rule: name.clone(),
                    value: f.clone(),
                    reason,
                })?;
            }
            cfg.disabled = o.disabled;
            self.rules.insert(rule, cfg);
        }
        Ok(self)
    }
}

/// A Prometheus duration (`30s`, `5m`, `1h30m`, `250ms`, `0`) in milliseconds.
pub fn parse_prom_duration(s: &str) -> Result<i64, String> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err("it is empty".into());
    }
    let mut rest = s;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("expected a number at `{rest}`"));
        }
        let n: i64 = rest[..digits].parse().map_err(|_| format!("`{}` is too large", &rest[..digits]))?;
        rest = &rest[digits..];
        let (unit, ms) = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000), ("y", 31_536_000_000)]
            .into_iter()
            .find(|(u, _)| rest.starts_with(u))
            .ok_or_else(|| format!("missing or unknown unit at `{rest}` (ms, s, m, h, d, w, y)"))?;
        rest = &rest[unit.len()..];
        total = n.checked_mul(ms).and_then(|v| total.checked_add(v)).ok_or_else(|| "it is too large".to_string())?;
    }
    Ok(total)
}

/// Recent counter values of one job (restarts, failed checkpoints), for the rules that ask
/// whether a counter rose within a window. Serve keeps one per job in memory; it is
/// serializable so it can be persisted across restarts (e.g. with `Store::put_meta`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthHistory {
    points: VecDeque<CounterPoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct CounterPoint {
    at: i64,
    restarts: Option<i64>,
    failed_checkpoints: Option<i64>,
}

/// At most this many points per job, whatever the windows and the tick.
const HISTORY_CAP: usize = 4096;

impl HealthHistory {
    /// Adds a sample's counters and drops points no window needs any more (it keeps the newest
    /// point older than the longest window as the baseline of the first rise).
    pub fn record(&mut self, sample: &JobHealthSample, settings: &RuleSettings) {
        self.points.push_back(CounterPoint {
            at: sample.at,
            restarts: sample.num_restarts,
            failed_checkpoints: sample.failed_checkpoints,
        });
        let window = settings.restart_window_ms.max(settings.checkpoint_failure_window_ms);
        let cutoff = sample.at.saturating_sub(window);
        while self.points.len() > 1 && self.points.get(1).is_some_and(|p| p.at <= cutoff) {
            self.points.pop_front();
        }
        while self.points.len() > HISTORY_CAP {
            self.points.pop_front();
        }
    }

    /// Number of recorded points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// How much a counter rose within `(now - window, now]`: the sum of the increases between
    /// consecutive known values whose later value lies in the window (a decrease is a reset, a
    /// new job attempt, and counts as no rise). None when no two known values bracket the
    /// window's samples (nothing to compare yet).
    fn rise(&self, now: i64, window_ms: i64, value: impl Fn(&CounterPoint) -> Option<i64>) -> Option<i64> {
        let cutoff = now.saturating_sub(window_ms);
        let mut prev: Option<i64> = None;
        let mut compared = false;
        let mut total: i64 = 0;
        for p in &self.points {
            let Some(v) = value(p) else { continue };
            if let Some(pv) = prev
                && p.at > cutoff
                && p.at <= now
            {
                compared = true;
                total = total.saturating_add((v - pv).max(0));
            }
            prev = Some(v);
        }
        compared.then_some(total)
    }
}

/// Whether a rule's condition holds in a sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// It holds; the summary says what was seen.
    Holds { summary: String },
    /// It does not hold.
    Clear,
    /// The data it needs could not be read: the alert keeps its state.
    Unknown,
}

fn holds(summary: String) -> Condition {
    Condition::Holds { summary }
}

/// The condition of one rule in one sample.
pub fn condition(rule: Rule, sample: &JobHealthSample, history: &HealthHistory, settings: &RuleSettings) -> Condition {
    let job = &sample.job;
    if !sample.expected_running {
        return Condition::Clear;
    }
    if rule == Rule::FlinkJobNotRunning {
        return match sample.state.as_deref() {
            None => holds(format!("Flink job {job} was not found (or its cluster did not answer)")),
            Some(_) if sample.is_running() => Condition::Clear,
            Some(s) => holds(format!("Flink job {job} is {s}, not RUNNING")),
        };
    }
    // A job that is not there has no counters or metrics: only FlinkJobNotRunning speaks for it.
    if sample.state.is_none() {
        return Condition::Clear;
    }
    match rule {
        Rule::FlinkJobNotRunning => Condition::Clear,
        Rule::FlinkJobRestarting => {
            let window = settings.restart_window_ms;
            match history.rise(sample.at, window, |p| p.restarts) {
                None => Condition::Unknown,
                Some(0) => Condition::Clear,
                Some(n) => holds(format!("Flink job {job} restarted {n} times in the last {}", human_ms(window))),
            }
        }
        Rule::FlinkCheckpointFailures => {
            let window = settings.checkpoint_failure_window_ms;
            match history.rise(sample.at, window, |p| p.failed_checkpoints) {
                None => Condition::Unknown,
                Some(0) => Condition::Clear,
                Some(n) => holds(format!("{n} checkpoints of {job} failed in the last {}", human_ms(window))),
            }
        }
        // The rules below are about a running job; a job that is not running is
        // FlinkJobNotRunning's business.
        _ if !sample.is_running() => Condition::Clear,
        Rule::FlinkNoRecentCheckpoint => {
            let Some(interval) = sample.checkpoint_interval_ms.filter(|i| *i > 0) else { return Condition::Clear };
            let Some(uptime) = sample.uptime_ms else { return Condition::Unknown };
            if sample.completed_checkpoints.is_none() && sample.last_completed_checkpoint_at.is_none() {
                return Condition::Unknown;
            }
            let window = interval.saturating_mul(i64::from(settings.missed_checkpoints.max(1)));
            let started = sample.at.saturating_sub(uptime);
            // A checkpoint from before the current attempt started does not count against it.
            let reference = sample.last_completed_checkpoint_at.map_or(started, |c| c.max(started));
            let age = sample.at.saturating_sub(reference);
            if age <= window {
                Condition::Clear
            } else if sample.last_completed_checkpoint_at.is_some_and(|c| c >= started) {
                holds(format!(
                    "No checkpoint of {job} completed in the last {} checkpoint intervals (last one {} ago)",
                    settings.missed_checkpoints.max(1),
                    human_ms(age)
                ))
            } else {
                holds(format!(
                    "No checkpoint of {job} completed since it started {} ago ({} checkpoint intervals)",
                    human_ms(age),
                    settings.missed_checkpoints.max(1)
                ))
            }
        }
        Rule::FlinkCheckpointDurationHigh => {
            let Some(interval) = sample.checkpoint_interval_ms.filter(|i| *i > 0) else { return Condition::Clear };
            let Some(d) = sample.last_checkpoint_duration_ms else {
                // No checkpoint yet, or statistics not read.
                return if sample.completed_checkpoints == Some(0) { Condition::Clear } else { Condition::Unknown };
            };
            let limit = interval as f64 * settings.checkpoint_duration_ratio;
            if (d as f64) > limit {
                holds(format!(
                    "The last checkpoint of {job} took {d} ms, more than {:.0}% of the {interval} ms checkpoint interval",
                    settings.checkpoint_duration_ratio * 100.0
                ))
            } else {
                Condition::Clear
            }
        }
        Rule::FlinkBackpressureHigh => match sample.max_backpressured_ms_per_s {
            None => Condition::Unknown,
            Some(v) if v > settings.backpressure_ms_per_s => holds(format!(
                "A task of {job} is back-pressured {v:.0} ms per second (threshold {:.0})",
                settings.backpressure_ms_per_s
            )),
            Some(_) => Condition::Clear,
        },
        Rule::FlinkTaskBusy => match sample.max_busy_ms_per_s {
            None => Condition::Unknown,
            Some(v) if v > settings.busy_ms_per_s => {
                holds(format!("A task of {job} is busy {v:.0} ms per second (threshold {:.0})", settings.busy_ms_per_s))
            }
            Some(_) => Condition::Clear,
        },
    }
}

/// `10m`, `90s`, `1h30m` for summaries.
fn human_ms(ms: i64) -> String {
    let s = ms / 1000;
    if s <= 0 {
        return format!("{ms}ms");
    }
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || out.is_empty() {
        out.push_str(&format!("{sec}s"));
    }
    out
}

/// What a transition asks to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertEvent {
    /// The alert started firing.
    Firing,
    /// Still firing, and the repeat interval since the last notification elapsed.
    Repeat,
    /// It was firing and its condition cleared.
    Resolved,
}

/// The state machine of one (job, rule): from the stored state, the rule's condition now and
/// its settings, the state to store (None: nothing to store, the rule was and stays inactive)
/// and what to notify.
///
/// - inactive/resolved + holds → pending (`since` = now), or firing at once when `for` is 0;
/// - pending + holds for `for` (now − since ≥ for) → firing (notify);
/// - firing + holds → firing; notify again only once `repeat_ms` passed since the last
///   notification;
/// - firing + clear → resolved (notify once); pending + clear → resolved without notifying;
/// - unknown → unchanged (only `updated_at` moves);
/// - a disabled rule's condition counts as clear.
pub fn transition(
    prev: Option<&AlertState>,
    job: &str,
    rule: Rule,
    cond: &Condition,
    cfg: &RuleConfig,
    repeat_ms: i64,
    now: i64,
) -> (Option<AlertState>, Option<AlertEvent>) {
    let cond = if cfg.disabled { &Condition::Clear } else { cond };
    let severity = cfg.severity.as_str().to_string();
    let fresh = |status: AlertStatus, summary: String, last_notified_at: Option<i64>| AlertState {
        job: job.to_string(),
        rule: rule.name().to_string(),
        status,
        severity: severity.clone(),
        since: now,
        last_notified_at,
        summary,
        updated_at: now,
    };
    let Some(p) = prev else {
        return match cond {
            Condition::Holds { summary } if cfg.for_ms <= 0 => {
                (Some(fresh(AlertStatus::Firing, summary.clone(), Some(now))), Some(AlertEvent::Firing))
            }
            Condition::Holds { summary } => (Some(fresh(AlertStatus::Pending, summary.clone(), None)), None),
            Condition::Clear | Condition::Unknown => (None, None),
        };
    };
    let touched = AlertState { updated_at: now, ..p.clone() };
    match (p.status, cond) {
        (_, Condition::Unknown) => (Some(touched), None),
        (AlertStatus::Resolved, Condition::Clear) => (Some(touched), None),
        (AlertStatus::Resolved, Condition::Holds { summary }) => {
            if cfg.for_ms <= 0 {
                (Some(fresh(AlertStatus::Firing, summary.clone(), Some(now))), Some(AlertEvent::Firing))
            } else {
                (Some(fresh(AlertStatus::Pending, summary.clone(), p.last_notified_at)), None)
            }
        }
        (AlertStatus::Pending, Condition::Holds { summary }) => {
            if now.saturating_sub(p.since) >= cfg.for_ms {
                (Some(fresh(AlertStatus::Firing, summary.clone(), Some(now))), Some(AlertEvent::Firing))
            } else {
                (Some(AlertState { summary: summary.clone(), severity, ..touched }), None)
            }
        }
        (AlertStatus::Pending, Condition::Clear) => {
            (Some(AlertState { status: AlertStatus::Resolved, since: now, ..touched }), None)
        }
        (AlertStatus::Firing, Condition::Holds { summary }) => {
            let due = p.last_notified_at.is_none_or(|t| now.saturating_sub(t) >= repeat_ms);
            if due {
                (
                    Some(AlertState { summary: summary.clone(), severity, last_notified_at: Some(now), ..touched }),
                    Some(AlertEvent::Repeat),
                )
            } else {
                (Some(AlertState { summary: summary.clone(), severity, ..touched }), None)
            }
        }
        (AlertStatus::Firing, Condition::Clear) => (
            Some(AlertState { status: AlertStatus::Resolved, since: now, last_notified_at: Some(now), ..touched }),
            Some(AlertEvent::Resolved),
        ),
    }
}

/// Firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationStatus {
    Firing,
    Resolved,
}

impl NotificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Firing => "firing",
            NotificationStatus::Resolved => "resolved",
        }
    }
}

impl std::fmt::Display for NotificationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert notification, ready for every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub job: String,
    pub rule: String,
    pub severity: Severity,
    pub status: NotificationStatus,
    /// True for a reminder of an alert that is still firing (after the repeat interval).
    pub repeat: bool,
    pub summary: String,
    pub description: String,
    pub runbook_url: String,
    /// `flinkops/<job>/<rule>`: the same for the firing and the resolve of one alert
    /// (PagerDuty's `dedup_key`).
    pub dedup_key: String,
    /// When the alert started firing.
    pub starts_at: i64,
    /// When it resolved (None while firing).
    pub ends_at: Option<i64>,
    /// `alertname`, `severity`, `job_name` (the job name as Flink's Prometheus reporter writes
    /// it) and the settings' extra labels: the labels the Prometheus rule of the same name
    /// carries, so Alertmanager routes and deduplicates both alike.
    pub labels: BTreeMap<String, String>,
}

impl Notification {
    /// `summary`, `description`, `runbook_url`: the annotations of the Prometheus rule.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("summary".to_string(), self.summary.clone()),
            ("description".to_string(), self.description.clone()),
            ("runbook_url".to_string(), self.runbook_url.clone()),
        ])
    }
}

/// The stable deduplication key of an alert.
pub fn dedup_key(job: &str, rule: &str) -> String {
    format!("flinkops/{job}/{rule}")
}

fn notification(state: &AlertState, rule: Rule, event: AlertEvent, settings: &RuleSettings, starts_at: i64, now: i64) -> Notification {
    let severity = match state.severity.as_str() {
        "critical" => Severity::Critical,
        "warning" => Severity::Warning,
        "info" => Severity::Info,
        _ => settings.rule(rule).severity,
    };
    let mut labels = settings.labels.clone();
    labels.insert("alertname".into(), rule.name().into());
    labels.insert("severity".into(), severity.as_str().into());
    labels.insert("job_name".into(), flinkops_spec::rules::prom_label(&state.job));
    let resolved = event == AlertEvent::Resolved;
    Notification {
        job: state.job.clone(),
        rule: rule.name().to_string(),
        severity,
        status: if resolved { NotificationStatus::Resolved } else { NotificationStatus::Firing },
        repeat: event == AlertEvent::Repeat,
        summary: state.summary.clone(),
        description: rule.description().to_string(),
        runbook_url: flinkops_spec::rules::runbook_url(settings.runbook_base_url.as_deref(), rule.name()),
        dedup_key: dedup_key(&state.job, rule.name()),
        starts_at,
        ends_at: resolved.then_some(now),
        labels,
    }
}

/// The outcome of one rule for one job at one tick.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome {
    pub rule: Rule,
    /// The state to store (None: the rule was and stays inactive, nothing to store).
    pub state: Option<AlertState>,
    /// Whether anything but `updated_at` differs from the previous state (serve may skip
    /// storing otherwise).
    pub changed: bool,
    pub notification: Option<Notification>,
}

/// Evaluates one rule of one job: its condition in `sample`, then [`transition`].
pub fn evaluate_rule(
    rule: Rule,
    prev: Option<&AlertState>,
    sample: &JobHealthSample,
    history: &HealthHistory,
    settings: &RuleSettings,
    now: i64,
) -> RuleOutcome {
    let cfg = settings.rule(rule);
    let cond = if cfg.disabled { Condition::Clear } else { condition(rule, sample, history, settings) };
    let (state, event) = transition(prev, &sample.job, rule, &cond, &cfg, settings.repeat_interval_ms, now);
    let changed = match (prev, &state) {
        (None, None) => false,
        (Some(p), Some(s)) => AlertState { updated_at: p.updated_at, ..s.clone() } != *p,
        _ => true,
    };
    let notification = match (&state, event) {
        (Some(s), Some(ev)) => {
            // A resolve reports the firing episode: it started when the previous state began
            // firing, and it is about what was last seen firing.
            let starts_at = match (ev, prev) {
                (AlertEvent::Firing, _) | (_, None) => s.since,
                (_, Some(p)) => p.since,
            };
            Some(notification(s, rule, ev, settings, starts_at, now))
        }
        _ => None,
    };
    if let Some(n) = &notification {
        tracing::info!(job = %n.job, rule = %n.rule, status = %n.status, repeat = n.repeat, "alert {}", n.status);
    }
    RuleOutcome { rule, state, changed, notification }
}

/// Every rule's outcome for one job at one tick.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobEvaluation {
    pub outcomes: Vec<RuleOutcome>,
}

impl JobEvaluation {
    /// States to store (every rule that has one).
    pub fn states(&self) -> impl Iterator<Item = &AlertState> {
        self.outcomes.iter().filter_map(|o| o.state.as_ref())
    }

    /// States that changed (the ones worth writing).
    pub fn changed_states(&self) -> impl Iterator<Item = &AlertState> {
        self.outcomes.iter().filter(|o| o.changed).filter_map(|o| o.state.as_ref())
    }

    /// Notifications to send, in rule order.
    pub fn notifications(&self) -> impl Iterator<Item = &Notification> {
        self.outcomes.iter().filter_map(|o| o.notification.as_ref())
    }
}

/// Evaluates every rule of one job: records the sample's counters in `history`, then runs
/// [`evaluate_rule`] for each [`Rule`] with its stored state from `prev` (the job's
/// `Store::alerts(job)`; states of other jobs and of unknown rules are ignored).
pub fn evaluate_job(
    prev: &[AlertState],
    sample: &JobHealthSample,
    history: &mut HealthHistory,
    settings: &RuleSettings,
    now: i64,
) -> JobEvaluation {
    history.record(sample, settings);
    let outcomes = Rule::ALL
        .into_iter()
        .map(|rule| {
            let p = prev.iter().find(|s| s.job == sample.job && s.rule == rule.name());
            evaluate_rule(rule, p, sample, history, settings, now)
        })
        .collect();
    JobEvaluation { outcomes }
}

#[cfg(test)]
mod tests;
