//! Table tests of the decision on hand-computed cases, and property tests: bounds, monotone in
//! load, idempotent at steady state.

use proptest::prelude::*;

use super::*;
use crate::model::{Edge, Vertex};

fn vertex(id: &str, p: u32) -> Vertex {
    Vertex { id: id.into(), name: id.into(), parallelism: p, max_parallelism: 128 }
}

fn chain(ps: &[(&str, u32)], keyed: bool) -> JobGraph {
    JobGraph {
        vertices: ps.iter().map(|&(id, p)| vertex(id, p)).collect(),
        edges: ps.windows(2).map(|w| Edge { from: w[0].0.into(), to: w[1].0.into(), keyed }).collect(),
    }
}

fn vs(busy: f64, bp: f64, rin: f64, rout: f64) -> VertexSample {
    VertexSample {
        busy_ms_per_s: Some(busy),
        backpressured_ms_per_s: Some(bp),
        records_in_per_s: Some(rin),
        records_out_per_s: Some(rout),
        pending_records: None,
        declared_rate_per_s: None,
    }
}

/// The same vertex samples every 10 s from 0 to 60 s.
fn steady(v: &[(&str, VertexSample)]) -> Vec<MetricSample> {
    (0..=6)
        .map(|i| MetricSample { at_ms: i * 10_000, vertices: v.iter().map(|(id, s)| (id.to_string(), *s)).collect() })
        .collect()
}

fn no_delay() -> Settings {
    Settings { scale_down_delay_ms: 0, ..Settings::default() }
}

fn run(g: &JobGraph, s: &[MetricSample], settings: &Settings) -> Decision {
    decide(g, s, settings, &State::default(), 60_000).expect("decide").0
}

#[test]
fn backpressured_source_and_keyed_bottleneck() {
    // source emits 1000/s but is blocked half the time → demand 2000/s.
    // agg: 1000/s at busy 1.0, p 1 → 1000/s per subtask; 2000 / (1000 × 0.7) = 2.857 → 3 → 4.
    let g = chain(&[("src", 1), ("agg", 1)], true);
    let d = run(&g, &steady(&[("src", vs(100.0, 500.0, 0.0, 1000.0)), ("agg", vs(1000.0, 0.0, 1000.0, 0.0))]), &no_delay());
    let src = d.vertex("src").unwrap();
    assert_eq!(src.source_demand.unwrap().demand_per_s, 2000.0);
    assert_eq!(src.action, Action::Keep);
    let agg = d.vertex("agg").unwrap();
    assert_eq!(agg.true_rate_per_subtask, Some(1000.0));
    assert_eq!(agg.target_rate, 2000.0);
    assert!((agg.raw_parallelism.unwrap() - 2.857_142_857).abs() < 1e-6);
    assert_eq!((agg.clamped_parallelism, agg.aligned_parallelism, agg.new_parallelism), (Some(3), Some(4), 4));
    assert_eq!(agg.action, Action::ScaleUp);
    assert_eq!(d.status, Status::Rescale);
    assert_eq!(d.changes(), [("agg".to_string(), 4)].into());
    assert!(d.explanation.contains("agg 1 → 4"), "{}", d.explanation);
}

#[test]
fn selectivity_propagates_and_hysteresis_keeps() {
    // map doubles records; map util 1000/(1000×2)=0.5 in band; sink util 0.9×(2000/2000) > 0.85.
    let g = chain(&[("src", 1), ("map", 2), ("sink", 1)], false);
    let d = run(
        &g,
        &steady(&[
            ("src", vs(200.0, 0.0, 0.0, 1000.0)),
            ("map", vs(500.0, 0.0, 1000.0, 2000.0)),
            ("sink", vs(900.0, 0.0, 2000.0, 0.0)),
        ]),
        &no_delay(),
    );
    let map = d.vertex("map").unwrap();
    assert_eq!(map.output_ratio, Some(2.0));
    assert_eq!(map.true_rate_per_subtask, Some(1000.0));
    assert_eq!(map.utilization_at_target, Some(0.5));
    assert_eq!(map.action, Action::Keep);
    let sink = d.vertex("sink").unwrap();
    assert_eq!(sink.target_rate, 2000.0);
    // 2000 / (2222.2 × 0.7) = 1.2857 → 2 (not keyed: no alignment)
    assert_eq!(sink.new_parallelism, 2);
    assert_eq!(sink.action, Action::ScaleUp);
}

