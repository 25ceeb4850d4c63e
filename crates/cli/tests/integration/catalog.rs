//! The committed option catalogs are what the generator makes from Flink's own jars: regenerates
//! the 2.3 catalog from `$FLINKOPS_HOME/flink/2.3.0` with `tools/catalog-gen/generate.sh` and
//! compares it byte for byte with `crates/config/catalogs/flink-2.3.json`.

use std::path::PathBuf;
use std::process::Command;

use crate::support;

#[test]
fn flink_2_3_catalog_regenerates_byte_for_byte() {
    support::require_flink("2.3.0");
    let javac = Command::new("javac").arg("-version").output();
    assert!(
        javac.as_ref().is_ok_and(|o| o.status.success()),
        "the catalog generator needs a JDK 17 (javac, jar, java) on PATH: {javac:?}"
    );
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().expect("temp dir");
    let run = Command::new("bash")
        .arg(repo.join("tools/catalog-gen/generate.sh"))
        .arg("2.3.0")
        .env("FLINKOPS_HOME", support::test_home())
        .env("OUT_DIR", out.path())
        .output()
        .expect("run tools/catalog-gen/generate.sh");
    assert!(
        run.status.success(),
        "tools/catalog-gen/generate.sh 2.3.0 failed ({}):\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let fresh = std::fs::read(out.path().join("flink-2.3.json")).expect("generated flink-2.3.json");
    let committed = std::fs::read(repo.join("crates/config/catalogs/flink-2.3.json"))
        .expect("committed catalog");
    if fresh != committed {
        let (f, c) = (
            String::from_utf8_lossy(&fresh),
            String::from_utf8_lossy(&committed),
        );
        let first = f.lines().zip(c.lines()).position(|(a, b)| a != b);
        let line = |s: &str, n: Option<usize>| {
            n.and_then(|n| s.lines().nth(n))
                .unwrap_or("(end)")
                .to_string()
        };
        panic!(
            "crates/config/catalogs/flink-2.3.json differs from what the generator makes \
             ({} vs {} bytes); first differing line {:?}:\n  generated: {}\n  committed: {}\n\
             regenerate with `FLINKOPS_HOME=… tools/catalog-gen/generate.sh` (docs/catalogs.md)",
            fresh.len(),
            committed.len(),
            first.map(|n| n + 1),
            line(&f, first),
            line(&c, first),
        );
    }
}
