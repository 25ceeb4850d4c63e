//! A deterministic discrete-time simulator of a Flink-like streaming job, to measure scaling
//! policies without a cluster.
//!
//! Model (one tick = one second):
//! * A vertex has a per-record cost (ms of one subtask's time per input record; per output
//!   record for sources), a selectivity (records out per record in), a key skew, a hot-key share
//!   and a max parallelism. Its hottest subtask receives the share
//!   `h(p) = min(1, max((1 + skew) / p, hot_key))` of the input (1 at p = 1), so the vertex
//!   sustains `1000 / cost / h(p)` records/s.
//! * Every output edge carries all of a vertex's output (Flink semantics for several consumers).
//! * Sources follow a rate schedule (constant, step, ramp). A *queue* source (Kafka-like) keeps
//!   unserved demand as a backlog and exposes it as `pendingRecords`; a *rate-limited* source
//!   (datagen-like) drops it and reports no busy time (Flink reports `NaN` for datagen). A
//!   throttled source reports nearly 1000 ms/s backpressured, as real Flink does.
//! * Backpressure: flow is throttled like credit-based flow control in steady state — when a
//!   vertex would receive more than it sustains, the sources feeding it are slowed by the same
//!   factor (progressive filling until no vertex is over capacity). Buffers are small against a
//!   second's traffic, so they are not modelled separately.
//! * Metrics as Flink reports them: busy and backpressured ms per second capped at 1000, rates per
//!   second, multiplicative seeded noise; none during a restart.
//! * A rescale stops processing for `restart_s` seconds (the adaptive scheduler's restart).
//!
//! Everything is seeded ([`Rng`]), so a scenario replays bit for bit.

pub mod policy;
pub mod suite;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Edge, JobGraph, MetricSample, Vertex, VertexSample};

/// A small deterministic PRNG (SplitMix64): the simulator must replay identically everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [lo, hi] (hi ≥ lo).
    pub fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi.saturating_sub(lo) as u64 + 1)) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// A source's demand over time (records/s, in the source's output units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Schedule {
    /// Always `rate`.
    Constant(f64),
    /// `before` until `at_s`, then `after`.
    Step { before: f64, after: f64, at_s: u64 },
    /// `from` until `start_s`, linear to `to` at `end_s`, then `to`.
    Ramp { from: f64, to: f64, start_s: u64, end_s: u64 },
}

impl Schedule {
    /// The demand at second `t`.
    pub fn rate(&self, t: u64) -> f64 {
        match *self {
            Schedule::Constant(r) => r,
            Schedule::Step { before, after, at_s } => {
                if t < at_s {
                    before
                } else {
                    after
                }
            }
            Schedule::Ramp { from, to, start_s, end_s } => {
                if t <= start_s {
                    from
                } else if t >= end_s {
                    to
                } else {
                    from + (to - from) * (t - start_s) as f64 / (end_s - start_s).max(1) as f64
                }
            }
        }
    }

    /// Scales every rate by `f`.
    pub fn scaled(&self, f: f64) -> Schedule {
        match *self {
            Schedule::Constant(r) => Schedule::Constant(r * f),
            Schedule::Step { before, after, at_s } => Schedule::Step { before: before * f, after: after * f, at_s },
            Schedule::Ramp { from, to, start_s, end_s } => Schedule::Ramp { from: from * f, to: to * f, start_s, end_s },
        }
    }
}

/// How a source treats demand it cannot emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    /// Kafka-like: unserved demand waits as a backlog, exposed as `pendingRecords`.
    Queue,
    /// datagen-like: unserved demand is dropped; no busy time, no pending records.
    RateLimited,
}