#[test]
fn pending_records_add_growth_and_catch_up() {
    let g = chain(&[("src", 1), ("sink", 1)], false);
    let mut s = steady(&[("src", vs(500.0, 0.0, 0.0, 1000.0)), ("sink", vs(500.0, 0.0, 1000.0, 0.0))]);
    for (i, x) in s.iter_mut().enumerate() {
        x.vertices.get_mut("src").unwrap().pending_records = Some(10_000.0 + 1000.0 * i as f64);
    }
    let d = run(&g, &s, &no_delay());
    let demand = d.vertex("src").unwrap().source_demand.unwrap();
    assert_eq!(demand.backlog_growth_per_s, Some(100.0)); // 6000 more over 60 s
    assert_eq!(demand.catch_up_per_s, Some(16_000.0 / 300.0));
    assert!((demand.demand_per_s - (1100.0 + 16_000.0 / 300.0)).abs() < 1e-9);
    // sink: 1000/s per subtask at busy 0.5 → 2000/s; 1153.3 / (2000 × 0.7) = 0.82 → 1: keep
    assert_eq!(d.vertex("sink").unwrap().new_parallelism, 1);
}

#[test]
fn clamps_to_max_and_scales_down_idle() {
    let g = chain(&[("src", 1), ("agg", 4)], false);
    let settings = Settings { max_parallelism: 3, ..no_delay() };
    let d = run(&g, &steady(&[("src", vs(10.0, 900.0, 0.0, 1000.0)), ("agg", vs(1000.0, 0.0, 1000.0, 0.0))]), &settings);
    // demand 1000/(1−0.5) = 2000 (share capped at 0.5); agg 250/s per subtask → 12 → clamped 3
    let agg = d.vertex("agg").unwrap();
    assert_eq!(agg.clamped_parallelism, Some(3));
    assert_eq!((agg.new_parallelism, agg.action), (3, Action::ScaleDown));

    let d = run(&g, &steady(&[("src", vs(10.0, 0.0, 0.0, 100.0)), ("agg", vs(50.0, 0.0, 100.0, 0.0))]), &no_delay());
    // agg: 100/4/0.05 = 500/s per subtask; 100 / (500 × 0.7) = 0.29 → 1
    assert_eq!(d.vertex("agg").unwrap().new_parallelism, 1);
}

#[test]
fn stabilizing_collecting_and_missing_metrics() {
    let g = chain(&[("src", 1), ("agg", 1)], true);
    let s = steady(&[("src", vs(100.0, 500.0, 0.0, 1000.0)), ("agg", vs(1000.0, 0.0, 1000.0, 0.0))]);
    let state = State { last_rescale_ms: Some(50_000), ..State::default() };
    let (d, next) = decide(&g, &s, &no_delay(), &state, 60_000).unwrap();
    assert_eq!(d.status, Status::Stabilizing);
    assert!(d.vertices.is_empty());
    assert_eq!(next, state);
    // 40 s after the rescale: window starts at 10+30 = 40 s → 20 s of samples = enough (min 20 s)
    let state = State { last_rescale_ms: Some(10_000), ..State::default() };
    assert_eq!(decide(&g, &s, &no_delay(), &state, 60_000).unwrap().0.status, Status::Rescale);
    let state = State { last_rescale_ms: Some(20_000), ..State::default() };
    let (d, _) = decide(&g, &s, &no_delay(), &state, 60_000).unwrap();
    assert_eq!(d.status, Status::Collecting, "{}", d.explanation);

    let mut nan = s.clone();
    for x in &mut nan {
        x.vertices.get_mut("agg").unwrap().busy_ms_per_s = Some(f64::NAN);
    }
    let d = run(&g, &nan, &no_delay());
    assert_eq!(d.vertex("agg").unwrap().action, Action::NoData);
    assert_eq!(d.status, Status::Steady);
}

