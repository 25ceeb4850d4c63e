use proptest::prelude::*;

use super::*;
use crate::check::problems;
use crate::workload::{Cluster, SqlShape};

fn agg(cardinality: u64) -> Workload {
    Workload {
        goal: Goal::Throughput,
        key_cardinality: Some(cardinality),
        sql: SqlShape { group_aggregations: true, ..Default::default() },
        ..Default::default()
    }
}

/// Workloads that exercise every rule.
fn corpus() -> Vec<Workload> {
    vec![
        Workload::default(),
        agg(100),
        agg(10_000_000),
        Workload { goal: Goal::Latency, latency_target: Some("200 ms".into()), delivery: Delivery::AtLeastOnce, ..Default::default() },
        Workload { goal: Goal::Latency, latency_target: Some("2 s".into()), sql: SqlShape { group_aggregations: true, ..Default::default() }, ..Default::default() },
        Workload { state_size: Some("50gb".into()), access_pattern: AccessPattern::ReadHeavy, ..Default::default() },
        Workload {
            state_size: Some("50gb".into()),
            access_pattern: AccessPattern::WriteHeavy,
            cluster: Cluster { taskmanagers: 4, taskmanager_memory: "8gb".into(), cores: 8, slots: Some(4), local_disk: Some("20gb".into()) },
            ..Default::default()
        },
        Workload { mode: Mode::Batch, ..Default::default() },
        Workload { api: Api::Datastream, object_reuse_safe: true, state_size: Some("100mb".into()), ..Default::default() },
        Workload {
            sql: SqlShape { distinct_aggregates: true, window_aggregations: true, regular_joins: true, deduplication: true, top_n: true, group_aggregations: true },
            key_cardinality: Some(50),
            state_ttl: Some("1 d".into()),
            checkpoint_interval: Some("30 s".into()),
            ..Default::default()
        },
        Workload {
            cluster: Cluster { taskmanagers: 50, taskmanager_memory: "2gb".into(), cores: 8, slots: None, local_disk: None },
            sql: SqlShape { regular_joins: true, ..Default::default() },
            ..Default::default()
        },
    ]
}

fn assert_clean(w: &Workload, profile: Profile, version: &str) -> Recommendation {
    let r = recommend(w, profile, version).unwrap_or_else(|e| panic!("{profile} {version} {w:?}: {e}"));
    let p = problems(&r.config, version).unwrap();
    assert!(p.is_empty(), "{profile} on {version}: {p:#?}\n{w:#?}\n{:#?}", r.config);
    // one reason per key, nothing unexplained
    let mut keys: Vec<_> = r.reasons.iter().map(|x| x.key.clone()).collect();
    keys.sort();
    assert_eq!(keys, r.config.keys().cloned().collect::<Vec<_>>(), "{profile} {version}");
    for reason in &r.reasons {
        assert_eq!(r.config[&reason.key], reason.value);
        assert!(!reason.trigger.is_empty() && !reason.because.is_empty() && !reason.expected_effect.is_empty(), "{reason:?}");
    }
    r
}

#[test]
fn every_profile_on_1_20_and_2_3_lints_clean_with_a_valid_memory_model() {
    for version in ["1.20", "2.3"] {
        for profile in Profile::ALL {
            for w in corpus() {
                assert_clean(&w, profile, version);
            }
        }
    }
}

#[test]
fn every_catalog_version_gets_its_own_keys() {
    for version in Catalog::known_versions() {
        for w in corpus() {
            let r = assert_clean(&w, Profile::for_workload(&w), version);
            assert_eq!(r.flink_version, Catalog::for_version(version).unwrap().version);
        }
    }
}

#[test]
fn small_state_stays_on_the_heap_and_gets_the_managed_memory() {
    let r = recommend(&agg(1000), Profile::HighThroughput, "2.3").unwrap();
    assert_eq!(r.config["state.backend.type"], "hashmap");
    assert_eq!(r.config["taskmanager.memory.managed.fraction"], "0");
    assert_eq!(r.memory.managed, 0);
    assert!(!r.config.contains_key("execution.checkpointing.incremental"));
    // more heap than with Flink's defaults for the same process size
    let mut defaults = BTreeMap::new();
    defaults.insert("taskmanager.memory.process.size".to_string(), "4 gb".to_string());
    let d = memory::taskmanager("2.3", &defaults).unwrap();
    assert!(r.memory.task_heap > d.task_heap, "{} vs {}", r.memory.task_heap, d.task_heap);
}