/// One vertex of a simulated job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimVertex {
    /// Id.
    pub id: String,
    /// ms of one subtask's time per record (input records; output records for sources).
    pub cost_ms: f64,
    /// Records out per record in.
    pub selectivity: f64,
    /// Key skew ≥ 0: the hottest subtask receives `(1 + skew)` × the average share.
    pub skew: f64,
    /// Share of all records carried by the single hottest key (0 for none, 1 for one key):
    /// the hottest subtask receives at least that, whatever the parallelism.
    #[serde(default)]
    pub hot_key: f64,
    /// Max parallelism (key groups).
    pub max_parallelism: u32,
    /// The source schedule, for sources.
    pub source: Option<(Schedule, SourceKind)>,
}

impl SimVertex {
    /// Share of the vertex's input that its hottest subtask receives at parallelism `p`.
    pub fn hot_share(&self, p: u32) -> f64 {
        if p <= 1 {
            return 1.0;
        }
        let p = f64::from(p);
        ((1.0 + self.skew) / p).max(self.hot_key).min(1.0)
    }

    /// Records per second the vertex sustains at parallelism `p`.
    pub fn capacity(&self, p: u32) -> f64 {
        1000.0 / self.cost_ms / self.hot_share(p)
    }

    /// The smallest parallelism (≤ max parallelism) that sustains `rate`; the max if none does.
    pub fn min_parallelism_for(&self, rate: f64) -> u32 {
        // capacity grows with p (h(p) falls), so bisect
        let (mut lo, mut hi) = (1u32, self.max_parallelism.max(1));
        if self.capacity(hi) < rate {
            return hi;
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.capacity(mid) >= rate { hi = mid } else { lo = mid + 1 }
        }
        lo
    }
}

/// A simulated job: vertices (sources have a schedule) and edges `(from, to, keyed)` by index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimJob {
    /// Vertices, in topological order (edges go from lower to higher index).
    pub vertices: Vec<SimVertex>,
    /// Edges by index.
    pub edges: Vec<(usize, usize, bool)>,
}

/// Simulation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimSettings {
    /// Seconds to simulate.
    pub duration_s: u64,
    /// A metric sample every this many seconds.
    pub sample_every_s: u64,
    /// The policy is asked every this many seconds.
    pub decide_every_s: u64,
    /// Seconds without processing after a rescale.
    pub restart_s: u64,
    /// Relative noise on every reported metric (uniform ±).
    pub noise: f64,
    /// Noise seed.
    pub seed: u64,
    /// Rate-limited (datagen-like) sources report their configured rate as
    /// `declared_rate_per_s` — what a shell knows from the job's SQL (`'rows-per-second'`). Off:
    /// their demand is unseen while they are throttled.
    #[serde(default)]
    pub declared_rates: bool,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings { duration_s: 1500, sample_every_s: 5, decide_every_s: 10, restart_s: 10, noise: 0.03, seed: 1, declared_rates: false }
    }
}

/// What a policy sees at a decision point.
#[derive(Debug)]
pub struct Observation<'a> {
    /// Now (ms).
    pub now_ms: i64,
    /// The job graph with current parallelism.
    pub graph: &'a JobGraph,
    /// Metric samples so far (oldest first).
    pub samples: &'a [MetricSample],
    /// CPU utilization of the job's slots over time `(at_ms, share)` (slot sharing: max(p)
    /// slots of one core each), for CPU policies.
    pub cpu: &'a [(i64, f64)],
}

/// A scaling policy driven by the simulator.
pub trait Policy {
    /// Short name for reports.
    fn name(&self) -> String;
    /// New parallelism per vertex id for the vertices to change; empty for none.
    fn decide(&mut self, obs: &Observation<'_>) -> BTreeMap<String, u32>;
}

/// One applied rescale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rescale {
    /// Second it was applied.
    pub at_s: u64,
    /// `(vertex index, from, to)`.
    pub changes: Vec<(usize, u32, u32)>,
}