#[test]
fn scale_down_waits_for_the_delay_and_takes_the_highest() {
    let g = chain(&[("src", 1), ("agg", 8)], false);
    // the band [0.4, 0.85]: 2100/s on 8 × 1000/s is below it
    let settings = Settings { scale_down_delay_ms: 120_000, window_ms: 60_000, scale_down_threshold: 0.4, ..Settings::default() };
    let at = |t: i64, rate: f64| -> Vec<MetricSample> {
        (0..=6)
            .map(|i| MetricSample {
                at_ms: t - 60_000 + i * 10_000,
                vertices: [
                    ("src".to_string(), vs(10.0, 0.0, 0.0, rate)),
                    // 1000/s per subtask
                    ("agg".to_string(), vs(1000.0 * rate / 8000.0, 0.0, rate, 0.0)),
                ]
                .into(),
            })
            .collect()
    };
    // t=60 s: 1400/s → 2 recommended, delayed
    let (d, st) = decide(&g, &at(60_000, 1400.0), &settings, &State::default(), 60_000).unwrap();
    assert_eq!(d.vertex("agg").unwrap().action, Action::ScaleDownDelayed);
    assert_eq!(d.vertex("agg").unwrap().new_parallelism, 8);
    // t=120 s: 2100/s → 3, still delayed
    let (d, st) = decide(&g, &at(120_000, 2100.0), &settings, &st, 120_000).unwrap();
    assert_eq!(d.vertex("agg").unwrap().action, Action::ScaleDownDelayed);
    // t=180 s: 700/s → 1; the delay (since 60 s) has passed → the highest inside [60, 180] s: 3
    let (d, st) = decide(&g, &at(180_000, 700.0), &settings, &st, 180_000).unwrap();
    let agg = d.vertex("agg").unwrap();
    assert_eq!((agg.action, agg.new_parallelism), (Action::ScaleDown, 3), "{}", agg.reason);
    assert_eq!(st.last_rescale_ms, Some(180_000));
    assert!(st.vertices["agg"].scale_down_recommendations.is_empty());
    // A load back in band clears a pending scale-down.
    let (_, st) = decide(&g, &at(60_000, 1400.0), &settings, &State::default(), 60_000).unwrap();
    let (d, st) = decide(&g, &at(120_000, 5000.0), &settings, &st, 120_000).unwrap();
    assert_eq!(d.vertex("agg").unwrap().action, Action::Keep);
    assert_eq!(st.vertices["agg"].scale_down_since_ms, None);
}

#[test]
fn ineffective_scale_up_is_not_repeated() {
    let g = chain(&[("src", 1), ("agg", 2)], false);
    let mut state = State::default();
    state.vertices.insert(
        "agg".into(),
        VertexState {
            last_scale_up: Some(ScaleUpRecord { from: 1, to: 2, capacity_before: 1000.0, expected_capacity: 2000.0 }),
            ..VertexState::default()
        },
    );
    // Now 1040/s at busy 1.0 on 2 subtasks: +40 of +1000 expected = 4 % < 10 %.
    let s = steady(&[("src", vs(10.0, 800.0, 0.0, 1040.0)), ("agg", vs(1000.0, 0.0, 1040.0, 0.0))]);
    let (d, _) = decide(&g, &s, &no_delay(), &state, 60_000).unwrap();
    let agg = d.vertex("agg").unwrap();
    assert_eq!(agg.action, Action::ScaleUpBlocked, "{}", agg.reason);
    assert_eq!(agg.new_parallelism, 2);
    assert_eq!(d.status, Status::Steady);
    // An effective one (1800/s: +80 %) may scale up again.
    let s = steady(&[("src", vs(10.0, 800.0, 0.0, 1800.0)), ("agg", vs(1000.0, 0.0, 1800.0, 0.0))]);
    let (d, next) = decide(&g, &s, &no_delay(), &state, 60_000).unwrap();
    assert_eq!(d.vertex("agg").unwrap().action, Action::ScaleUp);
    assert_eq!(next.vertices["agg"].last_scale_up.unwrap().from, 2);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let g = chain(&[("a", 1), ("b", 1)], false);
    let bad = Settings { target_utilization: 0.0, ..Settings::default() };
    assert!(matches!(decide(&g, &[], &bad, &State::default(), 0), Err(Error::InvalidSettings(_))));
    let mut cyclic = g.clone();
    cyclic.edges.push(Edge { from: "b".into(), to: "a".into(), keyed: false });
    assert!(matches!(decide(&cyclic, &[], &Settings::default(), &State::default(), 0), Err(Error::InvalidGraph(_))));
    // Garbage metrics (negative, infinite) do not panic.
    let s = steady(&[("a", vs(f64::INFINITY, -5.0, -1.0, f64::NAN)), ("b", vs(-1.0, 1e300, 1e300, -1.0))]);
    let (d, _) = decide(&g, &s, &Settings::default(), &State::default(), 60_000).unwrap();
    assert!(d.vertices.iter().all(|v| v.new_parallelism >= 1 && v.new_parallelism <= 128));
    // The decision serializes with all its numbers.
    let json = serde_json::to_value(&d).unwrap();
    assert!(json["vertices"][0].get("true_rate_per_subtask").is_some());
}

