//! `diagnose(snapshot)`: what slows a running job down, from plain metric samples (recorded
//! over a window by `flinkops diagnose`, or from a file in tests), and a configuration overlay
//! that addresses it. Findings:
//!
//! - **bottleneck**: the vertex busy ≈ 1000 ms/s (≥ 900 on its busiest subtask, median over the
//!   window) that is not itself backpressured (< 100 ms/s) — the most downstream such vertex;
//! - **backpressure chain**: the vertices upstream of it that are backpressured (≥ 300 ms/s on
//!   average over subtasks), from the bottleneck up to the sources;
//! - **checkpoints**: failures, duration against the interval, the share of the start delay
//!   (barrier alignment behind queued buffers) against the rest (synchronous and asynchronous
//!   snapshot), and size growth;
//! - **state growth** over the checkpoints of the window;
//! - **GC pressure**: collection time per second of the TaskManagers;
//! - **idle slots** while a vertex is saturated, and subtasks that are mostly idle;
//! - **skew**: the busiest subtask of a vertex receiving far more records than the average.
//!
//! Every threshold is a constant below and is quoted in the finding's evidence.

use std::collections::BTreeMap;

use flinkops_config::catalog::Catalog;
use serde::{Deserialize, Serialize};

/// Saturated: the busiest subtask is busy at least this many ms per second.
pub const BUSY_SATURATED: f64 = 900.0;
/// Not backpressured itself: below this many ms per second.
pub const BP_FREE: f64 = 100.0;
/// Part of a backpressure chain: at least this many ms per second on average.
pub const BP_CHAIN: f64 = 300.0;
/// GC pressure: at least this many ms of collection per second of wall time (10 %).
pub const GC_PRESSURE_MS_PER_S: f64 = 100.0;
/// Skew: the busiest subtask's input rate at least this many times the average.
pub const SKEW_RATIO: f64 = 1.5;
/// Idle subtasks: idle at least this many ms per second on average.
pub const IDLE: f64 = 900.0;
/// Checkpoints too slow: the median duration is at least this share of the interval.
pub const CP_SLOW_SHARE: f64 = 0.5;
/// Alignment-dominated: the start delay is at least this share of the duration.
pub const CP_ALIGN_SHARE: f64 = 0.5;
/// State growth: the last checkpoint's state at least this share above the first's.
pub const STATE_GROWTH: f64 = 0.2;

/// A vertex of the job graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vertex {
    pub id: String,
    pub name: String,
    pub parallelism: u32,
}

/// An edge `from → to` (`ship_strategy` as Flink names it: `HASH`, `FORWARD`, `REBALANCE`…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub ship_strategy: Option<String>,
}

/// One vertex at one instant: aggregates over its subtasks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VertexSample {
    pub busy_max: Option<f64>,
    pub busy_avg: Option<f64>,
    pub backpressured_max: Option<f64>,
    pub backpressured_avg: Option<f64>,
    pub idle_avg: Option<f64>,
    pub records_in_max: Option<f64>,
    pub records_in_avg: Option<f64>,
    pub records_in_sum: Option<f64>,
    pub records_out_sum: Option<f64>,
    /// Checkpoint start delay of the slowest subtask (barrier travel + alignment wait), ns.
    pub checkpoint_start_delay_ns: Option<f64>,
}

/// All vertices at one instant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub at_ms: i64,
    pub vertices: BTreeMap<String, VertexSample>,
}

/// One checkpoint as Flink reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub id: u64,
    /// `COMPLETED`, `FAILED`, `IN_PROGRESS`.
    pub status: String,
    pub trigger_ms: i64,
    pub duration_ms: i64,
    pub state_size: i64,
    #[serde(default)]
    pub checkpointed_size: Option<i64>,
    /// In-flight bytes persisted (unaligned checkpoints).
    #[serde(default)]
    pub persisted_data: Option<i64>,
    #[serde(default)]
    pub failure_message: Option<String>,
}