/// The trace of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Rescales in order.
    pub rescales: Vec<Rescale>,
    /// Per second: any source throttled, restarting, or a backlog above one second of demand.
    pub backpressured: Vec<bool>,
    /// Per second: Σ over vertices of max(0, p − p*) where p* is the minimal backpressure-free
    /// parallelism at the current demand.
    pub over: Vec<u64>,
    /// Per second: Σ over vertices of max(0, p* − p).
    pub under: Vec<u64>,
    /// Per second: Σ over vertices of p*.
    #[serde(default)]
    pub needed: Vec<u64>,
    /// Parallelism per vertex at the end.
    pub final_parallelism: Vec<u32>,
    /// Minimal backpressure-free parallelism per vertex at the end.
    pub final_needed: Vec<u32>,
}

/// The simulator's flow for one second.
struct Flow {
    input: Vec<f64>,
    output: Vec<f64>,
    /// Source throttle factor (1 = unthrottled), per vertex (1 for non-sources).
    lambda: Vec<f64>,
    saturated: Vec<bool>,
}

impl SimJob {
    /// The job graph the scaling core sees, with parallelism `p`.
    pub fn graph(&self, p: &[u32]) -> JobGraph {
        JobGraph {
            vertices: self
                .vertices
                .iter()
                .zip(p)
                .map(|(v, &p)| Vertex { id: v.id.clone(), name: v.id.clone(), parallelism: p, max_parallelism: v.max_parallelism })
                .collect(),
            edges: self
                .edges
                .iter()
                .map(|&(a, b, keyed)| Edge { from: self.vertices[a].id.clone(), to: self.vertices[b].id.clone(), keyed })
                .collect(),
        }
    }

    fn inputs(&self) -> Vec<Vec<usize>> {
        let mut inputs = vec![Vec::new(); self.vertices.len()];
        for &(a, b, _) in &self.edges {
            inputs[b].push(a);
        }
        inputs
    }

    /// Source indices upstream of (or equal to) each vertex.
    fn ancestors(&self, inputs: &[Vec<usize>]) -> Vec<Vec<usize>> {
        let mut anc: Vec<Vec<usize>> = vec![Vec::new(); self.vertices.len()];
        for v in 0..self.vertices.len() {
            if self.vertices[v].source.is_some() {
                anc[v].push(v);
            }
            let mut set: Vec<usize> = inputs[v].iter().flat_map(|&u| anc[u].clone()).collect();
            set.extend(anc[v].iter().copied());
            set.sort_unstable();
            set.dedup();
            anc[v] = set;
        }
        anc
    }

    /// Input rate of every vertex when nothing throttles the sources' `demand`.
    fn unthrottled_input(&self, demand: &[f64], inputs: &[Vec<usize>]) -> Vec<f64> {
        let n = self.vertices.len();
        let (mut input, mut output) = (vec![0.0; n], vec![0.0; n]);
        for v in 0..n {
            if self.vertices[v].source.is_some() {
                output[v] = demand[v];
            } else {
                input[v] = inputs[v].iter().map(|&u| output[u]).sum();
                output[v] = input[v] * self.vertices[v].selectivity;
            }
        }
        input
    }

    /// Steady flow for the offered source rates at parallelism `p`.
    fn flow(&self, p: &[u32], offered: &[f64], inputs: &[Vec<usize>], anc: &[Vec<usize>]) -> Flow {
        let n = self.vertices.len();
        let mut lambda = vec![1.0; n];
        let mut saturated = vec![false; n];
        let (mut input, mut output) = (vec![0.0; n], vec![0.0; n]);
        for _ in 0..(2 * n + 2) {
            for v in 0..n {
                if self.vertices[v].source.is_some() {
                    input[v] = 0.0;
                    output[v] = offered[v] * lambda[v];
                } else {
                    input[v] = inputs[v].iter().map(|&u| output[u]).sum();
                    output[v] = input[v] * self.vertices[v].selectivity;
                }
            }
            let over = (0..n).find(|&v| self.vertices[v].source.is_none() && input[v] > self.vertices[v].capacity(p[v]) * (1.0 + 1e-9));
            let Some(v) = over else { break };
            let f = self.vertices[v].capacity(p[v]) / input[v];
            saturated[v] = true;
            for &s in &anc[v] {
                lambda[s] *= f;
            }
        }
        for v in 0..n {
            if self.vertices[v].source.is_none() && input[v] >= self.vertices[v].capacity(p[v]) * (1.0 - 1e-6) {
                saturated[v] = true;
            }
        }
        Flow { input, output, lambda, saturated }
    }

