//! The scenario suite: seeded random job graphs of 3–50 vertices under step and ramp loads, run
//! from parallelism 1 with the DS2 core (default [`Settings`]) and with the CPU-threshold policy
//! on the same scenarios, summarized per policy. Datagen-like sources declare their configured
//! rate to DS2 (what a shell that deployed the job knows: a datagen table's
//! `'rows-per-second'`); the suite also reruns DS2 without it, where the demand of a throttled
//! datagen-like source is hidden and the core can only guess it.
//!
//! A scenario has two load phases: phase 1 from t = 0 (the job starts at parallelism 1 under
//! its first load) and phase 2 from the load change (a step up or down, or a ramp up or down)
//! to the end. Per phase: the number of rescales, whether the phase ended converged (no
//! backpressure or lag in its last 60 s and no vertex below its minimal backpressure-free
//! parallelism), and oscillations (a vertex's parallelism changing direction inside one phase).
//! A scenario *converged in one decision* when both phases converged with at most one rescale
//! each.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::Settings;
use crate::sim::policy::{CpuThreshold, Ds2};
use crate::sim::{Policy, Rng, Schedule, SimJob, SimSettings, SimVertex, SourceKind, Trace};

/// The shape of the load change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// A step up.
    StepUp,
    /// A step down.
    StepDown,
    /// A linear ramp up.
    RampUp,
    /// A linear ramp down.
    RampDown,
}

/// One generated scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Index in the suite.
    pub index: usize,
    /// The job.
    pub job: SimJob,
    /// Load change.
    pub shape: Shape,
    /// When phase 2 starts (s).
    pub change_at_s: u64,
    /// Simulation settings.
    pub sim: SimSettings,
}

/// Generates scenario `index` of the suite with `seed`.
pub fn scenario(seed: u64, index: usize) -> Scenario {
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(index as u64));
    let n = rng.int(3, 50);
    let sources = if n >= 8 { rng.int(1, 3) } else { 1 };
    let mut vertices = Vec::with_capacity(n);
    let mut edges: Vec<(usize, usize, bool)> = Vec::new();
    for i in 0..n {
        let max_parallelism = match rng.int(0, 9) {
            0 => 720,
            1 => 100,
            _ => 128,
        };
        if i < sources {
            vertices.push(SimVertex {
                id: format!("v{i}"),
                cost_ms: rng.range(0.002, 0.01),
                selectivity: 1.0,
                skew: 0.0,
                hot_key: 0.0,
                max_parallelism,
                source: Some((Schedule::Constant(1.0), if rng.chance(0.5) { SourceKind::Queue } else { SourceKind::RateLimited })),
            });
            continue;
        }
        let keyed = rng.chance(0.5);
        // an input from the previous vertices (mostly the latest), sometimes a second one
        let a = if rng.chance(0.6) { i - 1 } else { rng.int(0, i - 1) };
        edges.push((a, i, keyed));
        if i >= 2 && rng.chance(0.2) {
            let b = rng.int(0, i - 1);
            if b != a {
                edges.push((b, i, keyed));
            }
        }
        vertices.push(SimVertex {
            id: format!("v{i}"),
            // log-uniform: 5 µs … 0.5 ms per record
            cost_ms: 0.005 * 100f64.powf(rng.unit()),
            selectivity: if rng.chance(0.3) { rng.range(0.2, 1.5) } else { 1.0 },
            skew: if keyed { rng.range(0.0, 0.2) } else { 0.0 },
            hot_key: 0.0,
            max_parallelism,
            source: None,
        });
    }
    let mut job = SimJob { vertices, edges };
    // Unit demand per source, then scale so the busiest vertex needs `peak` subtasks in phase 1.
    let weights: Vec<f64> = (0..sources).map(|_| rng.range(0.5, 2.0)).collect();
    let demand: Vec<f64> = (0..n).map(|v| if v < sources { weights[v] } else { 0.0 }).collect();
    let inputs = job.inputs();
    let unit = job.unthrottled_input(&demand, &inputs);
    let per_unit = (0..n)
        .map(|v| if v < sources { demand[v] * job.vertices[v].cost_ms / 1000.0 } else { unit[v] * job.vertices[v].cost_ms / 1000.0 })
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let peak = rng.range(1.5, 12.0);
    let scale = peak / per_unit;
    let shape = match rng.int(0, 3) {
        0 => Shape::StepUp,
        1 => Shape::StepDown,
        2 => Shape::RampUp,
        _ => Shape::RampDown,
    };
    let change_at_s = 600;
    let factor = match shape {
        Shape::StepUp | Shape::RampUp => rng.range(1.5, 4.0),
        Shape::StepDown | Shape::RampDown => rng.range(0.2, 0.6),
    };
    let ramp_s = rng.int(60, 240) as u64;
    for (v, w) in weights.iter().enumerate() {
        let before = w * scale;
        let after = before * factor;
        let sch = match shape {
            Shape::StepUp | Shape::StepDown => Schedule::Step { before, after, at_s: change_at_s },
            Shape::RampUp | Shape::RampDown => Schedule::Ramp { from: before, to: after, start_s: change_at_s, end_s: change_at_s + ramp_s },
        };
        if let Some((s, _)) = job.vertices[v].source.as_mut() {
            *s = sch;
        }
    }
    let sim = SimSettings { seed: seed ^ (index as u64).wrapping_mul(0x9E37), ..SimSettings::default() };
    Scenario { index, job, shape, change_at_s, sim }
}

