//! The DS2 decision: from a window of metric samples and the job graph, each vertex's true
//! processing rate, the target rate propagated from the sources, and the new parallelism — with
//! stabilization, scale-down delay and ineffective-scale-up blocking, and every number kept in
//! the [`Decision`].
//!
//! The model (DS2, OSDI'18; also the Flink operator's autoscaler):
//!
//! * **True processing rate per subtask** `= records in per second / p / busy share`, where the
//!   busy share is the hottest subtask's `busyTimeMsPerSecond / 1000`. It is the rate a subtask
//!   would sustain if it never waited for input nor for output buffers. Sources use records
//!   *out* (their input is external).
//! * **Source demand** (output units, [`DemandBasis`]):
//!   - with `pendingRecords`, the observed output rate plus the backlog's growth rate (negative
//!     while catching up: their sum is the arrival rate) plus the backlog worked off within
//!     `catch_up_ms`;
//!   - else with a declared rate (`declared_rate_per_s`: what the source is configured to emit,
//!     e.g. a datagen table's `'rows-per-second'`, filled in by the shell), the larger of the
//!     declared and the observed rate;
//!   - else the demand of a backpressured source is not observable: it emits whenever it is
//!     unblocked, so its backpressured share says *that* it is throttled, not by how much (real
//!     Flink: ~998 ms/s at 84 % of the rate). The guess: `observed / (1 − backpressured share)`
//!     with the share capped at `max_source_backpressure` (default 0.5), i.e. up to 2× what it
//!     emits; one decision suffices when the overload is below 2 / target utilization (2.9× at
//!     0.7). Targets resting on such a guess are marked ([`VertexDecision::target_guessed`]). A
//!     source that is not backpressured counts with exactly its observed rate.
//!
//!   A source without busy time (datagen: `NaN`) that emits over 5 % less than its declared rate
//!   while backpressured under 10 % of the time is saturated itself: it is never idle, so its
//!   useful time is `1000 − backpressured` ms/s and it is scaled up like any other vertex (never
//!   down on that estimate).
//! * **Target rate**: for a source its demand; for any other vertex the sum over its inputs of
//!   the input's target output rate, where a vertex's target output rate is its target input
//!   rate × its observed output/input ratio.
//! * **New parallelism** `= ceil(target / (true rate per subtask × target utilization))`,
//!   clamped to `[min, min(max, max parallelism)]`, aligned to key groups for keyed inputs
//!   ([`crate::align`]). A vertex whose utilization at the target rate lies within
//!   `[scale_down_threshold, scale_up_threshold]` keeps its parallelism (hysteresis). For a
//!   keyed vertex under a guessed target the alignment starts from the parallelism that runs
//!   the guess at `scale_up_threshold` when that gives a smaller divisor (the guess carries its
//!   own headroom; stacking the alignment's round-up on it over-provisions up to 4× and is undone
//!   by a scale-down later: an oscillation).
//! * **One restart for all** (a restart costs the same for one vertex or many): when a decision
//!   rescales anyway, vertices the band kept *above* the target utilization scale to it too
//!   (unless their target is guessed) — left at 0.7–0.85 they cross the threshold at the next
//!   noise or catch-up and cost another restart; when a scale-down is due (the load has been low
//!   for the whole delay), every pending scale-down joins at its highest recommendation, and so
//!   does a vertex kept in the band below the target that was recommended a scale-down within the
//!   delay (noise about the scale-down threshold restarts its delay again and again); on a
//!   scale-up, pending scale-downs that waited over half the delay join.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::align::align_to_key_groups;
use crate::model::{JobGraph, MetricSample, Settings, VertexSample};
use crate::Error;

/// What the scaler remembers between decisions (persist it to survive restarts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct State {
    /// When the last rescale was applied.
    pub last_rescale_ms: Option<i64>,
    /// Per vertex id.
    pub vertices: BTreeMap<String, VertexState>,
}

/// Per-vertex memory: the last scale-up (for the effectiveness check) and pending scale-downs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VertexState {
    /// The last scale-up of this vertex.
    pub last_scale_up: Option<ScaleUpRecord>,
    /// When a scale-down was first recommended (cleared by any other recommendation).
    pub scale_down_since_ms: Option<i64>,
    /// Scale-down recommendations inside the delay window: `(at_ms, parallelism)`.
    pub scale_down_recommendations: Vec<(i64, u32)>,
    /// When a scale-down was last recommended (kept when a reading inside the band cancels the
    /// pending one): a vertex recommended one within the delay joins a scale-down that is
    /// carried out, instead of flickering about the threshold and waiting for its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_last_recommended_ms: Option<i64>,
}