    /// Runs `policy` from parallelism `initial`.
    pub fn run(&self, policy: &mut dyn Policy, initial: &[u32], s: &SimSettings) -> Trace {
        let n = self.vertices.len();
        let inputs = self.inputs();
        let anc = self.ancestors(&inputs);
        let mut descendants_saturated;
        let mut rng = Rng::new(s.seed);
        let mut p: Vec<u32> = initial.iter().zip(&self.vertices).map(|(&p, v)| p.clamp(1, v.max_parallelism)).collect();
        let mut backlog = vec![0.0; n];
        let mut restart_until = 0u64;
        let mut samples: Vec<MetricSample> = Vec::new();
        let mut cpu: Vec<(i64, f64)> = Vec::new();
        let mut trace = Trace {
            rescales: Vec::new(),
            backpressured: Vec::new(),
            over: Vec::new(),
            under: Vec::new(),
            needed: Vec::new(),
            final_parallelism: Vec::new(),
            final_needed: Vec::new(),
        };
        let mut needed = vec![1u32; n];
        let mut last_demand: Vec<f64> = Vec::new();
        for t in 0..s.duration_s {
            let demand: Vec<f64> = self.vertices.iter().map(|v| v.source.map(|(sch, _)| sch.rate(t)).unwrap_or(0.0)).collect();
            // Ground truth: the minimal backpressure-free parallelism at this demand.
            if t == 0 || demand != last_demand {
                let full = self.unthrottled_input(&demand, &inputs);
                for v in 0..n {
                    let rate = if self.vertices[v].source.is_some() { demand[v] } else { full[v] };
                    needed[v] = self.vertices[v].min_parallelism_for(rate);
                }
                last_demand = demand.clone();
            }
            trace.over.push((0..n).map(|v| u64::from(p[v].saturating_sub(needed[v]))).sum());
            trace.under.push((0..n).map(|v| u64::from(needed[v].saturating_sub(p[v]))).sum());
            trace.needed.push(needed.iter().map(|&x| u64::from(x)).sum());

            if t < restart_until {
                for v in 0..n {
                    if let Some((_, SourceKind::Queue)) = self.vertices[v].source {
                        backlog[v] += demand[v];
                    }
                }
                trace.backpressured.push(true);
                continue;
            }
            // Offered source rates: demand plus backlog, bounded by the source's own capacity.
            let offered: Vec<f64> = (0..n)
                .map(|v| match self.vertices[v].source {
                    Some((_, kind)) => {
                        let want = demand[v] + if kind == SourceKind::Queue { backlog[v] } else { 0.0 };
                        want.min(self.vertices[v].capacity(p[v]))
                    }
                    None => 0.0,
                })
                .collect();
            let flow = self.flow(&p, &offered, &inputs, &anc);
            let mut any_bp = false;
            for v in 0..n {
                if let Some((_, kind)) = self.vertices[v].source {
                    let emitted = flow.output[v];
                    if flow.lambda[v] < 0.999 {
                        any_bp = true;
                    }
                    if kind == SourceKind::Queue {
                        backlog[v] = (backlog[v] + demand[v] - emitted).max(0.0);
                        if backlog[v] > demand[v].max(1.0) {
                            any_bp = true;
                        }
                    }
                }
            }
            trace.backpressured.push(any_bp);

            // Which vertices have a saturated vertex downstream (they are backpressured).
            descendants_saturated = vec![false; n];
            for v in (0..n).rev() {
                for &(a, b, _) in &self.edges {
                    if a == v && (flow.saturated[b] || descendants_saturated[b]) {
                        descendants_saturated[v] = true;
                    }
                }
            }

            if t % s.sample_every_s == 0 {
                let mut noisy = |x: f64| x * (1.0 + s.noise * (2.0 * rng.unit() - 1.0));
                let mut vertices = BTreeMap::new();
                let mut busy_total = 0.0;
                let mut slots = 0.0;
                for v in 0..n {
                    let sv = &self.vertices[v];
                    let (busy_max, busy_avg) = if sv.source.is_some() {
                        let b = (flow.output[v] * sv.cost_ms / f64::from(p[v])).min(1000.0);
                        (b, b)
                    } else {
                        let hot = flow.input[v] * sv.hot_share(p[v]) * sv.cost_ms;
                        (hot.min(1000.0), (flow.input[v] * sv.cost_ms / f64::from(p[v])).min(1000.0))
                    };
                    busy_total += busy_avg / 1000.0 * f64::from(p[v]);
                    slots += f64::from(p[v]);
                    let bp = match sv.source {
                        // Real Flink: a throttled source is backpressured nearly all the time, even
                        // a datagen emitting 84 % of its rate (it bursts whenever it is unblocked).
                        Some(_) if flow.lambda[v] < 0.999 => 1000.0 - busy_avg,
                        _ if descendants_saturated[v] && !flow.saturated[v] => 1000.0 - busy_avg,
                        _ => 0.0,
                    };
                    let sample = VertexSample {
                        busy_ms_per_s: match sv.source {
                            Some((_, SourceKind::RateLimited)) => None,
                            _ => Some(noisy(busy_max).min(1000.0)),
                        },
                        backpressured_ms_per_s: Some(noisy(bp).clamp(0.0, 1000.0)),
                        records_in_per_s: Some(noisy(flow.input[v])),
                        records_out_per_s: Some(noisy(flow.output[v])),
                        pending_records: match sv.source {
                            Some((_, SourceKind::Queue)) => Some(backlog[v]),
                            _ => None,
                        },
                        // configuration, not a measurement: exact
                        declared_rate_per_s: match sv.source {
                            Some((_, SourceKind::RateLimited)) if s.declared_rates => Some(demand[v]),
                            _ => None,
                        },
                    };
                    vertices.insert(sv.id.clone(), sample);
                }
                let at_ms = (t * 1000) as i64;
                samples.push(MetricSample { at_ms, vertices });
                // CPU of the TaskManagers: with slot sharing the job takes max(p) slots of one
                // core each, and every vertex's subtasks share them.
                let _ = slots;
                let used_slots = f64::from(p.iter().copied().max().unwrap_or(1));
                cpu.push((at_ms, (busy_total / used_slots).min(1.0)));
                // Keep memory bounded: policies look back at most a few minutes.
                if samples.len() > 200 {
                    samples.drain(..100);
                    cpu.drain(..100);
                }
            }

            if t > 0 && t % s.decide_every_s == 0 {
                let graph = self.graph(&p);
                let obs = Observation { now_ms: (t * 1000) as i64, graph: &graph, samples: &samples, cpu: &cpu };
                let changes = policy.decide(&obs);
                let mut applied = Vec::new();
                for (id, new) in changes {
                    if let Some(v) = self.vertices.iter().position(|x| x.id == id) {
                        let new = new.clamp(1, self.vertices[v].max_parallelism);
                        if new != p[v] {
                            applied.push((v, p[v], new));
                            p[v] = new;
                        }
                    }
                }
                if !applied.is_empty() {
                    trace.rescales.push(Rescale { at_s: t, changes: applied });
                    restart_until = t + 1 + s.restart_s;
                }
            }
        }
        trace.final_parallelism = p;
        trace.final_needed = needed;
        trace
    }
}

#[cfg(test)]
mod tests;