/// Metrics of `src → agg` for a demand `load` (records/s), agg capacity `cap` per subtask at
/// parallelism `p`, with perfect linear scaling: what Flink would report.
fn model_samples(load: f64, cap: f64, p: u32) -> Vec<MetricSample> {
    let capacity = cap * f64::from(p);
    let served = load.min(capacity);
    let bp = 1000.0 * (1.0 - served / load);
    steady(&[("src", vs(10.0, bp, 0.0, served)), ("agg", vs(1000.0 * served / capacity, 0.0, served, 0.0))])
}

proptest! {
    #[test]
    fn new_parallelism_within_bounds(
        load in 1.0f64..1e6, cap in 1.0f64..1e5, p in 1u32..200, min in 1u32..10, max in 10u32..300, maxpar in 1u32..400,
    ) {
        let mut g = chain(&[("src", 1), ("agg", p)], true);
        g.vertices[1].max_parallelism = maxpar;
        let settings = Settings { min_parallelism: min, max_parallelism: max, ..no_delay() };
        let d = run(&g, &model_samples(load, cap, p), &settings);
        let agg = d.vertex("agg").unwrap();
        let upper = max.min(maxpar);
        if matches!(agg.action, Action::ScaleUp | Action::ScaleDown) {
            prop_assert!(agg.new_parallelism >= min.min(upper) && agg.new_parallelism <= upper, "{agg:?}");
        } else {
            prop_assert_eq!(agg.new_parallelism, p);
        }
    }

    #[test]
    fn monotone_in_load(l1 in 1.0f64..1e5, l2 in 1.0f64..1e5, cap in 10.0f64..1e4, p in 1u32..64) {
        let (lo, hi) = if l1 <= l2 { (l1, l2) } else { (l2, l1) };
        // observed at the same parallelism with enough capacity, so busy time scales with load
        // and no source is backpressured. "Enough" with a margin: at cap × p == hi exactly the
        // rounding of `served / load` in the model can leave ~1e-13 ms/s of backpressure, which
        // makes the demand a guess, and a guessed demand is aligned from the scale-up threshold
        // on purpose (decide.rs: a guess carries its own headroom) — not comparable with an
        // observed one (found by proptest: l1 = 30448.9, l2 = 32535.2, p = 3 → 8 and 4).
        let cap = cap.max(hi / f64::from(p) * (1.0 + 1e-9));
        let g = chain(&[("src", 1), ("agg", p)], true);
        let a = run(&g, &model_samples(lo, cap, p), &no_delay());
        let b = run(&g, &model_samples(hi, cap, p), &no_delay());
        prop_assert!(a.vertex("agg").unwrap().new_parallelism <= b.vertex("agg").unwrap().new_parallelism);
    }

    #[test]
    fn idempotent_at_steady_state(load in 1.0f64..1e6, cap in 1.0f64..1e5, p in 1u32..100, keyed in any::<bool>()) {
        // The demand of a blocked source is estimated up to 1/(1 − max_source_backpressure) = 2×
        // what it emits: beyond that one decision cannot see the whole demand (documented).
        let load = load.min(1.99 * cap * f64::from(p));
        let g = chain(&[("src", 1), ("agg", p)], keyed);
        let d = run(&g, &model_samples(load, cap, p), &no_delay());
        let p2 = d.vertex("agg").unwrap().new_parallelism;
        let g2 = chain(&[("src", 1), ("agg", p2)], keyed);
        let again = run(&g2, &model_samples(load, cap, p2), &no_delay());
        let agg = again.vertex("agg").unwrap();
        // one decision reaches a parallelism the next decision keeps (unless clamped at max)
        if p2 < 128 {
            prop_assert_eq!(agg.action, Action::Keep, "{:?} then {:?}", d.vertex("agg"), agg);
        }
    }
}

