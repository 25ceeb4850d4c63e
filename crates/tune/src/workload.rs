//! What a job does and what it runs on: the advisor's input, read from a YAML or JSON file
//! (`flinkops tune --workload FILE`) or assembled from flags. Unknown fields are errors (a typo
//! must not silently fall back to a default); sizes and durations are Flink's own notation
//! (`512mb`, `2 gb`, `30 s`, `5min`), parsed by `flinkops-config`'s `units`.

use std::time::Duration;

use flinkops_config::units;
use serde::{Deserialize, Serialize};

use crate::error::TuneError;

/// Streaming or batch execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Streaming,
    Batch,
}

/// What matters more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Goal {
    /// Records out as soon as possible (milliseconds).
    Latency,
    /// As many records per second as the cluster can give.
    Throughput,
    /// Neither at the expense of the other.
    #[default]
    Balanced,
}

/// How operators use their keyed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessPattern {
    /// Mostly point reads of existing keys (lookups, enrichment).
    ReadHeavy,
    /// Mostly updates and inserts (aggregations, appends).
    WriteHeavy,
    #[default]
    Mixed,
}

/// The delivery guarantee the sinks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    #[default]
    ExactlyOnce,
    AtLeastOnce,
}

/// How the job is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// Flink SQL / Table API: the planner's options apply and object reuse is safe.
    #[default]
    Sql,
    /// DataStream API: object reuse only when the user's functions allow it.
    Datastream,
}

/// The resources the job gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cluster {
    /// TaskManagers.
    pub taskmanagers: u32,
    /// `taskmanager.memory.process.size` of each TaskManager, e.g. `4gb`.
    pub taskmanager_memory: String,
    /// CPU cores of each TaskManager.
    pub cores: u32,
    /// Task slots per TaskManager; default: one per core.
    pub slots: Option<u32>,
    /// Local disk of each TaskManager for RocksDB/ForSt working state, e.g. `100gb`.
    pub local_disk: Option<String>,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster { taskmanagers: 1, taskmanager_memory: "4gb".into(), cores: 2, slots: None, local_disk: None }
    }
}

/// What a SQL job contains (the planner options that apply depend on it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqlShape {
    /// Unbounded (non-window) GROUP BY aggregations.
    pub group_aggregations: bool,
    /// COUNT(DISTINCT …) or other DISTINCT aggregates.
    pub distinct_aggregates: bool,
    /// Window aggregations (TUMBLE/HOP/CUMULATE table functions).
    pub window_aggregations: bool,
    /// Regular (non-window, non-interval) joins.
    pub regular_joins: bool,
    /// Deduplication (ROW_NUMBER … = 1).
    pub deduplication: bool,
    /// Top-N (ROW_NUMBER … <= N).
    pub top_n: bool,
}

/// The advisor's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    pub mode: Mode,
    pub goal: Goal,
    /// The end-to-end latency a record may take, e.g. `200 ms` (latency goal).
    pub latency_target: Option<String>,
    /// Expected input rate, all sources together.
    pub records_per_second: Option<u64>,
    /// Average serialized record size, e.g. `200b`.
    pub record_size: Option<String>,
    /// Total keyed state of the job, e.g. `20gb`.
    pub state_size: Option<String>,
    pub access_pattern: AccessPattern,
    /// Distinct keys of the largest keyed operator.
    pub key_cardinality: Option<u64>,
    /// How long a key's state stays useful after its last update, e.g. `1 d` (SQL state TTL).
    pub state_ttl: Option<String>,
    /// Checkpoint interval, e.g. `60 s`; default from the profile.
    pub checkpoint_interval: Option<String>,
    pub delivery: Delivery,
    pub api: Api,
    /// DataStream jobs: the user's functions neither keep nor modify input records.
    pub object_reuse_safe: bool,
    /// The session time zone of a SQL job (`table.local-time-zone`): an IANA zone such as
    /// `Europe/Berlin` or `Etc/UTC`, or a fixed offset such as `GMT+03:00`. Unset: Flink takes
    /// the JVM default zone of the cluster's processes.
    pub time_zone: Option<String>,
    pub sql: SqlShape,
    pub cluster: Cluster,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            mode: Mode::Streaming,
            goal: Goal::Balanced,
            latency_target: None,
            records_per_second: None,
            record_size: None,
            state_size: None,
            access_pattern: AccessPattern::Mixed,
            key_cardinality: None,
            state_ttl: None,
            checkpoint_interval: None,
            delivery: Delivery::ExactlyOnce,
            api: Api::Sql,
            object_reuse_safe: false,
            time_zone: None,
            sql: SqlShape::default(),
            cluster: Cluster::default(),
        }
    }
}

