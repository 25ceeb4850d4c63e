//! The seed guide's tuning presets, verbatim (its `FlinkPerformanceOptimizer`,
//! `StateBackendOptimizer` and checkpoint settings), and what is wrong with each of their keys
//! in a given Flink version. They are kept for comparison (`flinkops tune --seed-preset`, the
//! benchmark's "seed" column) and as the origin of the corrected [`crate::Profile`]s; flinkops
//! never recommends them as they are.

use std::collections::BTreeMap;

use flinkops_config::catalog::{Catalog, Lookup};
use serde::Serialize;

use crate::profile::Profile;
use crate::workload::{AccessPattern, Workload};

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// `optimize_for_low_latency`, `optimize_for_high_throughput`, `optimize_for_memory_intensive`
/// as the seed writes them. The seed's `optimize_for_balanced` is called but never defined; its
/// `get_default_memory_config` stands in for it.
pub fn preset(profile: Profile) -> BTreeMap<String, String> {
    match profile {
        Profile::LowLatency => map(&[
            ("execution.buffer-timeout", "1ms"),
            ("execution.checkpointing.interval", "10s"),
            ("execution.checkpointing.timeout", "30s"),
            ("taskmanager.network.memory.fraction", "0.1"),
            ("taskmanager.network.memory.min", "64mb"),
            ("taskmanager.network.memory.max", "256mb"),
            ("taskmanager.network.netty.server.backlog", "0"),
            ("taskmanager.network.netty.client.connectTimeoutSec", "5"),
        ]),
        Profile::HighThroughput => map(&[
            ("execution.buffer-timeout", "100ms"),
            ("execution.checkpointing.interval", "300s"),
            ("execution.checkpointing.timeout", "600s"),
            ("taskmanager.network.memory.fraction", "0.3"),
            ("taskmanager.network.memory.min", "512mb"),
            ("taskmanager.network.memory.max", "2gb"),
            ("taskmanager.network.memory.buffers-per-channel", "4"),
            ("taskmanager.network.memory.floating-buffers-per-gate", "16"),
        ]),
        Profile::MemoryIntensive => map(&[
            ("taskmanager.memory.managed.size", "4g"),
            ("taskmanager.memory.process.size", "8g"),
            ("state.backend.rocksdb.block.cache-size", "2gb"),
            ("state.backend.rocksdb.write-buffer-size", "256mb"),
            ("state.backend.rocksdb.max-write-buffer-number", "4"),
            ("state.backend.rocksdb.compaction.level0-file-num-compaction-trigger", "2"),
        ]),
        Profile::Balanced => map(&[
            ("taskmanager.memory.process.size", "4g"),
            ("taskmanager.memory.managed.size", "1g"),
            ("taskmanager.memory.jvm-metaspace.size", "512m"),
            ("taskmanager.memory.jvm-overhead.fraction", "0.1"),
            ("taskmanager.memory.network.fraction", "0.2"),
        ]),
    }
}

/// The seed's checkpoint and state-backend settings (its disaster-recovery section), which its
/// deployments use for every stateful job.
pub fn checkpointing() -> BTreeMap<String, String> {
    map(&[
        ("execution.checkpointing.interval", "60s"),
        ("execution.checkpointing.mode", "EXACTLY_ONCE"),
        ("execution.checkpointing.timeout", "600s"),
        ("execution.checkpointing.min-pause", "60s"),
        ("execution.checkpointing.max-concurrent-checkpoints", "1"),
        ("execution.checkpointing.unaligned", "true"),
        ("execution.checkpointing.alignment-timeout", "0s"),
        ("state.backend", "rocksdb"),
    ])
}

