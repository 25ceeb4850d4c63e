//! `flinkops tune` and `flinkops diagnose` against real peers: every profile's overlay, written
//! as a file, passes `flinkops config lint` for Flink 2.3 and 1.20 (no warning, no error); a
//! real Flink 2.3 cluster starts with a tuned configuration and checkpoints a stateful job under
//! it; `diagnose` on a real job whose stateful operator is saturated names that operator as the
//! bottleneck, with the source in its backpressure chain. Also: bad input and its exit codes.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{TestCluster, completed_checkpoints, flinkops, flinkops_json, job_state, wait_for};

const PROFILES: [&str; 4] = ["low-latency", "high-throughput", "memory-intensive", "balanced"];

/// Workloads as flags: stateless, a low-cardinality aggregation, big state on RocksDB, a latency
/// job with a target, a batch job.
const WORKLOADS: [&[&str]; 5] = [
    &[],
    &["--sql", "group-aggregations,distinct-aggregates", "--key-cardinality", "100", "--state-ttl", "1 d"],
    &["--state-size", "40gb", "--access-pattern", "write-heavy", "--taskmanagers", "4", "--taskmanager-memory", "8gb", "--cores", "4"],
    &["--goal", "latency", "--latency-target", "500 ms", "--sql", "regular-joins,deduplication,top-n", "--delivery", "at-least-once"],
    &["--mode", "batch", "--sql", "group-aggregations"],
];

