//! The scaling core's input: the job graph, metric samples as Flink reports them, and the
//! settings. Plain serde data, so a shell (CLI, control plane, simulator) can build, store and
//! print it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// One vertex (a chain of operators running as one task) of a job graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vertex {
    /// Flink's vertex id (or any unique name in the simulator).
    pub id: String,
    /// Human name (chained operator names).
    pub name: String,
    /// Current parallelism.
    pub parallelism: u32,
    /// Max parallelism (number of key groups); the parallelism never exceeds it.
    pub max_parallelism: u32,
}

/// A data edge `from → to`. `keyed` is true for hash-partitioned edges: the consumer's
/// parallelism is then aligned to divide its max parallelism (even key-group spread).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Upstream vertex id.
    pub from: String,
    /// Downstream vertex id.
    pub to: String,
    /// Hash partitioning (`keyBy`, `GROUP BY`).
    #[serde(default)]
    pub keyed: bool,
}

/// The job graph: vertices and edges. Sources are the vertices without inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JobGraph {
    /// Vertices in any order.
    pub vertices: Vec<Vertex>,
    /// Edges.
    pub edges: Vec<Edge>,
}

impl JobGraph {
    /// Vertex indices in topological order, or an error naming the problem (unknown vertex in
    /// an edge, duplicate id, cycle, zero parallelism).
    pub fn topological_order(&self) -> Result<Vec<usize>, Error> {
        let mut index = BTreeMap::new();
        for (i, v) in self.vertices.iter().enumerate() {
            if v.parallelism == 0 || v.max_parallelism == 0 {
                return Err(Error::InvalidGraph(format!("vertex {} has parallelism 0", v.id)));
            }
            if index.insert(v.id.as_str(), i).is_some() {
                return Err(Error::InvalidGraph(format!("duplicate vertex id {}", v.id)));
            }
        }
        let mut indegree = vec![0usize; self.vertices.len()];
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); self.vertices.len()];
        for e in &self.edges {
            let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) else {
                return Err(Error::InvalidGraph(format!("edge {} → {} names an unknown vertex", e.from, e.to)));
            };
            out[a].push(b);
            indegree[b] += 1;
        }
        let mut ready: Vec<usize> = (0..self.vertices.len()).filter(|&i| indegree[i] == 0).collect();
        ready.reverse();
        let mut order = Vec::with_capacity(self.vertices.len());
        while let Some(i) = ready.pop() {
            order.push(i);
            for &j in &out[i] {
                indegree[j] -= 1;
                if indegree[j] == 0 {
                    ready.push(j);
                }
            }
        }
        if order.len() != self.vertices.len() {
            return Err(Error::InvalidGraph("the job graph has a cycle".into()));
        }
        Ok(order)
    }

    /// Ids of the vertices feeding `id`.
    pub fn inputs<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Edge> + 'a {
        self.edges.iter().filter(move |e| e.to == id)
    }

    /// True when `id` has no inputs.
    pub fn is_source(&self, id: &str) -> bool {
        self.inputs(id).next().is_none()
    }
}

/// Metrics of one vertex at one instant, as Flink's REST API aggregates them over subtasks.
/// Missing values are `None` (Flink answers `NaN` before a metric has a value).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct VertexSample {
    /// `busyTimeMsPerSecond`, the maximum over subtasks (the hottest subtask bounds the vertex).
    pub busy_ms_per_s: Option<f64>,
    /// `backPressuredTimeMsPerSecond`, the average over subtasks.
    pub backpressured_ms_per_s: Option<f64>,
    /// `numRecordsInPerSecond`, the sum over subtasks.
    pub records_in_per_s: Option<f64>,
    /// `numRecordsOutPerSecond`, the sum over subtasks.
    pub records_out_per_s: Option<f64>,
    /// `pendingRecords` summed over the source's subtasks, if the source exposes it (Kafka…).
    pub pending_records: Option<f64>,
    /// Not a Flink metric: the rate (records/s, all subtasks) a source is *configured* to emit,
    /// when the shell knows it — e.g. the `'rows-per-second'` option of a `datagen` table in the
    /// SQL flinkops deployed. A rate-limited source without a backlog metric hides its demand
    /// while it is throttled; with this the core takes the demand as `max(declared, observed)`
    /// instead of guessing. Ignored for sources that expose `pendingRecords` and for non-sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_rate_per_s: Option<f64>,
}

