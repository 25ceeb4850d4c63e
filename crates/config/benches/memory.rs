//! Benchmark: the in-process memory model vs. one `BashJavaUtils` JVM (what Flink's scripts run
//! before every TaskManager / JobManager start). Std timing, medians of repeated samples, and
//! the ratio measured in the same run:
//!
//! ```text
//! FLINKOPS_HOME=... cargo bench -p flinkops-config --bench memory
//! ```
//!
//! Without `$FLINKOPS_HOME/flink/<version>` (or `java`), only the Rust side is measured.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use flinkops_config::memory;

const VERSION: &str = "2.3.0";

fn configs() -> Vec<(&'static str, BTreeMap<String, String>)> {
    let c = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
    vec![
        ("tm", c(&[("taskmanager.memory.process.size", "1728m")])),
        ("tm", c(&[("taskmanager.memory.flink.size", "4g"), ("taskmanager.memory.managed.fraction", "0.3")])),
        ("tm", c(&[("taskmanager.memory.task.heap.size", "2g"), ("taskmanager.memory.managed.size", "1g"), ("taskmanager.numberOfTaskSlots", "4")])),
        ("tm", c(&[("taskmanager.memory.process.size", "16g"), ("taskmanager.memory.network.fraction", "0.15"), ("taskmanager.cpu.cores", "2.5")])),
        ("jm", c(&[("jobmanager.memory.process.size", "1600m")])),
        ("jm", c(&[("jobmanager.memory.heap.size", "2g"), ("jobmanager.memory.enable-jvm-direct-memory-limit", "true")])),
    ]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One pass over all configs, computing sizes, JVM flags and dynamic configs.
fn rust_pass(cfgs: &[(&str, BTreeMap<String, String>)]) -> usize {
    let mut n = 0;
    for (p, c) in cfgs {
        if *p == "tm" {
            let m = memory::taskmanager(VERSION, black_box(c)).expect("valid config");
            n += m.jvm_args().len() + m.dynamic_configs().len();
        } else {
            let m = memory::jobmanager(VERSION, black_box(c)).expect("valid config");
            n += m.jvm_args().len() + m.dynamic_configs().len();
        }
    }
    n
}

fn main() {
    let cfgs = configs();
    // Rust: 21 samples of 2,000 passes; time per single computation.
    let passes = 2_000u32;
    let mut samples = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        for _ in 0..passes {
            black_box(rust_pass(&cfgs));
        }
        samples.push(t.elapsed() / (passes * cfgs.len() as u32));
    }
    let rust = median(samples);
    println!("in-process memory model: median {rust:?} per computation (sizes + JVM flags + dynamic configs)");

    let home = std::env::var_os("FLINKOPS_HOME").map(PathBuf::from);
    let flink = home.map(|h| h.join("flink").join(VERSION)).filter(|f| f.join(format!("lib/flink-dist-{VERSION}.jar")).is_file());
    let Some(flink) = flink else {
        println!("BashJavaUtils: skipped (no Flink {VERSION} under $FLINKOPS_HOME/flink)");
        return;
    };
    let conf = std::env::temp_dir().join(format!("flinkops-bench-{}", std::process::id()));
    std::fs::create_dir_all(&conf).expect("temp conf dir");
    std::fs::write(conf.join("config.yaml"), "").expect("config.yaml");
    let cp = format!("{}:{}", flink.join("bin/bash-java-utils.jar").display(), flink.join(format!("lib/flink-dist-{VERSION}.jar")).display());
    let mut jvm = Vec::new();
    for i in 0..9 {
        let (p, c) = &cfgs[i % cfgs.len()];
        let mut cmd = Command::new("java");
        cmd.arg("-cp").arg(&cp).arg("org.apache.flink.runtime.util.bash.BashJavaUtils");
        cmd.arg(if *p == "tm" { "GET_TM_RESOURCE_PARAMS" } else { "GET_JM_RESOURCE_PARAMS" }).arg("--configDir").arg(&conf);
        for (k, v) in c {
            cmd.arg("-D").arg(format!("{k}={v}"));
        }
        let t = Instant::now();
        let out = cmd.output().expect("run java");
        let took = t.elapsed();
        assert!(out.status.success(), "BashJavaUtils failed: {}", String::from_utf8_lossy(&out.stderr));
        jvm.push(took);
    }
    let _ = std::fs::remove_dir_all(&conf);
    let jvm = median(jvm);
    println!("one BashJavaUtils JVM (Flink {VERSION}): median {jvm:?}");
    println!("ratio: the in-process model is {:.0}x faster", jvm.as_secs_f64() / rust.as_secs_f64());
}
