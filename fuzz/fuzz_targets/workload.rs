//! Fuzz target: reading a `flinkops tune --workload` file (`Workload::from_text`, YAML or JSON)
//! and tuning from it. Never panics; a workload it accepts resolves (every size and duration
//! parses), and a recommendation for it, when there is one, gives every key a reason and a
//! memory layout with the TaskManager size the workload asked for.
#![no_main]

use flinkops_tune::{Profile, Workload, recommend};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(w) = Workload::from_text("workload.yaml", text) else {
        return;
    };
    let resolved = w
        .resolve()
        .expect("from_text accepted a workload that does not resolve");
    // Tuning is pure but not free: huge clusters only exercise the same arithmetic.
    if w.cluster.taskmanagers > 64
        || w.cluster.cores > 256
        || w.cluster.slots.is_some_and(|s| s > 256)
    {
        return;
    }
    for version in ["2.3", "1.20"] {
        let Ok(r) = recommend(&w, Profile::for_workload(&w), version) else {
            continue;
        };
        for k in r.config.keys() {
            assert!(r.reasons.iter().any(|x| &x.key == k), "{k} has no reason");
        }
        assert_eq!(
            r.memory.process, resolved.taskmanager_memory,
            "process size differs from the workload's"
        );
    }
});