fn lint_findings(file: &std::path::Path, version: &str) -> Vec<Value> {
    let path = file.to_str().expect("temp path is UTF-8");
    let out = flinkops().args(["config", "lint", path, "--flink-version", version, "-o", "json"]).output().expect("flinkops runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("lint output not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    assert!(out.status.success(), "lint of {} failed: {v:#}", file.display());
    v.as_array().cloned().unwrap_or_default()
}

#[test]
fn every_profile_lints_clean_on_2_3_and_1_20() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for version in ["2.3", "1.20"] {
        for profile in PROFILES {
            for (i, w) in WORKLOADS.iter().enumerate() {
                let file = dir.path().join(format!("{version}-{profile}-{i}.yaml"));
                let mut args = vec!["tune", "--profile", profile, "--flink-version", version, "--out", file.to_str().unwrap()];
                args.extend_from_slice(w);
                let v = flinkops_json(&args);
                assert_eq!(v["profile"], profile);
                let config = v["config"].as_object().expect("config map");
                let reasons = v["reasons"].as_array().expect("reasons");
                // one reason per key, each with what triggered it
                assert_eq!(reasons.len(), config.len(), "{v:#}");
                for r in reasons {
                    assert!(config.contains_key(r["key"].as_str().unwrap()), "{r}");
                    assert!(!r["trigger"].as_str().unwrap_or("").is_empty() && !r["because"].as_str().unwrap_or("").is_empty(), "{r}");
                }
                let findings: Vec<Value> = lint_findings(&file, version).into_iter().filter(|f| f["severity"] != "info").collect();
                assert!(findings.is_empty(), "{version} {profile} {w:?}:\n{findings:#?}\n{}", std::fs::read_to_string(&file).unwrap());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * PROFILES.len() * WORKLOADS.len());
}

#[test]
fn people_get_every_key_with_its_reason_and_scripts_get_the_file() {
    let out = flinkops().args(["tune", "--profile", "high-throughput", "--sql", "group-aggregations", "--key-cardinality", "100"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("table.exec.mini-batch.enabled = true"), "{text}");
    assert!(text.contains("    trigger: workload.sql: group aggregations"), "{text}");
    assert!(text.contains("table.optimizer.agg-phase-strategy = TWO_PHASE"), "{text}");
    // UTC under another name becomes the id Flink's window operators do not convert
    let v = flinkops_json(&["tune", "--sql", "window-aggregations", "--time-zone", "Etc/UTC"]);
    assert_eq!(v["config"]["table.local-time-zone"], "UTC", "{v:#}");
    let v = flinkops_json(&["tune", "--sql", "window-aggregations"]);
    assert!(v["config"].get("table.local-time-zone").is_none(), "{v:#}");
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("no time_zone")), "{v:#}");
    // `--out -`: the file alone on stdout, every key preceded by its reason
    let out = flinkops().args(["tune", "--format", "flink-configuration", "--out", "-"]).output().unwrap();
    assert!(out.status.success());
    let file = String::from_utf8_lossy(&out.stdout);
    assert!(file.contains("\nflinkConfiguration:\n"), "{file}");
    let lines: Vec<&str> = file.lines().skip_while(|l| *l != "flinkConfiguration:").skip(1).collect();
    for pair in lines.chunks(2) {
        assert!(pair[0].trim_start().starts_with("# ") && pair.get(1).is_some_and(|l| l.starts_with("  ") && l.contains(": ")), "{pair:?}\n{file}");
    }
}

#[test]
fn bad_workloads_are_input_errors_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("w.yaml");
    std::fs::write(&f, "goal: throughput\ncluster:\n  taskmanager_memory: 4gb\n  cores: two\n").unwrap();
    let out = flinkops().args(["tune", "--workload", f.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:4:10: ", f.display())), "{err}");

    std::fs::write(&f, "goal: throughput\nstate_size: 20 gigs\n").unwrap();
    let out = flinkops().args(["tune", "--workload", f.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:2:13: state_size", f.display())), "{err}");

    let out = flinkops().args(["tune", "--taskmanager-memory", "512mb"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--taskmanager-memory: 512mb is too small"));
    let out = flinkops().args(["tune", "--time-zone", "Europe/Berln"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--time-zone: `Europe/Berln` is not a zone of the IANA time zone database"), "{err}");
    let out = flinkops().args(["tune", "--flink-version", "0.9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = flinkops().args(["tune", "--workload", dir.path().join("missing.yaml").to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = flinkops().args(["diagnose", "not-a-job-id", "--rest", "http://127.0.0.1:9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = flinkops().args(["diagnose", "0123456789abcdef0123456789abcdef", "--rest", "http://127.0.0.1:9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}

/// `--time-zone` accepts exactly the zones Flink accepts: Flink's `table.local-time-zone`
/// check (`TimeZone.getTimeZone(z).toZoneId().equals(ZoneId.of(z))`) run by a real JVM.
#[test]
fn time_zones_are_accepted_as_a_jvm_accepts_them_for_flink() {
    let zones = [
        "UTC", "Etc/UTC", "GMT", "Zulu", "UCT", "GMT0", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "CET", "EST5EDT", "GMT+03:00", "GMT-00:00",
        "GMT+3", "GMT+0530", "GMT-18:00", "EST", "MST", "HST", "europe/berlin", "etc/utc", "Europe/Berln", "PST", "GMT+3:00", "GMT+18:30", "GMT+1:00:00",
        "UTC+3",
    ];
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("FlinkZone.java");
    std::fs::write(
        &src,
        "public class FlinkZone { public static void main(String[] a) { for (String z : a) { boolean ok; \
         try { ok = java.util.TimeZone.getTimeZone(z).toZoneId().equals(java.time.ZoneId.of(z)); } catch (Exception e) { ok = false; } \
         System.out.println(z + \" \" + ok); } } }",
    )
    .unwrap();
    let out = std::process::Command::new("java").arg(&src).args(zones).output().expect("java");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let jvm = String::from_utf8(out.stdout).unwrap();
    let mut accepted = 0;
    for line in jvm.lines() {
        let (zone, ok) = line.rsplit_once(' ').unwrap();
        let ours = flinkops().args(["tune", "--sql", "window-aggregations", "--time-zone", zone]).output().unwrap();
        assert_eq!(ours.status.success(), ok == "true", "{zone}: the JVM says {ok}; flinkops: {}", String::from_utf8_lossy(&ours.stderr));
        accepted += usize::from(ok == "true");
    }
    assert_eq!(jvm.lines().count(), zones.len());
    assert_eq!(accepted, 16, "{jvm}");
}

#[test]
fn a_real_cluster_starts_and_checkpoints_with_the_tuned_config() {
    let v = flinkops_json(&[
        "tune",
        "--profile",
        "high-throughput",
        "--sql",
        "group-aggregations",
        "--key-cardinality",
        "50",
        "--checkpoint-interval",
        "1 s",
        "--taskmanager-memory",
        "1536mb",
        "--cores",
        "2",
    ]);
    let config = v["config"].as_object().expect("config").clone();
    assert_eq!(config["taskmanager.memory.managed.fraction"], "0", "{v:#}");
    let mut extra: Vec<String> = Vec::new();
    for (k, val) in &config {
        extra.push("-D".into());
        extra.push(format!("{k}={}", val.as_str().unwrap()));
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let c = TestCluster::start("it-tuned", "2.3.0", &extra);
    // the cluster runs with the tuned values (a just-registered TaskManager reports 0 slots
    // until its slot report arrives)
    let tm = wait_for("the TaskManager's slots", Duration::from_secs(60), || {
        let tm = c.get("/taskmanagers");
        (tm["taskmanagers"][0]["slotsNumber"].as_u64().unwrap_or(0) > 0).then_some(tm)
    });
    let tms = tm["taskmanagers"].as_array().expect("taskmanagers");
    assert_eq!(tms.len(), 1);
    assert_eq!(tms[0]["slotsNumber"], 2, "{tm:#}");
    let managed = tms[0]["memoryConfiguration"]["managedMemory"].as_u64().unwrap_or(u64::MAX);
    assert_eq!(managed, 0, "managed memory of the tuned TaskManager: {tm:#}");
    // and checkpoints a stateful SQL job (its SET statements come from nowhere else)
    let dir = tempfile::tempdir().unwrap();
    let sql = crate::support::sql_file(&dir, "count.sql", &crate::support::counting_sql("tuned-count"));
    let j = flinkops_json(&["job", "submit", "--sql", sql.to_str().unwrap(), "--cluster", &c.name]);
    let id = j["job_id"].as_str().expect("job id").to_string();
    wait_for("a completed checkpoint under the tuned config", Duration::from_secs(120), || (completed_checkpoints(&c, &id) >= 2).then_some(()));
    assert_eq!(job_state(&c, &id), "RUNNING");
    let cfg = c.get(&format!("/jobs/{id}/checkpoints/config"));
    assert_eq!(cfg["unaligned_checkpoints"], true, "{cfg:#}");
    let _ = flinkops().args(["job", "cancel", &id, "--cluster", &c.name]).output();
}

const JOB_SQL: &str = include_str!("../../../../examples/autoscaling/job.sql");

#[test]
fn diagnose_names_the_saturated_aggregate_as_the_bottleneck() {
    let c = TestCluster::start("it-diagnose", "2.3.0", &["--taskmanagers", "1", "--slots", "4"]);
    let dir = tempfile::tempdir().unwrap();
    // 4× the example's rate: the aggregate is overloaded (and the source held back by it) even
    // when other tests share the CPU.
    assert!(JOB_SQL.contains("'rows-per-second' = '6000'"));
    let sql = crate::support::sql_file(&dir, "job.sql", &JOB_SQL.replace("'rows-per-second' = '6000'", "'rows-per-second' = '24000'"));
    let v = flinkops_json(&["job", "submit", "--sql", sql.to_str().unwrap(), "--cluster", &c.name, "-p", "1"]);
    let job = v["job_id"].as_str().expect("job id").to_string();
    let started = Instant::now();
    let vertices = wait_for("the job's two vertices", Duration::from_secs(60), || {
        let vs = c.get(&format!("/jobs/{job}"))["vertices"].as_array().cloned().unwrap_or_default();
        (vs.len() == 2 && vs.iter().all(|v| v["status"] == "RUNNING")).then_some(vs)
    });
    let id_of = |needle: &str| vertices.iter().find(|v| v["name"].as_str().unwrap_or("").contains(needle)).map(|v| v["id"].as_str().unwrap().to_string());
    let agg = id_of("GroupAggregate").expect("aggregate vertex");
    let src = id_of("Source").expect("source vertex");
    // the aggregate saturated (as Flink itself reports it) before diagnosing
    wait_for("the aggregate to be busy", Duration::from_secs(120), || {
        let m = c.get(&format!("/jobs/{job}/vertices/{agg}/subtasks/metrics?get=busyTimeMsPerSecond&agg=max"));
        let busy = m.as_array().and_then(|a| a.first()).and_then(|x| x["max"].as_f64()).unwrap_or(0.0);
        (busy >= 900.0 && started.elapsed() >= Duration::from_secs(20)).then_some(())
    });
    let snap = dir.path().join("snap.json");
    let out = flinkops()
        .args(["diagnose", &job, "--cluster", &c.name, "--window", "10", "--interval", "2", "--save", snap.to_str().unwrap(), "-o", "json"])
        .output()
        .unwrap();
    let _ = flinkops().args(["job", "cancel", &job, "--cluster", &c.name]).output();
    // a critical finding: exit 1
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = &v["diagnosis"];
    assert_eq!(d["bottleneck"], agg.as_str(), "{v:#}");
    assert_eq!(d["backpressure_chain"], serde_json::json!([src]), "{v:#}");
    let findings = d["findings"].as_array().unwrap();
    let b = findings.iter().find(|f| f["kind"] == "bottleneck").expect("bottleneck finding");
    let evidence = b["evidence"].to_string();
    assert!(evidence.contains("busiest subtask busy") && evidence.contains("at parallelism 1"), "{b:#}");
    assert_eq!(b["overlay"]["table.exec.mini-batch.enabled"], "true", "{b:#}");
    // 3 of the 4 slots are free while the aggregate is saturated
    assert!(findings.iter().any(|f| f["kind"] == "idle-slots"), "{v:#}");
    assert_eq!(b["overlay"]["parallelism.default"], "2", "{b:#}");
    // the saved snapshot gives the same diagnosis offline
    let again = flinkops().args(["diagnose", "--snapshot", snap.to_str().unwrap(), "-o", "json"]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    let w: Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(w["diagnosis"], v["diagnosis"]);
    // for people: the bottleneck by name and the overlay
    let text = flinkops().args(["diagnose", "--snapshot", snap.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Bottleneck: GroupAggregate"), "{text}");
    assert!(text.contains("CRITICAL bottleneck:"), "{text}");
}
