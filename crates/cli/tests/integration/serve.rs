//! `flinkops serve` against a real local Flink 2.3 that serve itself starts and supervises:
//! deploy, periodic savepoints with retention that deletes files, upgrade through a savepoint,
//! a failing upgrade rolled back from the same savepoint, conflicts, suspend/resume, recovery
//! after a JobManager kill -9 (and from the previous checkpoint when the newest `_metadata` is
//! corrupt), a kill -9 of serve in the middle of an upgrade, and exactly-once output across
//! recoveries.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{flinkops, free_port, require_flink, test_home, wait_for};

/// A serve process owned by a test: SIGTERM then SIGKILL on drop, and its local cluster stopped
/// (a watchdog also kills the cluster's processes by pid if the test binary dies).
pub struct Serve {
    pub child: Option<Child>,
    pub url: String,
    pub token_file: PathBuf,
    pub spec: PathBuf,
    pub store: PathBuf,
    pub cluster: String,
    pub log: PathBuf,
    port: u16,
}

impl Serve {
    pub fn start(spec: &Path, cluster: &str, dir: &Path) -> Serve {
        Serve::start_with_store(spec, cluster, dir, &dir.join("store").display().to_string())
    }

    /// Like [`Serve::start`] with a store location (`postgres://…`, a directory or `sqlite://…`).
    pub fn start_with_store(spec: &Path, cluster: &str, dir: &Path, store: &str) -> Serve {
        require_flink("2.3.0");
        let token_file = dir.join("token");
        std::fs::write(&token_file, "it-token-0123456789").expect("token");
        let port = free_port();
        let mut s = Serve {
            child: None,
            url: format!("http://127.0.0.1:{port}"),
            token_file,
            spec: spec.to_path_buf(),
            store: PathBuf::from(store),
            cluster: cluster.to_string(),
            log: dir.join("serve.log"),
            port,
        };
        s.spawn();
        s
    }

    /// Starts (again) the serve process with the same spec, store and port.
    pub fn spawn(&mut self) {
        self.spawn_with(&[]);
    }

    /// Like [`Serve::spawn`], with extra environment variables (e.g. `FLINKOPS_FAILPOINTS`).
    pub fn spawn_with(&mut self, vars: &[(&str, &str)]) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log");
        let bin = assert_cmd::cargo::cargo_bin("flinkops");
        let child = Command::new(bin)
            .args(["-v", "serve", "--spec"])
            .arg(&self.spec)
            .arg("--store")
            .arg(&self.store)
            .args(["--listen", &format!("127.0.0.1:{}", self.port), "--tick-secs", "1", "--token-file"])
            .arg(&self.token_file)
            .env("FLINKOPS_HOME", test_home())
            .env_remove("FLINKOPS_TOKEN")
            .env_remove("FLINK_HOME")
            .env_remove("FLINKOPS_FAILPOINTS")
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start flinkops serve");
        let pid = child.id();
        // If this test binary dies, the serve process goes too.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -9 {pid} 2>/dev/null", me = std::process::id()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        self.child = Some(child);
        // Until it answers, or exits (at a failpoint).
        wait_for("serve to answer", Duration::from_secs(60), || {
            let exited = self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
            (exited || self.try_get("/healthz").is_some()).then_some(())
        });
    }

    /// Waits until serve exits by itself (e.g. at a failpoint): its exit status.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("serve runs");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return st;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!("serve did not exit within {timeout:?}; log:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM and wait (a graceful stop).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(40);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn try_get(&self, path: &str) -> Option<Value> {
        let out = Command::new("curl").args(["-sS", "--fail", "--max-time", "20", &format!("{}{path}", self.url)]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok().or(Some(Value::Null))
    }

    pub fn get(&self, path: &str) -> Value {
        self.try_get(path).unwrap_or_else(|| panic!("GET {path} failed; serve log:\n{}", self.log_tail()))
    }

    /// POST with (or without) the token: (HTTP status, body).
    pub fn post(&self, path: &str, with_token: bool, body: Option<&str>) -> (u16, Value) {
        let mut args = vec!["-sS".to_string(), "--max-time".into(), "330".into(), "-o".into(), "-".into(), "-w".into(), "\n%{http_code}".into(), "-X".into(), "POST".into()];
        if with_token {
            args.push("-H".into());
            args.push("Authorization: Bearer it-token-0123456789".into());
        }
        if let Some(b) = body {
            args.extend(["-H".into(), "Content-Type: application/json".into(), "--data".into(), b.to_string()]);
        }
        args.push(format!("{}{path}", self.url));
        let out = Command::new("curl").args(&args).output().expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), serde_json::from_str(body).unwrap_or(Value::Null))
    }

    pub fn job(&self, env: &str, job: &str) -> Value {
        self.get(&format!("/api/v1/jobs/{env}/{job}"))
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    pub fn cluster_dir(&self) -> PathBuf {
        test_home().join("clusters").join(&self.cluster)
    }

    pub fn pid_of(&self, role: &str) -> u32 {
        std::fs::read_to_string(self.cluster_dir().join("pids").join(format!("{role}.pid"))).expect("pid file").trim().parse().expect("pid")
    }

    pub fn rest_url(&self) -> String {
        let st: Value = serde_json::from_str(&std::fs::read_to_string(self.cluster_dir().join("cluster.json")).expect("cluster.json")).expect("json");
        format!("http://127.0.0.1:{}", st["rest_port"])
    }

    /// The cluster's pids, for the watchdog.
    pub fn cluster_watchdog(&self) {
        let pids: Vec<String> = std::fs::read_dir(self.cluster_dir().join("pids")).into_iter().flatten().flatten().filter_map(|e| std::fs::read_to_string(e.path()).ok()).map(|s| s.trim().to_string()).collect();
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -9 {p} 2>/dev/null", me = std::process::id(), p = pids.join(" ")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- serve log (last 40 lines of {}) ----\n{}", self.log.display(), self.log_tail());
        }
        self.stop();
        let _ = flinkops().args(["local", "down", "--name", &self.cluster, "--timeout", "20"]).output();
    }
}