/// `StateBackendOptimizer.optimize_rocksdb_backend(state_size, access_pattern)`, with the
/// seed's arithmetic on `state_size` (bytes).
pub fn rocksdb(access: AccessPattern, state_size: u64) -> BTreeMap<String, String> {
    const MB: u64 = 1024 * 1024;
    match access {
        AccessPattern::ReadHeavy => {
            let cache = (state_size / 4).min(512 * MB);
            let mut m = map(&[
                ("state.backend.rocksdb.block.blocksize", "16kb"),
                ("state.backend.rocksdb.block.bloom-filter-bits-per-key", "10"),
                ("state.backend.rocksdb.compaction.level0-file-num-compaction-trigger", "4"),
                ("state.backend.rocksdb.compaction.level0-slowdown-writes-trigger", "20"),
                ("state.backend.rocksdb.compaction.level0-stop-writes-trigger", "36"),
                ("state.backend.rocksdb.readoptions.async-io", "true"),
                ("state.backend.rocksdb.readoptions.cache-index-and-filter-blocks", "true"),
            ]);
            m.insert("state.backend.rocksdb.block.cache-size".into(), format!("{cache}b"));
            m.insert("state.backend.rocksdb.block.cache-size-per-column-family".into(), format!("{}b", cache / 4));
            m
        }
        AccessPattern::WriteHeavy => {
            let wb = (state_size / 8).min(128 * MB);
            let mut m = map(&[
                ("state.backend.rocksdb.max-write-buffer-number", "4"),
                ("state.backend.rocksdb.min-write-buffer-number-to-merge", "2"),
                ("state.backend.rocksdb.wal.enabled", "true"),
                ("state.backend.rocksdb.wal.sync", "false"),
                ("state.backend.rocksdb.compaction.level0-file-num-compaction-trigger", "2"),
                ("state.backend.rocksdb.compaction.level0-slowdown-writes-trigger", "8"),
                ("state.backend.rocksdb.compaction.level0-stop-writes-trigger", "12"),
                ("state.backend.rocksdb.writeoptions.sync", "false"),
                ("state.backend.rocksdb.writeoptions.disable-wal", "false"),
            ]);
            m.insert("state.backend.rocksdb.write-buffer-size".into(), format!("{wb}b"));
            m
        }
        AccessPattern::Mixed => {
            let mut m = map(&[
                ("state.backend.rocksdb.max-write-buffer-number", "3"),
                ("state.backend.rocksdb.compaction.level0-file-num-compaction-trigger", "4"),
                ("state.backend.rocksdb.compaction.level0-slowdown-writes-trigger", "20"),
                ("state.backend.rocksdb.compaction.level0-stop-writes-trigger", "36"),
                ("state.backend.rocksdb.block.blocksize", "16kb"),
                ("state.backend.rocksdb.wal.enabled", "true"),
            ]);
            m.insert("state.backend.rocksdb.block.cache-size".into(), format!("{}b", (state_size / 8).min(256 * MB)));
            m.insert("state.backend.rocksdb.write-buffer-size".into(), format!("{}b", (state_size / 16).min(64 * MB)));
            m
        }
    }
}

/// What the seed would configure for this workload: the profile's preset, and for a stateful
/// job its checkpoint settings (RocksDB) and the RocksDB options for the access pattern (state
/// size 1 GB when the workload gives none).
pub fn for_workload(profile: Profile, w: &Workload) -> BTreeMap<String, String> {
    let mut m = preset(profile);
    if w.is_stateful() {
        let state = w.resolve().ok().and_then(|r| r.state_size).unwrap_or(1 << 30);
        for (k, v) in checkpointing() {
            m.entry(k).or_insert(v);
        }
        m.extend(rocksdb(w.access_pattern, state));
    }
    m
}

/// What Flink makes of one seed key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Verdict {
    /// A current key of this version.
    Known,
    /// A deprecated alias: Flink still reads it as `current`.
    Deprecated { current: String },
    /// Flink does not know it: it is ignored (or, for some values, rejected).
    Unknown { replacement: Option<String> },
}

