//! Test support: the flinkops binary with the test home, clusters that are always stopped by
//! pid (also when the test binary dies), and small polling helpers.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The home the tests use: `$FLINKOPS_HOME` (scripts/test.sh sets it), else target/test-home.
pub fn test_home() -> PathBuf {
    std::env::var_os("FLINKOPS_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-home"))
}

/// The flinkops binary under test, with the test home and JSON-free defaults.
pub fn flinkops() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("flinkops").expect("the flinkops binary is built");
    c.env("FLINKOPS_HOME", test_home()).env_remove("FLINKOPS_OUTPUT").env_remove("FLINK_HOME").env_remove("FLINKOPS_REST");
    c.timeout(Duration::from_secs(300));
    c
}

/// Runs flinkops with `-o json` and parses stdout; panics with stderr when it fails.
pub fn flinkops_json(args: &[&str]) -> Value {
    let out = flinkops().args(args).args(["-o", "json"]).output().expect("run flinkops");
    assert!(out.status.success(), "flinkops {args:?} failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("flinkops {args:?}: stdout is not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)))
}

/// Asserts that Flink `version` is installed in the test home (scripts/test.sh installs it).
pub fn require_flink(version: &str) -> PathBuf {
    let p = test_home().join("flink").join(version);
    assert!(
        p.join("lib").join(format!("flink-dist-{version}.jar")).is_file(),
        "Flink {version} is not installed in {}: run `FLINKOPS_HOME={} flinkops flink install {version}` (scripts/test.sh does)",
        test_home().display(),
        test_home().display()
    );
    p
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A local cluster started for a test. Dropping it runs `local down`; a watchdog process also
/// kills its processes by pid if the test binary dies first.
pub struct TestCluster {
    pub name: String,
    pub rest_url: String,
}

impl TestCluster {
    /// `flinkops local up --name NAME --rest-port <free> …extra`.
    pub fn start(name_prefix: &str, version: &str, extra: &[&str]) -> TestCluster {
        require_flink(version);
        let name = format!("{name_prefix}-{}", std::process::id());
        let port = free_port().to_string();
        let mut args = vec!["local", "up", "--name", &name, "--rest-port", &port, "--flink-version", version];
        args.extend_from_slice(extra);
        let v = flinkops_json(&args);
        let rest_url = v["cluster"]["rest_url"].as_str().expect("rest_url").to_string();
        let c = TestCluster { name, rest_url };
        c.watchdog();
        c
    }

    pub fn dir(&self) -> PathBuf {
        test_home().join("clusters").join(&self.name)
    }

    pub fn pids(&self) -> Vec<u32> {
        std::fs::read_dir(self.dir().join("pids"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok()?.trim().parse().ok())
            .collect()
    }

    /// Kills this cluster's processes (by pid) once the test process is gone.
    pub fn watchdog(&self) {
        let pids: Vec<String> = self.pids().iter().map(|p| p.to_string()).collect();
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 1; done; kill {p} 2>/dev/null; sleep 10; kill -9 {p} 2>/dev/null",
            me = std::process::id(),
            p = pids.join(" ")
        );
        let _ = Command::new("sh").arg("-c").arg(script).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn();
    }

    /// GET a Flink REST path and parse it.
    pub fn get(&self, path: &str) -> Value {
        http_get_json(&format!("{}{path}", self.rest_url))
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let _ = flinkops().args(["local", "down", "--name", &self.name, "--timeout", "20"]).output();
    }
}

static SHARED: OnceLock<TestCluster> = OnceLock::new();

/// One Flink 2.3 session cluster shared by the tests that only submit jobs to it
/// (2 TaskManagers × 4 slots). Its processes are killed by the watchdog when the binary exits.
pub fn shared_cluster() -> &'static TestCluster {
    SHARED.get_or_init(|| TestCluster::start("it-shared", "2.3.0", &["--taskmanagers", "2", "--slots", "4"]))
}

/// A tiny blocking HTTP GET for JSON (no client crate needed in tests: we shell out to the
/// REST client under test only through the binary).
pub fn http_get_json(url: &str) -> Value {
    let out = Command::new("curl").args(["-sS", "--max-time", "10", url]).output().expect("curl");
    assert!(out.status.success(), "GET {url}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Polls `f` every 500 ms until it returns Some or `timeout` passes.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Writes a SQL script to a temp file.
pub fn sql_file(dir: &tempfile::TempDir, name: &str, sql: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, sql).expect("write sql");
    p
}

/// GET that returns None when nothing answers (for asserting that a server is gone).
pub fn http_get_ok(url: &str) -> Option<String> {
    let out = Command::new("curl").args(["-sS", "--max-time", "3", url]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).to_string())
}

/// A small checkpointed stateful job; `name` keeps jobs of different tests apart.
pub fn counting_sql(name: &str) -> String {
    format!(
        "SET 'pipeline.name' = '{name}';\n\
         SET 'execution.checkpointing.interval' = '1 s';\n\
         CREATE TABLE src (k INT, v BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '200', 'fields.k.min' = '1', 'fields.k.max' = '50');\n\
         CREATE TABLE snk (k INT, c BIGINT, s BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'blackhole');\n\
         INSERT INTO snk SELECT k, COUNT(*), SUM(v) FROM src GROUP BY k;\n"
    )
}

/// A job's state as Flink reports it (`RUNNING`, `FINISHED`…).
pub fn job_state(c: &TestCluster, id: &str) -> String {
    c.get(&format!("/jobs/{id}"))["state"].as_str().unwrap_or_default().to_string()
}

/// How many checkpoints of a job completed.
pub fn completed_checkpoints(c: &TestCluster, id: &str) -> u64 {
    c.get(&format!("/jobs/{id}/checkpoints"))["counts"]["completed"].as_u64().unwrap_or(0)
}
