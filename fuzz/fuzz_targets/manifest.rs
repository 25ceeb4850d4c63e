//! Fuzz target: Kubernetes manifests (FlinkDeployment, FlinkSessionJob, ConfigMaps holding a
//! Flink config), through `parse_manifest_docs` and `load_bytes` with the manifest hint. Never
//! panics.
#![no_main]

use flinkops_config::model::{Hint, load_bytes, parse_manifest_docs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = load_bytes("deploy.yaml", data, Hint::Manifest);
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(docs) = parse_manifest_docs("deploy.yaml", text) {
        for d in &docs {
            for e in &d.entries {
                assert!(!e.key.is_empty(), "empty key in {:?}", d.resource);
            }
        }
    }
});