/// A scale-up and what it was expected to achieve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScaleUpRecord {
    /// Parallelism before.
    pub from: u32,
    /// Parallelism after.
    pub to: u32,
    /// True processing capacity of the vertex (all subtasks, records/s) before.
    pub capacity_before: f64,
    /// Capacity expected after (linear in parallelism).
    pub expected_capacity: f64,
}

/// Where the decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Inside the stabilization period after a rescale: metrics are ignored.
    Stabilizing,
    /// Not enough samples in the window yet.
    Collecting,
    /// Evaluated; no vertex changes.
    Steady,
    /// Evaluated; at least one vertex changes.
    Rescale,
}

/// What happens to one vertex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Unchanged.
    Keep,
    /// Parallelism goes up.
    ScaleUp,
    /// Parallelism goes down.
    ScaleDown,
    /// A scale-down is recommended but waits for the scale-down delay.
    ScaleDownDelayed,
    /// A scale-up was blocked because the previous one was ineffective.
    ScaleUpBlocked,
    /// Metrics missing (e.g. busy time `NaN`): unchanged.
    NoData,
}

/// What a source's demand estimate rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemandBasis {
    /// `pendingRecords`: output + backlog growth + catch-up (exact arrival rate).
    Backlog,
    /// The declared (configured) rate, or the output if higher.
    Declared,
    /// The output of a source that is not backpressured (nothing is held back).
    Observed,
    /// A backpressured source without backlog or declared rate: `output / (1 − share)`, a guess.
    Guessed,
}

/// The demand estimate of a source.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SourceDemand {
    /// Observed output rate (records/s).
    pub observed_out_per_s: f64,
    /// Backpressured share of time used (capped).
    pub backpressured_share: f64,
    /// Backlog growth (records/s), when `pendingRecords` is known.
    pub backlog_growth_per_s: Option<f64>,
    /// Rate to work off the backlog within `catch_up_ms` (records/s), when known.
    pub catch_up_per_s: Option<f64>,
    /// The declared rate (records/s), when the shell knows it.
    #[serde(default)]
    pub declared_rate_per_s: Option<f64>,
    /// What the estimate rests on.
    pub basis: DemandBasis,
    /// The demand (records/s).
    pub demand_per_s: f64,
}

/// The computation for one vertex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VertexDecision {
    /// Vertex id.
    pub id: String,
    /// Vertex name.
    pub name: String,
    /// No inputs.
    pub source: bool,
    /// Parallelism now.
    pub current_parallelism: u32,
    /// Max parallelism (key groups).
    pub max_parallelism: u32,
    /// Window averages of the metrics.
    pub metrics: VertexSample,
    /// Observed records out / records in.
    pub output_ratio: Option<f64>,
    /// True processing rate per subtask (records/s; input units, output units for sources).
    pub true_rate_per_subtask: Option<f64>,
    /// Source demand estimate.
    pub source_demand: Option<SourceDemand>,
    /// Target rate the vertex must sustain (records/s, same units as the true rate).
    pub target_rate: f64,
    /// The target rests on a guessed source demand ([`DemandBasis::Guessed`]) upstream.
    #[serde(default)]
    pub target_guessed: bool,
    /// Busy share the current parallelism would run at under the target rate.
    pub utilization_at_target: Option<f64>,
    /// `target / (true rate per subtask × target utilization)` before rounding.
    pub raw_parallelism: Option<f64>,
    /// After ceil and clamping.
    pub clamped_parallelism: Option<u32>,
    /// After key-group alignment.
    pub aligned_parallelism: Option<u32>,
    /// The parallelism to run with.
    pub new_parallelism: u32,
    /// What happens.
    pub action: Action,
    /// Why, for people.
    pub reason: String,
}

/// One decision with its whole computation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// When it was made.
    pub at_ms: i64,
    /// Outcome.
    pub status: Status,
    /// The metric window used: `(from_ms, to_ms, samples)`.
    pub window: Option<(i64, i64, usize)>,
    /// Settings it was made with.
    pub settings: Settings,
    /// Per vertex, in topological order (empty while stabilizing or collecting).
    pub vertices: Vec<VertexDecision>,
    /// A summary for people.
    pub explanation: String,
}

