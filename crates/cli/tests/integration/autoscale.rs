//! `flinkops autoscaler` against real Flink: a SQL job whose stateful operator is the bottleneck
//! at parallelism 1 (examples/autoscaling/job.sql) is scaled in ONE decision, in place through
//! the adaptive scheduler, and then keeps up with its input. Prints the figures (time from
//! overload to decision and to keeping up, throughput before and after); asserts no timings.
//! Also: the simulator command, and bad input.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{TestCluster, flinkops, flinkops_json, wait_for};

const JOB_SQL: &str = include_str!("../../../../examples/autoscaling/job.sql");

/// The datagen rate the example job asks for.
fn configured_rate() -> f64 {
    let line = JOB_SQL.lines().find(|l| l.contains("'rows-per-second' =")).expect("rows-per-second in job.sql");
    line.split('\'').nth(3).and_then(|v| v.parse().ok()).expect("a number")
}

/// `(max, avg, sum)` of a subtask metric of a vertex; NaN when Flink has no value yet.
fn metric(c: &TestCluster, job: &str, vertex: &str, name: &str) -> (f64, f64, f64) {
    let v = c.get(&format!("/jobs/{job}/vertices/{vertex}/subtasks/metrics?get={name}&agg=max,avg,sum"));
    let m = v.as_array().and_then(|a| a.first()).cloned().unwrap_or(Value::Null);
    let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
    (f("max"), f("avg"), f("sum"))
}

