//! The embedded default against real Flink: `local up` (idempotent, status, logs, demo job),
//! SQL jobs, stop with a savepoint and resume from it (proven by Flink's restore statistics),
//! and bad input: SQL that Flink rejects, unknown job ids, occupied ports.

use std::time::Duration;

use serde_json::Value;

use crate::support::{TestCluster, completed_checkpoints, counting_sql, flinkops, flinkops_json, free_port, job_state, shared_cluster, sql_file, wait_for};

#[test]
fn up_is_idempotent_and_status_reports_health() {
    let c = shared_cluster();
    let port = c.rest_url.rsplit(':').next().unwrap().to_string();
    let again = flinkops_json(&["local", "up", "--name", &c.name, "--rest-port", &port]);
    assert_eq!(again["cluster"]["already_running"], true, "{again}");
    let status = flinkops_json(&["local", "status", "--name", &c.name]);
    assert_eq!(status["healthy"], true, "{status}");
    assert_eq!(status["overview"]["taskmanagers"], 2, "{status}");
    let procs = status["processes"].as_array().unwrap();
    assert_eq!(procs.len(), 3);
    assert!(procs.iter().all(|p| p["alive"] == true), "{status}");
    // The generated config is what Flink runs with: adaptive scheduler, retained checkpoints.
    let config = c.get("/jobmanager/config");
    let get = |k: &str| config.as_array().unwrap().iter().find(|e| e["key"] == k).map(|e| e["value"].as_str().unwrap_or("").to_string());
    assert_eq!(get("jobmanager.scheduler").as_deref(), Some("adaptive"));
    assert_eq!(get("execution.checkpointing.externalized-checkpoint-retention").as_deref(), Some("RETAIN_ON_CANCELLATION"));
    // Logs are readable through the CLI.
    let out = flinkops().args(["local", "logs", "jm", "--name", &c.name]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("StandaloneSessionClusterEntrypoint"));
}

#[test]
fn demo_job_runs_and_checkpoints() {
    let c = shared_cluster();
    let port = c.rest_url.rsplit(':').next().unwrap().to_string();
    let v = flinkops_json(&["local", "up", "--name", &c.name, "--rest-port", &port, "--demo"]);
    let id = v["demo_job"][0].as_str().expect("demo job id").to_string();
    wait_for("the demo job to complete a checkpoint", Duration::from_secs(90), || (completed_checkpoints(c, &id) >= 1).then_some(()));
    assert_eq!(job_state(c, &id), "RUNNING");
    // A second `--demo` does not submit it twice.
    let again = flinkops_json(&["local", "up", "--name", &c.name, "--rest-port", &port, "--demo"]);
    assert_eq!(again["demo_job"][0], id.as_str());
    assert_eq!(again["demo_job"][1], false);
    let _ = flinkops().args(["job", "cancel", &id, "--cluster", &c.name]).output();
}