/// The outcome of one scenario under one policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Scenario index.
    pub index: usize,
    /// Vertices.
    pub vertices: usize,
    /// Shape.
    pub shape: Shape,
    /// Rescales in phase 1 and phase 2.
    pub rescales: [usize; 2],
    /// Phase converged.
    pub converged: [bool; 2],
    /// Direction changes of a vertex's parallelism inside a phase.
    pub oscillations: usize,
    /// Parallelism-seconds above the minimal backpressure-free parallelism.
    pub over_ps: u64,
    /// Parallelism-seconds below it.
    pub under_ps: u64,
    /// Parallelism-seconds of the minimal backpressure-free parallelism itself.
    pub needed_ps: u64,
    /// Seconds with backpressure, lag or a restart.
    pub backpressured_s: u64,
    /// Duration (s).
    pub duration_s: u64,
    /// Every source exposes its backlog (`pendingRecords`): the demand is observable.
    pub observable_demand: bool,
}

impl Outcome {
    /// Both phases converged with at most one rescale each.
    pub fn one_decision(&self) -> bool {
        self.converged.iter().all(|&c| c) && self.rescales.iter().all(|&r| r <= 1)
    }
}

/// Evaluates a trace against the scenario's phases.
pub fn outcome(s: &Scenario, trace: &Trace) -> Outcome {
    let end = s.sim.duration_s;
    let phases = [(0, s.change_at_s), (s.change_at_s, end)];
    let mut rescales = [0usize; 2];
    let mut converged = [false; 2];
    let mut oscillations = 0;
    for (k, &(from, to)) in phases.iter().enumerate() {
        let in_phase: Vec<_> = trace.rescales.iter().filter(|r| r.at_s >= from && r.at_s < to).collect();
        rescales[k] = in_phase.len();
        let tail_from = to.saturating_sub(60).max(from) as usize;
        let quiet = trace.backpressured.get(tail_from..to as usize).is_some_and(|w| w.iter().all(|&b| !b));
        let enough = trace.under.get(to as usize - 1).is_some_and(|&u| u == 0);
        converged[k] = quiet && enough;
        let mut last_dir: Vec<i8> = vec![0; s.job.vertices.len()];
        for r in in_phase {
            for &(v, a, b) in &r.changes {
                let dir = if b > a { 1 } else { -1 };
                if last_dir[v] != 0 && last_dir[v] != dir {
                    oscillations += 1;
                }
                last_dir[v] = dir;
            }
        }
    }
    Outcome {
        index: s.index,
        vertices: s.job.vertices.len(),
        shape: s.shape,
        rescales,
        converged,
        oscillations,
        over_ps: trace.over.iter().sum(),
        under_ps: trace.under.iter().sum(),
        needed_ps: trace.needed.iter().sum(),
        backpressured_s: trace.backpressured.iter().filter(|&&b| b).count() as u64,
        duration_s: end,
        observable_demand: s.job.vertices.iter().all(|v| !matches!(v.source, Some((_, SourceKind::RateLimited)))),
    }
}

/// The settings the suite runs the DS2 core with: the defaults, so the figures describe what a
/// user gets.
pub fn ds2_settings() -> Settings {
    Settings::default()
}