fn counting(rate: u32, extra: &str) -> String {
    format!(
        "{extra}CREATE TABLE src (k INT, v BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '{rate}', 'fields.k.min' = '1', 'fields.k.max' = '50');\n\
         CREATE TABLE snk (k INT, c BIGINT, s BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'blackhole');\n\
         INSERT INTO snk SELECT k, COUNT(*), SUM(v) FROM src GROUP BY k;\n"
    )
}

pub fn spec_yaml(platform: &str, job_extra: &str) -> String {
    format!(
        "platform: {platform}\n\
         environments:\n\
         \x20 dev:\n\
         \x20   target: local\n\
         \x20   flinkVersion: \"2.3\"\n\
         \x20   taskManager: {{replicas: 1, memory: 1728m, slots: 4}}\n\
         \x20   parallelism: 1\n\
         \x20   stateBackend: hashmap\n\
         \x20   checkpointing: {{interval: 2s, mode: exactly-once}}\n\
         jobs:\n\
         \x20 counter:\n\
         \x20   sql: counter.sql\n\
         {job_extra}"
    )
}

fn intents_of(job: &Value) -> Vec<Value> {
    job["intents"].as_array().cloned().unwrap_or_default()
}

fn newest_intent(job: &Value, kind: &str) -> Option<Value> {
    intents_of(job).into_iter().find(|i| i["kind"] == kind)
}

/// The job runs and its current Flink job has completed a checkpoint (checkpoint paths hold the
/// Flink job id, so one of an earlier job does not count).
fn running_with_checkpoint(s: &Serve) -> Option<Value> {
    let j = s.job("dev", "counter");
    runs_with_checkpoint(&j).then_some(j)
}

/// [`running_with_checkpoint`] on a snapshot already read (conditions on one snapshot: serve
/// finishes an intent before it writes the job's observed row, so two reads can disagree).
fn runs_with_checkpoint(j: &Value) -> bool {
    match (j["job"]["flink_job_id"].as_str(), j["job"]["last_checkpoint"].as_str()) {
        (Some(id), Some(cp)) => j["job"]["phase"] == "running" && cp.contains(id),
        _ => false,
    }
}

fn local_dir(path: &str) -> PathBuf {
    PathBuf::from(path.trim_start_matches("file:").trim_start_matches("//"))
}

fn restored_from(s: &Serve, flink_job: &str) -> Value {
    crate::support::http_get_json(&format!("{}/jobs/{flink_job}/checkpoints", s.rest_url()))["latest"]["restored"].clone()
}