#[test]
fn stop_with_savepoint_then_resume_restores_state() {
    let c = shared_cluster();
    let dir = tempfile::tempdir().unwrap();
    let sql = sql_file(&dir, "count.sql", &counting_sql("it-resume"));
    let sql = sql.to_str().unwrap();
    let v = flinkops_json(&["job", "submit", "--sql", sql, "--cluster", &c.name]);
    let first = v["job_id"].as_str().unwrap().to_string();
    wait_for("a completed checkpoint", Duration::from_secs(90), || (completed_checkpoints(c, &first) >= 2).then_some(()));

    let sp_dir = format!("file://{}", dir.path().join("savepoints").display());
    let v = flinkops_json(&["job", "stop", &first, "--savepoint-dir", &sp_dir, "--cluster", &c.name]);
    let savepoint = v["savepoint_path"].as_str().unwrap().to_string();
    assert!(savepoint.contains(dir.path().join("savepoints").to_str().unwrap()), "{savepoint}");
    let local = savepoint.trim_start_matches("file:");
    assert!(std::path::Path::new(local).join("_metadata").is_file(), "no _metadata in {local}");
    assert_eq!(job_state(c, &first), "FINISHED");

    let v = flinkops_json(&["job", "submit", "--sql", sql, "--from-savepoint", &savepoint, "--cluster", &c.name]);
    let second = v["job_id"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    // Flink's restore statistics name the savepoint the job started from.
    let restored: Value = wait_for("restore statistics", Duration::from_secs(90), || {
        let cp = c.get(&format!("/jobs/{second}/checkpoints"));
        let r = cp["latest"]["restored"].clone();
        (!r.is_null()).then_some(r)
    });
    assert_eq!(restored["is_savepoint"], true, "{restored}");
    assert_eq!(restored["external_path"].as_str().map(|p| p.trim_end_matches('/')), Some(savepoint.trim_end_matches('/')), "{restored}");
    // And the CLI shows the same.
    let status = flinkops_json(&["job", "status", &second, "--cluster", &c.name]);
    assert_eq!(status["checkpoints"]["latest"]["restored"]["is_savepoint"], true, "{status}");
    flinkops().args(["job", "cancel", &second, "--cluster", &c.name]).assert().success();
}

#[test]
fn savepoint_keeps_the_job_running() {
    let c = shared_cluster();
    let dir = tempfile::tempdir().unwrap();
    let sql = sql_file(&dir, "count.sql", &counting_sql("it-savepoint"));
    let v = flinkops_json(&["job", "submit", "--sql", sql.to_str().unwrap(), "--cluster", &c.name, "--parallelism", "2"]);
    let id = v["job_id"].as_str().unwrap().to_string();
    wait_for("the job to run", Duration::from_secs(60), || (job_state(c, &id) == "RUNNING").then_some(()));
    let v = flinkops_json(&["job", "savepoint", &id, "--cluster", &c.name]);
    let path = v["savepoint_path"].as_str().unwrap();
    // Default dir: the cluster's savepoint dir.
    assert!(path.contains(&format!("clusters/{}/savepoints", c.name)), "{path}");
    assert_eq!(job_state(c, &id), "RUNNING");
    let list = flinkops_json(&["job", "list", "--cluster", &c.name]);
    assert!(list.as_array().unwrap().iter().any(|j| j["jid"] == id.as_str() && j["state"] == "RUNNING"), "{list}");
    flinkops().args(["job", "cancel", &id, "--cluster", &c.name]).assert().success();
    wait_for("the job to be cancelled", Duration::from_secs(60), || (job_state(c, &id) == "CANCELED").then_some(()));
}

#[test]
fn sql_that_flink_rejects_shows_the_root_cause() {
    let c = shared_cluster();
    let dir = tempfile::tempdir().unwrap();
    let sql = sql_file(&dir, "bad.sql", "CREATE TABLE t (a INT) WITH ('connector' = 'datagen');\nINSERT INTO nowhere SELECT a FROM t;\n");
    let out = flinkops().args(["job", "submit", "--sql", sql.to_str().unwrap(), "--cluster", &c.name]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nowhere"), "the root cause should name the missing table: {err}");
    assert!(!err.contains("\tat org.apache"), "no Java stack dump: {err}");
}

#[test]
fn unknown_job_ids_are_clear_errors() {
    let c = shared_cluster();
    let out = flinkops().args(["job", "status", "00000000000000000000000000000000", "--cluster", &c.name]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("00000000000000000000000000000000"), "{err}");
}

#[test]
fn occupied_port_is_named_with_its_owner_and_nothing_starts() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let name = format!("it-port-{}", std::process::id());
    let out = flinkops().args(["local", "up", "--name", &name, "--rest-port", &port]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&port) && err.contains(&format!("pid {}", std::process::id())), "{err}");
    let pids = crate::support::test_home().join("clusters").join(&name).join("pids");
    assert_eq!(std::fs::read_dir(&pids).map(|d| d.count()).unwrap_or(0), 0);
}

#[test]
fn a_config_flink_rejects_starts_nothing() {
    // Flink's memory model rejects 0 slots (0 CPU cores): nothing may start.
    let name = format!("it-reject-{}", std::process::id());
    let port = free_port().to_string();
    let out = flinkops().args(["local", "up", "--name", &name, "--rest-port", &port, "-D", "taskmanager.numberOfTaskSlots=0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TaskManager") && err.contains("positive number of CPU cores"), "{err}");
    assert!(!err.contains("org.apache.flink"), "Flink's reason in plain words, no class names: {err}");
    let pids = crate::support::test_home().join("clusters").join(&name).join("pids");
    assert_eq!(std::fs::read_dir(&pids).map(|d| d.count()).unwrap_or(0), 0);
}

