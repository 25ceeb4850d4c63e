//! `flinkops spec schema`, `validate` and `render` end to end: the enterprise example's rendered
//! output for every environment against golden files (`UPDATE_GOLDEN=1` rewrites them), bad
//! specs (every problem listed with position, nothing written), and a real Prometheus scraping
//! a real local Flink cluster with the rendered local config and rules until an alert fires.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{TestCluster, flinkops, free_port, http_get_ok, sql_file, wait_for};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/golden/render")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn render_to(spec: &str, env: &str, out: &Path) -> std::process::Output {
    flinkops().args(["render", "--spec", spec, "--env", env, "--out-dir"]).arg(out).current_dir(repo()).output().expect("run flinkops render")
}

#[test]
fn enterprise_example_renders_to_the_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for env in ["production", "staging", "development"] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join(env);
        let o = render_to("examples/enterprise/flinkops.yaml", env, &out);
        assert!(o.status.success(), "render {env} failed:\n{}", String::from_utf8_lossy(&o.stderr));
        let golden = golden_dir().join("enterprise").join(env);
        if update {
            let _ = std::fs::remove_dir_all(&golden);
            for f in files_under(&out) {
                let dst = golden.join(&f);
                std::fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
                std::fs::copy(out.join(&f), &dst).expect("copy");
            }
            continue;
        }
        let got = files_under(&out);
        let want = files_under(&golden);
        assert_eq!(got, want, "{env}: rendered files differ from golden/render/enterprise/{env} (UPDATE_GOLDEN=1 rewrites)");
        for f in got {
            let a = std::fs::read_to_string(out.join(&f)).expect("read rendered");
            let b = std::fs::read_to_string(golden.join(&f)).expect("read golden");
            assert!(a == b, "{env}/{}: differs from the golden file (UPDATE_GOLDEN=1 rewrites); rendered:\n{a}", f.display());
        }
    }
}

#[test]
fn validate_accepts_the_examples() {
    for spec in ["examples/enterprise/flinkops.yaml", "examples/local/flinkops.yaml"] {
        let o = flinkops().args(["validate", "--spec", spec, "-o", "json"]).current_dir(repo()).output().expect("run");
        assert!(o.status.success(), "{spec}: {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(v["errors"], 0, "{v:#}");
    }
}

#[test]
fn schema_is_printed() {
    let o = flinkops().args(["spec", "schema"]).output().expect("run");
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).expect("schema is JSON");
    assert_eq!(v["$defs"]["Environment"]["additionalProperties"], Value::Bool(false));
    assert!(v["properties"]["environments"].is_object());
}

#[test]
fn bad_spec_lists_every_problem_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spec = tmp.path().join("flinkops.yaml");
    std::fs::write(
        &spec,
        "platform: demo\nenvironments:\n  prod:\n    target: kubernetes\n    namespace: flink-prod\n    flinkVersion: \"2.3\"\n    taskManagr: {slots: 2}\n    jobManager: {cpu: 1000m}\njobs:\n  app:\n    jar: local:///opt/app.jar\n    environments: [prd]\nalerting:\n  channels:\n    pd:\n      pagerduty: {routingKey: abc123}\n",
    )
    .expect("write spec");
    let out = tmp.path().join("out");
    let o = flinkops().args(["render", "--spec"]).arg(&spec).args(["--env", "prod", "--out-dir"]).arg(&out).output().expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    let f = spec.display().to_string();
    for want in [
        format!("{f}:7:5: error: unknown field `taskManagr`"),
        "did you mean `taskManager`?".to_string(),
        format!("{f}:8:23: error: expected a number"),
        "write `1`".to_string(),
        format!("{f}:16:31: error: `alerting.channels.pd.pagerduty.routingKey` holds a secret written inline"),
    ] {
        assert!(err.contains(&want), "missing `{want}` in:\n{err}");
    }
    assert!(!err.contains("abc123"), "the secret must not be echoed:\n{err}");
    assert!(!out.exists(), "nothing may be written");
    // Fix the syntax: now the semantic problems show, still all at once, still nothing written.
    let text = std::fs::read_to_string(&spec).expect("read").replace("taskManagr", "taskManager").replace("cpu: 1000m", "cpu: 1").replace("routingKey: abc123", "routingKey: {file: /etc/pd}");
    std::fs::write(&spec, text).expect("write");
    let o = flinkops().args(["render", "--spec"]).arg(&spec).args(["--env", "prod", "--out-dir"]).arg(&out).output().expect("run");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    for want in ["supports Flink up to 2.2", "unknown environment `prd`", "did you mean `prod`?"] {
        assert!(err.contains(want), "missing `{want}` in:\n{err}");
    }
    assert!(!out.exists(), "nothing may be written");
    let o = flinkops().args(["render", "--spec"]).arg(&spec).args(["--env", "staging", "--out-dir"]).arg(&out).output().expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no environment `staging`"));
}