#[test]
fn serve_deploys_savepoints_upgrades_rolls_back_suspends_recovers() {
    let dir = tempfile::tempdir().expect("tmp");
    let platform = format!("it-serve-{}", std::process::id());
    let spec = dir.path().join("flinkops.yaml");
    let hook = Hook::start();
    let yaml = spec_yaml(&platform, &format!("    upgradeHealthTimeout: 45s\n    savepoints: {{interval: 6s, maxCount: 2}}\nalerting:\n  channels:\n    hook:\n      webhook: {{url: \"http://127.0.0.1:{}/alerts\"}}\n", hook.port))
        .replace("    stateBackend: hashmap\n", "    stateBackend: hashmap\n    alerts: {FlinkJobNotRunning: {for: 2s}}\n");
    std::fs::write(&spec, yaml).expect("spec");
    let sql = dir.path().join("counter.sql");
    std::fs::write(&sql, counting(200, "")).expect("sql");
    let mut s = Serve::start(&spec, &format!("{platform}-dev"), dir.path());
    let t0 = Instant::now();

    // 1. Deploy: serve starts the local cluster and the job; it runs and checkpoints.
    let j = wait_for("the job to run and checkpoint", Duration::from_secs(180), || running_with_checkpoint(&s));
    s.cluster_watchdog();
    println!("deployed and checkpointing after {:.1} s", t0.elapsed().as_secs_f64());
    assert_eq!(j["job"]["running_version"], 1);
    assert_eq!(newest_intent(&j, "deploy").expect("deploy intent")["state"], "done");

    // 2. Periodic savepoints every 6 s, retention keeps 2: expired savepoints' files are gone.
    let j = wait_for("3 periodic savepoints and a retention deletion", Duration::from_secs(120), || {
        let j = s.job("dev", "counter");
        let sps: Vec<Value> = j["snapshots"].as_array().cloned().unwrap_or_default();
        let deleted = sps.iter().filter(|x| x["status"] == "deleted").count();
        (sps.len() >= 3 && deleted >= 1).then_some(j)
    });
    let sps = j["snapshots"].as_array().cloned().unwrap_or_default();
    let completed: Vec<&Value> = sps.iter().filter(|x| x["status"] == "completed").collect();
    assert!(completed.len() <= 2, "retention keeps 2: {sps:#?}");
    for x in &sps {
        let d = local_dir(x["path"].as_str().expect("path"));
        match x["status"].as_str() {
            Some("deleted") => assert!(!d.exists(), "an expired savepoint's files are deleted: {}", d.display()),
            Some("completed") => assert!(d.join("_metadata").is_file(), "a kept savepoint is intact: {}", d.display()),
            other => panic!("unexpected status {other:?}"),
        }
    }
    let deletions: Vec<Value> = intents_of(&j).into_iter().filter(|i| i["kind"] == "delete_snapshot").collect();
    assert!(!deletions.is_empty() && deletions.iter().all(|i| i["state"] == "done"), "every deletion was an intent first: {deletions:#?}");

    // 3. Unauthenticated and unknown: refused with a clear error, nothing changes.
    let (code, body) = s.post("/api/v1/jobs/dev/counter/suspend", false, None);
    assert_eq!(code, 401, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("Bearer"), "{body}");
    let (code, body) = s.post("/api/v1/jobs/dev/nope/suspend", true, None);
    assert_eq!(code, 404, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("dev/counter"), "names the known jobs: {body}");

    // 4. Upgrade: stop with a savepoint, start version 2 from it.
    std::fs::write(&sql, counting(300, "")).expect("v2");
    let out = flinkops().args(["upgrade", "counter", "--env", "dev", "--server", &s.url, "--token-file"]).arg(&s.token_file).output().expect("upgrade");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("version 2"), "{}", String::from_utf8_lossy(&out.stdout));
    let j = wait_for("the upgrade to finish", Duration::from_secs(180), || {
        let j = s.job("dev", "counter");
        (newest_intent(&j, "upgrade").is_some_and(|i| i["state"] != "pending") && j["job"]["phase"] == "running").then_some(j)
    });
    let up = newest_intent(&j, "upgrade").expect("upgrade");
    assert_eq!(up["state"], "done", "{up:#}\n{}", s.log_tail());
    let sp = up["payload"]["savepoint"].as_str().expect("the upgrade's savepoint").to_string();
    assert_eq!(j["job"]["running_version"], 2);
    let new_job = j["job"]["flink_job_id"].as_str().expect("job id").to_string();
    let r = restored_from(&s, &new_job);
    assert_eq!(r["is_savepoint"], true, "{r}");
    assert_eq!(local_dir(r["external_path"].as_str().expect("path")), local_dir(&sp), "version 2 restored the upgrade's savepoint");
    // Deploying the unchanged spec does nothing.
    let out = flinkops().args(["deploy", "counter", "--env", "dev", "--server", &s.url, "--token-file"]).arg(&s.token_file).args(["-o", "json"]).output().expect("deploy");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["changed"], false, "{v}");

    // 5. A failing upgrade (the new version fails at run time, restarts disabled) is rolled back
    //    to version 2 from the same savepoint; a conflicting command meanwhile is refused.
    std::fs::write(&sql, counting(300, "SET 'restart-strategy.type' = 'none';\n").replace("SUM(v)", "SUM(CAST(CAST(v AS STRING) || 'x' AS BIGINT))")).expect("v3");
    let (code, body) = s.post("/api/v1/jobs/dev/counter/upgrade", true, None);
    assert_eq!(code, 200, "{body}");
    wait_for("the failing upgrade to start", Duration::from_secs(60), || {
        let j = s.job("dev", "counter");
        (j["job"]["pending"] == "upgrade").then_some(())
    });
    let (code, body) = s.post("/api/v1/jobs/dev/counter/suspend", true, None);
    assert_eq!(code, 409, "a second action while the upgrade runs is a conflict: {body}");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("upgrade"), "{body}");
    let j = wait_for("the failing upgrade to roll back", Duration::from_secs(240), || {
        let j = s.job("dev", "counter");
        newest_intent(&j, "upgrade").filter(|i| i["state"] != "pending").map(|_| j)
    });
    let up = newest_intent(&j, "upgrade").expect("upgrade");
    assert_eq!(up["state"], "rolled_back", "{up:#}\n{}", s.log_tail());
    let rb_sp = up["payload"]["savepoint"].as_str().expect("savepoint").to_string();
    let j = wait_for("version 2 to run again", Duration::from_secs(120), || running_with_checkpoint(&s));
    assert_eq!(j["job"]["running_version"], 2, "back on version 2");
    let back = j["job"]["flink_job_id"].as_str().expect("id").to_string();
    let r = restored_from(&s, &back);
    assert_eq!(local_dir(r["external_path"].as_str().expect("path")), local_dir(&rb_sp), "the rollback restored the same savepoint");
    assert!(local_dir(&rb_sp).join("_metadata").is_file(), "the upgrade's savepoint is kept");
    let alerts = s.get("/api/v1/alerts");
    assert!(alerts["alerts"].as_array().expect("alerts").iter().any(|a| a["rule"] == "FlinkopsActionNeeded" && a["summary"].as_str().unwrap_or("").contains("rolled back")), "{alerts:#}");

    // 6. Suspend (stop with a savepoint) and resume from exactly that savepoint.
    let (code, body) = s.post("/api/v1/jobs/dev/counter/suspend", true, None);
    assert_eq!(code, 200, "{body}");
    let j = wait_for("the job to be suspended", Duration::from_secs(120), || {
        let j = s.job("dev", "counter");
        (j["job"]["phase"] == "suspended").then_some(j)
    });
    let susp = newest_intent(&j, "suspend").expect("suspend intent");
    let susp_sp = susp["payload"]["savepoint"].as_str().expect("suspend savepoint").to_string();
    let (code, body) = s.post("/api/v1/jobs/dev/counter/resume", true, None);
    assert_eq!(code, 200, "{body}");
    let j = wait_for("the job to resume", Duration::from_secs(120), || running_with_checkpoint(&s).filter(|j| j["job"]["flink_job_id"] != back.as_str()));
    let resumed = j["job"]["flink_job_id"].as_str().expect("id").to_string();
    let r = restored_from(&s, &resumed);
    assert_eq!(local_dir(r["external_path"].as_str().expect("path")), local_dir(&susp_sp), "resumed from the suspend savepoint");

    // 6b. A savepoint that cannot be written (its directory replaced by a file: Flink's write
    //     fails as on a full disk): the command fails with Flink's reason (502), the job keeps
    //     running untouched, and no savepoint is cataloged; a failed intent records the attempt.
    let sp_dir = s.cluster_dir().join("savepoints");
    let moved = s.cluster_dir().join("savepoints.moved");
    std::fs::rename(&sp_dir, &moved).expect("move the savepoint dir");
    std::fs::write(&sp_dir, b"not a directory").expect("a file in its place");
    let completed_before = s.job("dev", "counter")["snapshots"].as_array().map(|v| v.iter().filter(|x| x["status"] == "completed").count()).unwrap_or(0);
    let (code, body) = s.post("/api/v1/jobs/dev/counter/savepoint", true, None);
    std::fs::remove_file(&sp_dir).expect("remove the file");
    std::fs::rename(&moved, &sp_dir).expect("restore the savepoint dir");
    assert_eq!(code, 502, "{body}");
    assert!(body["error"]["kind"] == "flink" && !body["error"]["message"].as_str().unwrap_or("").is_empty(), "{body}");
    let j = s.job("dev", "counter");
    assert_eq!(j["job"]["flink_job_id"], resumed.as_str(), "the job was not touched");
    assert_eq!(j["job"]["phase"], "running");
    let completed_after = j["snapshots"].as_array().map(|v| v.iter().filter(|x| x["status"] == "completed").count()).unwrap_or(0);
    assert_eq!(completed_after, completed_before, "no savepoint was cataloged");
    assert_eq!(newest_intent(&j, "savepoint").expect("savepoint intent")["state"], "failed");
    println!("unwritable savepoint: 502 {}", body["error"]["message"].as_str().unwrap_or("").chars().take(200).collect::<String>());

    // 7. kill -9 of the JobManager: serve restarts it and restores the job from its latest
    //    retained checkpoint, with no one acting.
    let before = wait_for("a checkpoint of the resumed job", Duration::from_secs(60), || {
        let j = s.job("dev", "counter");
        j["job"]["last_checkpoint"].as_str().filter(|p| p.contains(&resumed)).map(str::to_string)
    });
    let killed_at = Instant::now();
    let jm = s.pid_of("jobmanager");
    assert!(Command::new("kill").args(["-9", &jm.to_string()]).status().expect("kill").success());
    let j = wait_for("recovery after the JobManager kill", Duration::from_secs(180), || {
        running_with_checkpoint(&s).filter(|j| j["job"]["flink_job_id"] != resumed.as_str() && j["job"]["flink_job_id"].is_string())
    });
    let recovered = j["job"]["flink_job_id"].as_str().expect("id").to_string();
    let r = restored_from(&s, &recovered);
    // Flink reports any snapshot restored through a savepoint path with `is_savepoint: true`
    // (seen with 2.3); the path tells it was the retained checkpoint.
    let path = r["external_path"].as_str().expect("path").to_string();
    assert!(path.contains(&resumed) && path.contains("chk-"), "restored from the killed job's checkpoint {path} (latest seen before the kill: {before})");
    let rec = newest_intent(&j, "recover").expect("recover intent");
    assert_eq!(rec["state"], "done");
    println!("JobManager kill -9 → running and checkpointing again in {:.1} s", killed_at.elapsed().as_secs_f64());
    // The outage fired FlinkJobNotRunning to the webhook, and the recovery resolved it; the
    // rolled-back upgrade's action-needed alert went there too.
    let sent = |rule: &str, status: &str| hook.bodies().iter().any(|b| b["status"] == status && b["alerts"][0]["labels"]["alertname"] == rule);
    wait_for("FlinkJobNotRunning firing then resolved at the webhook", Duration::from_secs(90), || (sent("FlinkJobNotRunning", "firing") && sent("FlinkJobNotRunning", "resolved")).then_some(()));
    assert!(sent("FlinkopsActionNeeded", "firing"), "{:#?}", hook.bodies());
    let alerts = s.get("/api/v1/alerts");
    println!("alerts: {}", serde_json::to_string(&alerts).unwrap_or_default().chars().take(600).collect::<String>());
    let m = Command::new("curl").args(["-sS", &format!("{}/metrics", s.url)]).output().expect("metrics");
    let metrics = String::from_utf8_lossy(&m.stdout);
    assert!(metrics.contains("flinkops_recoveries_total 1"), "{metrics}");
    assert!(metrics.contains("flinkops_local_process_restarts_total{env=\"dev\",process=\"JobManager\"} 1"), "{metrics}");

    // 8. The newest retained checkpoint's `_metadata` is corrupt: recovery rejects it (the header
    //    does not read) and restores the one before.
    let chk_dir = s.cluster_dir().join("checkpoints").join(&recovered);
    let chks = wait_for("2 retained checkpoints of the recovered job", Duration::from_secs(60), || {
        let mut c = checkpoints_in(&chk_dir);
        (c.len() >= 2).then(|| std::mem::take(&mut c))
    });
    let jm = s.pid_of("jobmanager");
    assert!(Command::new("kill").args(["-9", &jm.to_string()]).status().expect("kill").success());
    // No checkpoint completes without a JobManager: the newest is final now.
    let chks_now = checkpoints_in(&chk_dir);
    let newest = *chks_now.last().expect("a checkpoint");
    let previous = chks_now[chks_now.len() - 2];
    assert!(newest >= *chks.last().expect("one"), "{chks:?} {chks_now:?}");
    std::fs::write(chk_dir.join(format!("chk-{newest}")).join("_metadata"), b"not a checkpoint").expect("corrupt _metadata");
    let j = wait_for("recovery from the previous checkpoint", Duration::from_secs(180), || {
        running_with_checkpoint(&s).filter(|j| j["job"]["flink_job_id"] != recovered.as_str())
    });
    let r = restored_from(&s, j["job"]["flink_job_id"].as_str().expect("id"));
    let path = r["external_path"].as_str().expect("path");
    assert!(path.ends_with(&format!("{recovered}/chk-{previous}")), "restored {path}, expected chk-{previous} (chk-{newest} is corrupt)");
    let rec = newest_intent(&j, "recover").expect("recover intent");
    let rejected = rec["payload"]["rejected"].as_array().cloned().unwrap_or_default();
    assert!(rejected.iter().any(|x| x["path"].as_str().unwrap_or("").ends_with(&format!("chk-{newest}"))), "the corrupt checkpoint is named in the intent: {rec:#}");
    println!("corrupt chk-{newest}: restored chk-{previous}; rejected: {rejected:?}");

    // 9. serve crashes (abort, like kill -9) at each step of an upgrade; started again, it
    //    completes the upgrade from the savepoint it stopped with, and no savepoint is lost.
    let mut rate = 400;
    for point in ["upgrade.begun", "upgrade.stopped", "upgrade.submitted"] {
        rate += 10;
        std::fs::write(&sql, counting(rate, "")).expect("new version");
        let before = s.job("dev", "counter");
        let version_before = before["job"]["running_version"].as_i64().expect("version");
        s.stop();
        // Started on the changed spec, serve upgrades by itself.
        s.spawn_with(&[("FLINKOPS_FAILPOINTS", point)]);
        let st = s.wait_exit(Duration::from_secs(120));
        assert!(!st.success(), "{point}: serve aborted at the failpoint ({st})");
        s.spawn();
        let j = wait_for("the interrupted upgrade to complete", Duration::from_secs(180), || {
            let j = s.job("dev", "counter");
            (newest_intent(&j, "upgrade").is_some_and(|i| i["state"] != "pending") && runs_with_checkpoint(&j)).then_some(j)
        });
        let up = newest_intent(&j, "upgrade").expect("upgrade");
        assert_eq!(up["state"], "done", "{point}: {up:#}\n{}", s.log_tail());
        assert!(j["job"]["running_version"].as_i64().expect("v") > version_before, "{point}: a new version runs");
        let sp = up["payload"]["savepoint"].as_str().expect("the upgrade's savepoint");
        assert!(local_dir(sp).join("_metadata").is_file(), "{point}: the upgrade's savepoint is kept");
        let r = restored_from(&s, j["job"]["flink_job_id"].as_str().expect("id"));
        assert_eq!(local_dir(r["external_path"].as_str().expect("path")), local_dir(sp), "{point}: the new version restored the upgrade's savepoint");
        let cataloged = j["snapshots"].as_array().cloned().unwrap_or_default();
        assert!(cataloged.iter().any(|x| x["path"].as_str().map(local_dir) == Some(local_dir(sp))), "{point}: the savepoint is in the catalog");
        println!("crash at {point}: upgrade completed on restart");
    }
}

