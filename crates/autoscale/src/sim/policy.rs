//! Policies the simulator drives: [`Ds2`] (this crate's scaling core) and [`CpuThreshold`]
//! (the seed's rule: scale the whole job by a step when average CPU is above 80 % or below a
//! low mark, with cool-downs).

use std::collections::BTreeMap;

use crate::decide::{State, Status, decide};
use crate::model::Settings;
use crate::sim::{Observation, Policy};

/// The DS2 scaling core with its state carried between decisions.
#[derive(Debug, Clone)]
pub struct Ds2 {
    /// Settings of the core.
    pub settings: Settings,
    /// Remembered state.
    pub state: State,
    /// Decisions that failed (bad input); stays 0 in the simulator.
    pub errors: usize,
}

impl Ds2 {
    /// A DS2 policy with these settings.
    pub fn new(settings: Settings) -> Ds2 {
        Ds2 { settings, state: State::default(), errors: 0 }
    }
}

impl Policy for Ds2 {
    fn name(&self) -> String {
        "ds2".into()
    }

    fn decide(&mut self, obs: &Observation<'_>) -> BTreeMap<String, u32> {
        match decide(obs.graph, obs.samples, &self.settings, &self.state, obs.now_ms) {
            Ok((d, next)) => {
                self.state = next;
                if d.status == Status::Rescale { d.changes() } else { BTreeMap::new() }
            }
            Err(_) => {
                self.errors += 1;
                BTreeMap::new()
            }
        }
    }
}

/// Scale every vertex up by `step` when the average CPU utilization over `window_ms` exceeds
/// `high`, down by `step` when it is below `low`; no scale-up within `cooldown_up_ms` and no
/// scale-down within `cooldown_down_ms` of the last action.
#[derive(Debug, Clone)]
pub struct CpuThreshold {
    /// Scale up above this average utilization.
    pub high: f64,
    /// Scale down below this.
    pub low: f64,
    /// Parallelism step.
    pub step: u32,
    /// Averaging window.
    pub window_ms: i64,
    /// Cool-down after any action before a scale-up.
    pub cooldown_up_ms: i64,
    /// Cool-down after any action before a scale-down.
    pub cooldown_down_ms: i64,
    /// Upper bound of the parallelism.
    pub max_parallelism: u32,
    /// When the last action was taken (state).
    pub last_action_ms: Option<i64>,
}

impl Default for CpuThreshold {
    fn default() -> Self {
        CpuThreshold {
            high: 0.8,
            low: 0.3,
            step: 2,
            window_ms: 60_000,
            cooldown_up_ms: 60_000,
            cooldown_down_ms: 300_000,
            max_parallelism: 128,
            last_action_ms: None,
        }
    }
}

impl Policy for CpuThreshold {
    fn name(&self) -> String {
        format!("cpu-{:.0}%", self.high * 100.0)
    }

    fn decide(&mut self, obs: &Observation<'_>) -> BTreeMap<String, u32> {
        let since_action = self.last_action_ms.map(|t| obs.now_ms - t).unwrap_or(i64::MAX);
        let from = obs.now_ms - self.window_ms + 1;
        let recent: Vec<f64> = obs.cpu.iter().filter(|(t, _)| *t >= from && *t >= self.last_action_ms.unwrap_or(i64::MIN)).map(|(_, u)| *u).collect();
        if recent.len() < 2 {
            return BTreeMap::new();
        }
        let avg = recent.iter().sum::<f64>() / recent.len() as f64;
        let current = obs.graph.vertices.iter().map(|v| v.parallelism).max().unwrap_or(1);
        let target = if avg > self.high && since_action >= self.cooldown_up_ms {
            current.saturating_add(self.step).min(self.max_parallelism)
        } else if avg < self.low && since_action >= self.cooldown_down_ms {
            current.saturating_sub(self.step).max(1)
        } else {
            return BTreeMap::new();
        };
        let changes: BTreeMap<String, u32> = obs
            .graph
            .vertices
            .iter()
            .map(|v| (v.id.clone(), target.min(v.max_parallelism)))
            .filter(|(id, p)| obs.graph.vertices.iter().any(|v| &v.id == id && v.parallelism != *p))
            .collect();
        if !changes.is_empty() {
            self.last_action_ms = Some(obs.now_ms);
        }
        changes
    }
}
