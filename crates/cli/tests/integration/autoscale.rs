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
