//! Fuzz target: the memory model on arbitrary values for the memory keys. It never panics, and
//! an accepted TaskManager's components add up to its totals.
#![no_main]

use std::collections::BTreeMap;

use flinkops_config::memory::{jobmanager, taskmanager};
use libfuzzer_sys::fuzz_target;

const KEYS: [&str; 24] = [
    "taskmanager.memory.process.size",
    "taskmanager.memory.flink.size",
    "taskmanager.memory.task.heap.size",
    "taskmanager.memory.managed.size",
    "taskmanager.memory.managed.fraction",
    "taskmanager.memory.network.min",
    "taskmanager.memory.network.max",
    "taskmanager.memory.network.fraction",
    "taskmanager.memory.framework.heap.size",
    "taskmanager.memory.task.off-heap.size",
    "taskmanager.memory.jvm-overhead.fraction",
    "taskmanager.cpu.cores",
    "taskmanager.numberOfTaskSlots",
    "taskmanager.heap.size",
    "taskmanager.network.numberOfBuffers",
    "taskmanager.memory.segment-size",
    "external-resources",
    "external-resource.gpu.amount",
    "jobmanager.memory.process.size",
    "jobmanager.memory.flink.size",
    "jobmanager.memory.heap.size",
    "jobmanager.memory.off-heap.size",
    "jobmanager.memory.jvm-overhead.fraction",
    "jobmanager.heap.mb",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // "index=value" lines pick keys from KEYS.
    let mut cfg = BTreeMap::new();
    for line in text.lines() {
        if let Some((i, v)) = line.split_once('=') {
            if let Ok(i) = i.parse::<usize>() {
                cfg.insert(KEYS[i % KEYS.len()].to_string(), v.to_string());
            }
        }
    }
    for version in ["1.20", "2.3"] {
        if let Ok(m) = taskmanager(version, &cfg) {
            assert_eq!(m.total_flink, m.jvm_heap + m.jvm_direct + m.managed);
            assert_eq!(m.total_process, m.total_flink + m.jvm_metaspace + m.jvm_overhead);
            let _ = (m.jvm_args(), m.dynamic_configs(), m.bash_java_utils_output());
        }
        if let Ok(m) = jobmanager(version, &cfg) {
            assert_eq!(m.total_process, m.jvm_heap + m.off_heap + m.jvm_metaspace + m.jvm_overhead);
            let _ = (m.jvm_args(), m.dynamic_configs());
        }
    }
});