/// A session time zone, as far as the advisor needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Offset zero at every instant, without any transition: `UTC` and its other names
    /// (`Etc/UTC`, `GMT`, `Zulu`, `GMT+00:00`, …).
    Utc,
    /// Any other valid zone.
    Other,
}

impl Zone {
    /// Classifies a zone id the way Flink's `table.local-time-zone` accepts them: an IANA name
    /// (the database is bundled, so the answer does not depend on the machine) or
    /// `GMT±hh:mm`; what Flink would refuse is an error that says what was wrong and what is
    /// accepted (checked against a real JVM in the integration tests).
    pub fn classify(name: &str) -> Result<Zone, String> {
        if let Some(offset) = name.strip_prefix("GMT").filter(|r| r.starts_with(['+', '-'])) {
            // What both of Java's parsers take (TimeZone's custom ids and ZoneOffset): h, hh,
            // hhmm or hh:mm, at most 18 hours.
            let digits = &offset[1..];
            let all = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let hm = match digits.split_once(':') {
                Some((h, m)) if h.len() == 2 && m.len() == 2 && all(h) && all(m) => Some((h, m)),
                None if (1..=2).contains(&digits.len()) && all(digits) => Some((digits, "0")),
                None if digits.len() == 4 && all(digits) => Some((&digits[..2], &digits[2..])),
                _ => None,
            };
            let minutes = hm.and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?))).filter(|&(h, m)| m <= 59 && h * 60 + m <= 18 * 60);
            let Some((h, m)) = minutes else {
                return Err(format!("`{name}`: a fixed offset is written GMT+hh:mm or GMT-hh:mm (or GMT+h, GMT+hh, GMT+hhmm), at most 18 hours (e.g. `GMT-03:00`), as Flink requires"));
            };
            return Ok(if h == 0 && m == 0 { Zone::Utc } else { Zone::Other });
        }
        let tz = jiff::tz::TimeZone::get(name).map_err(|_| {
            format!("`{name}` is not a zone of the IANA time zone database: give a name such as `Europe/Berlin` or `Etc/UTC`, or a fixed offset such as `GMT+03:00`")
        })?;
        // The database looks names up ignoring case; Java (and so Flink) does not.
        if let Some(canonical) = tz.iana_name().filter(|c| *c != name) {
            return Err(format!("`{name}`: Flink reads zone names case-sensitively; write `{canonical}`"));
        }
        // Java reads these three as fixed offsets (ZoneId.SHORT_IDS) and the database as
        // regions; Flink refuses a zone on which the two disagree.
        if ["EST", "MST", "HST"].contains(&name) {
            return Err(format!("`{name}`: Flink refuses this abbreviation; give a region such as `America/New_York` or a fixed offset such as `GMT-05:00`"));
        }
        let fixed_utc = tz.following(jiff::Timestamp::MIN).next().is_none() && tz.to_offset(jiff::Timestamp::UNIX_EPOCH) == jiff::tz::Offset::UTC;
        Ok(if fixed_utc { Zone::Utc } else { Zone::Other })
    }
}

/// The workload with every size and duration parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub latency_target: Option<Duration>,
    pub record_size: Option<u64>,
    pub state_size: Option<u64>,
    pub state_ttl: Option<Duration>,
    pub checkpoint_interval: Option<Duration>,
    pub taskmanager_memory: u64,
    pub local_disk: Option<u64>,
    pub slots: u32,
    pub time_zone: Option<Zone>,
}

