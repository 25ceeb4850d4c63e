//! The memory model against Flink's own calculator.
//!
//! * `memory_model_matches_flink_differentially`: thousands of deterministic random TaskManager
//!   and JobManager configurations (fractions, min/max bounds, explicit fine-grained sizes,
//!   deprecated and legacy keys, invalid combinations, odd units and spellings) computed by the
//!   Rust model and by `tools/memory-oracle` (BashJavaUtils' own code in one JVM) for Flink
//!   1.20.3 and 2.3.0; JVM flags, dynamic configs and accept/reject must all agree. The value
//!   parsers (memory sizes, durations, floats, doubles, ints, longs, booleans, `Double.toString`)
//!   are compared the same way.
//! * `oracle_is_bash_java_utils`: on a sample, the oracle prints exactly what a real
//!   `BashJavaUtils` process prints, so the oracle is Flink's calculator.
//! * `memory_command_*`: the `flinkops memory` command end to end.
//!
//! The Flink jars must be in `$FLINKOPS_HOME/flink/<version>` (scripts/test.sh installs them); a
//! missing jar fails these tests, it never skips them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use flinkops_config::memory;
use flinkops_config::units;
use serde_json::Value;

use super::support::{flinkops, require_flink, test_home};

/// The versions compared by default (CI installs these); `FLINKOPS_MEMORY_ORACLE_VERSIONS`
/// (space-separated) selects others, e.g. every version from 1.18.1 to 2.3.0.
const DEFAULT_VERSIONS: &str = "1.20.3 2.3.0";
const TM_CASES: usize = 14_000;
const JM_CASES: usize = 6_000;
const UNIT_CASES: usize = 6_000;

fn versions() -> Vec<String> {
    std::env::var("FLINKOPS_MEMORY_ORACLE_VERSIONS")
        .unwrap_or_else(|_| DEFAULT_VERSIONS.to_string())
        .split_whitespace()
        .map(str::to_string)
        .collect()
}
const SEED: u64 = 0x5EED_F11A_0000_0003;

// ---------------------------------------------------------------------------------------------
// The oracle

fn oracle_source() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/memory-oracle/MemoryOracle.java")
}