#[test]
fn state_larger_than_the_heap_goes_to_rocksdb_with_incremental_checkpoints() {
    let w = Workload { state_size: Some("20gb".into()), ..agg(1_000_000_000) };
    let r = recommend(&w, Profile::HighThroughput, "2.3").unwrap();
    assert_eq!(r.config["state.backend.type"], "rocksdb");
    assert_eq!(r.config["execution.checkpointing.incremental"], "true");
    assert_eq!(r.config["state.backend.rocksdb.memory.managed"], "true");
    assert!(r.memory.managed > 0);
    let why = r.reasons.iter().find(|x| x.key == "state.backend.type").unwrap();
    assert!(why.trigger.contains("state_size = 20gb"), "{why:?}");
    // the threshold is the heap: the same state on a TaskManager with 64 GB stays on the heap
    let big = Workload { cluster: Cluster { taskmanager_memory: "256gb".into(), ..Cluster::default() }, ..w };
    assert_eq!(recommend(&big, Profile::HighThroughput, "2.3").unwrap().config["state.backend.type"], "hashmap");
}

#[test]
fn forst_when_state_exceeds_the_local_disk_on_2_x_only() {
    let w = Workload {
        state_size: Some("500gb".into()),
        cluster: Cluster { local_disk: Some("100gb".into()), ..Cluster::default() },
        ..agg(1_000_000_000)
    };
    assert_eq!(recommend(&w, Profile::Balanced, "2.3").unwrap().config["state.backend.type"], "forst");
    assert_eq!(recommend(&w, Profile::Balanced, "1.20").unwrap().config["state.backend.type"], "rocksdb");
}

#[test]
fn latency_goal_shortens_buffer_timeout_and_skips_mini_batch_below_400ms() {
    let w = Workload {
        goal: Goal::Latency,
        latency_target: Some("100 ms".into()),
        sql: SqlShape { group_aggregations: true, ..Default::default() },
        ..Default::default()
    };
    let r = recommend(&w, Profile::LowLatency, "2.3").unwrap();
    assert_eq!(r.config["execution.buffer-timeout.interval"], "5 ms");
    assert_eq!(r.config["taskmanager.network.memory.buffer-debloat.enabled"], "true");
    assert_eq!(r.config["taskmanager.network.memory.buffer-debloat.target"], "50 ms");
    assert!(!r.config.contains_key("table.exec.mini-batch.enabled"));
    assert!(r.notes.iter().any(|n| n.contains("mini-batch left off")));
}

#[test]
fn each_version_gets_the_key_it_reads() {
    // incremental checkpoints: `execution.checkpointing.incremental` from 1.20, before that
    // `state.backend.incremental`
    let w = Workload { state_size: Some("20gb".into()), ..agg(1_000_000_000) };
    let r18 = recommend(&w, Profile::HighThroughput, "1.18").unwrap();
    assert_eq!(r18.config.get("state.backend.incremental").map(String::as_str), Some("true"), "{:?}", r18.config);
    assert!(!r18.config.contains_key("execution.checkpointing.incremental"));
    let r20 = recommend(&w, Profile::HighThroughput, "1.20").unwrap();
    assert_eq!(r20.config.get("execution.checkpointing.incremental").map(String::as_str), Some("true"));
    assert!(!r20.config.contains_key("state.backend.incremental"));
}

#[test]
fn aggregations_get_mini_batch_and_the_phase_strategy_follows_cardinality() {
    let low = recommend(&agg(100), Profile::HighThroughput, "2.3").unwrap();
    assert_eq!(low.config["table.exec.mini-batch.enabled"], "true");
    assert_eq!(low.config["table.exec.mini-batch.allow-latency"], "2 s");
    assert_eq!(low.config["table.optimizer.agg-phase-strategy"], "TWO_PHASE");
    assert_eq!(low.config["pipeline.object-reuse"], "true");
    let high = recommend(&agg(100_000_000), Profile::HighThroughput, "2.3").unwrap();
    assert!(!high.config.contains_key("table.exec.mini-batch.enabled"), "{:?}", high.config);
    assert!(!high.config.contains_key("table.optimizer.agg-phase-strategy"));
    assert!(high.notes.iter().any(|n| n.contains("mini-batch left off") && n.contains("repeat")), "{:?}", high.notes);
    let stateless = recommend(&Workload { goal: Goal::Throughput, ..Default::default() }, Profile::HighThroughput, "2.3").unwrap();
    assert!(!stateless.config.contains_key("table.exec.mini-batch.enabled"));
    assert!(!stateless.config.contains_key("state.backend.type"));
}

