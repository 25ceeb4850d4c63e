use super::*;

/// A vertex sample: busy max/avg, backpressured max/avg, records in max/avg/sum.
fn vs(busy: f64, bp: f64, rin: f64) -> VertexSample {
    VertexSample {
        busy_max: Some(busy),
        busy_avg: Some(busy * 0.9),
        backpressured_max: Some(bp * 1.1),
        backpressured_avg: Some(bp),
        idle_avg: Some((1000.0 - busy - bp).max(0.0)),
        records_in_max: Some(rin),
        records_in_avg: Some(rin),
        records_in_sum: Some(rin),
        records_out_sum: Some(rin),
        checkpoint_start_delay_ns: None,
    }
}

fn v(id: &str, name: &str, p: u32) -> Vertex {
    Vertex { id: id.into(), name: name.into(), parallelism: p }
}

fn e(from: &str, to: &str, ship: &str) -> Edge {
    Edge { from: from.into(), to: to.into(), ship_strategy: Some(ship.into()) }
}

fn tm(slots: u32, free: u32) -> TaskManager {
    TaskManager { id: "tm-1".into(), slots, free_slots: free, ..Default::default() }
}

/// A snapshot with `n` samples of the same per-vertex values (with a small wobble, so the
/// medians are medians).
fn snapshot(vertices: Vec<Vertex>, edges: Vec<Edge>, per_vertex: &[(&str, VertexSample)], n: usize) -> Snapshot {
    let samples = (0..n)
        .map(|i| {
            let wobble = [0.0, 5.0, -5.0, 2.0, -2.0][i % 5];
            Sample {
                at_ms: i as i64 * 5000,
                vertices: per_vertex
                    .iter()
                    .map(|(id, s)| {
                        let mut s = s.clone();
                        s.busy_max = s.busy_max.map(|b| (b + wobble).min(1000.0));
                        ((*id).to_string(), s)
                    })
                    .collect(),
            }
        })
        .collect();
    Snapshot {
        job_id: "j".into(),
        job_name: "test".into(),
        flink_version: "2.3.0".into(),
        window_ms: (n as i64) * 5000,
        vertices,
        edges,
        samples,
        checkpoints: Checkpoints::default(),
        taskmanagers: vec![tm(4, 0)],
    }
}

/// source → GroupAggregate (keyed) → sink, the aggregate saturated, the source held back.
fn saturated_aggregate() -> Snapshot {
    snapshot(
        vec![v("src", "Source: src[1] -> Calc[2]", 1), v("agg", "GroupAggregate[4] -> Sink: snk[5]", 1)],
        vec![e("src", "agg", "HASH")],
        &[("src", vs(120.0, 850.0, 0.0)), ("agg", vs(985.0, 0.0, 42_000.0))],
        6,
    )
}

fn finding(d: &Diagnosis, kind: Kind) -> &Finding {
    d.findings.iter().find(|f| f.kind == kind).unwrap_or_else(|| panic!("no {kind:?} finding in {:#?}", d.findings))
}

fn has(ev: &[String], needle: &str) -> bool {
    ev.iter().any(|x| x.contains(needle))
}

#[test]
fn the_saturated_stateful_vertex_is_the_bottleneck_with_its_evidence() {
    let d = diagnose(&saturated_aggregate());
    assert_eq!(d.bottleneck.as_deref(), Some("agg"));
    let f = finding(&d, Kind::Bottleneck);
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.vertex.as_deref(), Some("agg"));
    assert!(f.title.contains("GroupAggregate"), "{}", f.title);
    // median of 985 with the wobble (990, 980, 987, 983, 985, 985) is 985
    assert!(has(&f.evidence, "busy 985 ms/s"), "{:#?}", f.evidence);
    assert!(has(&f.evidence, "42000 records/s in at parallelism 1"), "{:#?}", f.evidence);
    assert!(has(&f.evidence, "mini-batch"), "{:#?}", f.evidence);
    assert_eq!(f.overlay.get("table.exec.mini-batch.enabled").map(String::as_str), Some("true"));
    assert_eq!(f.overlay.get("pipeline.object-reuse").map(String::as_str), Some("true"));
    // no free slot: no parallelism advice
    assert!(!f.overlay.contains_key("parallelism.default"));
}