fn vertices(c: &TestCluster, job: &str) -> Vec<(String, String, u64)> {
    c.get(&format!("/jobs/{job}"))["vertices"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| (v["id"].as_str().unwrap_or("").to_string(), v["name"].as_str().unwrap_or("").to_string(), v["parallelism"].as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn explain_apply_scales_the_bottleneck_in_one_decision() {
    let c = TestCluster::start("it-autoscale", "2.3.0", &["--taskmanagers", "1", "--slots", "8"]);
    let dir = tempfile::tempdir().unwrap();
    let sql = dir.path().join("job.sql");
    std::fs::write(&sql, JOB_SQL).unwrap();
    let v = flinkops_json(&["job", "submit", "--sql", sql.to_str().unwrap(), "--cluster", &c.name, "-p", "1"]);
    let job = v["job_id"].as_str().expect("job id").to_string();
    let submitted = Instant::now();
    let rate = configured_rate();

    let vs = wait_for("the job's vertices", Duration::from_secs(60), || {
        let vs = vertices(&c, &job);
        (vs.len() == 2).then_some(vs)
    });
    let (src, _, _) = vs.iter().find(|(_, n, _)| n.starts_with("Source")).cloned().expect("source vertex");
    let (agg, agg_name, p0) = vs.iter().find(|(_, n, _)| n.contains("GroupAggregate")).cloned().expect("aggregate vertex");
    assert_eq!(p0, 1);

    // Overload: the aggregate saturated (busy ≥ 900 ms/s) and the source behind its rate. Flink's
    // rates are 60 s moving averages (too low in a task's first minute), so wait 65 s.
    let overloaded = wait_for("the aggregate to be the bottleneck", Duration::from_secs(120), || {
        let busy = metric(&c, &job, &agg, "busyTimeMsPerSecond").0;
        (busy >= 900.0 && submitted.elapsed() >= Duration::from_secs(65)).then(Instant::now)
    });
    let before = metric(&c, &job, &src, "numRecordsOutPerSecond").2;
    let busy_before = metric(&c, &job, &agg, "busyTimeMsPerSecond").0;
    let bp_before = metric(&c, &job, &src, "backPressuredTimeMsPerSecond").1;
    assert!(before < 0.95 * rate, "the job must not keep up at parallelism 1: {before}/s of {rate}/s");

    let out = flinkops_json(&["autoscaler", "explain", &job, "--cluster", &c.name, "--window", "15", "--apply"]);
    let decided = Instant::now();
    let d = &out["decision"];
    assert_eq!(d["status"], "rescale", "{out:#}");
    let vd = d["vertices"].as_array().unwrap().iter().find(|v| v["id"] == agg.as_str()).cloned().expect("aggregate decision");
    assert_eq!(vd["action"], "scale_up", "{vd:#}");
    let p1 = vd["new_parallelism"].as_u64().unwrap();
    assert!(p1 > 1, "{vd:#}");
    // every number behind it is there
    for k in ["true_rate_per_subtask", "target_rate", "utilization_at_target", "raw_parallelism"] {
        assert!(vd[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {vd:#}");
    }
    let applied = &out["applied"];
    assert_eq!(applied["running"][agg_name.as_str()].as_u64(), Some(p1), "{out:#}");
    let elapsed_apply = applied["elapsed_ms"].as_u64().unwrap_or(0);
    // ONE decision: the job runs with the new parallelism; no second request was made.
    assert_eq!(vertices(&c, &job).iter().find(|(id, _, _)| *id == agg).map(|v| v.2), Some(p1));

    // After the rescale the job keeps up with its input (datagen's backpressured time stays
    // high even at its full rate: it bursts, so throughput is the criterion).
    // How soon it keeps up depends on the machine's free CPU (2 cores shared with the other
    // tests), so it is measured and printed; the hard check is that throughput rose.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut caught_up = None;
    while Instant::now() < deadline {
        if metric(&c, &job, &src, "numRecordsOutPerSecond").2 >= 0.95 * rate {
            caught_up = Some(Instant::now());
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    let after = metric(&c, &job, &src, "numRecordsOutPerSecond").2;
    assert!(after > before, "throughput must rise after scaling the bottleneck up: {before:.0}/s → {after:.0}/s");
    let busy_after = metric(&c, &job, &agg, "busyTimeMsPerSecond");
    let bp_after = metric(&c, &job, &src, "backPressuredTimeMsPerSecond").1;
    assert_eq!(vertices(&c, &job).iter().find(|(id, _, _)| *id == agg).map(|v| v.2), Some(p1), "no further rescale");
    println!(
        "autoscale real-Flink: parallelism 1 → {p1} in one decision; overload → decision {:.1} s (15 s window), \
         → rescaled {:.1} s (apply {:.1} s), → keeping up {}; throughput {before:.0}/s → {after:.0}/s of {rate:.0}/s; \
         aggregate busy max {busy_before:.0} → {:.0} ms/s (avg {:.0}); source backpressured {bp_before:.0} → {bp_after:.0} ms/s",
        (decided - overloaded).as_secs_f64() - elapsed_apply as f64 / 1000.0,
        (decided - overloaded).as_secs_f64(),
        elapsed_apply as f64 / 1000.0,
        caught_up.map_or_else(|| "not within 120 s".to_string(), |t| format!("{:.1} s", (t - overloaded).as_secs_f64())),
        busy_after.0,
        busy_after.1,
    );
    let _ = flinkops().args(["job", "cancel", &job, "--cluster", &c.name]).output();
}

#[test]
fn simulate_prints_both_policies() {
    let v = flinkops_json(&["autoscaler", "simulate", "--scenarios", "4", "--seed", "3"]);
    let p = v["policies"].as_array().expect("policies");
    assert_eq!(p.len(), 2);
    assert_eq!(p[0]["policy"], "ds2");
    assert_eq!(p[0]["scenarios"], 4);
    let out = flinkops().args(["autoscaler", "simulate", "--scenarios", "2"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("converged in one decision"));
}

#[test]
fn explain_rejects_bad_input() {
    let out = flinkops().args(["autoscaler", "explain", "not-a-job", "--rest", "http://127.0.0.1:9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = flinkops()
        .args(["autoscaler", "explain", "0123456789abcdef0123456789abcdef", "--rest", "http://127.0.0.1:9", "--target-utilization", "1.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

const EXAMPLE_SPEC: &str = include_str!("../../../../examples/autoscaling/flinkops.yaml");

/// serve's applied rescales of a job (oldest first), from its API.
fn applied_rescales(job: &Value) -> Vec<Value> {
    let mut v: Vec<Value> = job["scalings"].as_array().cloned().unwrap_or_default().into_iter().filter(|s| s["applied"] == true).collect();
    v.reverse();
    v
}

fn vertex_decision<'a>(scaling: &'a Value, name_part: &str) -> &'a Value {
    scaling["decision"]["vertices"].as_array().and_then(|a| a.iter().find(|v| v["name"].as_str().is_some_and(|n| n.contains(name_part)))).unwrap_or_else(|| panic!("no vertex named *{name_part}* in {scaling:#}"))
}

/// `(name, parallelism)` of the vertices of the job's current Flink job.
fn flink_vertices(s: &crate::serve::Serve, flink_job: &str) -> Vec<(String, u64)> {
    crate::support::http_get_json(&format!("{}/jobs/{flink_job}", s.rest_url()))["vertices"]
        .as_array()
        .map(|a| a.iter().map(|v| (v["name"].as_str().unwrap_or("").to_string(), v["parallelism"].as_u64().unwrap_or(0))).collect())
        .unwrap_or_default()
}

/// TaskManagers registered with the cluster's JobManager.
fn taskmanagers(s: &crate::serve::Serve) -> usize {
    crate::support::http_get_json(&format!("{}/taskmanagers", s.rest_url()))["taskmanagers"].as_array().map_or(0, Vec::len)
}

fn source_rate(s: &crate::serve::Serve, flink_job: &str) -> f64 {
    source_metric(s, flink_job, "numRecordsOutPerSecond", "sum")
}

/// One aggregated subtask metric of the job's source vertex (NaN when Flink has none yet).
fn source_metric(s: &crate::serve::Serve, flink_job: &str, metric: &str, agg: &str) -> f64 {
    let job = crate::support::http_get_json(&format!("{}/jobs/{flink_job}", s.rest_url()));
    let src = job["vertices"].as_array().and_then(|a| a.iter().find(|v| v["name"].as_str().is_some_and(|n| n.starts_with("Source")))).map(|v| v["id"].as_str().unwrap_or("").to_string()).expect("source vertex");
    let m = crate::support::http_get_json(&format!("{}/jobs/{flink_job}/vertices/{src}/subtasks/metrics?get={metric}&agg={agg}", s.rest_url()));
    m.as_array().and_then(|a| a.first()).and_then(|x| x[agg].as_f64()).unwrap_or(f64::NAN)
}

/// The real proof: `flinkops serve` with `examples/autoscaling/flinkops.yaml` scales the
/// bottleneck (the GroupAggregate) up in ONE decision, in place, and — after an upgrade lowers
/// the datagen rate 120× (the autoscaler's parallelism carried into the new version) — scales it
/// down again after the scale-down delay; no other rescale happens (no oscillation). Prints the
/// figures (overload → decision → rescaled, throughput before/after); asserts no timings.
#[test]
fn serve_scales_the_bottleneck_up_in_one_decision_and_down_after_the_rate_drops() {
    let dir = tempfile::tempdir().unwrap();
    let platform = format!("it-as-{}", std::process::id());
    let spec = dir.path().join("flinkops.yaml");
    std::fs::write(&spec, EXAMPLE_SPEC.replace("platform: autoscaling", &format!("platform: {platform}"))).unwrap();
    let sql = dir.path().join("job.sql");
    std::fs::write(&sql, JOB_SQL).unwrap();
    let rate = configured_rate();
    let mut s = crate::serve::Serve::start(&spec, &format!("{platform}-local"), dir.path());
    let key = ("local", "autoscaling-demo");

    // 1. serve deploys the job at parallelism 1.
    let j = wait_for("the job to run", Duration::from_secs(240), || {
        let j = s.job(key.0, key.1);
        (j["job"]["phase"] == "running" && j["job"]["flink_job_id"].is_string()).then_some(j)
    });
    s.cluster_watchdog();
    let flink_job = j["job"]["flink_job_id"].as_str().unwrap().to_string();
    let running = Instant::now();
    assert!(flink_vertices(&s, &flink_job).iter().all(|(_, p)| *p == 1), "deployed at parallelism 1");

    // 2. ONE decision scales the aggregate up, in place (same Flink job).
    let (j, up) = wait_for("serve's autoscaler to scale up", Duration::from_secs(360), || {
        let j = s.job(key.0, key.1);
        let a = applied_rescales(&j);
        a.first().cloned().map(|up| (j, up))
    });
    let decided = Instant::now();
    let agg = vertex_decision(&up, "GroupAggregate").clone();
    assert_eq!(agg["action"], "scale_up", "{up:#}");
    let p1 = agg["new_parallelism"].as_u64().unwrap();
    // The demand (6000/s) is more than twice one subtask's true rate here (230–2,600/s measured
    // across loads): DS2's parallelism at 0.7 utilization is 3 or more (clamped at 4), which
    // needs more slots than the one TaskManager's 2.
    assert!(p1 > 2 && p1 <= 4, "more than one TaskManager's slots, within maxParallelism: {agg:#}");
    for k in ["true_rate_per_subtask", "target_rate", "utilization_at_target"] {
        assert!(agg[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {agg:#}");
    }
    let src = vertex_decision(&up, "Source");
    assert_eq!(src["source_demand"]["basis"], "declared", "the datagen rate from the deployed SQL is the demand: {src:#}");
    assert_eq!(src["metrics"]["declared_rate_per_s"].as_f64(), Some(rate), "{src:#}");
    let before = src["metrics"]["records_out_per_s"].as_f64().unwrap_or(0.0);
    assert!(before < 0.95 * rate, "overloaded at parallelism 1: {before}/s of {rate}/s");
    let rescale = j["intents"].as_array().unwrap().iter().find(|i| i["kind"] == "rescale").cloned().expect("a rescale intent");
    assert_eq!(rescale["state"], "done", "{rescale:#}");
    assert!(rescale["reason"].as_str().unwrap_or("").contains("started TaskManager 2"), "serve started a second TaskManager for the slots: {rescale:#}");
    assert_eq!(taskmanagers(&s), 2, "two TaskManagers registered (maxReplicas 2)");
    assert_eq!(j["job"]["flink_job_id"].as_str(), Some(flink_job.as_str()), "rescaled in place: the same Flink job");
    wait_for("Flink to run the aggregate at the new parallelism", Duration::from_secs(120), || {
        flink_vertices(&s, &flink_job).iter().any(|(n, p)| n.contains("GroupAggregate") && *p == p1).then_some(())
    });
    let rescaled = Instant::now();
    // Flink's rates are 60 s averages: throughput after, a minute and more after the rescale.
    // The aggregate is CPU-bound and this machine has 2 cores shared with other tests and
    // builds: how much throughput the new subtasks add depends on the free CPU of the moment
    // (measured here: +17 % at a load average of 20, −27 % while a benchmark saturated both
    // cores), so it is printed, not asserted (the CLI test `explain_apply_…` asserts a rise).
    std::thread::sleep(Duration::from_secs(70));
    let after = source_rate(&s, &flink_job);
    assert!(after.is_finite() && after > 0.0, "the rescaled job runs: {after}");
    // Backpressure on the source (ms/s, average over subtasks) before the decision and now.
    let bp_before = src["metrics"]["backpressured_ms_per_s"].as_f64().unwrap_or(f64::NAN);
    let bp_after = source_metric(&s, &flink_job, "backPressuredTimeMsPerSecond", "avg");
    assert_eq!(applied_rescales(&s.job(key.0, key.1)).len(), 1, "one decision: no second rescale at the same load");

    // 3. The rate drops 120×: an upgrade to the same job at 50 rows/s starts from a savepoint
    //    with the autoscaler's parallelism (not the spec's 1).
    std::fs::write(&sql, JOB_SQL.replace(&format!("'rows-per-second' = '{}'", rate as u64), "'rows-per-second' = '50'")).unwrap();
    let (code, body) = s.post("/api/v1/jobs/local/autoscaling-demo/upgrade", true, None);
    assert_eq!(code, 200, "{body}");
    let j = wait_for("the upgrade to the lower rate", Duration::from_secs(240), || {
        let j = s.job(key.0, key.1);
        let up = j["intents"].as_array()?.iter().find(|i| i["kind"] == "upgrade")?.clone();
        (up["state"] != "pending" && j["job"]["phase"] == "running").then_some((j, up))
    });
    assert_eq!(j.1["state"], "done", "{:#}", j.1);
    let flink_job2 = j.0["job"]["flink_job_id"].as_str().unwrap().to_string();
    assert_ne!(flink_job2, flink_job);
    let upgraded = Instant::now();
    // The new version is submitted at the autoscaler's parallelism (the SQL runner sets it by
    // stable vertex name): no restart to carry it over.
    let vertices = flink_vertices(&s, &flink_job2);
    assert!(vertices.iter().any(|(n, p)| n.contains("GroupAggregate") && *p == p1), "the upgraded job starts at {p1}: {vertices:?}");

    // 4. After the stabilization, the window and the scale-down delay: scaled down.
    let (j, down) = wait_for("serve's autoscaler to scale down", Duration::from_secs(360), || {
        let j = s.job(key.0, key.1);
        let a = applied_rescales(&j);
        a.get(1).cloned().map(|d| (j, d))
    });
    let agg = vertex_decision(&down, "GroupAggregate");
    assert_eq!(agg["action"], "scale_down", "{down:#}");
    let p2 = agg["new_parallelism"].as_u64().unwrap();
    assert!(p2 < p1, "{agg:#}");
    assert_eq!(j["job"]["flink_job_id"].as_str(), Some(flink_job2.as_str()), "in place");
    let scaled_down = Instant::now();
    wait_for("Flink to run the aggregate at the lower parallelism", Duration::from_secs(120), || {
        flink_vertices(&s, &flink_job2).iter().any(|(n, p)| n.contains("GroupAggregate") && *p == p2).then_some(())
    });

    // 5. The TaskManager serve added stays idle after the scale-down (Flink returns unused slots
    //    after `slot.idle.timeout`, 50 s) and is stopped after 60 s idle; the job runs on.
    //    Meanwhile (no oscillation) a further window passes without another rescale.
    let (released, _) = wait_for("serve to stop the idle TaskManager", Duration::from_secs(240), || (taskmanagers(&s) == 1).then_some((Instant::now(), ())));
    let job_now = crate::support::http_get_json(&format!("{}/jobs/{flink_job2}", s.rest_url()));
    assert_eq!(job_now["state"], "RUNNING", "the job runs on after the idle TaskManager stopped: {job_now:#}");
    std::thread::sleep(Duration::from_secs(15));
    let j = s.job(key.0, key.1);
    let all = applied_rescales(&j);
    assert_eq!(all.len(), 2, "exactly one scale-up and one scale-down decision: {all:#?}");
    let rescales: Vec<Value> = j["intents"].as_array().unwrap().iter().filter(|i| i["kind"] == "rescale").cloned().collect();
    assert_eq!(rescales.len(), 2, "scale-up and scale-down, nothing to carry into the upgraded job: {rescales:#?}");
    assert!(rescales.iter().all(|i| i["state"] == "done"), "{rescales:#?}");
    let latest = j["scalings"].as_array().and_then(|a| a.first()).cloned().unwrap_or(Value::Null);
    assert_ne!(latest["decision"]["status"], "rescale", "{latest:#}");

    // `flinkops autoscaler explain JOB --env` shows serve's decision with its numbers.
    let out = flinkops().args(["autoscaler", "explain", "autoscaling-demo", "--env", "local", "--server", &s.url]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("TRUE/S/SUBTASK") && text.contains("GroupAggregate"), "{text}");

    println!(
        "serve autoscaler real-Flink: aggregate 1 → {p1} in one decision {:.1} s after the job ran (stabilization 65 s, window 15–30 s), \
         running at {p1} {:.1} s later; source {before:.0}/s → {after:.0}/s of {rate:.0}/s, source backpressure {bp_before:.0} → {bp_after:.0} ms/s; after the drop to 50/s: {p1} → {p2} {:.1} s after the upgrade \
         (stabilization 65 s + window + 30 s delay); 2 rescales in all; the added TaskManager stopped {:.1} s after the scale-down",
        (decided - running).as_secs_f64(),
        (rescaled - decided).as_secs_f64(),
        (scaled_down - upgraded).as_secs_f64(),
        (released - scaled_down).as_secs_f64(),
    );
    s.stop();
}

/// On a cluster without the adaptive scheduler (`jobmanager.scheduler: default`), serve cannot
/// rescale in place: it stops the job with a savepoint and submits it again from that savepoint
/// at the new parallelism — a `rescale_by_savepoint` intent walked like an upgrade — and the new
/// Flink job restores its state from the savepoint and runs at the autoscaler's parallelism
/// (the SQL runner sets it by vertex name: the resubmitted SQL job has new vertex ids).
#[test]
fn without_the_adaptive_scheduler_serve_rescales_by_savepoint_and_resubmission() {
    let dir = tempfile::tempdir().unwrap();
    let platform = format!("it-asp-{}", std::process::id());
    let spec = dir.path().join("flinkops.yaml");
    let text = EXAMPLE_SPEC
        .replace("platform: autoscaling", &format!("platform: {platform}"))
        .replace("taskManager: {replicas: 1, maxReplicas: 2, memory: 2g, slots: 2}", "taskManager: {replicas: 1, memory: 2g, slots: 4}\n    flinkConfiguration:\n      jobmanager.scheduler: default");
    assert!(text.contains("jobmanager.scheduler: default"), "the example's taskManager line changed: update this test");
    std::fs::write(&spec, text).unwrap();
    std::fs::write(dir.path().join("job.sql"), JOB_SQL).unwrap();
    let mut s = crate::serve::Serve::start(&spec, &format!("{platform}-local"), dir.path());
    let key = ("local", "autoscaling-demo");

    let j = wait_for("the job to run", Duration::from_secs(240), || {
        let j = s.job(key.0, key.1);
        (j["job"]["phase"] == "running" && j["job"]["flink_job_id"].is_string()).then_some(j)
    });
    s.cluster_watchdog();
    let flink_job = j["job"]["flink_job_id"].as_str().unwrap().to_string();
    let running = Instant::now();
    // The default scheduler refuses in-place rescaling: the premise of this test, from Flink.
    let refused = crate::support::http_get_ok(&format!("{}/jobs/{flink_job}/resource-requirements", s.rest_url())).unwrap_or_default();
    assert!(refused.contains("does not support changing the parallelism"), "{refused}");

    let (j, rescale) = wait_for("a rescale by savepoint to finish", Duration::from_secs(420), || {
        let j = s.job(key.0, key.1);
        let i = j["intents"].as_array()?.iter().find(|i| i["kind"] == "rescale_by_savepoint")?.clone();
        (i["state"] != "pending" && j["job"]["phase"] == "running").then_some((j, i))
    });
    let done = Instant::now();
    assert_eq!(rescale["state"], "done", "{rescale:#}");
    let up = applied_rescales(&j).first().cloned().expect("the applied decision");
    let p1 = vertex_decision(&up, "GroupAggregate")["new_parallelism"].as_u64().unwrap();
    assert!(p1 > 1, "{up:#}");
    let sp = rescale["payload"]["savepoint"].as_str().expect("the savepoint the job stopped with").to_string();
    let flink_job2 = j["job"]["flink_job_id"].as_str().unwrap().to_string();
    assert_ne!(flink_job2, flink_job, "a new Flink job");
    assert!(!j["intents"].as_array().unwrap().iter().any(|i| i["kind"] == "rescale"), "nothing was tried in place");
    let vertices = flink_vertices(&s, &flink_job2);
    assert!(vertices.iter().any(|(n, p)| n.contains("GroupAggregate") && *p == p1), "the aggregate runs at {p1}: {vertices:?}");
    assert!(vertices.iter().any(|(n, p)| n.starts_with("Source") && *p == 1), "the source keeps 1: {vertices:?}");
    let restored = crate::support::http_get_json(&format!("{}/jobs/{flink_job2}/checkpoints", s.rest_url()))["latest"]["restored"].clone();
    assert_eq!(restored["is_savepoint"], true, "{restored:#}");
    let norm = |p: &str| p.trim_start_matches("file:").trim_start_matches("//").trim_end_matches('/').to_string();
    assert_eq!(restored["external_path"].as_str().map(norm), Some(norm(&sp)), "restored from the rescale's savepoint: {restored:#}");
    println!("rescale by savepoint: aggregate 1 → {p1}, done {:.1} s after the job first ran (decision, stop-with-savepoint, resubmit, first checkpoint)", (done - running).as_secs_f64());
    s.stop();
}