impl Workload {
    /// Reads a workload from YAML or JSON text (JSON is YAML). `name` is for messages, which
    /// start with `name:line:col` of the offending key or value.
    pub fn from_text(name: &str, text: &str) -> Result<Workload, TuneError> {
        let at = |line: u64, col: u64| format!("{name}:{line}:{col}");
        let w: Workload = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| {
                let message = e.to_string();
                // serde_json appends " at line L column C"; the position leads instead.
                let message = message.rsplit_once(" at line ").map(|(m, _)| m.to_string()).unwrap_or(message);
                TuneError::Workload { file: at(e.line() as u64, e.column() as u64), message }
            })?
        } else if text.trim().is_empty() {
            Workload::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let inner = e.without_snippet();
                let file = match inner.location().or_else(|| e.location()) {
                    Some(l) if l.line() > 0 => at(l.line(), l.column()),
                    _ => name.to_string(),
                };
                TuneError::Workload { file, message: yaml_message(&inner.to_string()) }
            })?
        };
        w.resolve().map_err(|e| match e {
            TuneError::Invalid { field, message } => {
                let file = locate(name, text, &field).map(|(l, c)| at(l.into(), c.into())).unwrap_or_else(|| name.to_string());
                TuneError::Workload { file, message: format!("{field}: {message}") }
            }
            other => other,
        })?;
        Ok(w)
    }

    /// Parses and checks every size and duration; collects all problems, reports the first.
    pub fn resolve(&self) -> Result<Resolved, TuneError> {
        let size = |field: &str, v: &Option<String>| -> Result<Option<u64>, TuneError> {
            v.as_deref()
                .map(|s| units::parse_memory_size(s).map_err(|e| TuneError::Invalid { field: field.into(), message: format!("`{s}`: {e}") }))
                .transpose()
        };
        let duration = |field: &str, v: &Option<String>| -> Result<Option<Duration>, TuneError> {
            v.as_deref()
                .map(|s| units::parse_duration(s).map_err(|e| TuneError::Invalid { field: field.into(), message: format!("`{s}`: {e}") }))
                .transpose()
        };
        let c = &self.cluster;
        if c.taskmanagers == 0 {
            return Err(TuneError::Invalid { field: "cluster.taskmanagers".into(), message: "must be at least 1".into() });
        }
        if c.cores == 0 {
            return Err(TuneError::Invalid { field: "cluster.cores".into(), message: "must be at least 1".into() });
        }
        if c.slots == Some(0) {
            return Err(TuneError::Invalid { field: "cluster.slots".into(), message: "must be at least 1".into() });
        }
        let taskmanager_memory = units::parse_memory_size(&c.taskmanager_memory)
            .map_err(|e| TuneError::Invalid { field: "cluster.taskmanager_memory".into(), message: format!("`{}`: {e}", c.taskmanager_memory) })?;
        // Below 1 GB Flink's fixed components (metaspace 256 MB, framework heap and off-heap
        // 128 MB each, overhead ≥ 192 MB) leave nothing for the job.
        if taskmanager_memory < (1 << 30) {
            return Err(TuneError::Invalid {
                field: "cluster.taskmanager_memory".into(),
                message: format!("{} is too small for a TaskManager: give it at least 1gb", c.taskmanager_memory),
            });
        }
        let checkpoint_interval = duration("checkpoint_interval", &self.checkpoint_interval)?;
        if checkpoint_interval.is_some_and(|d| d < Duration::from_millis(10)) {
            return Err(TuneError::Invalid { field: "checkpoint_interval".into(), message: "Flink's minimum checkpoint interval is 10 ms".into() });
        }
        Ok(Resolved {
            latency_target: duration("latency_target", &self.latency_target)?,
            record_size: size("record_size", &self.record_size)?,
            state_size: size("state_size", &self.state_size)?,
            state_ttl: duration("state_ttl", &self.state_ttl)?,
            checkpoint_interval,
            taskmanager_memory,
            local_disk: size("cluster.local_disk", &c.local_disk)?,
            slots: c.slots.unwrap_or(c.cores).max(1),
            time_zone: self
                .time_zone
                .as_deref()
                .map(|z| Zone::classify(z).map_err(|message| TuneError::Invalid { field: "time_zone".into(), message }))
                .transpose()?,
        })
    }

    /// True when the job keeps keyed state (aggregations, joins, dedup, or a state size given).
    pub fn is_stateful(&self) -> bool {
        let s = &self.sql;
        self.state_size.is_some()
            || self.key_cardinality.is_some()
            || s.group_aggregations
            || s.distinct_aggregates
            || s.window_aggregations
            || s.regular_joins
            || s.deduplication
            || s.top_n
    }
}