#[test]
fn backpressured_vertices_are_not_the_bottleneck_and_form_the_chain_nearest_first() {
    let s = snapshot(
        vec![v("src", "Source: src[1]", 2), v("calc", "Calc[2]", 2), v("agg", "GroupAggregate[4]", 2), v("snk", "Sink: snk[5]", 2)],
        vec![e("src", "calc", "REBALANCE"), e("calc", "agg", "HASH"), e("agg", "snk", "FORWARD")],
        &[
            ("src", vs(50.0, 900.0, 0.0)),
            // saturated but backpressured itself: a victim, not the cause
            ("calc", vs(950.0, 400.0, 10_000.0)),
            ("agg", vs(995.0, 0.0, 10_000.0)),
            ("snk", vs(20.0, 0.0, 10_000.0)),
        ],
        5,
    );
    let d = diagnose(&s);
    assert_eq!(d.bottleneck.as_deref(), Some("agg"));
    assert_eq!(d.backpressure_chain, vec!["calc".to_string(), "src".to_string()]);
    let f = finding(&d, Kind::Backpressure);
    assert!(f.title.contains("reaches 2 upstream"), "{}", f.title);
    assert!(has(&f.evidence, "`Calc[2]` backpressured 400 ms/s"), "{:#?}", f.evidence);
    assert!(has(&f.evidence, "`Source: src[1]` backpressured 900 ms/s"), "{:#?}", f.evidence);
    assert_eq!(f.overlay.get("taskmanager.network.memory.buffer-debloat.enabled").map(String::as_str), Some("true"));
}

#[test]
fn of_two_saturated_free_vertices_the_downstream_one_is_the_bottleneck() {
    let s = snapshot(
        vec![v("a", "Calc[1]", 1), v("b", "Rank[2]", 1)],
        vec![e("a", "b", "HASH")],
        &[("a", vs(960.0, 50.0, 1000.0)), ("b", vs(930.0, 0.0, 1000.0))],
        3,
    );
    assert_eq!(diagnose(&s).bottleneck.as_deref(), Some("b"));
}

#[test]
fn no_saturated_vertex_means_no_bottleneck_but_backpressured_sources_are_reported() {
    let s = snapshot(
        vec![v("src", "Source: kafka[1]", 1), v("snk", "Sink: jdbc[2]", 1)],
        vec![e("src", "snk", "REBALANCE")],
        &[("src", vs(100.0, 700.0, 0.0)), ("snk", vs(400.0, 0.0, 500.0))],
        4,
    );
    let d = diagnose(&s);
    assert_eq!(d.bottleneck, None);
    let f = finding(&d, Kind::Backpressure);
    assert!(has(&f.evidence, "backpressured sources: Source: kafka[1]"), "{:#?}", f.evidence);
    // median of 400, 405, 395, 402
    assert!(has(&f.evidence, "`Sink: jdbc[2]` at 401 ms/s"), "{:#?}", f.evidence);
}

#[test]
fn idle_slots_while_saturated_and_parallelism_advice() {
    let mut s = saturated_aggregate();
    s.taskmanagers = vec![tm(4, 3)];
    let d = diagnose(&s);
    let f = finding(&d, Kind::IdleSlots);
    assert_eq!(f.title, "3 of 4 slots idle while a vertex is saturated");
    assert!(has(&f.evidence, "TaskManager tm-1: 3 of 4 slots free"), "{:#?}", f.evidence);
    let b = finding(&d, Kind::Bottleneck);
    assert_eq!(b.overlay.get("parallelism.default").map(String::as_str), Some("2"));
    assert!(has(&b.evidence, "3 of 4 slots are free: parallelism 1 → 2"), "{:#?}", b.evidence);
    // no saturated vertex: free slots alone are no finding
    let mut calm = s.clone();
    for x in &mut calm.samples {
        for y in x.vertices.values_mut() {
            y.busy_max = Some(100.0);
        }
    }
    assert!(diagnose(&calm).findings.iter().all(|f| f.kind != Kind::IdleSlots));
}