/// `src → agg` where the source declares its rate `declared` and emits `served` (what the
/// bottleneck `agg`, at capacity `cap` per subtask and parallelism `p`, lets through).
fn declared_samples(declared: f64, cap: f64, p: u32) -> Vec<MetricSample> {
    let mut s = model_samples(declared, cap, p);
    for x in &mut s {
        let src = x.vertices.get_mut("src").expect("src");
        src.declared_rate_per_s = Some(declared);
        src.busy_ms_per_s = None; // datagen: NaN
    }
    s
}

#[test]
fn declared_rate_is_the_demand_and_one_decision_fits() {
    // agg sustains 1000/s per subtask; datagen declares 5000/s but emits 1000/s, blocked.
    let g = chain(&[("src", 1), ("agg", 1)], false);
    let d = run(&g, &declared_samples(5000.0, 1000.0, 1), &no_delay());
    let sd = d.vertex("src").unwrap().source_demand.unwrap();
    assert_eq!((sd.basis, sd.demand_per_s), (DemandBasis::Declared, 5000.0));
    let agg = d.vertex("agg").unwrap();
    assert!(!agg.target_guessed);
    // 5000 / (1000 × 0.7) = 7.14 → 8
    assert_eq!((agg.action, agg.new_parallelism), (Action::ScaleUp, 8));
    let again = run(&chain(&[("src", 1), ("agg", 8)], false), &declared_samples(5000.0, 1000.0, 8), &no_delay());
    assert_eq!(again.vertex("agg").unwrap().action, Action::Keep);
    assert_eq!(again.status, Status::Steady);
}

#[test]
fn saturated_datagen_source_scales_up_never_down() {
    // The source itself (NaN busy) emits 3000 of its declared 10 000/s with no backpressure.
    let g = chain(&[("src", 2), ("sink", 8)], false);
    let s = |out: f64, declared: f64| {
        let mut src = vs(0.0, 20.0, 0.0, out);
        src.busy_ms_per_s = None;
        src.declared_rate_per_s = Some(declared);
        steady(&[("src", src), ("sink", vs(100.0, 0.0, out, 0.0))])
    };
    let d = run(&g, &s(3000.0, 10_000.0), &no_delay());
    let src = d.vertex("src").unwrap();
    // useful time 980 ms/s → 3000 / 2 / 0.98 = 1530.6/s per subtask; 10 000 / (1530.6 × 0.7) = 9.33 → 10
    assert!((src.true_rate_per_subtask.unwrap() - 3000.0 / 2.0 / 0.98).abs() < 1e-6, "{src:?}");
    assert_eq!((src.action, src.new_parallelism), (Action::ScaleUp, 10), "{}", src.reason);
    assert!(src.reason.contains("saturated"), "{}", src.reason);
    // Keeping up (emits its rate): nothing known of its capacity, kept.
    let d = run(&g, &s(10_000.0, 10_000.0), &no_delay());
    assert_eq!(d.vertex("src").unwrap().action, Action::NoData);
    // Backpressured: held back downstream, its own capacity is unknown: kept.
    let mut held = s(3000.0, 10_000.0);
    for x in &mut held {
        x.vertices.get_mut("src").unwrap().backpressured_ms_per_s = Some(900.0);
    }
    assert_eq!(run(&g, &held, &no_delay()).vertex("src").unwrap().action, Action::NoData);
}

#[test]
fn retain_history_keeps_the_decision() {
    let g = chain(&[("src", 1), ("agg", 1)], true);
    let mut s: Vec<MetricSample> = (0..=30)
        .map(|i| MetricSample {
            at_ms: i * 5_000,
            vertices: [("src".to_string(), vs(100.0, 500.0, 0.0, 1000.0)), ("agg".to_string(), vs(1000.0, 0.0, 1000.0, 0.0))].into(),
        })
        .collect();
    let state = State { last_rescale_ms: Some(40_000), ..State::default() };
    let settings = no_delay();
    let before = decide(&g, &s, &settings, &state, 150_000).unwrap();
    retain_history(&mut s, &settings, &state, 150_000);
    assert_eq!(s.first().map(|x| x.at_ms), Some(90_000), "the last 60 s");
    assert_eq!(decide(&g, &s, &settings, &state, 150_000).unwrap(), before);
    // right after a rescale: samples of the old parallelism go
    let state = State { last_rescale_ms: Some(140_000), ..State::default() };
    retain_history(&mut s, &settings, &state, 150_000);
    assert_eq!(s.first().map(|x| x.at_ms), Some(150_000));
}