/// serde-saphyr's message without its `error: line L column C: ` prefix (the position is
/// given as `file:line:col` instead).
fn yaml_message(m: &str) -> String {
    let m = m.trim().strip_prefix("error: ").unwrap_or(m.trim());
    if m.starts_with("line ")
        && let Some((pos, rest)) = m.split_once(": ")
        && pos.contains(" column ")
    {
        return rest.to_string();
    }
    m.to_string()
}

/// Line and column of a field's value (`cluster.taskmanager_memory`) in a workload file.
fn locate(name: &str, text: &str, field: &str) -> Option<(u32, u32)> {
    let docs = flinkops_config::model::load_str(name, text, flinkops_config::model::Hint::ConfigYaml).ok()?;
    let e = docs.iter().flat_map(|d| d.entries.iter()).rev().find(|e| e.key == field)?;
    Some((e.value_pos.line, e.value_pos.column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_and_json_alike() {
        let y = "goal: throughput\nrecords_per_second: 100000\nstate_size: 2gb\naccess_pattern: write-heavy\ncluster:\n  taskmanagers: 2\n  taskmanager_memory: 4g\n  cores: 4\nsql:\n  group_aggregations: true\n";
        let a = Workload::from_text("w.yaml", y).unwrap();
        let j = r#"{"goal":"throughput","records_per_second":100000,"state_size":"2gb","access_pattern":"write-heavy","cluster":{"taskmanagers":2,"taskmanager_memory":"4g","cores":4},"sql":{"group_aggregations":true}}"#;
        let b = Workload::from_text("w.json", j).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.goal, Goal::Throughput);
        assert_eq!(a.resolve().unwrap().state_size, Some(2 << 30));
        assert_eq!(a.resolve().unwrap().slots, 4);
        assert!(a.is_stateful());
    }

    #[test]
    fn unknown_fields_and_bad_values_are_errors() {
        let e = Workload::from_text("w.yaml", "gaol: latency\n").unwrap_err().to_string();
        assert!(e.starts_with("w.yaml:1:1: unknown field `gaol`"), "{e}");
        let e = Workload::from_text("w.yaml", "goal: throughput\nstate_size: lots\n").unwrap_err().to_string();
        assert!(e.starts_with("w.yaml:2:13: state_size: `lots`"), "{e}");
        let e = Workload::from_text("w.yaml", "cluster:\n  cores: many\n").unwrap_err().to_string();
        assert!(e.starts_with("w.yaml:2:10: "), "{e}");
        let e = Workload::from_text("w.yaml", "cluster:\n  taskmanager_memory: 512mb\n").unwrap_err().to_string();
        assert!(e.starts_with("w.yaml:2:23: cluster.taskmanager_memory") && e.contains("at least 1gb"), "{e}");
        let e = Workload::from_text("w.json", "{\"goal\": \"fast\"}").unwrap_err().to_string();
        assert!(e.starts_with("w.json:1:") && e.contains("unknown variant `fast`") && !e.contains(" at line "), "{e}");
        let e = Workload::from_text("w.yaml", "checkpoint_interval: 1 ms\n").unwrap_err().to_string();
        assert!(e.contains("10 ms"), "{e}");
    }

    #[test]
    fn empty_file_is_the_default_workload() {
        assert_eq!(Workload::from_text("w.yaml", "").unwrap(), Workload::default());
        assert!(!Workload::default().is_stateful());
    }
}