/// Compiles the oracle (once, cached under `$FLINKOPS_HOME/cache/memory-oracle/<hash>`).
fn oracle_classes() -> PathBuf {
    let src = std::fs::read(oracle_source()).expect("tools/memory-oracle/MemoryOracle.java is readable");
    let hash = src.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
    let dir = test_home().join("cache").join("memory-oracle").join(format!("{hash:016x}"));
    if !dir.join("MemoryOracle.class").is_file() {
        let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
        std::fs::create_dir_all(&tmp).expect("create oracle cache dir");
        let out = Command::new("javac")
            .arg("-d")
            .arg(&tmp)
            .arg(oracle_source())
            .output()
            .expect("javac must be on PATH (Java 17 JDK) to build the memory oracle");
        assert!(out.status.success(), "javac failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let _ = std::fs::rename(&tmp, &dir);
        let _ = std::fs::remove_dir_all(&tmp);
    }
    dir
}

/// An empty configuration directory in the layout `version` expects.
fn conf_dir(version: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("temp dir");
    let file = if version.starts_with("1.") { "flink-conf.yaml" } else { "config.yaml" };
    std::fs::write(d.path().join(file), "").expect("write empty config");
    d
}

fn flink_classpath(flink: &Path, version: &str) -> String {
    format!("{}:{}", flink.join("bin/bash-java-utils.jar").display(), flink.join(format!("lib/flink-dist-{version}.jar")).display())
}

/// Runs the oracle on `lines` (JSON objects) and returns one JSON answer per line.
fn run_oracle(version: &str, lines: &[String]) -> Vec<Value> {
    let flink = require_flink(version);
    let classes = oracle_classes();
    let conf = conf_dir(version);
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(format!("{}:{}", classes.display(), flink_classpath(&flink, version)))
        .arg("MemoryOracle")
        .arg(conf.path())
        .env_remove("FLINK_TM_HEAP")
        .env_remove("FLINK_JM_HEAP")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("java must be on PATH to run the memory oracle");
    let mut stdin = child.stdin.take().expect("oracle stdin");
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let writer = std::thread::spawn(move || {
        stdin.write_all(input.as_bytes()).expect("write to oracle");
    });
    let stdout = child.stdout.take().expect("oracle stdout");
    let answers: Vec<Value> = BufReader::new(stdout)
        .lines()
        .map(|l| serde_json::from_str(&l.expect("read oracle")).expect("oracle answers JSON"))
        .collect();
    writer.join().expect("oracle writer");
    let status = child.wait().expect("oracle exits");
    assert!(status.success(), "memory oracle for Flink {version} failed: {status}");
    assert_eq!(answers.len(), lines.len(), "the oracle answered {} of {} lines", answers.len(), lines.len());
    answers
}

// ---------------------------------------------------------------------------------------------
// Deterministic random configurations

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const MB: u64 = 1 << 20;

/// Renders `bytes` in one of Flink's spellings (only exact ones).
fn spell(r: &mut Rng, bytes: u64) -> String {
    let ws = |r: &mut Rng| if r.chance(10) { " " } else { "" }.to_string();
    let (a, b) = (ws(r), ws(r));
    let mut options: Vec<String> = vec![format!("{bytes}"), format!("{bytes}b"), format!("{bytes} bytes")];
    for (mult, units) in [
        (1u64 << 10, &["k", "kb", "KB", "kibibytes"][..]),
        (1 << 20, &["m", "mb", "MB", "M", "mebibytes"][..]),
        (1 << 30, &["g", "gb", "GB", "Gibibytes"][..]),
        (1 << 40, &["t", "tb", "tebibytes"][..]),
    ] {
        if bytes.is_multiple_of(mult) {
            for u in units {
                options.push(format!("{} {u}", bytes / mult));
                options.push(format!("{}{u}", bytes / mult));
            }
        }
    }
    format!("{a}{}{b}", r.pick(&options))
}

fn size_in(r: &mut Rng, lo_mb: u64, hi_mb: u64) -> String {
    let bytes = if r.chance(70) { (lo_mb + r.below(hi_mb - lo_mb + 1)) * MB } else { lo_mb * MB + r.below((hi_mb - lo_mb + 1) * MB) };
    spell(r, bytes)
}

fn size(r: &mut Rng) -> String {
    match r.below(100) {
        0..=54 => {
            let mb = *r.pick(&[0, 1, 16, 32, 64, 100, 128, 192, 256, 384, 512, 768, 1000, 1024, 1280, 1536, 1600, 1728, 2048, 3072, 4096, 8192, 16384]);
            spell(r, mb * MB)
        }
        55..=74 => size_in(r, 0, 8192),
        75..=84 => {
            let bytes = r.below(64 << 30);
            spell(r, bytes)
        }
        85..=91 => r.pick(&["0", "0b", "8388607t", "9223372036854775807", "1t", "007m", "1 t", "4611686018427387904", "3000000000m"]).to_string(),
        _ => r.pick(&["1.5g", "-1m", "abc", "1 mib", "99999999999999999999", "8388608t", "m", "1m b", "1e3m", "0x10m", "1,5g", "2 gigabytes"]).to_string(),
    }
}

fn fraction(r: &mut Rng) -> String {
    match r.below(100) {
        0..=49 => {
            let digits = 1 + r.below(9) as usize;
            let n = r.below(10u64.pow(digits as u32));
            format!("0.{n:0digits$}")
        }
        50..=69 => r
            .pick(&[
                "0", "0.1", "0.4", "0.25", "0.5", "0.7", "0.9", "0.99", "0.99999994", "0.99999997", "0.999999999", "1e-3", "5E-2",
                ".3", "0.3f", "0.3D", " 0.2 ", "0x1p-3", "+0.1", "0.15", "0.05", "0.0", "1.0e-1", "2.5e-1F", "0x.4p0",
            ])
            .to_string(),
        70..=84 => {
            let f = (r.below(1 << 24) as f32) / (1u32 << 24) as f32;
            if r.chance(50) { format!("{f:e}") } else { format!("{f}") }
        }
        _ => r.pick(&["1", "1.0", "-0.1", "NaN", "Infinity", "abc", "0,5", "1e", "50%", "2", "-0", "1e-46", "0x1p0"]).to_string(),
    }
}

fn cpu(r: &mut Rng) -> String {
    r.pick(&[
        "1", "2", "0.5", "1.5", "4.0", "8", "0", "-1", "1e-9", "0.000000019", "1e300", "NaN", "Infinity", "abc", "3f", "0x1p1", "  2 ", "0.1",
        "0.123456789", "1234567.5", "12345678", "0.001", "0.0009", "1e7", "2.675",
    ])
    .to_string()
}

fn slots(r: &mut Rng) -> String {
    r.pick(&["1", "2", "4", "8", "16", "3", "0", "-3", "2147483647", "2147483648", "x", " 2", "+3", "٣", "2.0", "１２"]).to_string()
}

fn boolean(r: &mut Rng) -> String {
    r.pick(&["true", "false", "TRUE", "False", "yes", "no", "1", "on", " true", "tRuE"]).to_string()
}

type Cfg = BTreeMap<String, String>;

fn tm_config(r: &mut Rng) -> Cfg {
    let mut c = Cfg::new();
    let put = |c: &mut Cfg, k: &str, v: String| {
        c.insert(k.to_string(), v);
    };
    let plan = r.below(100);
    match plan {
        0..=34 => put(&mut c, "taskmanager.memory.process.size", size_in(r, 512, 16384)),
        35..=54 => put(&mut c, "taskmanager.memory.flink.size", size_in(r, 256, 16384)),
        55..=66 => {
            put(&mut c, "taskmanager.memory.task.heap.size", size_in(r, 0, 4096));
            put(&mut c, "taskmanager.memory.managed.size", size_in(r, 0, 4096));
            if r.chance(30) {
                put(&mut c, "taskmanager.memory.flink.size", size_in(r, 256, 8192));
            }
            if r.chance(30) {
                put(&mut c, "taskmanager.memory.process.size", size_in(r, 512, 8192));
            }
        }
        67..=76 => {
            // Consistent explicit configuration: all parts add up.
            let fh = 128 * MB;
            let fo = 128 * MB;
            let th = r.below(4096) * MB;
            let to = if r.chance(50) { r.below(512) * MB } else { 0 };
            let managed = r.below(4096) * MB;
            let network = (64 + r.below(1024)) * MB;
            let flink = fh + fo + th + to + managed + network;
            put(&mut c, "taskmanager.memory.task.heap.size", spell(r, th));
            put(&mut c, "taskmanager.memory.managed.size", spell(r, managed));
            if to > 0 {
                put(&mut c, "taskmanager.memory.task.off-heap.size", spell(r, to));
            }
            if r.chance(70) {
                put(&mut c, "taskmanager.memory.flink.size", spell(r, flink));
            } else {
                put(&mut c, "taskmanager.memory.network.min", spell(r, network));
                put(&mut c, "taskmanager.memory.network.max", spell(r, network));
            }
            if r.chance(50) {
                let overhead = (192 + r.below(832)) * MB;
                put(&mut c, "taskmanager.memory.process.size", spell(r, flink + 256 * MB + overhead));
            }
        }
        77..=86 => {
            // Flink 1.x legacy keys (plain, unknown keys in 2.x).
            match r.below(3) {
                0 => put(&mut c, "taskmanager.heap.size", size_in(r, 256, 8192)),
                1 => put(&mut c, "taskmanager.heap.mb", r.pick(&["1024", "512", "-1", "x", "2048", "3000"]).to_string()),
                _ => put(&mut c, "taskmanager.memory.process.size", size_in(r, 512, 8192)),
            }
            if r.chance(60) {
                put(&mut c, "taskmanager.network.numberOfBuffers", r.pick(&["2048", "4096", "1000", "0", "-1", "65536", "x", "2147483647"]).to_string());
            }
            if r.chance(25) {
                put(&mut c, "taskmanager.memory.segment-size", r.pick(&["32kb", "4kb", "64kb", "1mb", "2kb", "3000", "48kb", "4g", "1gb"]).to_string());
            }
        }
        _ => {
            for k in ["taskmanager.memory.process.size", "taskmanager.memory.flink.size", "taskmanager.memory.task.heap.size", "taskmanager.memory.managed.size"] {
                if r.chance(40) {
                    put(&mut c, k, size(r));
                }
            }
        }
    }
    // Extras, each with a small probability.
    let sizes = [
        "taskmanager.memory.framework.heap.size",
        "taskmanager.memory.framework.off-heap.size",
        "taskmanager.memory.task.off-heap.size",
        "taskmanager.memory.network.min",
        "taskmanager.memory.network.max",
        "taskmanager.memory.jvm-metaspace.size",
        "taskmanager.memory.jvm-overhead.min",
        "taskmanager.memory.jvm-overhead.max",
        "taskmanager.network.memory.min",
        "taskmanager.network.memory.max",
        "taskmanager.memory.size",
        "taskmanager.memory.task.heap.size",
        "taskmanager.memory.managed.size",
    ];
    for k in sizes {
        if r.chance(7) {
            let v = if r.chance(70) { size_in(r, 0, 2048) } else { size(r) };
            put(&mut c, k, v);
        }
    }
    for k in [
        "taskmanager.memory.managed.fraction",
        "taskmanager.memory.network.fraction",
        "taskmanager.memory.jvm-overhead.fraction",
        "taskmanager.network.memory.fraction",
    ] {
        if r.chance(12) {
            put(&mut c, k, fraction(r));
        }
    }
    if r.chance(12) {
        put(&mut c, "taskmanager.cpu.cores", cpu(r));
    }
    if r.chance(12) {
        put(&mut c, "taskmanager.numberOfTaskSlots", slots(r));
    }
    if r.chance(4) {
        put(&mut c, "taskmanager.network.numberOfBuffers", r.pick(&["2048", "1000", "x"]).to_string());
    }
    if r.chance(4) {
        let list = r.pick(&["gpu", "gpu;fpga", "[gpu, fpga]", "none", " gpu ; x", "gpu;;x", "'a;b';c", "fpga;gpu;tpu;x;y", "[]", "'gpu"]);
        put(&mut c, "external-resources", list.to_string());
        for name in ["gpu", "fpga", "x", "a;b", "c", "tpu", "y"] {
            if r.chance(70) {
                let amount = r.pick(&["1", "2", "0", "-1", "9007199254740993", "x", "4", "123456789"]);
                put(&mut c, &format!("external-resource.{name}.amount"), amount.to_string());
            }
        }
    }
    c
}

fn jm_config(r: &mut Rng) -> Cfg {
    let mut c = Cfg::new();
    let put = |c: &mut Cfg, k: &str, v: String| {
        c.insert(k.to_string(), v);
    };
    match r.below(100) {
        0..=39 => put(&mut c, "jobmanager.memory.process.size", size_in(r, 512, 16384)),
        40..=59 => put(&mut c, "jobmanager.memory.flink.size", size_in(r, 64, 16384)),
        60..=74 => {
            put(&mut c, "jobmanager.memory.heap.size", size_in(r, 64, 8192));
            if r.chance(40) {
                put(&mut c, "jobmanager.memory.flink.size", size_in(r, 128, 8192));
            }
            if r.chance(30) {
                put(&mut c, "jobmanager.memory.process.size", size_in(r, 512, 8192));
            }
        }
        75..=84 => {
            let heap = (64 + r.below(8192)) * MB;
            let off = r.below(1024) * MB;
            put(&mut c, "jobmanager.memory.heap.size", spell(r, heap));
            put(&mut c, "jobmanager.memory.off-heap.size", spell(r, off));
            put(&mut c, "jobmanager.memory.flink.size", spell(r, heap + off));
            if r.chance(50) {
                let process = heap + off + (256 + 192 + r.below(832)) * MB;
                put(&mut c, "jobmanager.memory.process.size", spell(r, process));
            }
        }
        85..=92 => match r.below(2) {
            0 => put(&mut c, "jobmanager.heap.size", size_in(r, 64, 8192)),
            _ => put(&mut c, "jobmanager.heap.mb", r.pick(&["1024", "512", "-1", "x", "2048", "0"]).to_string()),
        },
        _ => {
            for k in ["jobmanager.memory.process.size", "jobmanager.memory.flink.size", "jobmanager.memory.heap.size"] {
                if r.chance(40) {
                    put(&mut c, k, size(r));
                }
            }
        }
    }
    for k in [
        "jobmanager.memory.off-heap.size",
        "jobmanager.memory.jvm-metaspace.size",
        "jobmanager.memory.jvm-overhead.min",
        "jobmanager.memory.jvm-overhead.max",
        "jobmanager.memory.heap.size",
    ] {
        if r.chance(8) {
            let v = if r.chance(70) { size_in(r, 0, 2048) } else { size(r) };
            put(&mut c, k, v);
        }
    }
    if r.chance(12) {
        put(&mut c, "jobmanager.memory.jvm-overhead.fraction", fraction(r));
    }
    if r.chance(15) {
        put(&mut c, "jobmanager.memory.enable-jvm-direct-memory-limit", boolean(r));
    }
    c
}

// ---------------------------------------------------------------------------------------------
// Comparison

#[derive(Debug, PartialEq)]
enum Outcome {
    Accepted { jvm: String, dynamic: String },
    Rejected(String),
}

fn oracle_outcome(v: &Value) -> Outcome {
    if v["ok"].as_bool() == Some(true) {
        Outcome::Accepted {
            jvm: v["jvm"].as_str().unwrap_or_default().to_string(),
            dynamic: v["dynamic"].as_str().unwrap_or_default().to_string(),
        }
    } else {
        Outcome::Rejected(v["error"].as_str().unwrap_or_default().to_string())
    }
}

fn pairs_of(dynamic: &str) -> BTreeSet<String> {
    dynamic.split(" -D ").map(|p| p.trim_start_matches("-D ").to_string()).collect()
}

fn rust_outcome(process: &str, version: &str, cfg: &Cfg) -> Outcome {
    let line = |jvm: Vec<String>, dynamic: Vec<(String, String)>| Outcome::Accepted {
        jvm: jvm.join(" "),
        dynamic: dynamic.iter().map(|(k, v)| format!("-D {k}={v}")).collect::<Vec<_>>().join(" "),
    };
    if process == "tm" {
        match memory::taskmanager(version, cfg) {
            Ok(m) => line(m.jvm_args(), m.dynamic_configs()),
            Err(e) => Outcome::Rejected(e.to_string()),
        }
    } else {
        match memory::jobmanager(version, cfg) {
            Ok(m) => line(m.jvm_args(), m.dynamic_configs()),
            Err(e) => Outcome::Rejected(e.to_string()),
        }
    }
}

fn config_line(process: &str, cfg: &Cfg) -> String {
    let mut obj = serde_json::Map::new();
    obj.insert("@op".into(), Value::String(process.into()));
    for (k, v) in cfg {
        obj.insert(k.clone(), Value::String(v.clone()));
    }
    Value::Object(obj).to_string()
}

#[derive(Default)]
struct Tally {
    cases: usize,
    accepted: usize,
    mismatches: usize,
    order_mismatches: usize,
    examples: Vec<String>,
}

impl Tally {
    fn record(&mut self, what: &str, input: &str, rust: &Outcome, flink: &Outcome) {
        self.cases += 1;
        let same = match (rust, flink) {
            (Outcome::Rejected(_), Outcome::Rejected(_)) => true,
            (Outcome::Accepted { jvm: rj, dynamic: rd }, Outcome::Accepted { jvm: fj, dynamic: fd }) => {
                self.accepted += 1;
                if rj == fj && pairs_of(rd) == pairs_of(fd) {
                    if rd != fd {
                        self.order_mismatches += 1;
                    }
                    true
                } else {
                    false
                }
            }
            _ => false,
        };
        if !same {
            self.mismatches += 1;
            if self.examples.len() < 15 {
                self.examples.push(format!("{what} {input}\n    rust:  {rust:?}\n    flink: {flink:?}"));
            }
        }
    }
}

#[test]
fn memory_model_matches_flink_differentially() {
    let started = Instant::now();
    let mut r = Rng(SEED);
    let tm: Vec<Cfg> = (0..TM_CASES).map(|_| tm_config(&mut r)).collect();
    let jm: Vec<Cfg> = (0..JM_CASES).map(|_| jm_config(&mut r)).collect();
    let mut lines: Vec<String> = tm.iter().map(|c| config_line("tm", c)).collect();
    lines.extend(jm.iter().map(|c| config_line("jm", c)));

    let mut failed = Vec::new();
    for version in versions() {
        let version = version.as_str();
        let answers = run_oracle(version, &lines);
        let mut t = Tally::default();
        let cases = tm.iter().map(|c| ("tm", c)).chain(jm.iter().map(|c| ("jm", c)));
        for ((process, cfg), answer) in cases.zip(&answers) {
            let flink = oracle_outcome(answer);
            let rust = rust_outcome(process, version, cfg);
            t.record(process, &config_line(process, cfg), &rust, &flink);
        }
        eprintln!(
            "memory differential, Flink {version}: {} cases ({TM_CASES} TaskManager + {JM_CASES} JobManager), {} accepted, {} rejected, {} mismatches, {} dynamic-config order differences",
            t.cases,
            t.accepted,
            t.cases - t.accepted,
            t.mismatches,
            t.order_mismatches
        );
        for e in &t.examples {
            eprintln!("  MISMATCH {e}");
        }
        if t.mismatches > 0 || t.order_mismatches > 0 {
            failed.push(format!("Flink {version}: {} mismatches, {} order differences", t.mismatches, t.order_mismatches));
        }
        assert!(t.accepted * 5 > t.cases, "too few accepted cases for a meaningful comparison");
        assert!((t.cases - t.accepted) * 10 > t.cases, "too few rejected cases for a meaningful comparison");
    }
    eprintln!("memory differential took {:.1?}", started.elapsed());
    assert!(failed.is_empty(), "the Rust memory model disagrees with Flink: {failed:?}");
}

// ---------------------------------------------------------------------------------------------
// Value parsers against Flink's Configuration

fn unit_value(r: &mut Rng, op: &str) -> String {
    let any = |r: &mut Rng| -> String {
        let alphabet: Vec<char> = "0123456789 .-+eExXpPfFdDabcdmkgtbsinuhµyMBKGT_,\t٣１".chars().collect();
        (0..r.below(8)).map(|_| *r.pick(&alphabet)).collect()
    };
    match op {
        "memory" => if r.chance(70) { size(r) } else { any(r) },
        "duration" => {
            if r.chance(60) {
                let unit = r.pick(&[
                    "", "ms", "s", "sec", "secs", "second", "seconds", "min", "m", "minute", "minutes", "h", "hour", "hours", "d", "day", "days",
                    "ns", "nano", "nanos", "nanosecond", "nanoseconds", "µs", "micro", "micros", "microsecond", "microseconds", "milli", "millis",
                    "millisecond", "milliseconds", "us", "MIN", "S", "Ms", "w", "y",
                ]);
                let n = r.pick(&["0", "1", "10", "500", "3600", "86400", "9223372036854775807", "106751991167300", "106751991167301", "99999999999999999999", "007"]);
                let ws = if r.chance(30) { " " } else { "" };
                format!("{n}{ws}{unit}")
            } else if r.chance(50) {
                r.pick(&["PT1S", "PT1M30S", "pt1.5s", "P1DT1H", "-PT1S", "PT-1S", "PT", "P", "P2D", "PT0.000000001S", "PT1,5S", "+PT10M", "P1W", "PT1H-30M"]).to_string()
            } else {
                any(r)
            }
        }
        "float" | "double" => if r.chance(60) { fraction(r) } else if r.chance(50) { cpu(r) } else { any(r) },
        "int" | "long" => if r.chance(60) { slots(r) } else { any(r) },
        "bool" => if r.chance(60) { boolean(r) } else { any(r) },
        _ => {
            // dtoa over the doubles the model prints or multiplies by: widened f32 fractions,
            // f/(1-f) for inverse fractions (< 1.7e7), and ordinary magnitudes below 1e10. Java 17
            // prints some doubles of 1e13 and more with a different 17th digit, or with 18
            // digits; Rust prints the shortest, closest form, as Java 19+ does. Checked
            // separately: no widened f32 fraction and no f/(1-f) of one is affected.
            let f = f64::from((r.below(1 << 24) as f32) / (1u32 << 24) as f32);
            let d = match r.below(4) {
                0 => f,
                1 => f / (1.0 - f),
                2 => f64::from_bits((r.next() & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000) * 10f64.powi(r.below(13) as i32 - 3),
                _ => return cpu(r),
            };
            format!("{d:e}")
        }
    }
}

fn rust_unit(op: &str, version: &str, v: &str) -> Result<String, String> {
    let e = |e: units::UnitError| e.to_string();
    match op {
        "memory" => units::parse_memory_size(v).map(|b| b.to_string()).map_err(e),
        "duration" => units::parse_duration_with(units::DurationRules::for_version(version).unwrap_or(units::DurationRules::Flink2_1), v)
            .map(|d| format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
            .map_err(e),
        "float" => units::parse_java_float(v).map(|f| format!("{:x}", f.to_bits())).map_err(e),
        "double" => units::parse_java_double(v).map(|f| format!("{:x}", f.to_bits())).map_err(e),
        "int" => units::parse_java_int(v).map(|i| i.to_string()).map_err(e),
        "long" => units::parse_java_long(v).map(|i| i.to_string()).map_err(e),
        "bool" => units::parse_bool(v).map(|b| b.to_string()).map_err(e),
        _ => units::parse_java_double(v).map(units::java_double_to_string).map_err(e),
    }
}

#[test]
fn value_parsers_match_flink() {
    let ops = ["memory", "duration", "float", "double", "int", "long", "bool", "dtoa"];
    let mut r = Rng(SEED ^ 0xFACE);
    let cases: Vec<(&str, String)> = (0..UNIT_CASES)
        .map(|_| {
            let op = *r.pick(&ops);
            (op, unit_value(&mut r, op))
        })
        .collect();
    let lines: Vec<String> = cases.iter().map(|(op, v)| serde_json::json!({"@op": op, "@value": v}).to_string()).collect();
    let mut failed = Vec::new();
    for version in versions() {
        let version = version.as_str();
        let answers = run_oracle(version, &lines);
        let mut mismatches = Vec::new();
        for ((op, v), a) in cases.iter().zip(&answers) {
            let flink = if a["ok"].as_bool() == Some(true) { Ok(a["value"].as_str().unwrap_or_default().to_string()) } else { Err(()) };
            let rust = rust_unit(op, version, v);
            let same = match (&rust, &flink) {
                (Ok(x), Ok(y)) => x == y,
                (Err(_), Err(_)) => true,
                _ => false,
            };
            if !same {
                mismatches.push(format!("{op} {v:?}: rust {rust:?}, flink {flink:?} ({})", a["error"]));
            }
        }
        eprintln!("value parsers, Flink {version}: {} cases, {} mismatches", cases.len(), mismatches.len());
        for m in mismatches.iter().take(15) {
            eprintln!("  MISMATCH {m}");
        }
        if !mismatches.is_empty() {
            failed.push(version.to_string());
        }
    }
    assert!(failed.is_empty(), "value parsers disagree with Flink for {failed:?}");
}

// ---------------------------------------------------------------------------------------------
// The oracle is BashJavaUtils

/// What a real `BashJavaUtils` process prints: `Ok([jvm, dynamic])` or `Err` when it fails.
fn real_bash_java_utils(version: &str, process: &str, cfg: &Cfg) -> Result<(String, String), String> {
    let flink = require_flink(version);
    let conf = conf_dir(version);
    let mut cmd = Command::new("java");
    cmd.arg("-cp")
        .arg(flink_classpath(&flink, version))
        .arg("org.apache.flink.runtime.util.bash.BashJavaUtils")
        .arg(if process == "tm" { "GET_TM_RESOURCE_PARAMS" } else { "GET_JM_RESOURCE_PARAMS" })
        .arg("--configDir")
        .arg(conf.path())
        .env_remove("FLINK_TM_HEAP")
        .env_remove("FLINK_JM_HEAP");
    for (k, v) in cfg {
        cmd.arg("-D").arg(format!("{k}={v}"));
    }
    let out = cmd.output().expect("java must be on PATH");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix(memory::BASH_JAVA_UTILS_PREFIX)).collect();
    if out.status.success() && results.len() == 2 {
        Ok((results[0].to_string(), results[1].to_string()))
    } else {
        Err(format!("exit {}", out.status))
    }
}

#[test]
fn oracle_is_bash_java_utils() {
    const SAMPLE: usize = 25; // per version: 50 real BashJavaUtils runs in all
    let mut r = Rng(SEED ^ 0xBA5E);
    let mut cases: Vec<(&str, Cfg)> = Vec::new();
    while cases.len() < SAMPLE {
        let process = if cases.len() % 3 == 2 { "jm" } else { "tm" };
        let cfg = if process == "tm" { tm_config(&mut r) } else { jm_config(&mut r) };
        cases.push((process, cfg));
    }
    let lines: Vec<String> = cases.iter().map(|(p, c)| config_line(p, c)).collect();
    for version in versions() {
        let version = version.as_str();
        let answers = run_oracle(version, &lines);
        let mut accepted = 0;
        for ((process, cfg), a) in cases.iter().zip(&answers) {
            let real = real_bash_java_utils(version, process, cfg);
            match (&real, oracle_outcome(a)) {
                (Ok((jvm, dynamic)), Outcome::Accepted { jvm: oj, dynamic: od }) => {
                    assert_eq!((jvm, dynamic), (&oj, &od), "Flink {version} {process} {cfg:?}");
                    accepted += 1;
                }
                (Err(_), Outcome::Rejected(_)) => {}
                (real, oracle) => panic!("Flink {version} {process} {cfg:?}: BashJavaUtils {real:?} but oracle {oracle:?}"),
            }
        }
        eprintln!("oracle vs real BashJavaUtils, Flink {version}: {SAMPLE} configs identical ({accepted} accepted)");
    }
}

// ---------------------------------------------------------------------------------------------
// The command

#[test]
fn memory_command_prints_bash_java_utils_lines() {
    let out = flinkops()
        .args(["memory", "tm", "--flink-version", "2.3", "-D", "taskmanager.memory.process.size=1728m", "--format", "bash-java-utils"])
        .output()
        .expect("run flinkops");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0],
        "BASH_JAVA_UTILS_EXEC_RESULT:-Xmx536870902 -Xms536870902 -XX:MaxDirectMemorySize=268435458 -XX:MaxMetaspaceSize=268435456"
    );
    assert!(lines[1].starts_with("BASH_JAVA_UTILS_EXEC_RESULT:-D taskmanager.memory.network.min=134217730b"));
}