#[test]
fn a_cluster_that_cannot_start_is_stopped_again() {
    // The TaskManager cannot bind its RPC port (this test holds it): `up` must fail, name the
    // TaskManager, and stop the JobManager it already started.
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let blocked = blocker.local_addr().unwrap().port();
    let name = format!("it-fail-{}", std::process::id());
    let port = free_port().to_string();
    let out = flinkops()
        .args(["local", "up", "--name", &name, "--rest-port", &port, "--timeout", "60", "-D", &format!("taskmanager.rpc.port={blocked}")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TaskManager 1") && err.contains(&format!("port range {blocked}")), "{err}");
    let dir = crate::support::test_home().join("clusters").join(&name);
    let pids: Vec<_> = std::fs::read_dir(dir.join("pids")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(pids.is_empty(), "pid files left: {pids:?}");
    assert!(crate::support::http_get_ok(&format!("http://127.0.0.1:{port}/overview")).is_none(), "the JobManager still answers");
    drop(blocker);
}

#[test]
fn down_stops_every_process_by_pid() {
    let c = TestCluster::start("it-down", "2.3.0", &[]);
    let pids = c.pids();
    assert_eq!(pids.len(), 2);
    flinkops().args(["local", "down", "--name", &c.name]).assert().success();
    for pid in pids {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists() || std::fs::read_to_string(format!("/proc/{pid}/stat")).map(|s| s.contains(") Z")).unwrap_or(true), "pid {pid} still runs");
    }
    let status = flinkops().args(["local", "status", "--name", &c.name]).output().unwrap();
    assert_eq!(status.status.code(), Some(1), "an unhealthy cluster exits 1");
    // A stale pid file (its process is long gone) is not mistaken for a running cluster.
    std::fs::write(c.dir().join("pids/jobmanager.pid"), "999999999").unwrap();
    let port = c.rest_url.rsplit(':').next().unwrap().to_string();
    let v = flinkops_json(&["local", "up", "--name", &c.name, "--rest-port", &port]);
    c.watchdog();
    assert_eq!(v["cluster"]["already_running"], false, "{v}");
    assert_eq!(v["cluster"]["taskmanagers"], 1, "{v}");
}

#[test]
fn flink_1_20_cluster_runs_sql_jobs() {
    crate::support::require_flink("1.20.3");
    let c = TestCluster::start("it-120", "1.20.3", &[]);
    let dir = tempfile::tempdir().unwrap();
    let sql = sql_file(&dir, "count.sql", &counting_sql("it-120"));
    let v = flinkops_json(&["job", "submit", "--sql", sql.to_str().unwrap(), "--cluster", &c.name]);
    let id = v["job_id"].as_str().unwrap().to_string();
    wait_for("a checkpoint on Flink 1.20", Duration::from_secs(90), || (completed_checkpoints(&c, &id) >= 1).then_some(()));
    assert_eq!(c.get("/overview")["flink-version"], "1.20.3");
}

/// Vertices of a job as `GET /jobs/:id` reports them: (name, id, parallelism).
fn vertices(c: &TestCluster, id: &str) -> Vec<(String, String, u64)> {
    c.get(&format!("/jobs/{id}"))["vertices"]
        .as_array()
        .map(|vs| vs.iter().map(|v| (v["name"].as_str().unwrap_or("").to_string(), v["id"].as_str().unwrap_or("").to_string(), v["parallelism"].as_u64().unwrap_or(0))).collect())
        .unwrap_or_default()
}

/// Submits a SQL script through the Rust submit API (the SQL runner), as serve does.
fn submit_sql(c: &TestCluster, version: &str, script: &str, parallelism_by_name: std::collections::BTreeMap<String, u32>, from_savepoint: Option<String>) -> String {
    use flinkops_local::submit::{Program, SubmitOptions, submit};
    let home = flinkops_local::home::Home::new(crate::support::test_home());
    let dist = flinkops_local::dist::FlinkDist::open(&crate::support::require_flink(version)).expect("the Flink distribution");
    let java = flinkops_local::java::Java::find().expect("a JDK");
    let client = flinkops_rest::FlinkClient::new(url::Url::parse(&c.rest_url).expect("rest url")).expect("client");
    let opts = SubmitOptions { parallelism: Some(1), from_savepoint, ..Default::default() };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let id = rt.block_on(submit(&client, &home, Some(&dist), Some(&java), Program::Sql { script: script.to_string(), parallelism_by_name }, &opts)).expect("submit");
    id.to_string()
}

/// Parallelism by stable vertex name through a stop-with-savepoint and resubmission: the
/// SQL runner sets it on the operators of the aggregate's vertex (the planner renumbers its
/// nodes on every submission; the stable name is what the autoscaler keeps). The job keeps the
/// script's `pipeline.name` and restores from the savepoint.
///
/// Vertex ids: on Flink 2.3.0 and 1.20.3 the resubmitted job's JobVertexIDs equal the first
/// job's (the ids hash the graph's topology, not names, node numbers or parallelism, as long
/// as the chaining stays the same; the test prints both), so for an unchanged script
/// `pipeline.jobvertex-parallelism-overrides` by id would have carried the parallelism too.
/// A changed plan changes the ids; the stable names of unchanged chains stay.
fn parallelism_by_name_survives_a_resubmission(version: &str, prefix: &str) {
    let c = TestCluster::start(prefix, version, &["--taskmanagers", "1", "--slots", "4"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let job_name = format!("{prefix}-job");
    let script = counting_sql(&job_name);

    let first = submit_sql(&c, version, &script, Default::default(), None);
    wait_for("a completed checkpoint", Duration::from_secs(120), || (completed_checkpoints(&c, &first) >= 1).then_some(()));
    let before = vertices(&c, &first);
    assert!(before.len() >= 2, "{before:?}");
    assert!(before.iter().all(|(_, _, p)| *p == 1), "{before:?}");
    let (agg_name, _, _) = before.iter().find(|(n, _, _)| n.contains("GroupAggregate")).expect("an aggregate vertex").clone();
    let agg = flinkops_serve::autoscale::stable_name(&agg_name);
    assert!(!agg.contains('['), "{agg}");

    let sp_dir = format!("file://{}", dir.path().join("savepoints").display());
    let v = flinkops_json(&["job", "stop", &first, "--savepoint-dir", &sp_dir, "--cluster", &c.name]);
    let savepoint = v["savepoint_path"].as_str().expect("savepoint_path").to_string();
    wait_for("the first job to finish", Duration::from_secs(60), || (job_state(&c, &first) == "FINISHED").then_some(()));

    let by_name = [(agg.clone(), 3u32)].into();
    let second = submit_sql(&c, version, &script, by_name, Some(savepoint.clone()));
    assert_ne!(first, second);
    // The JobGraph asks for it (the plan) and the job runs so (the adaptive scheduler could
    // start with fewer slots and scale up, hence the wait).
    let planned: Vec<(String, u64)> = wait_for("the job's plan", Duration::from_secs(60), || {
        let plan = c.get(&format!("/jobs/{second}/plan"));
        let nodes = plan["plan"]["nodes"].as_array()?;
        (!nodes.is_empty()).then(|| nodes.iter().map(|n| (n["description"].as_str().unwrap_or("").to_string(), n["parallelism"].as_u64().unwrap_or(0))).collect())
    });
    assert_eq!(planned.iter().filter(|(_, p)| *p == 3).count(), 1, "{planned:?}");
    let after = wait_for("the aggregate at parallelism 3", Duration::from_secs(120), || {
        let vs = vertices(&c, &second);
        (job_state(&c, &second) == "RUNNING" && vs.iter().any(|(n, _, p)| flinkops_serve::autoscale::stable_name(n) == agg && *p == 3)).then_some(vs)
    });
    for (name, _, p) in &after {
        let want = if flinkops_serve::autoscale::stable_name(name) == agg { 3 } else { 1 };
        assert_eq!(*p, want, "{name}: {after:?}");
    }
    assert_eq!(after.len(), before.len(), "same vertices: {before:?} / {after:?}");
    let job = c.get(&format!("/jobs/{second}"));
    assert_eq!(job["name"], job_name.as_str(), "the script's pipeline.name");
    let restored: Value = wait_for("restore statistics", Duration::from_secs(90), || {
        let r = c.get(&format!("/jobs/{second}/checkpoints"))["latest"]["restored"].clone();
        (!r.is_null()).then_some(r)
    });
    assert_eq!(restored["is_savepoint"], true, "{restored}");
    assert_eq!(restored["external_path"].as_str().map(|p| p.trim_end_matches('/')), Some(savepoint.trim_end_matches('/')), "{restored}");
    // Checkpoints keep completing at the new parallelism.
    let done = completed_checkpoints(&c, &second);
    wait_for("a checkpoint after the restore", Duration::from_secs(90), || (completed_checkpoints(&c, &second) > done).then_some(()));

    let ids = |vs: &[(String, String, u64)]| vs.iter().map(|(n, id, _)| (flinkops_serve::autoscale::stable_name(n), id.clone())).collect::<std::collections::BTreeMap<_, _>>();
    let (ids_before, ids_after) = (ids(&before), ids(&after));
    eprintln!("Flink {version}: vertex ids before {ids_before:?}, after {ids_after:?}: {}", if ids_before == ids_after { "equal" } else { "different" });
    flinkops().args(["job", "cancel", &second, "--cluster", &c.name]).assert().success();
    drop(c);
}

#[test]
fn sql_parallelism_by_stable_name_survives_a_resubmission() {
    parallelism_by_name_survives_a_resubmission("2.3.0", "it-pbn");
}

#[test]
fn sql_parallelism_by_stable_name_on_flink_1_20() {
    crate::support::require_flink("1.20.3");
    parallelism_by_name_survives_a_resubmission("1.20.3", "it-pbn120");
}

/// `env.java.opts.*` reach the JVMs as Flink's scripts pass them: the TaskManager's own option
/// switches its garbage collector (Flink's GC metrics name the collector that runs), the
/// JobManager keeps G1, and `env.java.opts.all` reaches both.
#[test]
fn env_java_opts_reach_the_processes_of_their_role() {
    let c = TestCluster::start(
        "it-jvm",
        "2.3.0",
        &["--taskmanagers", "1", "--slots", "1", "-D", "env.java.opts.taskmanager=-XX:+UseParallelGC -Dflinkops.role=tm", "-D", "env.java.opts.all=-Dflinkops.all=yes"],
    );
    let names = |v: Value| -> Vec<String> { v.as_array().unwrap().iter().filter_map(|m| m["id"].as_str().map(str::to_string)).collect() };
    let tm = c.get("/taskmanagers")["taskmanagers"][0]["id"].as_str().expect("a TaskManager").to_string();
    // the JobManager's metric fetcher fills the lists after its first run
    let gc = |path: &str| -> Vec<String> { names(c.get(path)).into_iter().filter(|n| n.contains("GarbageCollector")).collect() };
    let tm_gc = wait_for("the TaskManager's GC metrics", Duration::from_secs(60), || Some(gc(&format!("/taskmanagers/{tm}/metrics"))).filter(|v| !v.is_empty()));
    assert!(tm_gc.iter().any(|n| n.contains("PS")), "the TaskManager runs the parallel collector: {tm_gc:?}");
    assert!(!tm_gc.iter().any(|n| n.contains("G1")), "{tm_gc:?}");
    let jm_gc = wait_for("the JobManager's GC metrics", Duration::from_secs(60), || Some(gc("/jobmanager/metrics")).filter(|v| !v.is_empty()));
    assert!(jm_gc.iter().any(|n| n.contains("G1")), "the JobManager keeps G1: {jm_gc:?}");
    let cmdline = |pid: u32| std::fs::read(format!("/proc/{pid}/cmdline")).map(|b| String::from_utf8_lossy(&b).replace('\0', " ")).unwrap_or_default();
    let lines: Vec<String> = c.pids().into_iter().map(cmdline).collect();
    let jm = lines.iter().find(|l| l.contains("StandaloneSessionClusterEntrypoint")).expect("the JobManager's command line");
    let tm = lines.iter().find(|l| l.contains("TaskManagerRunner")).expect("the TaskManager's command line");
    assert!(jm.contains("-Dflinkops.all=yes") && !jm.contains("-Dflinkops.role=tm"), "{jm}");
    assert!(tm.contains("-Dflinkops.all=yes") && tm.contains("-Dflinkops.role=tm"), "{tm}");
}
