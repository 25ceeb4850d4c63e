//! `recommend(workload, profile, version)`: a Flink configuration overlay derived from what the
//! job does and what it runs on, every key with the input that triggered it, why, and what it
//! is expected to do. Keys come from the target version's catalog only (a rule whose option the
//! version lacks is skipped, never written under a guessed name), and the result is checked by
//! [`crate::check`]: lint clean and a valid memory model, or an error.
//!
//! The rules, in order: resources (memory, slots, parallelism) → state backend (heap vs RocksDB
//! vs ForSt by state size against memory and disk) → managed memory and RocksDB → network
//! buffers, debloating and buffer timeout → checkpointing → restarts → object reuse → SQL
//! planner options. Each rule states its threshold in its reason.

use std::collections::BTreeMap;
use std::time::Duration;

use flinkops_config::catalog::Catalog;
use flinkops_config::memory;
#[cfg(test)]
use flinkops_config::units;
use serde::Serialize;

use crate::error::TuneError;
use crate::profile::Profile;
use crate::workload::{AccessPattern, Api, Delivery, Goal, Mode, Resolved, Workload, Zone};

/// Why one key has its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub key: String,
    pub value: String,
    /// The input or metric that triggered it (`workload.state_size = 20gb`, `profile low-latency`).
    pub trigger: String,
    pub because: String,
    pub expected_effect: String,
}

/// The TaskManager memory the overlay gives (from the exact memory model).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryLayout {
    pub process: u64,
    pub jvm_heap: u64,
    pub task_heap: u64,
    pub managed: u64,
    pub network: u64,
    pub slots: i32,
}

/// The advisor's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The catalog version the keys were checked against (`2.3.0`).
    pub flink_version: String,
    pub profile: Profile,
    /// The overlay: flat Flink keys.
    pub config: BTreeMap<String, String>,
    /// One reason per key, in rule order.
    pub reasons: Vec<Reason>,
    /// Things considered and left alone, with why.
    pub notes: Vec<String>,
    pub memory: MemoryLayout,
}

const KB: u64 = 1024;
const MB: u64 = 1024 * KB;
const GB: u64 = 1024 * MB;

/// Heap bytes a hashmap-backend state takes per serialized byte (Java objects, boxed keys,
/// map entries): the usual 2–5× — 3× assumed.
const HEAP_STATE_OVERHEAD: u64 = 3;

struct Builder<'c> {
    cat: &'c Catalog,
    config: BTreeMap<String, String>,
    reasons: Vec<Reason>,
    notes: Vec<String>,
}

impl Builder<'_> {
    /// The first of `keys` that is an own (non-deprecated) key of the version.
    fn pick(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find(|k| self.cat.get(k).is_some_and(|o| !o.deprecated)).map(|k| k.to_string())
    }

    /// Sets the first key of `keys` the version knows; notes the rule when it knows none.
    fn set(&mut self, keys: &[&str], value: impl Into<String>, trigger: impl Into<String>, because: impl Into<String>, effect: impl Into<String>) {
        let value = value.into();
        let Some(key) = self.pick(keys) else {
            self.notes.push(format!("`{}` is not an option of Flink {}: rule skipped ({})", keys.join("` / `"), self.cat.version, because.into()));
            return;
        };
        self.reasons.retain(|r| r.key != key);
        self.config.insert(key.clone(), value.clone());
        self.reasons.push(Reason { key, value, trigger: trigger.into(), because: because.into(), expected_effect: effect.into() });
    }

    fn remove(&mut self, key: &str) {
        self.config.remove(key);
        self.reasons.retain(|r| r.key != key);
    }

    fn note(&mut self, s: impl Into<String>) {
        self.notes.push(s.into());
    }
}