#[test]
fn delivery_guarantee_decides_unaligned_checkpoints() {
    let once = recommend(&Workload::default(), Profile::Balanced, "2.3").unwrap();
    assert_eq!(once.config["execution.checkpointing.mode"], "EXACTLY_ONCE");
    assert_eq!(once.config["execution.checkpointing.unaligned.enabled"], "true");
    assert_eq!(once.config["execution.checkpointing.interval"], "1 min");
    assert_eq!(once.config["execution.checkpointing.min-pause"], "30 s");
    let alo = recommend(&Workload { delivery: Delivery::AtLeastOnce, ..Default::default() }, Profile::Balanced, "2.3").unwrap();
    assert_eq!(alo.config["execution.checkpointing.mode"], "AT_LEAST_ONCE");
    assert!(!alo.config.contains_key("execution.checkpointing.unaligned.enabled"));
}

#[test]
fn many_channels_raise_the_network_minimum() {
    let w = Workload {
        cluster: Cluster { taskmanagers: 50, taskmanager_memory: "2gb".into(), cores: 8, slots: None, local_disk: None },
        sql: SqlShape { regular_joins: true, ..Default::default() },
        ..Default::default()
    };
    let r = recommend(&w, Profile::Balanced, "2.3").unwrap();
    // 400 slots, every one used (also behind the join's keyed exchanges); the network is sized for all 400
    assert_eq!(r.config["parallelism.default"], "400");
    let min = units::parse_memory_size(&r.config["taskmanager.memory.network.min"]).unwrap();
    // 8 slots × 2 exchanges × (808 + 401) buffers × 32 KiB, + 25 %
    assert!(min >= 8 * 2 * 1209 * 32 * 1024, "{min}");
    assert!(r.memory.network >= min);
    // and a small job keeps Flink's default
    assert!(!recommend(&Workload::default(), Profile::Balanced, "2.3").unwrap().config.contains_key("taskmanager.memory.network.min"));
}

#[test]
fn parallelism_uses_every_slot() {
    // stateless streaming: one chained stage, every slot
    let r = recommend(&Workload::default(), Profile::HighThroughput, "2.3").unwrap();
    assert_eq!(r.config["parallelism.default"], "2");
    // a keyed operator: two stages per slot that rarely cost the same; still every slot, so
    // either stage can have every core (half the slots capped each stage at one core: slower
    // on 2 cores, docs/bench/ab-parallelism.md)
    let r = recommend(&agg(100), Profile::HighThroughput, "2.3").unwrap();
    assert_eq!(r.config["parallelism.default"], "2");
    let why = r.reasons.iter().find(|x| x.key == "parallelism.default").unwrap();
    assert!(why.because.contains("two stages") && why.because.contains("whichever has work"), "{why:?}");
    let big = Workload { cluster: Cluster { taskmanagers: 3, cores: 8, ..Cluster::default() }, ..agg(100) };
    assert_eq!(recommend(&big, Profile::HighThroughput, "2.3").unwrap().config["parallelism.default"], "24");
    // one core: never below 1
    let one = Workload { cluster: Cluster { cores: 1, ..Cluster::default() }, ..agg(100) };
    assert_eq!(recommend(&one, Profile::HighThroughput, "2.3").unwrap().config["parallelism.default"], "1");
    // batch: stages run one after another, every slot
    let batch = Workload { mode: Mode::Batch, ..agg(100) };
    assert_eq!(recommend(&batch, Profile::Balanced, "2.3").unwrap().config["parallelism.default"], "2");
}

#[test]
fn batch_mode_has_no_checkpointing_and_more_managed_memory() {
    let r = recommend(&Workload { mode: Mode::Batch, ..Default::default() }, Profile::Balanced, "2.3").unwrap();
    assert_eq!(r.config["execution.runtime-mode"], "BATCH");
    assert_eq!(r.config["taskmanager.memory.managed.fraction"], "0.6");
    assert!(!r.config.keys().any(|k| k.starts_with("execution.checkpointing")));
}