impl Decision {
    /// Vertex id → new parallelism, for the vertices that change.
    pub fn changes(&self) -> BTreeMap<String, u32> {
        self.vertices
            .iter()
            .filter(|v| matches!(v.action, Action::ScaleUp | Action::ScaleDown))
            .map(|v| (v.id.clone(), v.new_parallelism))
            .collect()
    }

    /// The decision for vertex `id`.
    pub fn vertex(&self, id: &str) -> Option<&VertexDecision> {
        self.vertices.iter().find(|v| v.id == id)
    }
}

/// A source without busy time is *saturated* when it emits less than its declared rate by more
/// than this share (beyond the metrics' noise)…
const SATURATED_SOURCE_SHORTFALL: f64 = 0.05;
/// … while it is backpressured less than this share of the time: then nothing downstream holds
/// it back and it is never idle (it is behind its rate), so its useful time is the time it is
/// not backpressured.
const SATURATED_SOURCE_MAX_BACKPRESSURE: f64 = 0.1;

/// Carries out the bookkeeping of a scale-up of `d` (action [`Action::ScaleUp`]): clears a
/// pending scale-down, blocks the scale-up when the vertex's last one was ineffective, and
/// otherwise remembers it for that check.
fn record_scale_up(d: &mut VertexDecision, vs: &mut VertexState, settings: &Settings) {
    let p = d.current_parallelism;
    vs.scale_down_since_ms = None;
    vs.scale_down_recommendations.clear();
    let capacity = d.true_rate_per_subtask.unwrap_or(0.0) * f64::from(p);
    if let Some(last) = vs.last_scale_up.filter(|l| l.to == p) {
        let expected = last.expected_capacity - last.capacity_before;
        let actual = capacity - last.capacity_before;
        if expected > 0.0 && actual / expected < settings.ineffective_threshold {
            d.action = Action::ScaleUpBlocked;
            d.reason = format!(
                "the scale-up {} → {} raised the capacity by {:.0}/s of the {:.0}/s expected ({:.0} % < {:.0} %): not repeating it ({})",
                last.from,
                last.to,
                actual,
                expected,
                100.0 * actual / expected,
                100.0 * settings.ineffective_threshold,
                d.reason
            );
            d.new_parallelism = p;
        }
    }
    if d.action == Action::ScaleUp {
        vs.last_scale_up = Some(ScaleUpRecord {
            from: p,
            to: d.new_parallelism,
            capacity_before: capacity,
            expected_capacity: d.true_rate_per_subtask.unwrap_or(0.0) * f64::from(d.new_parallelism),
        });
    }
}

fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in values.flatten() {
        if v.is_finite() {
            sum += v;
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

/// Drops the samples no later [`decide`] will look at: those older than the window before
/// `now_ms`, and those taken before the last rescale's stabilization ended (they describe the old
/// parallelism). Keeps a reconcile loop's history bounded; `decide` on the retained samples gives
/// the same decision as on all of them.
pub fn retain_history(samples: &mut Vec<MetricSample>, settings: &Settings, state: &State, now_ms: i64) {
    let ms = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let mut from = now_ms.saturating_sub(ms(settings.window_ms));
    if let Some(last) = state.last_rescale_ms {
        from = from.max(last.saturating_add(ms(settings.stabilization_ms)).min(now_ms));
    }
    samples.retain(|s| s.at_ms >= from);
}

/// Decides. Pure (no I/O, no clock): the same input gives the same decision and next state.
///
/// For a reconcile loop: every `decide_every` it appends a [`MetricSample`] (oldest first) to its
/// history, calls `decide(&graph, &history, &settings, &state, now_ms)` with the job graph at its
/// current parallelism, and
/// * on [`Status::Rescale`] applies [`Decision::changes`]; if the apply succeeded it keeps the
///   returned state (it records the rescale time for stabilization and the scale-ups for the
///   effectiveness check), if it failed it keeps the *old* state and retries at the next tick;
/// * otherwise keeps the returned state (it carries the pending scale-downs and their
///   recommendations) — `Stabilizing` and `Collecting` return the old state unchanged.
///
/// The history it needs is the last [`Settings::window_ms`] of samples; [`retain_history`]
/// drops the rest. Persist the [`State`] (serde) to survive a restart of the loop; the samples
/// may be lost (the next decision then waits for [`Settings::min_window_ms`]).
pub fn decide(
    graph: &JobGraph,
    samples: &[MetricSample],
    settings: &Settings,
    state: &State,
    now_ms: i64,
) -> Result<(Decision, State), Error> {
    settings.validate()?;
    let order = graph.topological_order()?;
    let mut next = state.clone();
    let mut decision = Decision {
        at_ms: now_ms,
        status: Status::Collecting,
        window: None,
        settings: settings.clone(),
        vertices: Vec::new(),
        explanation: String::new(),
    };
    let ms = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    if let Some(last) = state.last_rescale_ms {
        let until = last.saturating_add(ms(settings.stabilization_ms));
        if now_ms < until {
            decision.status = Status::Stabilizing;
            decision.explanation = format!("stabilizing after the rescale at {last} ms: metrics count from {until} ms");
            return Ok((decision, next));
        }
    }
    let mut from = now_ms.saturating_sub(ms(settings.window_ms));
    if let Some(last) = state.last_rescale_ms {
        from = from.max(last.saturating_add(ms(settings.stabilization_ms)));
    }
    let window: Vec<&MetricSample> = samples.iter().filter(|s| s.at_ms >= from && s.at_ms <= now_ms).collect();
    let span = match (window.iter().map(|s| s.at_ms).min(), window.iter().map(|s| s.at_ms).max()) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    let covered = span.map(|(a, b)| b - a).unwrap_or(0);
    decision.window = span.map(|(a, b)| (a, b, window.len()));
    if window.is_empty() || covered < ms(settings.min_window_ms) {
        decision.explanation = format!(
            "collecting metrics: the window covers {} ms of the {} ms needed ({} samples)",
            covered,
            settings.min_window_ms,
            window.len()
        );
        return Ok((decision, next));
    }

    // Is the load still changing? Compare the sources' arrival rate (output + backlog growth)
    // in the two halves of the window.
    if settings.load_change_tolerance > 0.0
        && let Some((a, b)) = span
    {
        {
            let mid = a + (b - a) / 2;
            let arrival = |lo: i64, hi: i64| -> f64 {
                let part: Vec<&&MetricSample> = window.iter().filter(|s| s.at_ms >= lo && s.at_ms <= hi).collect();
                let mut total = 0.0;
                for v in graph.vertices.iter().filter(|v| graph.is_source(&v.id)) {
                    let out = mean(part.iter().map(|s| s.vertices.get(&v.id).and_then(|x| x.records_out_per_s))).unwrap_or(0.0);
                    let pend: Vec<(i64, f64)> = part
                        .iter()
                        .filter_map(|s| Some((s.at_ms, s.vertices.get(&v.id)?.pending_records.filter(|p| p.is_finite())?)))
                        .collect();
                    let growth = match (pend.first(), pend.last()) {
                        (Some(f), Some(l)) if l.0 > f.0 => (l.1 - f.1) / ((l.0 - f.0) as f64 / 1000.0),
                        _ => 0.0,
                    };
                    let declared = if pend.is_empty() {
                        mean(part.iter().map(|s| s.vertices.get(&v.id).and_then(|x| x.declared_rate_per_s).filter(|r| *r >= 0.0)))
                    } else {
                        None
                    };
                    total += (out + growth).max(declared.unwrap_or(0.0)).max(0.0);
                }
                total
            };
            let (first, second) = (arrival(a, mid), arrival(mid, b));
            let base = first.max(second);
            if base > 0.0 && (first - second).abs() / base > settings.load_change_tolerance {
                decision.explanation = format!(
                    "collecting metrics: the load is changing ({first:.0}/s → {second:.0}/s across the window); deciding once it holds"
                );
                return Ok((decision, next));
            }
        }
    }

    // Window averages per vertex, and the backlog growth of sources.
    let avg = |id: &str| -> VertexSample {
        let get = |f: fn(&VertexSample) -> Option<f64>| mean(window.iter().map(|s| s.vertices.get(id).and_then(f)));
        VertexSample {
            busy_ms_per_s: get(|v| v.busy_ms_per_s),
            backpressured_ms_per_s: get(|v| v.backpressured_ms_per_s),
            records_in_per_s: get(|v| v.records_in_per_s),
            records_out_per_s: get(|v| v.records_out_per_s),
            pending_records: window
                .iter()
                .rev()
                .find_map(|s| s.vertices.get(id).and_then(|v| v.pending_records).filter(|p| p.is_finite())),
            declared_rate_per_s: mean(
                window.iter().map(|s| s.vertices.get(id).and_then(|v| v.declared_rate_per_s).filter(|r| *r >= 0.0)),
            ),
        }
    };
    let backlog_growth = |id: &str| -> Option<f64> {
        let points: Vec<(i64, f64)> = window
            .iter()
            .filter_map(|s| Some((s.at_ms, s.vertices.get(id)?.pending_records.filter(|p| p.is_finite())?)))
            .collect();
        let (first, last) = (points.first()?, points.last()?);
        (last.0 > first.0).then(|| (last.1 - first.1) / ((last.0 - first.0) as f64 / 1000.0))
    };

    let target_util = settings.target_utilization;
    let mut target_out: BTreeMap<&str, f64> = BTreeMap::new();
    let mut guessed_out: BTreeMap<&str, bool> = BTreeMap::new();
    let mut rescale = false;
    // Vertices kept by the hysteresis band although above the target utilization: they join a
    // rescale that happens anyway (indices into `decision.vertices`).
    let mut may_join_up: Vec<usize> = Vec::new();
    // … and those kept below it: they join a scale-down that is due if they were recommended
    // one within the delay (noise about the scale-down threshold).
    let mut may_join_down: Vec<usize> = Vec::new();
    for &i in &order {
        let v = &graph.vertices[i];
        let m = avg(&v.id);
        let source = graph.is_source(&v.id);
        let input = m.records_in_per_s.unwrap_or(0.0).max(0.0);
        let output = m.records_out_per_s.unwrap_or(0.0).max(0.0);
        let busy = m.busy_ms_per_s.map(|b| (b / 1000.0).clamp(0.0, 1.0));
        let p = v.parallelism;
        let output_ratio = (!source && input > 1e-9).then(|| output / input);

        // Target rate (source: demand in output units; other: sum of upstream target outputs).
        let mut source_demand = None;
        let target = if source {
            let bp = (m.backpressured_ms_per_s.unwrap_or(0.0) / 1000.0).clamp(0.0, settings.max_source_backpressure);
            let growth = backlog_growth(&v.id);
            let catch_up = m.pending_records.map(|p| p.max(0.0) / (settings.catch_up_ms as f64 / 1000.0));
            let declared = m.declared_rate_per_s;
            let (demand, basis) = match (catch_up, declared) {
                // arrival rate = what it emits + how fast the backlog grows (negative while
                // catching up), plus the backlog worked off within the catch-up time
                (Some(c), _) => ((output + growth.unwrap_or(0.0)).max(0.0) + c, DemandBasis::Backlog),
                // the configured rate is what it would emit unthrottled (more if it is stale)
                (None, Some(r)) => (r.max(output), DemandBasis::Declared),
                (None, None) => (output / (1.0 - bp), if bp > 0.0 { DemandBasis::Guessed } else { DemandBasis::Observed }),
            };
            source_demand = Some(SourceDemand {
                observed_out_per_s: output,
                backpressured_share: bp,
                backlog_growth_per_s: growth,
                catch_up_per_s: catch_up,
                declared_rate_per_s: declared.filter(|_| catch_up.is_none()),
                basis,
                demand_per_s: demand,
            });
            demand
        } else {
            graph.inputs(&v.id).map(|e| target_out.get(e.from.as_str()).copied().unwrap_or(0.0)).sum()
        };
        let out_target = if source { target } else { target * output_ratio.unwrap_or(0.0) };
        target_out.insert(v.id.as_str(), out_target);
        let guessed = match source_demand {
            Some(sd) => sd.basis == DemandBasis::Guessed,
            None => graph.inputs(&v.id).any(|e| guessed_out.get(e.from.as_str()).copied().unwrap_or(false)),
        };
        guessed_out.insert(v.id.as_str(), guessed);

        let observed = if source { output } else { input };
        let upper = settings.max_parallelism.min(v.max_parallelism).max(1);
        let lower = settings.min_parallelism.min(upper);
        let mut d = VertexDecision {
            id: v.id.clone(),
            name: v.name.clone(),
            source,
            current_parallelism: p,
            max_parallelism: v.max_parallelism,
            metrics: m,
            output_ratio,
            true_rate_per_subtask: None,
            source_demand,
            target_rate: target,
            target_guessed: guessed,
            utilization_at_target: None,
            raw_parallelism: None,
            clamped_parallelism: None,
            aligned_parallelism: None,
            new_parallelism: p,
            action: Action::NoData,
            reason: String::new(),
        };
        // A source without busy time (datagen reports NaN) that emits less than its declared
        // rate while nothing downstream holds it back is limited by itself: it wants to emit all
        // the time, so its useful time (DS2) is the time it is not backpressured. Only while it
        // is (almost) never backpressured: real Flink over-reports a bursting datagen's
        // backpressure (~998 ms/s at 84 % of its rate), and a window mixing throttled and free
        // seconds would mislead the estimate. It may scale the source up, never down.
        let behind_declared = source_demand.and_then(|sd| {
            let declared = sd.declared_rate_per_s.filter(|_| sd.basis == DemandBasis::Declared)?;
            let bp = m.backpressured_ms_per_s.unwrap_or(0.0) / 1000.0;
            (busy.is_none()
                && bp < SATURATED_SOURCE_MAX_BACKPRESSURE
                && output > 1e-9
                && output < declared * (1.0 - SATURATED_SOURCE_SHORTFALL))
                .then_some(declared)
        });
        let busy = match (busy, behind_declared) {
            (Some(b), _) => b,
            (None, Some(_)) => 1.0 - (m.backpressured_ms_per_s.unwrap_or(0.0) / 1000.0).clamp(0.0, 1.0),
            (None, None) => {
                d.reason = "busy time unknown (NaN): keeping the parallelism".into();
                decision.vertices.push(d);
                continue;
            }
        };
        if observed <= 1e-9 {
            // No traffic: nothing to measure the rate by. Idle vertices with no target go to min.
            if target <= 1e-9 && p > lower {
                d.utilization_at_target = Some(0.0);
                d.raw_parallelism = Some(0.0);
                d.clamped_parallelism = Some(lower);
                d.aligned_parallelism = Some(lower);
                d.new_parallelism = lower;
                d.action = Action::ScaleDown;
                d.reason = "no traffic and no target rate".into();
            } else {
                d.reason = "no records observed: the processing rate is unknown, keeping the parallelism".into();
                decision.vertices.push(d);
                continue;
            }
        } else {
            let busy_share = busy.max(1e-3);
            let true_rate = observed / f64::from(p) / busy_share;
            let util = target / (true_rate * f64::from(p));
            let raw = target / (true_rate * target_util);
            // ceil with a relative tolerance, so a value that is an integer up to rounding stays it
            let ceil = (raw * (1.0 - 1e-9)).ceil();
            let clamped = if ceil.is_finite() { (ceil.max(0.0).min(f64::from(u32::MAX)) as u32).clamp(lower, upper) } else { upper };
            let keyed = graph.inputs(&v.id).any(|e| e.keyed);
            let mut aligned = if keyed { align_to_key_groups(clamped, p, v.max_parallelism, upper) } else { clamped };
            let mut band_aligned = None;
            if keyed && guessed && aligned > clamped && clamped > p {
                // A guessed target is an upper estimate that carries its own headroom: align from
                // the parallelism that keeps the utilization at it within the band (at most
                // `scale_up_threshold`) instead of stacking the alignment's round-up on the guess.
                let band = (target / (true_rate * settings.scale_up_threshold) * (1.0 - 1e-9)).ceil();
                if band.is_finite() {
                    let band = (band.max(0.0).min(f64::from(u32::MAX)) as u32).clamp(lower, upper).max(p + 1);
                    let from_band = align_to_key_groups(band, p, v.max_parallelism, upper);
                    if from_band < aligned {
                        aligned = from_band;
                        band_aligned = Some(band);
                    }
                }
            }
            d.true_rate_per_subtask = Some(true_rate);
            d.utilization_at_target = Some(util);
            d.raw_parallelism = Some(raw);
            d.clamped_parallelism = Some(clamped);
            d.aligned_parallelism = Some(aligned);
            let in_band = util >= settings.scale_down_threshold && util <= settings.scale_up_threshold;
            let below_min = p < lower;
            let above_max = p > upper;
            if (in_band && !below_min && !above_max) || aligned == p {
                if aligned > p && util > target_util && !guessed {
                    may_join_up.push(decision.vertices.len());
                } else if aligned < p && util < target_util {
                    may_join_down.push(decision.vertices.len());
                }
                d.action = Action::Keep;
                d.reason = if aligned == p {
                    format!("utilization at target {:.0} % → parallelism {p} already fits", util * 100.0)
                } else {
                    format!(
                        "utilization at target {:.0} % is within [{:.0} %, {:.0} %]",
                        util * 100.0,
                        settings.scale_down_threshold * 100.0,
                        settings.scale_up_threshold * 100.0
                    )
                };
            } else {
                d.new_parallelism = aligned;
                d.action = if aligned > p { Action::ScaleUp } else { Action::ScaleDown };
                d.reason = format!(
                    "target {:.0}/s ÷ ({:.0}/s per subtask × {:.2}) = {:.2} → {} (clamped {}, aligned {})",
                    target, true_rate, target_util, raw, aligned, clamped, aligned
                );
                if let Some(band) = band_aligned {
                    d.reason.push_str(&format!(
                        "; the target is a guess: aligned from {band}, the parallelism that runs it at ≤ {:.0} %",
                        settings.scale_up_threshold * 100.0
                    ));
                }
            }
            if let Some(declared) = behind_declared {
                let downward = aligned < p;
                let computed = std::mem::take(&mut d.reason);
                if downward {
                    d.action = Action::Keep;
                    d.new_parallelism = p;
                    may_join_down.retain(|&k| k != decision.vertices.len());
                }
                d.reason = format!(
                    "busy time unknown (NaN); it emits {output:.0}/s of its declared {declared:.0}/s, without backpressure: saturated, useful time = 1000 − backpressured = {:.0} ms/s (used to scale up only); {}",
                    busy * 1000.0,
                    if downward { format!("keeps {p} ({computed})") } else { computed }
                );
            }
        }

        // Ineffective scale-up and scale-down delay, against the remembered state.
        let vs = next.vertices.entry(v.id.clone()).or_default();
        match d.action {
            Action::ScaleUp => record_scale_up(&mut d, vs, settings),
            Action::ScaleDown if settings.scale_down_delay_ms > 0 => {
                vs.scale_down_last_recommended_ms = Some(now_ms);
                let since = *vs.scale_down_since_ms.get_or_insert(now_ms);
                let window_start = now_ms.saturating_sub(ms(settings.scale_down_delay_ms));
                vs.scale_down_recommendations.retain(|&(at, _)| at >= window_start);
                vs.scale_down_recommendations.push((now_ms, d.new_parallelism));
                if since > window_start {
                    d.action = Action::ScaleDownDelayed;
                    d.reason = format!(
                        "scale-down to {} recommended since {} ms; waits until {} ms ({})",
                        d.new_parallelism,
                        since,
                        since.saturating_add(ms(settings.scale_down_delay_ms)),
                        d.reason
                    );
                    d.new_parallelism = p;
                } else {
                    // Recommendations whose metric window lies wholly inside the delay (made at
                    // least one window after the first); the first ones may mix in the load
                    // from before a change.
                    let settled = since.saturating_add(ms(settings.window_ms));
                    let recs = &vs.scale_down_recommendations;
                    let highest = recs
                        .iter()
                        .filter(|&&(at, _)| at >= settled)
                        .map(|&(_, q)| q)
                        .max()
                        .or_else(|| recs.iter().map(|&(_, q)| q).max())
                        .unwrap_or(d.new_parallelism);
                    if highest >= p {
                        d.action = Action::Keep;
                        d.new_parallelism = p;
                        d.reason = format!("a recommendation inside the scale-down delay keeps {p}");
                    } else {
                        d.reason = format!("highest recommendation inside the scale-down delay: {highest} ({})", d.reason);
                        d.new_parallelism = highest;
                    }
                }
            }
            Action::ScaleDown => {}
            _ => {
                vs.scale_down_since_ms = None;
                vs.scale_down_recommendations.clear();
            }
        }
        if matches!(d.action, Action::ScaleUp | Action::ScaleDown) {
            rescale = true;
        }
        decision.vertices.push(d);
    }

    if rescale {
        // A restart costs the same for one vertex or many. Vertices the band kept although they
        // would run above the target utilization scale up to it now: kept, they sit close to
        // the scale-up threshold, where noise or the catch-up after this restart would push
        // them over it and cost another restart (another decision) soon.
        for &k in &may_join_up {
            let d = &mut decision.vertices[k];
            if d.action != Action::Keep {
                continue;
            }
            let (Some(aligned), Some(util)) = (d.aligned_parallelism, d.utilization_at_target) else { continue };
            d.action = Action::ScaleUp;
            d.new_parallelism = aligned;
            d.reason = format!(
                "joins this rescale: utilization at target {:.0} % is above the target {:.0} % → {} ({})",
                util * 100.0,
                target_util * 100.0,
                aligned,
                d.reason
            );
            let vs = next.vertices.entry(d.id.clone()).or_default();
            record_scale_up(d, vs, settings);
        }
        // Pending scale-downs join it at their highest recommendation: all of them when a
        // scale-down is due (the load has been low for the whole delay; each would otherwise
        // cost a restart of its own when its delay ends), those that waited at least half the
        // delay when the rescale is a scale-up only.
        let half = ms(settings.scale_down_delay_ms / 2);
        let down_due = decision.vertices.iter().any(|d| d.action == Action::ScaleDown);
        if down_due {
            let recent = now_ms.saturating_sub(ms(settings.scale_down_delay_ms));
            for &k in &may_join_down {
                let d = &mut decision.vertices[k];
                let (Some(aligned), Some(util)) = (d.aligned_parallelism, d.utilization_at_target) else { continue };
                let recommended =
                    next.vertices.get(&d.id).and_then(|s| s.scale_down_last_recommended_ms).is_some_and(|at| at >= recent);
                if d.action != Action::Keep || aligned >= d.current_parallelism || !recommended {
                    continue;
                }
                d.action = Action::ScaleDown;
                d.new_parallelism = aligned;
                d.reason = format!(
                    "joins the scale-down that is due (one was recommended within the delay; utilization at target {:.0} % is below the target {:.0} %) → {} ({})",
                    util * 100.0,
                    target_util * 100.0,
                    aligned,
                    d.reason
                );
            }
        }
        for d in &mut decision.vertices {
            if d.action != Action::ScaleDownDelayed {
                continue;
            }
            let Some(vs) = next.vertices.get(&d.id) else { continue };
            let Some(since) = vs.scale_down_since_ms else { continue };
            let waited = now_ms.saturating_sub(since);
            if down_due || waited >= half {
                let target = vs.scale_down_recommendations.iter().map(|&(_, q)| q).max().unwrap_or(d.current_parallelism);
                if target < d.current_parallelism {
                    d.action = Action::ScaleDown;
                    d.new_parallelism = target;
                    d.reason = if waited >= half {
                        format!("scale-down to {target} (waited over half the delay) joins this rescale")
                    } else {
                        format!("scale-down to {target} (pending for {} s) joins the scale-down that is due", waited / 1000)
                    };
                }
            }
        }
        decision.status = Status::Rescale;
        next.last_rescale_ms = Some(now_ms);
        for d in &decision.vertices {
            if d.action == Action::ScaleDown
                && let Some(vs) = next.vertices.get_mut(&d.id)
            {
                vs.scale_down_since_ms = None;
                vs.scale_down_recommendations.clear();
            }
        }
        let changes: Vec<String> = decision
            .vertices
            .iter()
            .filter(|v| matches!(v.action, Action::ScaleUp | Action::ScaleDown))
            .map(|v| format!("{} {} → {}", v.name, v.current_parallelism, v.new_parallelism))
            .collect();
        decision.explanation = format!("rescale: {}", changes.join(", "));
    } else {
        decision.status = Status::Steady;
        let waiting = decision.vertices.iter().filter(|v| v.action == Action::ScaleDownDelayed).count();
        let blocked = decision.vertices.iter().filter(|v| v.action == Action::ScaleUpBlocked).count();
        decision.explanation = format!(
            "no change: every vertex fits its target rate{}{}",
            if waiting > 0 { format!("; {waiting} scale-down(s) wait for the delay") } else { String::new() },
            if blocked > 0 { format!("; {blocked} scale-up(s) blocked as ineffective") } else { String::new() }
        );
    }
    Ok((decision, next))
}

#[cfg(test)]
mod tests;