/// The job's checkpoint configuration and recent checkpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Checkpoints {
    /// Interval in ms; `None` when checkpointing is off.
    pub interval_ms: Option<i64>,
    pub timeout_ms: Option<i64>,
    pub unaligned: Option<bool>,
    pub exactly_once: Option<bool>,
    /// The state backend's class (`HashMapStateBackend`, `EmbeddedRocksDBStateBackend`).
    pub state_backend: Option<String>,
    /// Failed checkpoints at the start and at the end of the window.
    pub failed_before: u64,
    pub failed_after: u64,
    pub completed_before: u64,
    pub completed_after: u64,
    /// Recent checkpoints, oldest first.
    pub history: Vec<Checkpoint>,
}

/// One TaskManager over the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskManager {
    pub id: String,
    pub slots: u32,
    pub free_slots: u32,
    /// GC time (ms, all collectors) at the start and the end of the window.
    pub gc_time_before_ms: i64,
    pub gc_time_after_ms: i64,
    pub heap_used: Option<i64>,
    pub heap_max: Option<i64>,
}

/// Everything `diagnose` looks at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    pub job_id: String,
    pub job_name: String,
    /// The cluster's Flink version (`2.3.0`), to write the overlay in its keys.
    pub flink_version: String,
    pub window_ms: i64,
    pub vertices: Vec<Vertex>,
    pub edges: Vec<Edge>,
    pub samples: Vec<Sample>,
    pub checkpoints: Checkpoints,
    pub taskmanagers: Vec<TaskManager>,
}

/// What kind of trouble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Bottleneck,
    Backpressure,
    CheckpointFailures,
    SlowCheckpoints,
    CheckpointAlignment,
    StateGrowth,
    GcPressure,
    IdleSlots,
    IdleSubtasks,
    Skew,
}

/// How much it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// One finding with its evidence and what to change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    /// The vertex it is about.
    pub vertex: Option<String>,
    pub title: String,
    /// The numbers behind it.
    pub evidence: Vec<String>,
    /// Configuration that addresses it (keys of the job's Flink version).
    pub overlay: BTreeMap<String, String>,
}

/// The result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub job_id: String,
    pub samples: usize,
    pub window_ms: i64,
    /// The bottleneck vertex id.
    pub bottleneck: Option<String>,
    /// Backpressured vertices upstream of the bottleneck, nearest first.
    pub backpressure_chain: Vec<String>,
    pub findings: Vec<Finding>,
    /// All findings' overlays merged (later findings do not override earlier ones).
    pub overlay: BTreeMap<String, String>,
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 })
}

/// Median over the window of one quantity of a vertex.
fn med(s: &Snapshot, vertex: &str, f: impl Fn(&VertexSample) -> Option<f64>) -> Option<f64> {
    median(s.samples.iter().filter_map(|x| x.vertices.get(vertex)).filter_map(&f).collect())
}