/// Metrics of every vertex at one instant (epoch milliseconds, or simulated time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MetricSample {
    /// When it was taken.
    pub at_ms: i64,
    /// Per vertex id.
    pub vertices: BTreeMap<String, VertexSample>,
}

/// Settings of the scaling core. Times are milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Busy-time share each subtask should run at after scaling (0 < u ≤ 1); the headroom
    /// absorbs noise and the catch-up after a rescale.
    pub target_utilization: f64,
    /// A vertex scales up only when its utilization at the target rate exceeds this
    /// (hysteresis against tiny changes; ≥ target).
    pub scale_up_threshold: f64,
    /// A vertex scales down only when its utilization at the target rate is below this (≤ target).
    ///
    /// Default 0.2: key-group alignment rounds a scale-up to a divisor of the max parallelism —
    /// up to 2× for the common 128 (powers of two) — so a vertex can land at just over half the
    /// target utilization (0.35 at 0.7) under the very load it was scaled for, and lower once the
    /// backlog catch-up included in that load is worked off. A threshold above that undoes
    /// aligned scale-ups (measured in the simulator's suite: 0.4 gives ~75 % one-decision
    /// convergence and dozens of oscillations, 0.2 none).
    pub scale_down_threshold: f64,
    /// Lower bound of every vertex's parallelism.
    pub min_parallelism: u32,
    /// Upper bound of every vertex's parallelism (also bounded by each vertex's max parallelism).
    pub max_parallelism: u32,
    /// Metric window: samples older than this are ignored.
    pub window_ms: u64,
    /// The window must span at least this much before a decision is made.
    pub min_window_ms: u64,
    /// After a rescale, ignore metrics for this long (the job restarts and catches up).
    pub stabilization_ms: u64,
    /// A scale-down is carried out only after it has been recommended for this long; the
    /// highest recommendation inside the delay wins. 0 scales down at once.
    pub scale_down_delay_ms: u64,
    /// A scale-up is ineffective when it achieved less than this share of the expected increase
    /// of the vertex's true processing capacity; a repeat is then blocked.
    pub ineffective_threshold: f64,
    /// A known source backlog (`pendingRecords`) is to be worked off within this time.
    pub catch_up_ms: u64,
    /// The highest backpressured share of a source's time used to estimate its demand when it
    /// exposes no backlog (`observed / (1 − share)`): the estimate is at most
    /// `1 / (1 − share)` × observed (0.5: 2×). Such a source's real demand is not observable —
    /// real Flink's datagen reports ~998 ms/s backpressured while emitting 84 % of its rate, as
    /// it bursts whenever unblocked — so this bounds the scale-up per decision.
    pub max_source_backpressure: f64,
    /// No decision while the sources' arrival rate in the window's second half differs from the
    /// first half by more than this share (the load is still changing: a decision now would
    /// average two loads). 0 turns the check off.
    pub load_change_tolerance: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            target_utilization: 0.7,
            scale_up_threshold: 0.85,
            scale_down_threshold: 0.2,
            min_parallelism: 1,
            max_parallelism: 128,
            window_ms: 60_000,
            min_window_ms: 20_000,
            stabilization_ms: 30_000,
            scale_down_delay_ms: 300_000,
            ineffective_threshold: 0.1,
            catch_up_ms: 300_000,
            max_source_backpressure: 0.5,
            load_change_tolerance: 0.05,
        }
    }
}