#[test]
fn failing_checkpoints_with_their_message_and_a_longer_timeout_when_they_expire() {
    let mut s = saturated_aggregate();
    s.checkpoints = Checkpoints {
        interval_ms: Some(10_000),
        timeout_ms: Some(60_000),
        failed_before: 1,
        failed_after: 3,
        completed_before: 5,
        completed_after: 5,
        history: vec![Checkpoint {
            id: 8,
            status: "FAILED".into(),
            trigger_ms: 0,
            duration_ms: 60_000,
            state_size: 0,
            checkpointed_size: None,
            persisted_data: None,
            failure_message: Some("Checkpoint expired before completing.".into()),
        }],
        ..Default::default()
    };
    let d = diagnose(&s);
    let f = finding(&d, Kind::CheckpointFailures);
    assert_eq!(f.severity, Severity::Critical);
    assert!(has(&f.evidence, "2 checkpoint(s) failed in the window (3 failed, 5 completed in total)"), "{:#?}", f.evidence);
    assert!(has(&f.evidence, "checkpoint 8: Checkpoint expired"), "{:#?}", f.evidence);
    assert_eq!(f.overlay.get("execution.checkpointing.timeout").map(String::as_str), Some("2 min"));
    assert_eq!(f.overlay.get("execution.checkpointing.tolerable-failed-checkpoints").map(String::as_str), Some("3"));
    // failures for another reason: no longer timeout
    s.checkpoints.history[0].failure_message = Some("Task local checkpoint failure.".into());
    let d = diagnose(&s);
    assert!(!finding(&d, Kind::CheckpointFailures).overlay.contains_key("execution.checkpointing.timeout"));
}

fn completed(id: u64, trigger_ms: i64, duration_ms: i64, state_size: i64) -> Checkpoint {
    Checkpoint { id, status: "COMPLETED".into(), trigger_ms, duration_ms, state_size, checkpointed_size: None, persisted_data: None, failure_message: None }
}

#[test]
fn slow_checkpoints_dominated_by_alignment() {
    let mut s = saturated_aggregate();
    for x in &mut s.samples {
        if let Some(a) = x.vertices.get_mut("agg") {
            a.checkpoint_start_delay_ns = Some(6e9);
        }
    }
    s.checkpoints = Checkpoints {
        interval_ms: Some(10_000),
        unaligned: Some(false),
        exactly_once: Some(true),
        state_backend: Some("HashMapStateBackend".into()),
        history: vec![completed(1, 0, 8000, 100), completed(2, 10_000, 9000, 100), completed(3, 20_000, 7000, 100)],
        ..Default::default()
    };
    let d = diagnose(&s);
    let slow = finding(&d, Kind::SlowCheckpoints);
    assert!(has(&slow.evidence, "median checkpoint duration 8000 ms is 80 % of the 10000 ms interval"), "{:#?}", slow.evidence);
    assert!(has(&slow.evidence, "start delay 6000 ms (75 %"), "{:#?}", slow.evidence);
    assert_eq!(slow.overlay.get("execution.checkpointing.min-pause").map(String::as_str), Some("5 s"));
    let align = finding(&d, Kind::CheckpointAlignment);
    assert!(has(&align.evidence, "start delay 6000 ms of a 8000 ms checkpoint (75 %"), "{:#?}", align.evidence);
    assert_eq!(align.overlay.get("execution.checkpointing.unaligned.enabled").map(String::as_str), Some("true"));
    // already unaligned: no alignment finding
    s.checkpoints.unaligned = Some(true);
    assert!(diagnose(&s).findings.iter().all(|f| f.kind != Kind::CheckpointAlignment));
    // fast checkpoints: neither
    s.checkpoints.unaligned = Some(false);
    s.checkpoints.history = vec![completed(1, 0, 100, 100), completed(2, 10_000, 120, 100)];
    let d = diagnose(&s);
    assert!(d.findings.iter().all(|f| f.kind != Kind::SlowCheckpoints && f.kind != Kind::CheckpointAlignment), "{:#?}", d.findings);
}

#[test]
fn heap_state_that_keeps_growing_moves_to_rocksdb() {
    let mut s = saturated_aggregate();
    s.checkpoints = Checkpoints {
        interval_ms: Some(60_000),
        state_backend: Some("HashMapStateBackend".into()),
        history: vec![completed(1, 0, 100, 1_000_000), completed(2, 60_000, 100, 1_500_000), completed(3, 120_000, 100, 2_000_000)],
        ..Default::default()
    };
    let d = diagnose(&s);
    let f = finding(&d, Kind::StateGrowth);
    assert!(has(&f.evidence, "state 1000000 → 2000000 bytes over 3 checkpoints (+100 %, 500000 bytes/min)"), "{:#?}", f.evidence);
    assert_eq!(f.overlay.get("state.backend.type").map(String::as_str), Some("rocksdb"));
    // state that shrank once is not "growing"
    s.checkpoints.history[1].state_size = 900_000;
    assert!(diagnose(&s).findings.iter().all(|f| f.kind != Kind::StateGrowth));
}