/// The numbers of the `chk-N` directories in `dir`, ascending.
fn checkpoints_in(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_prefix("chk-")).and_then(|n| n.parse().ok()))
        .filter(|n| dir.join(format!("chk-{n}")).join("_metadata").is_file())
        .collect();
    v.sort_unstable();
    v
}

/// Exactly-once end to end: a bounded deterministic sequence (datagen `sequence`, whose position
/// is checkpointed) written through Flink's exactly-once file sink; the JobManager is killed
/// twice and serve recovers the job from its retained checkpoints each time. When the job has
/// finished, the committed files hold every number of the sequence exactly once.
#[test]
fn exactly_once_output_across_recoveries() {
    const N: u64 = 20_000;
    let dir = tempfile::tempdir().expect("tmp");
    let platform = format!("it-eo-{}", std::process::id());
    let out = dir.path().join("out");
    let spec = dir.path().join("flinkops.yaml");
    std::fs::write(&spec, spec_yaml(&platform, "")).expect("spec");
    std::fs::write(
        dir.path().join("counter.sql"),
        format!(
            "CREATE TABLE src (seq BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '400', 'fields.seq.kind' = 'sequence', 'fields.seq.start' = '1', 'fields.seq.end' = '{N}');\n\
             CREATE TABLE snk (seq BIGINT) WITH ('connector' = 'filesystem', 'path' = 'file://{}', 'format' = 'csv');\n\
             INSERT INTO snk SELECT seq FROM src;\n",
            out.display()
        ),
    )
    .expect("sql");
    let s = Serve::start(&spec, &format!("{platform}-dev"), dir.path());
    let mut job = wait_for("the job to run and checkpoint", Duration::from_secs(180), || running_with_checkpoint(&s))["job"]["flink_job_id"].as_str().expect("id").to_string();
    s.cluster_watchdog();
    for kill in 1..=2 {
        // Let it commit some output, then kill the JobManager mid-stream.
        wait_for("committed output", Duration::from_secs(60), || (committed(&out).len() as u64 > 1_000 * kill).then_some(()));
        let jm = s.pid_of("jobmanager");
        assert!(Command::new("kill").args(["-9", &jm.to_string()]).status().expect("kill").success());
        let j = wait_for("recovery after the kill", Duration::from_secs(240), || running_with_checkpoint(&s).filter(|j| j["job"]["flink_job_id"] != job.as_str()));
        let new_job = j["job"]["flink_job_id"].as_str().expect("id").to_string();
        let r = restored_from(&s, &new_job);
        assert!(r["external_path"].as_str().unwrap_or("").contains(&format!("{job}/chk-")), "kill {kill}: restored from the killed job's checkpoint: {r}");
        println!("kill {kill}: {job} → {new_job} restored {}", r["external_path"]);
        job = new_job;
    }
    let j = wait_for("the bounded job to finish", Duration::from_secs(300), || {
        let j = s.job("dev", "counter");
        (j["job"]["phase"] == "finished").then_some(j)
    });
    assert_eq!(j["job"]["flink_job_id"], job.as_str(), "serve did not start the finished job again");
    let rows = committed(&out);
    let mut seen = vec![0u32; usize::try_from(N).expect("size") + 1];
    for v in &rows {
        seen[usize::try_from(*v).expect("index")] += 1;
    }
    let missing: Vec<usize> = (1..seen.len()).filter(|&i| seen[i] == 0).take(10).collect();
    let duplicated: Vec<usize> = (1..seen.len()).filter(|&i| seen[i] > 1).take(10).collect();
    assert!(missing.is_empty() && duplicated.is_empty() && rows.len() as u64 == N, "{} rows committed for {N}: missing {missing:?}…, duplicated {duplicated:?}…", rows.len());
    println!("exactly once: {N} numbers committed once each across 2 recoveries");
}