/// Flink's duration notation, in the largest exact unit.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "0 ms".into()
    } else if ms.is_multiple_of(3_600_000) {
        format!("{} h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// Flink's memory notation, in the largest exact unit.
pub fn size(bytes: u64) -> String {
    if bytes > 0 && bytes.is_multiple_of(GB) {
        format!("{} gb", bytes / GB)
    } else if bytes > 0 && bytes.is_multiple_of(MB) {
        format!("{} mb", bytes / MB)
    } else if bytes > 0 && bytes.is_multiple_of(KB) {
        format!("{} kb", bytes / KB)
    } else {
        format!("{bytes} b")
    }
}

/// A size for prose (reasons and notes): exact units when exact, else one decimal
/// (`2.8 gb`, `19.5 kb`). Config values use [`size`].
pub fn approx(bytes: u64) -> String {
    let exact = size(bytes);
    if !exact.ends_with(" b") || bytes < KB {
        return exact;
    }
    let (unit, div) = if bytes >= GB { ("gb", GB) } else if bytes >= MB { ("mb", MB) } else { ("kb", KB) };
    format!("{:.1} {unit}", bytes as f64 / div as f64)
}

/// Which state backend, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    HashMap,
    RocksDb,
    ForSt,
}

/// Estimated keyed state of the whole job: given, else key cardinality × (record size or
/// 100 bytes) × 2 (key and value).
fn state_estimate(w: &Workload, r: &Resolved) -> Option<(u64, String)> {
    if let Some(s) = r.state_size {
        return Some((s, format!("workload.state_size = {}", w.state_size.as_deref().unwrap_or_default())));
    }
    let keys = w.key_cardinality?;
    let per = r.record_size.unwrap_or(100).saturating_mul(2);
    Some((keys.saturating_mul(per), format!("workload.key_cardinality = {keys} × {} per key", size(per))))
}

/// Rows per join key from which a regular join's state goes to RocksDB.
const JOIN_ROWS_PER_KEY_ROCKSDB: u64 = 1_000;

/// A regular join whose state is better kept in RocksDB: (trigger, because), or None.
///
/// A regular join over an input without a unique key keeps every row of that input (for the
/// state TTL, else forever) in one map per join key. On the heap backend a write to a key while a
/// checkpoint's snapshot is running copies that key's whole map (copy-on-write of the state
/// value), so large maps are copied over and over; RocksDB stores each row as its own entry.
/// Measured on `bench/workloads/join` (10,000 keys, 5 s TTL, ~5,000 rows per key; 2 cores,
/// Flink 2.3, quiet machine, 2026-12-07): RocksDB 3.1× the heap backend at parallelism 1
/// (0.198 vs 0.063 M rec/s) and 3.2× at parallelism 2 (0.354 vs 0.109),
/// docs/bench/tuning-2026-12-07-repeat2.md.
fn large_join_state(w: &Workload, r: &Resolved) -> Option<(String, String)> {
    if !w.sql.regular_joins {
        return None;
    }
    let Some(ttl) = r.state_ttl else {
        return Some((
            "workload.sql.regular_joins, no workload.state_ttl".to_string(),
            "without a state TTL a regular join keeps every row it has seen: its state grows without bound, which the heap cannot hold; RocksDB keeps it on local disk".to_string(),
        ));
    };
    let (rps, keys) = (w.records_per_second?, w.key_cardinality?.max(1));
    let rows = u128::from(rps) * ttl.as_millis() / 1000;
    let per_key = rows / u128::from(keys);
    (per_key >= u128::from(JOIN_ROWS_PER_KEY_ROCKSDB)).then(|| {
        (
            format!("workload.sql.regular_joins: {rps} records/s × state_ttl {} over {keys} keys", duration(ttl)),
            format!(
                "the join keeps ~{per_key} rows per join key in one map per key (≥ {JOIN_ROWS_PER_KEY_ROCKSDB}); on the heap backend every write to a key during a checkpoint's snapshot copies its whole map, RocksDB stores each row as its own entry (measured on bench/workloads/join: 3.1–3.2× the heap backend)"
            ),
        )
    })
}

/// Builds the recommendation. `version` is a Flink version (`2.3`, `1.20.1`).
pub fn recommend(w: &Workload, profile: Profile, version: &str) -> Result<Recommendation, TuneError> {
    let cat = Catalog::for_version(version)?;
    let r = w.resolve()?;
    let goal = profile.goal(w);
    let v2 = cat.version.starts_with("2.");
    let mut b = Builder { cat, config: BTreeMap::new(), reasons: Vec::new(), notes: Vec::new() };
    let p = format!("profile {profile}");
    let streaming = w.mode == Mode::Streaming;
    let stateful = w.is_stateful();

    // ── resources ────────────────────────────────────────────────────────────────────────
    b.set(
        &["taskmanager.memory.process.size"],
        size(r.taskmanager_memory),
        format!("workload.cluster.taskmanager_memory = {}", w.cluster.taskmanager_memory),
        "the TaskManager's whole budget; Flink derives heap, managed, network, metaspace and overhead from it",
        "the JVM is sized to fit the container/host and never grows past it",
    );
    b.set(
        &["taskmanager.numberOfTaskSlots"],
        r.slots.to_string(),
        match w.cluster.slots {
            Some(s) => format!("workload.cluster.slots = {s}"),
            None => format!("workload.cluster.cores = {}", w.cluster.cores),
        },
        "one slot per core: a slot runs one parallel pipeline (with slot sharing, one subtask of every operator)",
        "every core has a pipeline to run; no core runs two pipelines that compete for it",
    );
    let total_slots = r.slots.saturating_mul(w.cluster.taskmanagers).max(1);
    // Every slot, also behind a keyed exchange. With slot sharing a slot runs one subtask of
    // every stage, so a keyed job at parallelism = slots has two busy threads per core (the
    // sources with their chained operators, and the keyed operator). That is not a loss: the
    // two stages rarely cost the same, and at half the slots each stage is capped at one core
    // per two slots while the cheaper stage's core idles; at every slot the OS gives each core
    // to whichever stage has work. Measured here (docs/bench/ab-parallelism.md: 2 cores, 2
    // slots, the tuned config at p = 1 and p = 2 alternately, twice, at load averages of 7–20):
    // p = 2 ran 1.63× and 1.25× on the tumbling window, 2.60× and 1.18× on top-N, 0.94× and
    // 0.99× on the hopping window, 0.80× and 0.87× on the 1,000,000-key aggregation.
    let parallelism = total_slots;
    let keyed = streaming && stateful;
    b.set(
        &["parallelism.default"],
        parallelism.to_string(),
        format!("{} TaskManager(s) × {} slots{}", w.cluster.taskmanagers, r.slots, if keyed { ", a keyed (stateful) operator" } else { "" }),
        if keyed {
            "a keyed exchange makes two stages that run at once (sources with their chained operators, the keyed operator), and they rarely cost the same: at half the slots each stage gets at most one core per two slots and the cheaper stage's core idles; at every slot each core has a subtask of both stages and the OS scheduler gives it to whichever has work"
        } else if streaming {
            "no keyed exchange: sources and every operator chain into one task, one busy thread per slot; use every slot"
        } else {
            "batch stages run one after another, each with every slot"
        },
        if keyed { "all cores busy whichever stage is the bottleneck" } else { "every core processes records" },
    );
    if let Some(rps) = w.records_per_second {
        b.note(format!(
            "{rps} records/s over parallelism {parallelism} is {} records/s per subtask; run `flinkops autoscaler explain` on the running job to size each vertex from its measured rate",
            rps / u64::from(parallelism)
        ));
    }

    // ── state backend ────────────────────────────────────────────────────────────────────
    // Heap available to state with managed memory off: from the memory model itself.
    let mut probe = b.config.clone();
    probe.insert("taskmanager.memory.managed.fraction".into(), "0".into());
    let heap_probe = memory::taskmanager(&cat.version, &probe).map_err(|e| TuneError::Memory(e.to_string()))?;
    let state = if stateful && streaming { state_estimate(w, &r) } else { None };
    let join_rows = if stateful && streaming { large_join_state(w, &r) } else { None };
    let backend = if !stateful || !streaming {
        Backend::HashMap
    } else {
        let per_tm = state.as_ref().map(|(s, _)| s / u64::from(w.cluster.taskmanagers));
        let fits_heap = per_tm.is_some_and(|s| s.saturating_mul(HEAP_STATE_OVERHEAD) <= heap_probe.task_heap / 2);
        let disk_short = matches!((per_tm, r.local_disk), (Some(s), Some(d)) if s.saturating_mul(3) / 2 > d);
        if disk_short && v2 && cat.get("state.backend.forst.memory.managed").is_some() {
            Backend::ForSt
        } else if join_rows.is_some() || profile.prefers_rocksdb() || (per_tm.is_some() && !fits_heap) {
            Backend::RocksDb
        } else {
            Backend::HashMap
        }
    };
    if stateful && streaming {
        let (trigger, because) = match (&state, backend) {
            (_, Backend::RocksDb) if join_rows.is_some() => join_rows.clone().unwrap_or_default(),
            (Some((s, t)), Backend::HashMap) => (
                t.clone(),
                format!(
                    "{} of state per TaskManager, ×{HEAP_STATE_OVERHEAD} as heap objects, fits in half of the {} task heap",
                    approx(s / u64::from(w.cluster.taskmanagers)),
                    approx(heap_probe.task_heap)
                ),
            ),
            (None, Backend::HashMap) => (
                "workload: no state_size or key_cardinality".to_string(),
                "state assumed small; give state_size for a sized decision".to_string(),
            ),
            (Some((s, t)), Backend::RocksDb) if !profile.prefers_rocksdb() => (
                t.clone(),
                format!(
                    "{} of state per TaskManager does not fit on a {} task heap (×{HEAP_STATE_OVERHEAD} as objects): RocksDB keeps it serialized off-heap and on local disk",
                    approx(s / u64::from(w.cluster.taskmanagers)),
                    approx(heap_probe.task_heap)
                ),
            ),
            (_, Backend::RocksDb) => (p.clone(), "the memory-intensive profile keeps state in RocksDB: it spills to disk instead of failing with OutOfMemoryError".to_string()),
            (_, Backend::ForSt) => (
                format!("workload.cluster.local_disk = {}", w.cluster.local_disk.as_deref().unwrap_or_default()),
                "the state per TaskManager (×1.5 for compaction) exceeds the local disk: ForSt keeps state in the checkpoint file system and uses local disk as a cache".to_string(),
            ),
        };
        let (name, effect) = match backend {
            Backend::HashMap => ("hashmap", "state reads and writes are object accesses: no serialization per record"),
            Backend::RocksDb => ("rocksdb", "state is bounded by disk, not heap; no GC pressure from state"),
            Backend::ForSt => ("forst", "state is bounded by the remote file system; checkpoints reuse remote files"),
        };
        b.set(&["state.backend.type"], name, trigger, because, effect);
    }

    // ── managed memory, RocksDB ──────────────────────────────────────────────────────────
    match (streaming, backend) {
        (false, _) => b.set(
            &["taskmanager.memory.managed.fraction"],
            "0.6",
            "workload.mode = batch",
            "batch operators sort, hash-join and hash-aggregate in managed memory and spill to disk when it runs out",
            "fewer spills to disk in sorts, joins and aggregations",
        ),
        (true, Backend::HashMap) => {
            let uses_managed = w.api == Api::Datastream || w.sql.window_aggregations;
            if uses_managed {
                b.set(
                    &["taskmanager.memory.managed.fraction"],
                    "0.1",
                    if w.sql.window_aggregations { "workload.sql.window_aggregations" } else { "workload.api = datastream" },
                    "heap state needs no managed memory, but window aggregations buffer in it (and DataStream jobs may use it: Python, sorted inputs)",
                    "most of the 40 % managed default goes to the task heap that holds the state",
                )
            } else {
                b.set(
                    &["taskmanager.memory.managed.fraction"],
                    "0",
                    "state.backend.type = hashmap, streaming SQL",
                    "streaming SQL with heap state uses no managed memory (only RocksDB/ForSt, batch operators and window buffers do); Flink's default gives it 40 % of Flink memory",
                    "the task heap grows by the 40 %: room for heap state and less GC",
                )
            }
        }
        (true, Backend::RocksDb | Backend::ForSt) => {
            let family = if backend == Backend::ForSt { "forst" } else { "rocksdb" };
            let (fraction, why) = match (profile, w.access_pattern) {
                (Profile::MemoryIntensive, _) => ("0.6", "the memory-intensive profile gives state most of the memory (the seed's 4 GB of 8 GB, as a fraction)"),
                (_, AccessPattern::ReadHeavy) => ("0.5", "read-heavy state: a larger block cache keeps hot keys in memory"),
                _ => ("0.4", "RocksDB's block cache and write buffers live in managed memory"),
            };
            b.set(&["taskmanager.memory.managed.fraction"], fraction, format!("state.backend.type = {family}, workload.access_pattern = {:?}", w.access_pattern), why, "fewer reads from disk");
            if backend == Backend::RocksDb {
                b.set(
                    &["state.backend.rocksdb.memory.managed"],
                    "true",
                    "state.backend.type = rocksdb",
                    "one cache and write-buffer pool per slot, sized from managed memory (fixed block-cache/write-buffer sizes per column family overrun memory with many states)",
                    "RocksDB stays inside the TaskManager's budget: no container kills for memory",
                );
                let (ratio, why, effect) = match w.access_pattern {
                    AccessPattern::WriteHeavy => ("0.6", "write-heavy state: more of the shared memory for memtables", "fewer, larger flushes and less write stalling"),
                    AccessPattern::ReadHeavy => ("0.3", "read-heavy state: more of the shared memory for the block cache", "more reads served from memory"),
                    AccessPattern::Mixed => ("0.5", "mixed access: Flink's balance between memtables and cache", "-"),
                };
                if w.access_pattern != AccessPattern::Mixed {
                    b.set(&["state.backend.rocksdb.memory.write-buffer-ratio"], ratio, format!("workload.access_pattern = {:?}", w.access_pattern), why, effect);
                }
                if w.access_pattern != AccessPattern::WriteHeavy {
                    b.set(
                        &["state.backend.rocksdb.use-bloom-filter"],
                        "true",
                        format!("workload.access_pattern = {:?}", w.access_pattern),
                        "point reads of keys that are absent (first event of a key) otherwise read every level",
                        "a missing key costs one filter check instead of disk reads",
                    );
                }
                if w.access_pattern == AccessPattern::ReadHeavy {
                    b.set(
                        &["state.backend.rocksdb.memory.high-prio-pool-ratio"],
                        "0.2",
                        "workload.access_pattern = ReadHeavy",
                        "index and filter blocks are pinned in the high-priority part of the cache; read-heavy state reads them on every lookup",
                        "index/filter blocks stay cached",
                    );
                }
                if w.access_pattern == AccessPattern::WriteHeavy && w.cluster.cores > 2 {
                    b.set(
                        &["state.backend.rocksdb.thread.num"],
                        (w.cluster.cores / 2).max(2).to_string(),
                        format!("workload.access_pattern = WriteHeavy, workload.cluster.cores = {}", w.cluster.cores),
                        "background flush and compaction threads: write-heavy state compacts more",
                        "compaction keeps up, no write stalls",
                    );
                }
            }
        }
    }

    // ── network ──────────────────────────────────────────────────────────────────────────
    // Buffers a TaskManager needs: per slot and keyed exchange, an input gate of 2 exclusive
    // buffers per channel + 8 floating, and an output partition of ≥ parallelism + 1.
    let exchanges = u64::from(w.sql.group_aggregations)
        + u64::from(w.sql.window_aggregations)
        + 2 * u64::from(w.sql.regular_joins)
        + u64::from(w.sql.deduplication || w.sql.top_n)
        + u64::from(w.sql.distinct_aggregates);
    let exchanges = exchanges.max(1);
    // sized for the parallelism the slots allow, so a rescale up to every slot still fits
    let par = u64::from(total_slots);
    let segment = 32 * KB;
    let need = u64::from(r.slots) * exchanges * ((2 * par + 8) + (par + 1)) * segment;
    let mut net_probe = b.config.clone();
    net_probe.remove("taskmanager.memory.network.min");
    let net_default = memory::taskmanager(&cat.version, &net_probe).map_err(|e| TuneError::Memory(e.to_string()))?.network;
    if need > net_default {
        let min = (need + need / 4).div_ceil(MB) * MB;
        b.set(
            &["taskmanager.memory.network.min"],
            size(min),
            format!("parallelism {par}, {} slots, {exchanges} exchange(s)", r.slots),
            format!("{} slots × {exchanges} exchange(s) × (2×{par}+8 in + {par}+1 out) buffers × 32 kb = {} (+25 %), more than the default {}", r.slots, approx(need), approx(net_default)),
            "no 'insufficient number of network buffers' failure at deployment",
        );
        b.set(&["taskmanager.memory.network.max"], size(min.max(net_default)), "taskmanager.memory.network.min", "the maximum must not be below the minimum", "-");
    } else {
        b.note(format!("network memory: the default {} covers the {} the exchanges need", approx(net_default), approx(need)));
    }
    if streaming {
        match goal {
            Goal::Latency | Goal::Balanced => b.set(
                &["taskmanager.network.memory.buffer-debloat.enabled"],
                "true",
                format!("goal {goal:?}"),
                "sizes in-flight buffers to about 1 s of throughput instead of a fixed count",
                "less data queued in front of a slow operator: lower latency under backpressure and faster aligned checkpoints",
            ),
            Goal::Throughput => b.note("buffer debloating left off: with a throughput goal, full buffers per channel absorb bursts"),
        }
        if goal == Goal::Latency
            && let Some(t) = r.latency_target
        {
            let target = (t / 2).clamp(Duration::from_millis(50), Duration::from_secs(1));
            b.set(
                &["taskmanager.network.memory.buffer-debloat.target"],
                duration(target),
                format!("workload.latency_target = {}", w.latency_target.as_deref().unwrap_or_default()),
                "in-flight data per channel is sized to be consumed within this time; half the latency target (50 ms – 1 s)",
                "queueing delay bounded by the target",
            );
        }
        let timeout = match (goal, r.latency_target) {
            (Goal::Latency, Some(t)) => Some(((t / 20).clamp(Duration::from_millis(1), Duration::from_millis(50)), format!("workload.latency_target = {}", w.latency_target.as_deref().unwrap_or_default()))),
            (Goal::Latency, None) => Some((profile.buffer_timeout().unwrap_or(Duration::from_millis(5)), p.clone())),
            _ => None,
        };
        if let Some((t, trigger)) = timeout {
            b.set(
                &["execution.buffer-timeout.interval", "execution.buffer-timeout"],
                duration(t),
                trigger,
                "a network buffer is sent when full or after this time; Flink's 100 ms adds up to 100 ms per exchange at low rates",
                "records leave a task within this time even at low rates (at a small cost in throughput)",
            );
        }
    }

    // ── checkpointing ────────────────────────────────────────────────────────────────────
    if streaming {
        let (interval, trigger) = match r.checkpoint_interval {
            Some(i) => (i, format!("workload.checkpoint_interval = {}", w.checkpoint_interval.as_deref().unwrap_or_default())),
            None => (profile.checkpoint_interval(), p.clone()),
        };
        b.set(
            &["execution.checkpointing.interval"],
            duration(interval),
            trigger.clone(),
            "how much input is replayed after a failure, and how often exactly-once sinks commit",
            "recovery replays at most one interval; transactional sinks publish once per interval",
        );
        let exactly = w.delivery == Delivery::ExactlyOnce;
        b.set(
            &["execution.checkpointing.mode"],
            if exactly { "EXACTLY_ONCE" } else { "AT_LEAST_ONCE" },
            format!("workload.delivery = {:?}", w.delivery),
            if exactly { "state must reflect each record once after recovery" } else { "duplicates after recovery are acceptable" },
            if exactly { "consistent state and sinks after failures" } else { "no barrier alignment: checkpoints never hold back input" },
        );
        let pause = if goal == Goal::Latency { interval / 4 } else { interval / 2 };
        b.set(
            &["execution.checkpointing.min-pause"],
            duration(pause),
            trigger.clone(),
            "a checkpoint that runs long would otherwise be followed at once by the next: the job would do little but checkpoint",
            "at least this much processing time between two checkpoints",
        );
        // Time to write the state: full snapshots at ~100 MB/s per TaskManager (incremental
        // ones write less; the estimate is the worst case, the first checkpoint).
        if let Some((s, t)) = &state {
            let per_tm = s / u64::from(w.cluster.taskmanagers);
            let secs = per_tm / (100 * MB);
            let timeout = Duration::from_secs((secs * 3).max(600));
            if timeout > Duration::from_secs(600) {
                b.set(
                    &["execution.checkpointing.timeout"],
                    duration(timeout),
                    t.clone(),
                    format!("{} per TaskManager at ~100 MB/s takes ~{secs} s: 3× that, above Flink's 10 min", approx(per_tm)),
                    "the first (full) checkpoint of a large state is not aborted",
                );
            }
        }
        if exactly {
            let ac_timeout = if goal == Goal::Latency { Duration::from_secs(1) } else { Duration::from_secs(30) };
            b.set(
                &["execution.checkpointing.unaligned.enabled", "execution.checkpointing.unaligned"],
                "true",
                format!("workload.delivery = ExactlyOnce, goal {goal:?}"),
                "under backpressure, aligned barriers wait behind every queued buffer; unaligned barriers overtake them",
                "checkpoints complete under backpressure instead of timing out",
            );
            b.set(
                &["execution.checkpointing.aligned-checkpoint-timeout", "execution.checkpointing.alignment-timeout"],
                duration(ac_timeout),
                format!("goal {goal:?}"),
                "start aligned (no in-flight data stored) and switch to unaligned only when alignment takes longer than this",
                "small checkpoints without backpressure, completed checkpoints with it",
            );
        }
        if matches!(backend, Backend::RocksDb | Backend::ForSt) {
            b.set(
                &["execution.checkpointing.incremental", "state.backend.incremental"],
                "true",
                "state.backend.type = rocksdb/forst",
                "a checkpoint uploads only the SST files created since the last one",
                "checkpoint duration and size follow the change rate, not the state size",
            );
        }
    }

    // ── restarts ─────────────────────────────────────────────────────────────────────────
    let (initial, max) = if goal == Goal::Latency { (Duration::from_secs(1), Duration::from_secs(60)) } else { (Duration::from_secs(10), Duration::from_secs(120)) };
    b.set(
        &["restart-strategy.type", "restart-strategy"],
        "exponential-delay",
        p.clone(),
        "retries forever with growing pauses: a transient outage (a broker, the object store) needs no operator, a persistent one does not hammer it",
        "automatic recovery without restart storms",
    );
    b.set(&["restart-strategy.exponential-delay.initial-backoff"], duration(initial), format!("goal {goal:?}"), "the first retry comes quickly", "short outages cost seconds");
    b.set(&["restart-strategy.exponential-delay.max-backoff"], duration(max), format!("goal {goal:?}"), "upper bound of the pause between retries", "a long outage is retried at least this often");
    b.set(&["restart-strategy.exponential-delay.backoff-multiplier"], "2.0", p.clone(), "doubles the pause after each failure (the seed's value)", "-");
    b.set(&["restart-strategy.exponential-delay.jitter-factor"], "0.1", p.clone(), "spreads the retries of many jobs", "no thundering herd after a shared outage");

    // ── object reuse ─────────────────────────────────────────────────────────────────────
    match (w.api, w.object_reuse_safe) {
        (Api::Sql, _) => b.set(
            &["pipeline.object-reuse"],
            "true",
            "workload.api = sql",
            "chained operators hand records over by reference instead of deep copies; the SQL runtime never keeps or mutates its inputs",
            "one copy less per record and chained operator: less CPU and garbage",
        ),
        (Api::Datastream, true) => b.set(
            &["pipeline.object-reuse"],
            "true",
            "workload.object_reuse_safe = true",
            "your functions neither keep nor modify input records, so copies between chained operators are waste",
            "one copy less per record and chained operator",
        ),
        (Api::Datastream, false) => b.note("pipeline.object-reuse left off: set workload.object_reuse_safe if your functions neither keep nor modify their inputs"),
    }

    // ── SQL planner ──────────────────────────────────────────────────────────────────────
    if w.api == Api::Sql && streaming {
        sql_rules(&mut b, w, &r, goal, parallelism);
    }
    if w.api == Api::Sql && !streaming {
        b.set(
            &["execution.runtime-mode"],
            "BATCH",
            "workload.mode = batch",
            "bounded input: blocking exchanges, sort-based operators, no checkpoints",
            "stages run one after another with all slots, spilling instead of keeping state",
        );
    }
    if stateful && streaming && w.state_ttl.is_none() && w.api == Api::Sql && (w.sql.group_aggregations || w.sql.regular_joins) {
        b.note("no state_ttl: group aggregations and regular joins keep a key's state forever; set workload.state_ttl if old keys can be forgotten");
    }

    // ── the memory model must hold ───────────────────────────────────────────────────────
    let tm = fit_managed(&mut b)?;
    if backend == Backend::HashMap
        && stateful
        && streaming
        && let Some((s, _)) = &state
    {
        let per_tm = s / u64::from(w.cluster.taskmanagers);
        if per_tm.saturating_mul(HEAP_STATE_OVERHEAD) > tm.task_heap {
            b.remove("state.backend.type");
            return Err(TuneError::Memory(format!("{} of heap state per TaskManager does not fit a {} task heap", approx(per_tm), approx(tm.task_heap))));
        }
    }
    // ── garbage collector ────────────────────────────────────────────────────────────────
    if goal == Goal::Throughput {
        if tm.jvm_heap <= PARALLEL_GC_MAX_HEAP {
            b.set(
                &["env.java.opts.taskmanager"],
                PARALLEL_GC,
                format!("goal {goal:?}, JVM heap {} ≤ {}", approx(tm.jvm_heap), approx(PARALLEL_GC_MAX_HEAP)),
                "the parallel collector has no concurrent marking and cheaper write barriers than G1, the JVM's default; it pays with stop-the-world collections that grow with the live heap (add your own JVM flags to this value)",
                "more CPU for records, most where state lives on the heap (measured here, paired runs: group aggregation over 1,000,000 heap keys 1.9×, tumbling window 1.12×; docs/bench/ab-gc.md)",
            );
        } else {
            b.note(format!(
                "garbage collector left at G1: the parallel collector's full collections stop a {} JVM heap for long (> {} is not recommended here)",
                approx(tm.jvm_heap),
                approx(PARALLEL_GC_MAX_HEAP)
            ));
        }
    }
    Ok(Recommendation {
        flink_version: cat.version.clone(),
        profile,
        memory: MemoryLayout {
            process: tm.total_process,
            jvm_heap: tm.jvm_heap,
            task_heap: tm.task_heap,
            managed: tm.managed,
            network: tm.network,
            slots: tm.num_slots,
        },
        config: b.config,
        reasons: b.reasons,
        notes: b.notes,
    })
}

/// The largest TaskManager JVM heap the advisor gives the parallel collector: its full
/// collections stop the process for a time that grows with the live heap (an assumption, not
/// measured here: the benchmark's heaps are ~1.5 GB).
const PARALLEL_GC_MAX_HEAP: u64 = 8 * GB;

/// The TaskManager JVM option that selects the parallel collector (`env.java.opts.taskmanager`).
pub const PARALLEL_GC: &str = "-XX:+UseParallelGC";

/// The smallest task heap worth running a job with.
const MIN_TASK_HEAP: u64 = 256 * MB;

/// Computes the memory model; when the network buffers leave too little (an invalid model or a
/// task heap below 256 MB), lowers the managed fraction a tenth at a time and says so.
fn fit_managed(b: &mut Builder<'_>) -> Result<memory::TaskManagerMemory, TuneError> {
    const KEY: &str = "taskmanager.memory.managed.fraction";
    loop {
        let problem = match memory::taskmanager(&b.cat.version, &b.config) {
            Ok(tm) if tm.task_heap >= MIN_TASK_HEAP => return Ok(tm),
            Ok(tm) => format!("a task heap of {} (below {})", approx(tm.task_heap), approx(MIN_TASK_HEAP)),
            Err(e) => e.to_string(),
        };
        let current: f64 = b.config.get(KEY).and_then(|v| v.parse().ok()).unwrap_or(0.4);
        if current <= 0.0 {
            return Err(TuneError::Memory(problem));
        }
        let next = ((current * 10.0).round() - 1.0).max(0.0) / 10.0;
        let old = b.reasons.iter().find(|r| r.key == KEY).cloned();
        let value = if next == 0.0 { "0".to_string() } else { format!("{next}") };
        let (trigger, because, effect) = match old {
            Some(r) => (r.trigger, r.because, r.expected_effect),
            None => ("Flink's default 0.4".to_string(), "managed memory".to_string(), "-".to_string()),
        };
        let because = match because.find("; lowered") {
            Some(i) => because[..i].to_string(),
            None => because,
        };
        b.set(
            &[KEY],
            value,
            trigger,
            format!("{because}; lowered from {current} because {problem}: network buffers and a {} task heap must fit the TaskManager", size(MIN_TASK_HEAP)),
            effect,
        );
    }
}

/// `table.exec.mini-batch.size` the advisor sets.
const MINI_BATCH_SIZE: u32 = 5000;
/// Mini-batch only when a key repeats at least this often in a batch.
const MINI_BATCH_MIN_REPEATS: f64 = 2.0;

fn sql_rules(b: &mut Builder<'_>, w: &Workload, r: &Resolved, goal: Goal, parallelism: u32) {
    let s = &w.sql;
    // Mini-batch: buffers input per key for a short time and updates state once per key and
    // batch. Helps unbounded aggregations, deduplication and regular joins; window TVF
    // aggregations batch by themselves and Top-N has no mini-batch operator.
    let batchable = s.group_aggregations || s.distinct_aggregates || s.regular_joins || s.deduplication;
    let latency = match goal {
        Goal::Throughput => Some(Duration::from_secs(2)),
        Goal::Balanced => Some(Duration::from_secs(1)),
        Goal::Latency => r.latency_target.filter(|t| *t >= Duration::from_millis(400)).map(|t| t / 4),
    };
    // Keys must repeat within a batch for it to save anything: a subtask sees
    // key_cardinality / parallelism keys, and a batch holds MINI_BATCH_SIZE records.
    let repeats = w.key_cardinality.map(|k| MINI_BATCH_SIZE as f64 * f64::from(parallelism) / k.max(1) as f64);
    let repeating = repeats.is_none_or(|x| x >= MINI_BATCH_MIN_REPEATS);
    let mini_batch = batchable && latency.is_some() && repeating;
    if batchable && latency.is_some() && !repeating {
        b.note(format!(
            "mini-batch left off: {} keys over parallelism {parallelism} repeat {:.2} times in a batch of {MINI_BATCH_SIZE} records (< {MINI_BATCH_MIN_REPEATS}): batching would buffer and copy records without merging state accesses (measured here on 1,000,000 keys: the benchmark's mini-batch step ran 9–34 % slower in 6 of 8 runs over three suites, docs/bench/README.md)",
            w.key_cardinality.unwrap_or_default(),
            repeats.unwrap_or_default()
        ));
    }
    if let (true, Some(lat)) = (mini_batch, latency) {
        let what = [
            (s.group_aggregations, "group aggregations"),
            (s.distinct_aggregates, "distinct aggregates"),
            (s.regular_joins, "regular joins"),
            (s.deduplication, "deduplication"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ");
        let trigger = format!("workload.sql: {what}");
        b.set(
            &["table.exec.mini-batch.enabled"],
            "true",
            trigger.clone(),
            "records are buffered and state is read and written once per key and batch instead of once per record",
            "far fewer state accesses and fewer update records downstream when keys repeat within a batch",
        );
        b.set(
            &["table.exec.mini-batch.allow-latency"],
            duration(lat),
            format!("goal {goal:?}"),
            "how long a batch may wait; bounds the latency mini-batch adds",
            "batches large enough to merge repeated keys",
        );
        b.set(
            &["table.exec.mini-batch.size"],
            MINI_BATCH_SIZE.to_string(),
            trigger,
            "the most records a batch holds (Flink requires a positive size with mini-batch on); bounds the heap a batch takes",
            "a batch is flushed at 5000 records or at the latency bound, whichever is first",
        );
    } else if batchable && latency.is_none() {
        b.note("mini-batch left off: the latency target is below 400 ms (a batch would take a large share of it)");
    }
    let low_cardinality = w.key_cardinality.is_some_and(|k| k <= 10_000 * u64::from(parallelism));
    if (s.group_aggregations || s.distinct_aggregates) && mini_batch {
        // Mini-batch is on only where keys repeat within a batch (above), which is where a
        // local aggregation before the shuffle pays.
        match (w.key_cardinality, repeats) {
            (Some(k), Some(x)) => b.set(
                &["table.optimizer.agg-phase-strategy"],
                "TWO_PHASE",
                format!("workload.key_cardinality = {k}"),
                format!("each key repeats ~{x:.0} times in a batch: a local aggregation in the source's task merges them before the shuffle"),
                "the shuffle and the global aggregation see one record per key and batch instead of one per input record",
            ),
            _ => b.note("table.optimizer.agg-phase-strategy left at AUTO: give key_cardinality to choose one or two phases"),
        }
    }
    if s.distinct_aggregates && low_cardinality {
        b.set(
            &["table.optimizer.distinct-agg.split.enabled"],
            "true",
            format!("workload.sql.distinct_aggregates, key_cardinality = {}", w.key_cardinality.unwrap_or_default()),
            "COUNT(DISTINCT) over few group keys puts all distinct values of a hot key on one subtask; the split spreads them over buckets first",
            "hot group keys no longer bottleneck one subtask",
        );
    }
    if let Some(ttl) = r.state_ttl {
        b.set(
            &["table.exec.state.ttl"],
            duration(ttl),
            format!("workload.state_ttl = {}", w.state_ttl.as_deref().unwrap_or_default()),
            "state of a key idle for longer is dropped (aggregations, joins, deduplication)",
            "state stops growing with the number of keys ever seen",
        );
    }
    time_zone_rule(b, w, r);
}

/// The session time zone. Flink's window operators convert each record's timer timestamp
/// through the session zone's rules unless the zone is the id `UTC` itself (TimeWindowUtil);
/// `Etc/UTC`, the JVM default of most container images, is the same zone but takes the slow path.
fn time_zone_rule(b: &mut Builder<'_>, w: &Workload, r: &Resolved) {
    match (r.time_zone, w.time_zone.as_deref()) {
        (Some(Zone::Utc), Some(z)) => b.set(
            &["table.local-time-zone"],
            "UTC",
            format!("workload.time_zone = {z}"),
            format!("`{z}` has offset 0 at every instant, and Flink's window operators skip the time-zone conversion of each record's timer only for the zone id `UTC`"),
            "the same windows and results with less CPU per record in processing-time windows (measured here with JFR: the conversion took 3–10 % of the TaskManager's samples; the throughput of paired runs moved within this machine's noise; docs/bench/README.md)",
        ),
        (Some(Zone::Other), Some(z)) => b.set(
            &["table.local-time-zone"],
            z,
            format!("workload.time_zone = {z}"),
            "pins the session zone: window boundaries, CURRENT_TIMESTAMP and TIMESTAMP_LTZ conversions no longer depend on the JVM default zone of the cluster that runs the job",
            "the same results on every cluster",
        ),
        _ if w.sql.window_aggregations => b.note(
            "no time_zone: Flink takes the JVM default zone of the cluster; if it is `Etc/UTC` or `GMT` (the default of most container images), set workload.time_zone to it and the advisor sets `table.local-time-zone: UTC`, which spares processing-time windows a time-zone conversion per record",
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