#[test]
fn gc_pressure_per_taskmanager() {
    let mut s = saturated_aggregate();
    s.window_ms = 10_000;
    s.checkpoints.state_backend = Some("HashMapStateBackend".into());
    s.taskmanagers = vec![TaskManager {
        id: "tm-9".into(),
        slots: 1,
        free_slots: 0,
        gc_time_before_ms: 1000,
        gc_time_after_ms: 3000,
        heap_used: Some(900),
        heap_max: Some(1000),
    }];
    let d = diagnose(&s);
    let f = finding(&d, Kind::GcPressure);
    assert!(has(&f.evidence, "TaskManager tm-9 spent 200 ms/s in GC"), "{:#?}", f.evidence);
    assert!(has(&f.evidence, "heap 900 of 1000 bytes used"), "{:#?}", f.evidence);
    assert_eq!(f.overlay.get("taskmanager.memory.managed.fraction").map(String::as_str), Some("0.1"));
    s.taskmanagers[0].gc_time_after_ms = 1500; // 50 ms/s
    assert!(diagnose(&s).findings.iter().all(|f| f.kind != Kind::GcPressure));
}

#[test]
fn skew_behind_a_keyed_exchange_gets_a_local_aggregation() {
    let mut agg = vs(700.0, 0.0, 4000.0);
    agg.records_in_max = Some(3000.0);
    agg.records_in_avg = Some(1000.0);
    let s = snapshot(
        vec![v("src", "Source: src[1]", 4), v("agg", "GroupAggregate[3]", 4)],
        vec![e("src", "agg", "HASH")],
        &[("src", vs(100.0, 0.0, 0.0)), ("agg", agg)],
        4,
    );
    let d = diagnose(&s);
    let f = finding(&d, Kind::Skew);
    assert_eq!(f.vertex.as_deref(), Some("agg"));
    assert!(has(&f.evidence, "busiest subtask gets 3000 records/s, the average 1000 (3.0×"), "{:#?}", f.evidence);
    assert_eq!(f.overlay.get("table.optimizer.agg-phase-strategy").map(String::as_str), Some("TWO_PHASE"));
    // even subtasks: no skew
    let mut even = s.clone();
    for x in &mut even.samples {
        if let Some(a) = x.vertices.get_mut("agg") {
            a.records_in_max = Some(1100.0);
        }
    }
    assert!(diagnose(&even).findings.iter().all(|f| f.kind != Kind::Skew));
}

#[test]
fn idle_subtasks_at_high_parallelism() {
    let s = snapshot(vec![v("a", "Calc[1]", 8)], vec![], &[("a", vs(10.0, 0.0, 5.0))], 3);
    let d = diagnose(&s);
    let f = finding(&d, Kind::IdleSubtasks);
    assert!(has(&f.evidence, "subtasks idle 990 ms/s on average"), "{:#?}", f.evidence);
}

#[test]
fn a_healthy_job_has_no_findings_and_every_overlay_key_is_current() {
    let s = snapshot(
        vec![v("src", "Source: src[1]", 1), v("agg", "GroupAggregate[2]", 1)],
        vec![e("src", "agg", "HASH")],
        &[("src", vs(300.0, 0.0, 0.0)), ("agg", vs(400.0, 0.0, 1000.0))],
        5,
    );
    let d = diagnose(&s);
    assert!(d.findings.is_empty(), "{:#?}", d.findings);
    assert!(d.overlay.is_empty());

    // everything at once, on 2.3 and 1.20: the merged overlay lints clean
    for version in ["2.3.0", "1.20.1"] {
        let mut s = saturated_aggregate();
        s.flink_version = version.into();
        s.taskmanagers = vec![TaskManager { gc_time_after_ms: 10_000, ..tm(4, 2) }];
        s.checkpoints = Checkpoints {
            interval_ms: Some(10_000),
            timeout_ms: Some(60_000),
            unaligned: Some(false),
            state_backend: Some("HashMapStateBackend".into()),
            failed_after: 1,
            history: vec![completed(1, 0, 9000, 10), completed(2, 1, 9000, 20), completed(3, 2, 9000, 30)],
            ..Default::default()
        };
        let d = diagnose(&s);
        assert!(d.findings.len() >= 5, "{:#?}", d.findings);
        // the overlay goes on top of a cluster's config, which sizes its TaskManagers
        let mut on_cluster = d.overlay.clone();
        on_cluster.insert("taskmanager.memory.process.size".into(), "1728 mb".into());
        let p = crate::check::problems(&on_cluster, version).unwrap();
        assert!(p.is_empty(), "{version}: {p:#?}\n{:#?}", d.overlay);
    }
}