/// Every number in the sink's committed files (Flink keeps in-progress and pending files hidden,
/// with a leading dot, until a checkpoint commits them).
fn committed(dir: &Path) -> Vec<u64> {
    let mut rows = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !name.starts_with('.') {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                rows.extend(text.lines().filter_map(|l| l.trim().parse::<u64>().ok()));
            }
        }
    }
    rows
}

/// Bad input to serve fails before anything starts, with a clear message and exit code: a spec
/// with errors (2, file:line:col), an unreachable store (3, password redacted, no cluster
/// started), and CLI commands without a running serve (3).
/// serve on a real PostgreSQL store (the same code as SQLite): it deploys, takes periodic
/// savepoints, suspends; a new serve process on the same database finds the job suspended (the
/// durable state lives in PostgreSQL, not in the process) and resumes it from exactly the
/// suspend savepoint.
#[test]
fn serve_runs_on_postgres_and_its_state_survives_a_restart() {
    let pg = flinkops_control::testing::Postgres::start();
    let dir = tempfile::tempdir().expect("tmp");
    let platform = format!("it-serve-pg-{}", std::process::id());
    let spec = dir.path().join("flinkops.yaml");
    std::fs::write(&spec, spec_yaml(&platform, "    savepoints: {interval: 5s, maxCount: 2}\n")).expect("spec");
    std::fs::write(dir.path().join("counter.sql"), counting(200, "")).expect("sql");
    let url = pg.url("postgres");
    let mut s = Serve::start_with_store(&spec, &format!("{platform}-dev"), dir.path(), &url);
    wait_for("the job to run and checkpoint", Duration::from_secs(180), || running_with_checkpoint(&s));
    s.cluster_watchdog();
    let j = wait_for("2 periodic savepoints", Duration::from_secs(120), || {
        let j = s.job("dev", "counter");
        (j["snapshots"].as_array().map_or(0, |a| a.iter().filter(|x| x["kind"] == "savepoint").count()) >= 2).then_some(j)
    });
    assert!(intents_of(&j).iter().any(|i| i["kind"] == "savepoint" && i["state"] == "done"), "{j:#}");
    let (code, body) = s.post("/api/v1/jobs/dev/counter/suspend", true, None);
    assert_eq!(code, 200, "{body}");
    let j = wait_for("the job to be suspended", Duration::from_secs(120), || {
        let j = s.job("dev", "counter");
        (j["job"]["phase"] == "suspended").then_some(j)
    });
    let susp_sp = newest_intent(&j, "suspend").expect("suspend intent")["payload"]["savepoint"].as_str().expect("suspend savepoint").to_string();

    // A new serve process on the same database.
    s.stop();
    s.spawn();
    let j = s.job("dev", "counter");
    assert_eq!(j["job"]["suspended"], true, "the suspension is durable: {j:#}");
    assert!(newest_intent(&j, "suspend").is_some() && j["snapshots"].as_array().is_some_and(|a| a.len() >= 3), "history and catalog came back: {j:#}");
    let (code, body) = s.post("/api/v1/jobs/dev/counter/resume", true, None);
    assert_eq!(code, 200, "{body}");
    let j = wait_for("the job to resume", Duration::from_secs(120), || running_with_checkpoint(&s));
    let resumed = j["job"]["flink_job_id"].as_str().expect("id").to_string();
    let r = restored_from(&s, &resumed);
    assert_eq!(local_dir(r["external_path"].as_str().expect("path")), local_dir(&susp_sp), "resumed from the suspend savepoint");
    s.stop();
    drop(pg);
}