#[test]
fn a_too_small_taskmanager_is_an_error_not_a_broken_config() {
    let w = Workload { state_size: Some("1gb".into()), cluster: Cluster { taskmanager_memory: "1gb".into(), cores: 64, ..Cluster::default() }, ..Default::default() };
    // 64 slots × huge parallelism does not fit 1 GB of network memory: error, not output
    let w = Workload { cluster: Cluster { taskmanagers: 100, ..w.cluster.clone() }, sql: SqlShape { regular_joins: true, ..Default::default() }, ..w };
    match recommend(&w, Profile::Balanced, "2.3") {
        Err(TuneError::Memory(m)) => assert!(!m.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn formats_are_flink_notation() {
    assert_eq!(duration(Duration::from_secs(120)), "2 min");
    assert_eq!(duration(Duration::from_millis(1500)), "1500 ms");
    assert_eq!(duration(Duration::from_secs(7200)), "2 h");
    assert_eq!(size(4 * GB), "4 gb");
    assert_eq!(size(1536 * MB), "1536 mb");
    for d in [Duration::from_millis(1), Duration::from_secs(90), Duration::from_secs(86_400)] {
        assert_eq!(units::parse_duration(&duration(d)).unwrap(), d);
    }
}

fn workload_strategy() -> impl Strategy<Value = Workload> {
    (
        (prop::bool::ANY, 0..3u8, prop::option::of(1u64..5000), prop::option::of(1u64..200_000), 0..3u8, prop::option::of(1u64..1_000_000_000)),
        (prop::option::of(1u64..600), prop::bool::ANY, prop::bool::ANY, prop::bool::ANY, any::<[bool; 6]>()),
        (1u32..20, 1u64..32, 1u32..16, prop::option::of(1u32..8), prop::option::of(1u64..500)),
        prop::option::of(prop::sample::select(vec!["UTC", "Etc/UTC", "GMT", "GMT+00:00", "Europe/Berlin", "GMT-03:00", "Asia/Kolkata"])),
    )
        .prop_map(|((batch, goal, lat, state_mb, access, keys), (cp, alo, ds, reuse, sql), (tms, mem_gb, cores, slots, disk), zone)| Workload {
            mode: if batch { Mode::Batch } else { Mode::Streaming },
            goal: [Goal::Latency, Goal::Throughput, Goal::Balanced][usize::from(goal)],
            latency_target: lat.map(|ms| format!("{ms} ms")),
            records_per_second: keys.map(|k| k % 1_000_000),
            record_size: Some("200b".into()),
            state_size: state_mb.map(|m| format!("{m}mb")),
            access_pattern: [AccessPattern::ReadHeavy, AccessPattern::WriteHeavy, AccessPattern::Mixed][usize::from(access)],
            key_cardinality: keys,
            state_ttl: cp.map(|s| format!("{s} h")),
            checkpoint_interval: cp.map(|s| format!("{s} s")),
            delivery: if alo { Delivery::AtLeastOnce } else { Delivery::ExactlyOnce },
            api: if ds { Api::Datastream } else { Api::Sql },
            object_reuse_safe: reuse,
            time_zone: zone.map(str::to_string),
            sql: SqlShape { group_aggregations: sql[0], distinct_aggregates: sql[1], window_aggregations: sql[2], regular_joins: sql[3], deduplication: sql[4], top_n: sql[5] },
            cluster: Cluster { taskmanagers: tms, taskmanager_memory: format!("{mem_gb}gb"), cores, slots, local_disk: disk.map(|d| format!("{d}gb")) },
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any workload: either a clean overlay (known keys, lint clean, valid memory model, a
    /// reason per key) or a memory error — never a broken config.
    #[test]
    fn any_workload_gives_a_clean_overlay_or_a_memory_error(w in workload_strategy(), p in 0..4usize, v in prop::sample::select(vec!["1.20", "2.3"])) {
        let profile = Profile::ALL[p];
        match recommend(&w, profile, v) {
            Ok(r) => {
                let probs = problems(&r.config, v).unwrap();
                prop_assert!(probs.is_empty(), "{:?}\n{:?}", probs, r.config);
                prop_assert_eq!(r.reasons.len(), r.config.len());
                let expected = units::parse_memory_size(&w.cluster.taskmanager_memory).unwrap();
                prop_assert_eq!(r.memory.process, expected);
            }
            Err(TuneError::Memory(_)) => {}
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The workload-file parser: a workload written as JSON reads back as itself, and the
    /// same file as YAML (JSON is YAML, but takes the YAML path when it does not start with
    /// `{`: behind a comment line) too.
    #[test]
    fn a_workload_file_reads_back_as_written(w in workload_strategy()) {
        let json = serde_json::to_string(&w).unwrap();
        prop_assert_eq!(&Workload::from_text("w.json", &json).unwrap(), &w);
        let yaml = format!("# workload\n{}", serde_json::to_string_pretty(&w).unwrap());
        prop_assert_eq!(&Workload::from_text("w.yaml", &yaml).unwrap(), &w);
    }

    /// Any text: a workload or an error that names the file, never a panic.
    #[test]
    fn any_text_is_a_workload_or_a_positioned_error(text in "(?s)[a-z_:{}\\[\\]\",. 0-9\n-]{0,120}") {
        if let Err(e) = Workload::from_text("w.yaml", &text) {
            let m = e.to_string();
            prop_assert!(m.starts_with("w.yaml"), "{}", m);
        }
    }
}

#[test]
fn mini_batch_only_where_keys_repeat_within_a_batch() {
    // 2 slots by default → parallelism 2; a batch of 5000 records: keys repeat at least twice up
    // to 5,000 keys.
    let dedup = |k: u64| Workload { goal: Goal::Throughput, key_cardinality: Some(k), sql: SqlShape { deduplication: true, ..Default::default() }, ..Default::default() };
    for (k, on) in [(100, true), (5_000, true), (5_001, false), (1_000_000, false)] {
        let r = recommend(&dedup(k), Profile::HighThroughput, "2.3").unwrap();
        assert_eq!(r.config.contains_key("table.exec.mini-batch.enabled"), on, "{k} keys: {:?}", r.config);
    }
    // Without a key cardinality the advisor cannot tell, and batches (as before).
    let unknown = Workload { goal: Goal::Throughput, sql: SqlShape { deduplication: true, ..Default::default() }, ..Default::default() };
    assert_eq!(recommend(&unknown, Profile::HighThroughput, "2.3").unwrap().config["table.exec.mini-batch.enabled"], "true");
}

#[test]
fn regular_joins_with_large_per_key_state_or_no_ttl_go_to_rocksdb() {
    let join = |rps: Option<u64>, ttl: Option<&str>, keys: u64| Workload {
        goal: Goal::Throughput,
        key_cardinality: Some(keys),
        records_per_second: rps,
        state_ttl: ttl.map(str::to_string),
        sql: SqlShape { regular_joins: true, ..Default::default() },
        ..Default::default()
    };
    // bench/workloads/join: 10M records/s × 5 s over 10,000 keys = 5,000 rows per key.
    let big = recommend(&join(Some(10_000_000), Some("5 s"), 10_000), Profile::HighThroughput, "2.3").unwrap();
    assert_eq!(big.config["state.backend.type"], "rocksdb");
    let why = big.reasons.iter().find(|r| r.key == "state.backend.type").unwrap();
    assert!(why.because.contains("5000 rows per join key"), "{why:?}");
    assert_eq!(big.config["state.backend.rocksdb.memory.managed"], "true");
    // No TTL: unbounded.
    let unbounded = recommend(&join(None, None, 10_000), Profile::HighThroughput, "2.3").unwrap();
    assert_eq!(unbounded.config["state.backend.type"], "rocksdb");
    assert!(unbounded.reasons.iter().any(|r| r.key == "state.backend.type" && r.because.contains("without bound")));
    // 1,000 records/s × 5 s over 10,000 keys: under a row per key; the heap holds it.
    let small = recommend(&join(Some(1_000), Some("5 s"), 10_000), Profile::HighThroughput, "2.3").unwrap();
    assert_eq!(small.config["state.backend.type"], "hashmap");
    // The threshold itself: 999 rows per key stays on the heap, 1,000 goes to RocksDB.
    assert_eq!(recommend(&join(Some(999), Some("10 s"), 10), Profile::HighThroughput, "2.3").unwrap().config["state.backend.type"], "hashmap");
    assert_eq!(recommend(&join(Some(1_000), Some("10 s"), 10), Profile::HighThroughput, "2.3").unwrap().config["state.backend.type"], "rocksdb");
    // Every variant still lints clean with a valid memory model.
    for w in [join(Some(10_000_000), Some("5 s"), 10_000), join(None, None, 1)] {
        assert_clean(&w, Profile::HighThroughput, "2.3");
        assert_clean(&w, Profile::Balanced, "1.20");
    }
}

#[test]
fn throughput_goal_gets_the_parallel_collector_up_to_an_8_gb_heap() {
    for version in ["1.20", "2.3"] {
        let r = assert_clean(&agg(1_000_000), Profile::HighThroughput, version);
        assert_eq!(r.config["env.java.opts.taskmanager"], "-XX:+UseParallelGC", "{version}");
        assert!(r.memory.jvm_heap <= PARALLEL_GC_MAX_HEAP);
    }
    // latency keeps G1's short pauses
    let latency = Workload { goal: Goal::Latency, latency_target: Some("2 s".into()), ..Default::default() };
    let r = assert_clean(&latency, Profile::LowLatency, "2.3");
    assert!(!r.config.contains_key("env.java.opts.taskmanager"), "{:?}", r.config);
    // a 32 GB TaskManager has a heap above 8 GB: G1 stays, and the note says why
    let big = Workload {
        goal: Goal::Throughput,
        cluster: Cluster { taskmanagers: 1, taskmanager_memory: "32gb".into(), cores: 8, slots: Some(4), local_disk: None },
        ..Default::default()
    };
    let r = assert_clean(&big, Profile::HighThroughput, "2.3");
    assert!(r.memory.jvm_heap > PARALLEL_GC_MAX_HEAP, "{:?}", r.memory);
    assert!(!r.config.contains_key("env.java.opts.taskmanager"), "{:?}", r.config);
    assert!(r.notes.iter().any(|n| n.contains("left at G1")), "{:?}", r.notes);
}

#[test]
fn utc_under_any_name_becomes_the_id_flink_does_not_convert() {
    let windows = |zone: Option<&str>| Workload {
        goal: Goal::Throughput,
        time_zone: zone.map(str::to_string),
        sql: SqlShape { window_aggregations: true, ..Default::default() },
        ..Default::default()
    };
    for zone in ["Etc/UTC", "UTC", "GMT", "Zulu", "Etc/GMT+0", "GMT+00:00", "GMT-00:00", "GMT+0", "GMT-0000"] {
        let r = assert_clean(&windows(Some(zone)), Profile::HighThroughput, "2.3");
        assert_eq!(r.config.get("table.local-time-zone").map(String::as_str), Some("UTC"), "{zone}");
        let reason = r.reasons.iter().find(|x| x.key == "table.local-time-zone").unwrap();
        assert_eq!(reason.trigger, format!("workload.time_zone = {zone}"));
    }
    // zones with offset 0 only some of the time, or only since some date, are not UTC
    for zone in ["Europe/London", "Africa/Abidjan", "Europe/Berlin", "GMT-03:00", "GMT+3", "GMT+0530"] {
        let r = assert_clean(&windows(Some(zone)), Profile::HighThroughput, "1.20");
        assert_eq!(r.config.get("table.local-time-zone").map(String::as_str), Some(zone), "pinned as given");
    }
    let r = assert_clean(&windows(None), Profile::HighThroughput, "2.3");
    assert!(!r.config.contains_key("table.local-time-zone"));
    assert!(r.notes.iter().any(|n| n.starts_with("no time_zone")), "{:?}", r.notes);
    // without windows no note: nothing to gain, nothing to pin
    let r = assert_clean(&Workload::default(), Profile::Balanced, "2.3");
    assert!(!r.notes.iter().any(|n| n.starts_with("no time_zone")), "{:?}", r.notes);
}

#[test]
fn a_zone_flink_would_reject_is_a_positioned_error() {
    for (zone, says) in [
        ("Europe/Berln", "IANA time zone database"),
        ("PST", "IANA time zone database"),
        ("GMT+3:00", "GMT+hh:mm"),
        ("GMT+18:30", "GMT+hh:mm"),
        ("GMT+19:00", "GMT+hh:mm"),
        ("GMT+03:0", "GMT+hh:mm"),
        ("GMT-0:00", "GMT+hh:mm"),
        ("europe/berlin", "write `Europe/Berlin`"),
        ("EST", "refuses this abbreviation"),
        ("GMT+03:60", "GMT+hh:mm"),
    ] {
        let text = format!("goal: throughput\ntime_zone: {zone}\n");
        let e = Workload::from_text("w.yaml", &text).unwrap_err().to_string();
        assert!(e.starts_with("w.yaml:2:"), "{zone}: {e}");
        assert!(e.contains("time_zone") && e.contains(zone) && e.contains(says), "{zone}: {e}");
    }
}