#[test]
fn memory_command_json_and_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("config.yaml");
    std::fs::write(&file, "jobmanager:\n  memory:\n    process.size: 2g\n").expect("write config");
    let out = flinkops().args(["memory", "jm", "--config"]).arg(&file).args(["-o", "json"]).output().expect("run flinkops");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["memory"]["total_process"], 2u64 << 30);
    assert!(v["jvm_args"].as_array().is_some_and(|a| a.len() == 3));

    let out = flinkops().args(["memory", "tm", "-D", "taskmanager.memory.process.size=4g"]).output().expect("run flinkops");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    for needle in ["Total Process Memory", "Managed", "Network", "JVM Metaspace", "4.000gb", "█"] {
        assert!(table.contains(needle), "missing {needle} in\n{table}");
    }
}

#[test]
fn memory_command_rejects_invalid_configs_with_flinks_reason() {
    let out = flinkops()
        .args(["memory", "tm", "-D", "taskmanager.memory.process.size=1g", "-D", "taskmanager.memory.flink.size=2g"])
        .output()
        .expect("run flinkops");
    assert_eq!(out.status.code(), Some(2), "invalid config is bad input (exit 2)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Total Process Memory"), "{stderr}");

    let out = flinkops().args(["memory", "jm"]).output().expect("run flinkops");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("jobmanager.memory.process.size"));
}