#[test]
fn serve_rejects_bad_input_before_starting_anything() {
    let dir = tempfile::tempdir().expect("tmp");
    let home = dir.path().join("home");
    let spec = dir.path().join("flinkops.yaml");
    std::fs::write(&spec, spec_yaml("it-bad", "")).expect("spec");
    let out = flinkops().env("FLINKOPS_HOME", &home).args(["serve", "--listen", "127.0.0.1:0", "--spec"]).arg(&spec).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("flinkops.yaml:") && err.contains("counter.sql"), "names the file and the missing SQL script: {err}");

    std::fs::write(dir.path().join("counter.sql"), counting(10, "")).expect("sql");
    let out = flinkops()
        .env("FLINKOPS_HOME", &home)
        .args(["serve", "--listen", "127.0.0.1:0", "--store", "postgres://flinkops:s3cret-pw@127.0.0.1:1/flinkops", "--spec"])
        .arg(&spec)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("cannot connect to the store postgres://flinkops:***@127.0.0.1:1/flinkops"), "{err}");
    assert!(!err.contains("s3cret-pw"), "the password is never printed: {err}");
    assert!(!home.join("clusters").exists(), "no cluster was started");

    let out = flinkops().env("FLINKOPS_HOME", &home).args(["status"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("flinkops serve --spec"), "says how to start one: {err}");
}

/// A webhook receiver on 127.0.0.1: answers 200 to every POST and keeps the JSON bodies.
struct Hook {
    port: u16,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl Hook {
    fn start() -> Hook {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut r = BufReader::new(stream);
                let mut len = 0usize;
                let mut line = String::new();
                while r.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0u8; len];
                if r.read_exact(&mut body).is_ok()
                    && let Ok(v) = serde_json::from_slice::<Value>(&body)
                {
                    keep.lock().expect("lock").push(v);
                }
                let _ = r.get_mut().write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        Hook { port, bodies }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().expect("lock").clone()
    }
}