impl Settings {
    /// Checks the settings, collecting every problem.
    pub fn validate(&self) -> Result<(), Error> {
        let mut problems = Vec::new();
        let unit = |x: f64| x.is_finite() && x > 0.0 && x <= 1.0;
        if !unit(self.target_utilization) {
            problems.push(format!("target_utilization must be in (0, 1], got {}", self.target_utilization));
        }
        if !(self.scale_up_threshold.is_finite() && self.scale_up_threshold >= self.target_utilization) {
            problems.push(format!("scale_up_threshold ({}) must be ≥ target_utilization", self.scale_up_threshold));
        }
        if !(self.scale_down_threshold.is_finite()
            && self.scale_down_threshold >= 0.0
            && self.scale_down_threshold <= self.target_utilization)
        {
            problems.push(format!("scale_down_threshold ({}) must be in [0, target_utilization]", self.scale_down_threshold));
        }
        if self.min_parallelism == 0 {
            problems.push("min_parallelism must be ≥ 1".into());
        }
        if self.max_parallelism < self.min_parallelism {
            problems.push(format!("max_parallelism ({}) < min_parallelism ({})", self.max_parallelism, self.min_parallelism));
        }
        if !(self.ineffective_threshold.is_finite() && (0.0..=1.0).contains(&self.ineffective_threshold)) {
            problems.push(format!("ineffective_threshold must be in [0, 1], got {}", self.ineffective_threshold));
        }
        if !(self.max_source_backpressure.is_finite() && (0.0..1.0).contains(&self.max_source_backpressure)) {
            problems.push(format!("max_source_backpressure must be in [0, 1), got {}", self.max_source_backpressure));
        }
        if !(self.load_change_tolerance.is_finite() && self.load_change_tolerance >= 0.0) {
            problems.push(format!("load_change_tolerance must be ≥ 0, got {}", self.load_change_tolerance));
        }
        if self.min_window_ms > self.window_ms {
            problems.push("min_window_ms must be ≤ window_ms".into());
        }
        if self.catch_up_ms == 0 {
            problems.push("catch_up_ms must be > 0".into());
        }
        if problems.is_empty() { Ok(()) } else { Err(Error::InvalidSettings(problems)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: &str) -> Vertex {
        Vertex { id: id.into(), name: id.into(), parallelism: 1, max_parallelism: 128 }
    }

    fn e(a: &str, b: &str) -> Edge {
        Edge { from: a.into(), to: b.into(), keyed: false }
    }

    #[test]
    fn topological_order_and_errors() {
        let g = JobGraph { vertices: vec![v("c"), v("a"), v("b")], edges: vec![e("a", "b"), e("b", "c")] };
        let order: Vec<&str> = g.topological_order().unwrap().iter().map(|&i| g.vertices[i].id.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert!(g.is_source("a") && !g.is_source("c"));

        let cyclic = JobGraph { vertices: vec![v("a"), v("b")], edges: vec![e("a", "b"), e("b", "a")] };
        assert!(matches!(cyclic.topological_order(), Err(Error::InvalidGraph(m)) if m.contains("cycle")));
        let unknown = JobGraph { vertices: vec![v("a")], edges: vec![e("a", "x")] };
        assert!(matches!(unknown.topological_order(), Err(Error::InvalidGraph(m)) if m.contains("unknown")));
        let dup = JobGraph { vertices: vec![v("a"), v("a")], edges: vec![] };
        assert!(matches!(dup.topological_order(), Err(Error::InvalidGraph(m)) if m.contains("duplicate")));
        let zero = JobGraph { vertices: vec![Vertex { parallelism: 0, ..v("a") }], edges: vec![] };
        assert!(zero.topological_order().is_err());
    }

    #[test]
    fn settings_validation_collects_all_problems() {
        assert!(Settings::default().validate().is_ok());
        let bad = Settings { target_utilization: 1.5, min_parallelism: 0, catch_up_ms: 0, ..Settings::default() };
        let Err(Error::InvalidSettings(p)) = bad.validate() else { panic!("expected invalid settings") };
        assert!(p.len() >= 3, "{p:?}");
        let nan = Settings { target_utilization: f64::NAN, ..Settings::default() };
        assert!(nan.validate().is_err());
    }
}