/// Summary of one policy over the suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyReport {
    /// Policy name.
    pub policy: String,
    /// Scenarios run.
    pub scenarios: usize,
    /// Share converged in one decision (both phases ≤ 1 rescale, converged).
    pub one_decision_share: f64,
    /// Share converged in one decision among scenarios whose sources all expose a backlog.
    pub one_decision_share_observable: f64,
    /// Share converged in one decision among scenarios with a datagen-like source (no backlog;
    /// its demand is seen only when it declares its rate).
    pub one_decision_share_unobservable: f64,
    /// Share with both phases converged (any number of rescales).
    pub converged_share: f64,
    /// The most rescales any scenario needed (both phases).
    pub max_rescales: usize,
    /// Mean rescales per scenario.
    pub mean_rescales: f64,
    /// Total oscillations.
    pub oscillations: usize,
    /// Scenarios with at least one oscillation.
    pub oscillating_scenarios: usize,
    /// Mean subtasks above the minimal backpressure-free parallelism (over time and scenarios).
    pub mean_over_subtasks: f64,
    /// Mean subtasks below it.
    pub mean_under_subtasks: f64,
    /// Over-provisioning: subtask-seconds above the minimal backpressure-free parallelism as a
    /// share of the minimal's subtask-seconds.
    pub over_share: f64,
    /// Under-provisioning: subtask-seconds below it, as a share of the minimal's.
    pub under_share: f64,
    /// Mean share of time with backpressure, lag or a restart.
    pub backpressured_share: f64,
    /// Per scenario.
    pub outcomes: Vec<Outcome>,
}

/// The suite's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// Seed.
    pub seed: u64,
    /// DS2 and the CPU-threshold policy, in that order, on the same scenarios.
    pub policies: Vec<PolicyReport>,
    /// DS2 again, with the datagen-like sources' configured rates not declared (what the core
    /// does when a rate-limited source hides its demand).
    pub ds2_rate_unseen: PolicyReport,
}

fn share(outcomes: &[Outcome], observable: bool) -> f64 {
    let set: Vec<&Outcome> = outcomes.iter().filter(|o| o.observable_demand == observable).collect();
    if set.is_empty() { f64::NAN } else { set.iter().filter(|o| o.one_decision()).count() as f64 / set.len() as f64 }
}

fn summarize(policy: String, outcomes: Vec<Outcome>) -> PolicyReport {
    let n = outcomes.len().max(1) as f64;
    let secs: f64 = outcomes.iter().map(|o| o.duration_s as f64).sum::<f64>().max(1.0);
    let needed: f64 = outcomes.iter().map(|o| o.needed_ps as f64).sum::<f64>().max(1.0);
    PolicyReport {
        policy,
        scenarios: outcomes.len(),
        one_decision_share: outcomes.iter().filter(|o| o.one_decision()).count() as f64 / n,
        one_decision_share_observable: share(&outcomes, true),
        one_decision_share_unobservable: share(&outcomes, false),
        converged_share: outcomes.iter().filter(|o| o.converged.iter().all(|&c| c)).count() as f64 / n,
        max_rescales: outcomes.iter().map(|o| o.rescales[0] + o.rescales[1]).max().unwrap_or(0),
        mean_rescales: outcomes.iter().map(|o| (o.rescales[0] + o.rescales[1]) as f64).sum::<f64>() / n,
        oscillations: outcomes.iter().map(|o| o.oscillations).sum(),
        oscillating_scenarios: outcomes.iter().filter(|o| o.oscillations > 0).count(),
        mean_over_subtasks: outcomes.iter().map(|o| o.over_ps as f64).sum::<f64>() / secs,
        mean_under_subtasks: outcomes.iter().map(|o| o.under_ps as f64).sum::<f64>() / secs,
        backpressured_share: outcomes.iter().map(|o| o.backpressured_s as f64).sum::<f64>() / secs,
        over_share: outcomes.iter().map(|o| o.over_ps as f64).sum::<f64>() / needed,
        under_share: outcomes.iter().map(|o| o.under_ps as f64).sum::<f64>() / needed,
        outcomes,
    }
}