/// A Prometheus process, stopped by pid when dropped (also when the test fails).
struct Prometheus {
    child: Child,
    url: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prometheus_binary() -> PathBuf {
    let p = PathBuf::from("/usr/bin/prometheus");
    assert!(p.is_file(), "`prometheus` is not installed: run `apt-get install -y prometheus` (.ci/run installs it)");
    p
}

/// The ports the cluster's Prometheus reporters bound (from its JobManager/TaskManager logs).
fn reporter_ports(c: &TestCluster) -> Vec<u16> {
    let mut ports = Vec::new();
    for e in std::fs::read_dir(c.dir().join("log")).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        for line in text.lines() {
            if let Some(rest) = line.split("Started PrometheusReporter HTTP server on port ").nth(1)
                && let Ok(p) = rest.trim_end_matches('.').trim().parse()
            {
                ports.push(p);
            }
        }
    }
    ports.sort();
    ports.dedup();
    ports
}

fn alerts(url: &str) -> Vec<Value> {
    http_get_ok(&format!("{url}/api/v1/alerts"))
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["data"]["alerts"].as_array().cloned())
        .unwrap_or_default()
}

/// End to end: the rendered local scrape config and rules in a real Prometheus, scraping a real
/// Flink cluster. The job runs (no alert), is cancelled, and `FlinkJobNotRunning` fires.
#[test]
fn rendered_rules_fire_on_a_real_cluster() {
    let prom = prometheus_binary();
    let cluster = TestCluster::start("it-render", "2.3.0", &["--taskmanagers", "1", "--slots", "2"]);
    let ports = wait_for("the Prometheus reporters to start", Duration::from_secs(30), || {
        let p = reporter_ports(&cluster);
        (p.len() >= 2).then_some(p)
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let sql = sql_file(
        &tmp,
        "job.sql",
        "SET 'pipeline.name' = 'e2e-job';\nSET 'execution.checkpointing.interval' = '2 s';\nCREATE TABLE s (x INT) WITH ('connector' = 'datagen', 'rows-per-second' = '10');\nCREATE TABLE k (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO k SELECT x FROM s;\n",
    );
    let targets: Vec<String> = ports.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect();
    let spec = tmp.path().join("flinkops.yaml");
    std::fs::write(
        &spec,
        format!(
            "platform: e2e\nenvironments:\n  local:\n    target: local\n    flinkVersion: \"2.3\"\n    taskManager: {{slots: 2}}\n    checkpointing: {{interval: 2s}}\n    metrics: {{targets: [{}], scrapeInterval: 1s, evaluationInterval: 1s}}\n    alerts:\n      FlinkJobNotRunning: {{for: 2s}}\njobs:\n  e2e-job:\n    sql: job.sql\n    upgradeMode: stateless\n",
            targets.join(", ")
        ),
    )
    .expect("write spec");
    let out = tmp.path().join("out");
    let o = flinkops().args(["render", "--spec"]).arg(&spec).args(["--env", "local", "--out-dir"]).arg(&out).output().expect("render");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let port = free_port();
    let data = tmp.path().join("tsdb");
    let child = Command::new(prom)
        .arg(format!("--config.file={}", out.join("prometheus/prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(tmp.path().join("prometheus.log")).expect("log file")))
        .spawn()
        .expect("start prometheus");
    let p = Prometheus { child, url: format!("http://127.0.0.1:{port}") };
    wait_for("Prometheus to be ready", Duration::from_secs(60), || http_get_ok(&format!("{}/-/ready", p.url)));

    // Submit the job; once it runs and is scraped, FlinkJobNotRunning must not be firing.
    let v = crate::support::flinkops_json(&["job", "submit", "--rest", &cluster.rest_url, "--sql", &sql.display().to_string()]);
    let job_id = v["job_id"].as_str().or_else(|| v["job"]["id"].as_str()).unwrap_or_else(|| panic!("job id in {v}")).to_string();
    wait_for("the job's uptime in Prometheus", Duration::from_secs(90), || {
        let q = http_get_ok(&format!("{}/api/v1/query?query=flink_jobmanager_job_uptime%7Bjob_name%3D%22e2e_job%22%7D%3E0", p.url))?;
        let v: Value = serde_json::from_str(&q).ok()?;
        (!v["data"]["result"].as_array()?.is_empty()).then_some(())
    });
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !alerts(&p.url).iter().any(|a| a["labels"]["alertname"] == "FlinkJobNotRunning" && a["state"] == "firing"),
        "FlinkJobNotRunning fires while the job runs: {:?}",
        alerts(&p.url)
    );

    // Break it: cancel the job. Its metrics vanish and the alert fires.
    let o = flinkops().args(["job", "cancel", "--rest", &cluster.rest_url, &job_id]).output().expect("cancel");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fired = wait_for("FlinkJobNotRunning to fire", Duration::from_secs(120), || {
        alerts(&p.url).into_iter().find(|a| a["labels"]["alertname"] == "FlinkJobNotRunning" && a["state"] == "firing")
    });
    assert_eq!(fired["labels"]["job_name"], "e2e_job", "{fired:#}");
    assert_eq!(fired["labels"]["severity"], "critical");
    assert_eq!(fired["annotations"]["runbook_url"], "docs/runbooks/FlinkJobNotRunning.md");
    drop(p);
    drop(cluster);
}