/// The seed's keys that have a real counterpart under another name.
const REPLACEMENTS: &[(&str, &str)] = &[
    ("taskmanager.network.memory.fraction", "taskmanager.memory.network.fraction"),
    ("taskmanager.network.memory.min", "taskmanager.memory.network.min"),
    ("taskmanager.network.memory.max", "taskmanager.memory.network.max"),
    ("taskmanager.network.memory.buffers-per-channel", "taskmanager.network.memory.buffer-debloat.enabled"),
    ("taskmanager.network.memory.floating-buffers-per-gate", "taskmanager.network.memory.buffer-debloat.enabled"),
    ("state.backend.rocksdb.write-buffer-size", "state.backend.rocksdb.writebuffer.size"),
    ("state.backend.rocksdb.max-write-buffer-number", "state.backend.rocksdb.writebuffer.count"),
    ("state.backend.rocksdb.min-write-buffer-number-to-merge", "state.backend.rocksdb.writebuffer.number-to-merge"),
    ("state.backend.rocksdb.block.bloom-filter-bits-per-key", "state.backend.rocksdb.bloom-filter.bits-per-key"),
    ("state.backend.rocksdb.block.cache-size-per-column-family", "state.backend.rocksdb.memory.managed"),
    ("state.backend.rocksdb.readoptions.cache-index-and-filter-blocks", "state.backend.rocksdb.memory.high-prio-pool-ratio"),
    ("execution.checkpointing.alignment-timeout", "execution.checkpointing.aligned-checkpoint-timeout"),
];

/// Judges every key of a seed configuration against `catalog`.
pub fn verdicts(config: &BTreeMap<String, String>, catalog: &Catalog) -> BTreeMap<String, Verdict> {
    config
        .keys()
        .map(|k| {
            let v = match catalog.lookup(k) {
                Lookup::Known(_) => Verdict::Known,
                Lookup::DeprecatedAlias { current, .. } => Verdict::Deprecated { current: current.key.clone() },
                Lookup::FallbackKey { option, .. } => Verdict::Deprecated { current: option.key.clone() },
                Lookup::Prefix(_) | Lookup::Unknown => Verdict::Unknown {
                    replacement: REPLACEMENTS
                        .iter()
                        .find(|(from, _)| from == k)
                        .map(|(_, to)| to.to_string())
                        .filter(|to| catalog.get(to).is_some()),
                },
            };
            (k.clone(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_presets_hold_keys_flink_does_not_know() {
        let c = Catalog::for_version("2.3").unwrap();
        for p in Profile::ALL {
            let v = verdicts(&preset(p), c);
            let unknown: Vec<_> = v.iter().filter(|(_, v)| matches!(v, Verdict::Unknown { .. })).collect();
            // the balanced stand-in (the seed's memory defaults) is the only one made of real keys
            assert_eq!(unknown.is_empty(), p == Profile::Balanced, "{p:?}: {unknown:?}");
        }
        let rocks = verdicts(&rocksdb(AccessPattern::WriteHeavy, 1 << 30), c);
        assert!(matches!(&rocks["state.backend.rocksdb.write-buffer-size"], Verdict::Unknown { replacement: Some(r) } if r == "state.backend.rocksdb.writebuffer.size"));
        let cp = verdicts(&checkpointing(), c);
        assert!(matches!(&cp["state.backend"], Verdict::Deprecated { current } if current == "state.backend.type"));
    }

    #[test]
    fn every_replacement_is_a_real_key_in_every_version() {
        for v in Catalog::known_versions() {
            let c = Catalog::for_version(v).unwrap();
            for (from, to) in REPLACEMENTS {
                assert!(c.get(to).is_some(), "{v}: {to}");
                assert!(c.get(from).is_none() || v.starts_with("1."), "{v}: {from} is a key");
            }
        }
    }

    #[test]
    fn seed_arithmetic_is_kept() {
        let m = rocksdb(AccessPattern::ReadHeavy, 1 << 30);
        assert_eq!(m["state.backend.rocksdb.block.cache-size"], "268435456b");
        assert_eq!(m["state.backend.rocksdb.block.cache-size-per-column-family"], "67108864b");
        let w = Workload { sql: crate::workload::SqlShape { group_aggregations: true, ..Default::default() }, ..Default::default() };
        let s = for_workload(Profile::HighThroughput, &w);
        assert_eq!(s["state.backend"], "rocksdb");
        assert_eq!(s["execution.checkpointing.interval"], "300s", "the preset wins over the checkpoint section");
        assert!(!for_workload(Profile::HighThroughput, &Workload::default()).contains_key("state.backend"));
    }
}