fn overlay(pairs: &[(&str, String)], cat: Option<&Catalog>) -> BTreeMap<String, String> {
    pairs
        .iter()
        .filter(|(k, _)| cat.is_none_or(|c| c.get(k).is_some_and(|o| !o.deprecated)))
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn is_sql_stateful(name: &str) -> bool {
    ["GroupAggregate", "Join", "Deduplicate", "Rank", "GroupWindowAggregate"].iter().any(|o| name.contains(o))
}

fn short(name: &str) -> String {
    let n: String = name.chars().take(60).collect();
    if n.len() < name.len() { format!("{n}…") } else { n }
}

/// Diagnoses a snapshot.
pub fn diagnose(s: &Snapshot) -> Diagnosis {
    let cat = Catalog::for_version(&s.flink_version).ok();
    let mut findings = Vec::new();
    let name = |id: &str| s.vertices.iter().find(|v| v.id == id).map(|v| short(&v.name)).unwrap_or_else(|| id.to_string());
    let vertex = |id: &str| s.vertices.iter().find(|v| v.id == id);
    let upstream = |id: &str| s.edges.iter().filter(|e| e.to == id).map(|e| e.from.clone()).collect::<Vec<_>>();
    let downstream_of = |id: &str| s.edges.iter().filter(|e| e.from == id).map(|e| e.to.clone()).collect::<Vec<_>>();
    let total_slots: u32 = s.taskmanagers.iter().map(|t| t.slots).sum();
    let free_slots: u32 = s.taskmanagers.iter().map(|t| t.free_slots).sum();
    let state_backend = s.checkpoints.state_backend.clone().unwrap_or_default();
    let heap_backend = state_backend.contains("HashMap");

    // ── bottleneck ───────────────────────────────────────────────────────────────────────
    let busy: BTreeMap<&str, f64> = s.vertices.iter().filter_map(|v| Some((v.id.as_str(), med(s, &v.id, |x| x.busy_max)?))).collect();
    let bp_avg = |id: &str| med(s, id, |x| x.backpressured_avg).unwrap_or(0.0);
    let bp_max = |id: &str| med(s, id, |x| x.backpressured_max).unwrap_or(0.0);
    let candidates: Vec<&str> = s
        .vertices
        .iter()
        .map(|v| v.id.as_str())
        .filter(|id| busy.get(id).is_some_and(|b| *b >= BUSY_SATURATED) && bp_max(id) < BP_FREE)
        .collect();
    // The most downstream candidate: no other candidate below it.
    let reaches = |from: &str, to: &str| {
        let mut stack = vec![from.to_string()];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(x) = stack.pop() {
            if x == to {
                return true;
            }
            if seen.insert(x.clone()) {
                stack.extend(downstream_of(&x));
            }
        }
        false
    };
    let bottleneck = candidates
        .iter()
        .copied()
        .filter(|c| !candidates.iter().any(|o| o != c && reaches(c, o)))
        .max_by(|a, b| busy[a].total_cmp(&busy[b]))
        .map(str::to_string);
    let mut chain = Vec::new();
    if let Some(b) = &bottleneck {
        let mut frontier = upstream(b);
        let mut seen = std::collections::BTreeSet::new();
        while let Some(u) = frontier.first().cloned() {
            frontier.remove(0);
            if !seen.insert(u.clone()) {
                continue;
            }
            if bp_avg(&u) >= BP_CHAIN {
                chain.push(u.clone());
                frontier.extend(upstream(&u));
            }
        }
        let v = vertex(b);
        let p = v.map(|v| v.parallelism).unwrap_or(1);
        let mut ev = vec![format!(
            "busiest subtask busy {:.0} ms/s (median over the window; saturated ≥ {BUSY_SATURATED:.0}), backpressured {:.0} ms/s (< {BP_FREE:.0}: nothing downstream holds it back)",
            busy[b.as_str()],
            bp_max(b)
        )];
        if let Some(rate) = med(s, b, |x| x.records_in_sum) {
            ev.push(format!("{rate:.0} records/s in at parallelism {p}"));
        }
        let mut pairs: Vec<(&str, String)> = vec![("pipeline.object-reuse", "true".into())];
        let name_full = v.map(|v| v.name.as_str()).unwrap_or_default();
        if is_sql_stateful(name_full) && !name_full.contains("Window") {
            pairs.push(("table.exec.mini-batch.enabled", "true".into()));
            pairs.push(("table.exec.mini-batch.allow-latency", "2 s".into()));
            pairs.push(("table.exec.mini-batch.size", "5000".into()));
            ev.push("a SQL state operator: mini-batch updates state once per key and batch".into());
        }
        if state_backend.contains("RocksDB") {
            ev.push(format!("state backend {state_backend}: every state access (de)serializes; heap state is faster when it fits"));
        }
        let available = total_slots.max(p);
        if free_slots > 0 && available > p {
            let np = (p * 2).min(available);
            pairs.push(("parallelism.default", np.to_string()));
            ev.push(format!("{free_slots} of {total_slots} slots are free: parallelism {p} → {np}"));
        }
        findings.push(Finding {
            kind: Kind::Bottleneck,
            severity: Severity::Critical,
            vertex: Some(b.clone()),
            title: format!("`{}` is the bottleneck", name(b)),
            evidence: ev,
            overlay: overlay(&pairs, cat),
        });
        if !chain.is_empty() {
            findings.push(Finding {
                kind: Kind::Backpressure,
                severity: Severity::Warning,
                vertex: Some(b.clone()),
                title: format!("backpressure from `{}` reaches {} upstream vertex(es)", name(b), chain.len()),
                evidence: chain.iter().map(|u| format!("`{}` backpressured {:.0} ms/s (≥ {BP_CHAIN:.0})", name(u), bp_avg(u))).collect(),
                overlay: overlay(&[("taskmanager.network.memory.buffer-debloat.enabled", "true".into())], cat),
            });
        }
    } else if let Some((id, b)) = busy.iter().max_by(|a, b| a.1.total_cmp(b.1)) {
        let sources_bp: Vec<String> = s.vertices.iter().filter(|v| upstream(&v.id).is_empty() && bp_avg(&v.id) >= BP_CHAIN).map(|v| name(&v.id)).collect();
        if !sources_bp.is_empty() {
            findings.push(Finding {
                kind: Kind::Backpressure,
                severity: Severity::Warning,
                vertex: None,
                title: "sources are backpressured but no vertex is saturated".into(),
                evidence: vec![
                    format!("backpressured sources: {}", sources_bp.join(", ")),
                    format!("busiest vertex `{}` at {b:.0} ms/s: the limit is outside the job (a slow sink's external system) or the CPU is shared", name(id)),
                ],
                overlay: BTreeMap::new(),
            });
        }
    }

    // ── checkpoints ──────────────────────────────────────────────────────────────────────
    let cp = &s.checkpoints;
    let completed: Vec<&Checkpoint> = cp.history.iter().filter(|c| c.status.eq_ignore_ascii_case("COMPLETED")).collect();
    let new_failures = cp.failed_after.saturating_sub(cp.failed_before);
    let last_failed = cp.history.iter().rev().find(|c| c.status.eq_ignore_ascii_case("FAILED"));
    if new_failures > 0 || (completed.is_empty() && last_failed.is_some()) {
        let mut ev = vec![format!(
            "{new_failures} checkpoint(s) failed in the window ({} failed, {} completed in total)",
            cp.failed_after, cp.completed_after
        )];
        if let Some(f) = last_failed {
            ev.push(format!("checkpoint {}: {}", f.id, f.failure_message.as_deref().unwrap_or("no message")));
        }
        let mut pairs = vec![("execution.checkpointing.tolerable-failed-checkpoints", "3".to_string())];
        if let Some(t) = cp.timeout_ms.filter(|_| last_failed.and_then(|f| f.failure_message.as_deref()).is_some_and(|m| m.to_lowercase().contains("expired") || m.to_lowercase().contains("timeout"))) {
            pairs.push(("execution.checkpointing.timeout", crate::recommend::duration(std::time::Duration::from_millis(u64::try_from(t.saturating_mul(2)).unwrap_or(u64::MAX)))));
        }
        findings.push(Finding { kind: Kind::CheckpointFailures, severity: Severity::Critical, vertex: None, title: "checkpoints fail".into(), evidence: ev, overlay: overlay(&pairs, cat) });
    }
    let durations: Vec<f64> = completed.iter().map(|c| c.duration_ms as f64).collect();
    if let (Some(d), Some(interval)) = (median(durations), cp.interval_ms.filter(|i| *i > 0 && *i < i64::MAX / 2)) {
        let start_delay_ms = s
            .vertices
            .iter()
            .filter_map(|v| med(s, &v.id, |x| x.checkpoint_start_delay_ns))
            .fold(0.0_f64, f64::max)
            / 1e6;
        let align_share = if d > 0.0 { (start_delay_ms / d).min(1.0) } else { 0.0 };
        if d >= CP_SLOW_SHARE * interval as f64 {
            let mut ev = vec![format!(
                "median checkpoint duration {d:.0} ms is {:.0} % of the {interval} ms interval (≥ {:.0} %)",
                100.0 * d / interval as f64,
                CP_SLOW_SHARE * 100.0
            )];
            ev.push(format!("start delay {start_delay_ms:.0} ms ({:.0} %: barriers waiting behind queued data), the rest snapshot and upload", align_share * 100.0));
            let pause = crate::recommend::duration(std::time::Duration::from_millis(u64::try_from(interval / 2).unwrap_or(0)));
            let mut pairs = vec![("execution.checkpointing.min-pause", pause)];
            if state_backend.contains("RocksDB") && align_share < CP_ALIGN_SHARE {
                pairs.push(("execution.checkpointing.incremental", "true".into()));
            }
            findings.push(Finding { kind: Kind::SlowCheckpoints, severity: Severity::Warning, vertex: None, title: "checkpoints take most of their interval".into(), evidence: ev, overlay: overlay(&pairs, cat) });
        }
        if align_share >= CP_ALIGN_SHARE && cp.unaligned != Some(true) && cp.exactly_once != Some(false) && d >= 1000.0 {
            findings.push(Finding {
                kind: Kind::CheckpointAlignment,
                severity: Severity::Warning,
                vertex: None,
                title: "checkpoints wait for barrier alignment".into(),
                evidence: vec![format!(
                    "start delay {start_delay_ms:.0} ms of a {d:.0} ms checkpoint ({:.0} % ≥ {:.0} %) with aligned checkpoints",
                    align_share * 100.0,
                    CP_ALIGN_SHARE * 100.0
                )],
                overlay: overlay(
                    &[
                        ("execution.checkpointing.unaligned.enabled", "true".into()),
                        ("execution.checkpointing.aligned-checkpoint-timeout", "30 s".into()),
                        ("taskmanager.network.memory.buffer-debloat.enabled", "true".into()),
                    ],
                    cat,
                ),
            });
        }
    }

    // ── state growth ─────────────────────────────────────────────────────────────────────
    if let (Some(first), Some(last)) = (completed.first(), completed.last())
        && completed.len() >= 3
        && first.state_size > 0
    {
        let growth = (last.state_size - first.state_size) as f64 / first.state_size as f64;
        let monotonic = completed.windows(2).all(|w| w[1].state_size >= w[0].state_size);
        if growth >= STATE_GROWTH && monotonic {
            let minutes = ((last.trigger_ms - first.trigger_ms) as f64 / 60_000.0).max(1.0 / 60.0);
            let mut pairs = Vec::new();
            let mut ev = vec![format!(
                "state {} → {} bytes over {} checkpoints ({:+.0} %, {:.0} bytes/min), never shrinking",
                first.state_size,
                last.state_size,
                completed.len(),
                growth * 100.0,
                (last.state_size - first.state_size) as f64 / minutes
            )];
            if heap_backend {
                ev.push("heap state grows until the TaskManager runs out of heap: RocksDB bounds it by disk".into());
                pairs.push(("state.backend.type", "rocksdb".to_string()));
                pairs.push(("execution.checkpointing.incremental", "true".to_string()));
            }
            ev.push("if old keys can be forgotten, set a state TTL (`table.exec.state.ttl` for SQL) to the time a key stays relevant".into());
            findings.push(Finding { kind: Kind::StateGrowth, severity: Severity::Warning, vertex: None, title: "state keeps growing".into(), evidence: ev, overlay: overlay(&pairs, cat) });
        }
    }

    // ── GC pressure ──────────────────────────────────────────────────────────────────────
    if s.window_ms > 0 {
        for tm in &s.taskmanagers {
            let gc = (tm.gc_time_after_ms - tm.gc_time_before_ms) as f64 * 1000.0 / s.window_ms as f64;
            if gc >= GC_PRESSURE_MS_PER_S {
                let mut ev = vec![format!("TaskManager {} spent {gc:.0} ms/s in GC (≥ {GC_PRESSURE_MS_PER_S:.0})", tm.id)];
                if let (Some(u), Some(m)) = (tm.heap_used, tm.heap_max) {
                    ev.push(format!("heap {u} of {m} bytes used"));
                }
                let pairs = if heap_backend {
                    ev.push("heap state backend: managed memory (40 % by default) is unused by it and can become heap".into());
                    vec![("taskmanager.memory.managed.fraction", "0.1".to_string())]
                } else {
                    vec![("pipeline.object-reuse", "true".to_string())]
                };
                findings.push(Finding { kind: Kind::GcPressure, severity: Severity::Warning, vertex: None, title: format!("GC pressure on {}", tm.id), evidence: ev, overlay: overlay(&pairs, cat) });
            }
        }
    }

    // ── idle slots and subtasks ──────────────────────────────────────────────────────────
    if free_slots > 0 && bottleneck.is_some() {
        findings.push(Finding {
            kind: Kind::IdleSlots,
            severity: Severity::Info,
            vertex: None,
            title: format!("{free_slots} of {total_slots} slots idle while a vertex is saturated"),
            evidence: s.taskmanagers.iter().filter(|t| t.free_slots > 0).map(|t| format!("TaskManager {}: {} of {} slots free", t.id, t.free_slots, t.slots)).collect(),
            overlay: BTreeMap::new(),
        });
    }
    for v in &s.vertices {
        if v.parallelism > 1
            && let Some(idle) = med(s, &v.id, |x| x.idle_avg)
            && idle >= IDLE
        {
            findings.push(Finding {
                kind: Kind::IdleSubtasks,
                severity: Severity::Info,
                vertex: Some(v.id.clone()),
                title: format!("`{}` is idle most of the time at parallelism {}", name(&v.id), v.parallelism),
                evidence: vec![format!("subtasks idle {idle:.0} ms/s on average (≥ {IDLE:.0}): fewer subtasks would do")],
                overlay: BTreeMap::new(),
            });
        }
    }

    // ── skew ─────────────────────────────────────────────────────────────────────────────
    for v in &s.vertices {
        if v.parallelism < 2 {
            continue;
        }
        let (Some(max), Some(avg)) = (med(s, &v.id, |x| x.records_in_max), med(s, &v.id, |x| x.records_in_avg)) else { continue };
        if avg > 1.0 && max / avg >= SKEW_RATIO {
            let keyed = s.edges.iter().any(|e| e.to == v.id && e.ship_strategy.as_deref().is_some_and(|x| x.eq_ignore_ascii_case("HASH")));
            let mut pairs = Vec::new();
            let mut ev = vec![format!("busiest subtask gets {max:.0} records/s, the average {avg:.0} ({:.1}× ≥ {SKEW_RATIO})", max / avg)];
            if keyed && is_sql_stateful(&v.name) {
                ev.push("hot keys behind a keyed exchange: a local aggregation before the shuffle merges them".into());
                pairs.push(("table.exec.mini-batch.enabled", "true".to_string()));
                pairs.push(("table.exec.mini-batch.allow-latency", "2 s".to_string()));
                pairs.push(("table.exec.mini-batch.size", "5000".to_string()));
                pairs.push(("table.optimizer.agg-phase-strategy", "TWO_PHASE".to_string()));
                pairs.push(("table.optimizer.distinct-agg.split.enabled", "true".to_string()));
            }
            findings.push(Finding { kind: Kind::Skew, severity: Severity::Warning, vertex: Some(v.id.clone()), title: format!("skew in `{}`", name(&v.id)), evidence: ev, overlay: overlay(&pairs, cat) });
        }
    }

    let mut merged = BTreeMap::new();
    for f in &findings {
        for (k, v) in &f.overlay {
            merged.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Diagnosis {
        job_id: s.job_id.clone(),
        samples: s.samples.len(),
        window_ms: s.window_ms,
        bottleneck,
        backpressure_chain: chain,
        findings,
        overlay: merged,
    }
}

#[cfg(test)]
mod tests;