proptest! {
    #[test]
    fn the_ds2_formula_and_key_group_alignment(
        load in 100.0f64..1e6, cap in 10.0f64..1e5, p in 1u32..64, maxpar in 1u32..1000, keyed in any::<bool>(),
    ) {
        // Declared demand: the target is exact, so the formula can be checked end to end.
        let mut g = chain(&[("src", 1), ("agg", p.min(maxpar))], keyed);
        g.vertices[1].max_parallelism = maxpar;
        let p = p.min(maxpar);
        let d = run(&g, &declared_samples(load, cap, p), &no_delay());
        let agg = d.vertex("agg").unwrap();
        let settings = no_delay();
        prop_assert!((agg.target_rate - load).abs() <= 1e-9 * load);
        let true_rate = agg.true_rate_per_subtask.unwrap();
        // true rate = records processed / useful (busy) time, per subtask
        let served = load.min(cap * f64::from(p));
        // (busy time is floored at 1 ms/s)
        let busy = (served / (cap * f64::from(p))).max(1e-3);
        prop_assert!((true_rate - served / f64::from(p) / busy).abs() <= 1e-6 * true_rate);
        let raw = agg.raw_parallelism.unwrap();
        prop_assert!((raw - load / (true_rate * settings.target_utilization)).abs() <= 1e-9 * raw.max(1.0));
        let upper = settings.max_parallelism.min(maxpar);
        let clamped = agg.clamped_parallelism.unwrap();
        prop_assert!(clamped >= 1 && clamped <= upper);
        if (raw.ceil() as u32) <= upper {
            prop_assert!(f64::from(clamped) >= raw * (1.0 - 1e-9) && f64::from(clamped) < raw + 1.0);
        } else {
            prop_assert_eq!(clamped, upper);
        }
        let aligned = agg.aligned_parallelism.unwrap();
        if keyed && aligned != clamped {
            // aligned up to the smallest divisor of the key groups at or above the computed value
            prop_assert!(aligned > clamped && maxpar % aligned == 0 && aligned <= upper);
            prop_assert!((clamped..aligned).all(|q| maxpar % q != 0));
        }
        if !keyed {
            prop_assert_eq!(aligned, clamped);
        }
        if agg.action == Action::ScaleUp {
            prop_assert_eq!(agg.new_parallelism, aligned);
            // the new parallelism runs the target at no more than the target utilization
            // (unless clamped at the upper bound)
            if aligned < upper {
                prop_assert!(load / (cap * f64::from(aligned)) <= settings.target_utilization + 1e-9);
            }
        }
    }

    #[test]
    fn cheaper_records_never_need_more_subtasks(load in 100.0f64..1e6, cap in 10.0f64..1e5, f in 1.0f64..10.0, p in 1u32..64) {
        let g = chain(&[("src", 1), ("agg", p)], true);
        let slow = run(&g, &declared_samples(load, cap, p), &no_delay());
        let fast = run(&g, &declared_samples(load, cap * f, p), &no_delay());
        prop_assert!(fast.vertex("agg").unwrap().new_parallelism <= slow.vertex("agg").unwrap().new_parallelism);
    }

    #[test]
    fn declared_demand_converges_in_one_decision(load in 100.0f64..1e6, cap in 10.0f64..1e5, p in 1u32..100, keyed in any::<bool>()) {
        // With the demand known, the parallelism one decision picks is kept by the next one.
        let g = chain(&[("src", 1), ("agg", p)], keyed);
        let p2 = run(&g, &declared_samples(load, cap, p), &no_delay()).vertex("agg").unwrap().new_parallelism;
        let again = run(&chain(&[("src", 1), ("agg", p2)], keyed), &declared_samples(load, cap, p2), &no_delay());
        if p2 < 128 {
            prop_assert_eq!(again.vertex("agg").unwrap().new_parallelism, p2, "{:?}", again.vertex("agg"));
        }
    }
}
