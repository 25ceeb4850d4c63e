//! The dashboard's fleet data at N jobs (default 1,000), from a real SQLite store.
//!
//! ```text
//! cargo bench -p flinkops-serve --bench dashboard -- [--jobs 1000] [--runs 31]
//! ```
//!
//! A store in a temp dir is filled with N observed jobs, five catalog entries each, an alert
//! history (every 20th job firing) and a few pending intents; the sampler's memory holds a sample
//! per job. Measured, each `--runs` times, medians printed:
//! - **batched**: [`fleet_from_store`] (three store queries whatever N) and the JSON the page
//!   receives (what `GET /api/v1/dashboard/fleet` does);
//! - **per-job baseline**, in the same run: the same data read with per-job queries (observed,
//!   alerts, catalog per job), as a page built on the per-job API would.
//!
//! The browser's render time of the page at 1,000 jobs is printed by the browser test
//! (`dashboard::dashboard_in_a_real_browser`).

use std::time::Instant;

use flinkops_control::store::{
    AlertState, AlertStatus, IntentKind, NewIntent, ObservedJob, Snapshot, SnapshotKind,
    SnapshotStatus, SqlStore, Store,
};
use flinkops_serve::dashboard::sampler::{JobSample, Samples};
use flinkops_serve::dashboard::{JobRef, fleet_from_store};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = arg("--jobs", 1000);
    let runs = arg("--runs", 31).max(1);
    let dir = tempfile::tempdir().expect("tmp");
    let store = SqlStore::open(&dir.path().display().to_string())
        .await
        .expect("store");
    let now = flinkops_control::store::now_ms();
    let envs: Vec<(String, String, String, Option<String>)> = (0..4)
        .map(|i| {
            (
                format!("env{i}"),
                "standalone".to_string(),
                "2.3".to_string(),
                Some(format!("http://127.0.0.1:{}", 8081 + i)),
            )
        })
        .collect();
    let mut jobs = Vec::with_capacity(n);
    let mut samples = Samples::default();
    let t = Instant::now();
    for i in 0..n {
        let env = format!("env{}", i % 4);
        let job = format!("job-{i:04}");
        let key = format!("{env}/{job}");
        let fid = format!("{i:032x}");
        store
            .put_observed(&ObservedJob {
                job: key.clone(),
                flink_job_id: Some(fid.clone()),
                state: "RUNNING".into(),
                phase: "running".into(),
                spec_version: Some(1),
                last_checkpoint: Some(format!("file:///data/chk/{fid}/chk-{i}")),
                last_savepoint: Some(format!("file:///data/sp/savepoint-{i:06x}-0123456789ab")),
                restored_from: None,
                health: if i % 13 == 0 {
                    "degraded".into()
                } else {
                    "healthy".into()
                },
                updated_at: now,
            })
            .await
            .expect("observed");
        for k in 0..5 {
            store
                .record_snapshot(&Snapshot {
                    id: 0,
                    path: format!("file:///data/sp/{key}/savepoint-{k}"),
                    kind: SnapshotKind::Savepoint,
                    job: key.clone(),
                    flink_job_id: Some(fid.clone()),
                    created_at: now - k * 60_000,
                    status: SnapshotStatus::Completed,
                    size_bytes: Some(1 << 20),
                    protected: false,
                })
                .await
                .expect("snapshot");
        }
        if i % 20 == 0 {
            store
                .put_alert(&AlertState {
                    job: key.clone(),
                    rule: "FlinkCheckpointStale".into(),
                    status: AlertStatus::Firing,
                    severity: "warning".into(),
                    since: now,
                    last_notified_at: None,
                    summary: "no checkpoint for 5m".into(),
                    updated_at: now,
                })
                .await
                .expect("alert");
        }
        if i % 100 == 0 {
            store
                .begin_intent(&NewIntent {
                    job: key.clone(),
                    kind: IntentKind::Upgrade,
                    reason: "bench".into(),
                    payload: serde_json::json!({}),
                    created_at: now,
                })
                .await
                .expect("intent");
        }
        samples.jobs.insert(
            key.clone(),
            JobSample {
                at: now,
                flink_job_id: fid,
                flink_state: "RUNNING".into(),
                started_at: Some(now - 3_600_000),
                parallelism: 4,
                records_in_per_s: Some(1000.0 + i as f64),
                records_out_per_s: Some(900.0),
                busy_max: Some(250.0),
                restarts: Some(0.0),
                last_checkpoint_at: Some(now - 2_000),
                vertices: vec![],
                vertex_load: vec![],
            },
        );
        jobs.push(JobRef {
            key,
            env,
            job,
            parallelism: 4,
        });
    }
    println!(
        "dashboard fleet bench: {n} jobs (store filled in {:.1} s), {runs} runs each, SQLite in {}",
        t.elapsed().as_secs_f64(),
        dir.path().display()
    );

    let mut batched = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let f = fleet_from_store(&store, "bench", &envs, &jobs, &samples, now)
            .await
            .expect("fleet");
        let body = serde_json::to_vec(&f).expect("json");
        batched.push(t.elapsed().as_secs_f64() * 1000.0);
        bytes = body.len();
        assert_eq!(f.jobs.len(), n);
    }
    let mut per_job = Vec::new();
    for _ in 0..runs.min(11) {
        let t = Instant::now();
        let mut rows = Vec::with_capacity(n);
        for j in &jobs {
            let o = store.observed(&j.key).await.expect("observed");
            let a = store.alerts(&j.key).await.expect("alerts");
            let s = store.snapshots(&j.key).await.expect("snapshots");
            rows.push(serde_json::json!({"observed": o, "alerts": a, "last_savepoint": s.first()}));
        }
        let _ = serde_json::to_vec(&rows).expect("json");
        per_job.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (b, p) = (median(batched), median(per_job));
    println!("batched fleet (3 queries + JSON, {bytes} bytes): median {b:.1} ms");
    println!(
        "per-job baseline ({} queries + JSON): median {p:.1} ms",
        3 * n
    );
    println!("ratio per-job / batched: {:.1}x", p / b);
}