/// Runs `scenarios` scenarios from parallelism 1 with the DS2 core and the CPU-threshold policy
/// (the report's `policies`, in that order), and once more with DS2 while the datagen-like
/// sources do not declare their configured rate (`ds2_rate_unseen`: their demand is hidden
/// while they are throttled, and the core can only guess it).
pub fn run_suite(scenarios: usize, seed: u64) -> SuiteReport {
    let mut ds2 = Vec::with_capacity(scenarios);
    let mut unseen = Vec::with_capacity(scenarios);
    let mut cpu = Vec::with_capacity(scenarios);
    for i in 0..scenarios {
        let s = scenario(seed, i);
        let initial = vec![1; s.job.vertices.len()];
        let declared = SimSettings { declared_rates: true, ..s.sim.clone() };
        ds2.push(outcome(&s, &s.job.run(&mut Ds2::new(ds2_settings()), &initial, &declared)));
        unseen.push(outcome(&s, &s.job.run(&mut Ds2::new(ds2_settings()), &initial, &s.sim)));
        cpu.push(outcome(&s, &s.job.run(&mut CpuThreshold::default(), &initial, &s.sim)));
    }
    SuiteReport {
        seed,
        policies: vec![summarize(DS2.into(), ds2), summarize(CpuThreshold::default().name(), cpu)],
        ds2_rate_unseen: summarize(DS2_RATE_UNSEEN.into(), unseen),
    }
}

/// Name of the DS2 run.
pub const DS2: &str = "ds2";
/// Name of the DS2 run without declared rates.
pub const DS2_RATE_UNSEEN: &str = "ds2 rate unseen";

impl SuiteReport {
    /// The report of the policy named `name` (including the rate-unseen DS2 run).
    pub fn policy(&self, name: &str) -> Option<&PolicyReport> {
        self.policies.iter().chain(std::iter::once(&self.ds2_rate_unseen)).find(|p| p.policy == name)
    }

    /// The comparison table for people.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let n = self.policies.first().map(|p| p.scenarios).unwrap_or(0);
        let _ = writeln!(out, "{n} scenarios (random DAGs of 3–50 vertices, step and ramp loads), seed {}", self.seed);
        let _ = writeln!(
            out,
            "sources: Kafka-like (backlog as pendingRecords) or datagen-like (rate-limited; {DS2} is told its configured rate, \"{DS2_RATE_UNSEEN}\" is not)"
        );
        let _ = write!(out, "{:<44}", "");
        let columns: Vec<&PolicyReport> = self.policies.iter().chain(std::iter::once(&self.ds2_rate_unseen)).collect();
        for p in &columns {
            let _ = write!(out, "{:>18}", p.policy);
        }
        out.push('\n');
        type Row = (&'static str, fn(&PolicyReport) -> String);
        let rows: [Row; 13] = [
            ("converged in one decision per phase", |p| format!("{:.1} %", 100.0 * p.one_decision_share)),
            ("  … sources expose a backlog (Kafka-like)", |p| format!("{:.1} %", 100.0 * p.one_decision_share_observable)),
            ("  … a datagen-like source", |p| format!("{:.1} %", 100.0 * p.one_decision_share_unobservable)),
            ("converged (any number of decisions)", |p| format!("{:.1} %", 100.0 * p.converged_share)),
            ("most rescales in a scenario", |p| p.max_rescales.to_string()),
            ("mean rescales per scenario", |p| format!("{:.2}", p.mean_rescales)),
            ("oscillations (direction changes in a phase)", |p| p.oscillations.to_string()),
            ("scenarios with an oscillation", |p| p.oscillating_scenarios.to_string()),
            ("mean subtasks above minimal bp-free", |p| format!("{:.1}", p.mean_over_subtasks)),
            ("mean subtasks below minimal bp-free", |p| format!("{:.1}", p.mean_under_subtasks)),
            ("over-provisioning (% of minimal bp-free)", |p| format!("{:.1} %", 100.0 * p.over_share)),
            ("under-provisioning (% of minimal bp-free)", |p| format!("{:.1} %", 100.0 * p.under_share)),
            ("time with backpressure/lag/restart", |p| format!("{:.1} %", 100.0 * p.backpressured_share)),
        ];
        for (label, f) in rows {
            let _ = write!(out, "{label:<44}");
            for p in &columns {
                let _ = write!(out, "{:>18}", f(p));
            }
            out.push('\n');
        }
        out
    }
}
