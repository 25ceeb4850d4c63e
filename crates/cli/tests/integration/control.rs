//! The control plane's core against real Flink: recovery-source selection on a real job's
//! retained checkpoints (a corrupted latest `_metadata` falls back to the previous checkpoint,
//! and Flink's restore statistics prove the job restarted from it), and retention deleting real
//! savepoint directories written by `flinkops job savepoint` while keeping the protected and the
//! newest ones.

use std::path::{Path, PathBuf};
use std::time::Duration;

use flinkops_control::location::Location;
use flinkops_control::recovery::{check_metadata_file, scan_retained_checkpoints, select_for_job};
use flinkops_control::retention::{RetentionPolicy, enforce};
use flinkops_control::store::{SqlStore, Snapshot, SnapshotKind, SnapshotStatus, Store};
use flinkops_control::lifecycle::RestoreKind;

use crate::support::{TestCluster, counting_sql, flinkops, flinkops_json, job_state, shared_cluster, sql_file, wait_for};

fn local(path: &str) -> PathBuf {
    match Location::parse(path).unwrap_or_else(|e| panic!("{path}: {e}")) {
        Location::Local(p) => p,
        other => panic!("{path} is not local: {other:?}"),
    }
}

fn cancel(c: &TestCluster, id: &str) {
    flinkops().args(["job", "cancel", id, "--cluster", &c.name]).assert().success();
    wait_for("the job to be cancelled", Duration::from_secs(60), || (job_state(c, id) == "CANCELED").then_some(()));
}

#[test]
fn corrupted_latest_checkpoint_falls_back_to_the_previous_one() {
    let c = shared_cluster();
    let dir = tempfile::tempdir().unwrap();
    let sql = sql_file(&dir, "count.sql", &counting_sql("it-control-recovery"));
    let sql = sql.to_str().unwrap();
    let v = flinkops_json(&["job", "submit", "--sql", sql, "--cluster", &c.name]);
    let first = v["job_id"].as_str().unwrap().to_string();
    let checkpoints = c.dir().join("checkpoints");
    wait_for("two retained checkpoints", Duration::from_secs(120), || {
        let cps = scan_retained_checkpoints(&checkpoints, &first).ok()?;
        (cps.iter().filter(|cp| cp.metadata.is_ok()).count() >= 2).then_some(())
    });
    // Cancelled jobs keep their checkpoints (RETAIN_ON_CANCELLATION): the job is "lost".
    cancel(c, &first);
    let cps = scan_retained_checkpoints(&checkpoints, &first).unwrap();
    let valid: Vec<_> = cps.iter().filter(|cp| cp.metadata.is_ok()).collect();
    assert!(valid.len() >= 2, "{cps:?}");
    let (latest, previous) = (valid[0].local_dir().unwrap().to_path_buf(), valid[1].local_dir().unwrap().to_path_buf());
    assert!(valid[0].id > valid[1].id);
    // Real Flink metadata passes the header check...
    assert!(check_metadata_file(&latest).is_ok());
    let before = select_for_job(&checkpoints, &first, &[]).unwrap();
    assert_eq!(before.source.as_ref().map(|s| local(&s.path)), Some(latest.clone()));

    // ...and a corrupted one does not: the selector falls back to the previous checkpoint.
    let meta = latest.join("_metadata");
    let mut bytes = std::fs::read(&meta).unwrap();
    bytes[..4].copy_from_slice(b"\0\0\0\0");
    std::fs::write(&meta, &bytes).unwrap();
    let sel = select_for_job(&checkpoints, &first, &[]).unwrap();
    let source = sel.source.clone().expect("a restore source");
    assert_eq!(source.kind, RestoreKind::Checkpoint);
    assert_eq!(local(&source.path), previous, "{sel:?}");
    assert!(sel.rejected.iter().any(|r| local(&r.path) == latest), "{:?}", sel.rejected);

    // Resubmitting from it restores that checkpoint: Flink's restore statistics say so.
    let v = flinkops_json(&["job", "submit", "--sql", sql, "--from-savepoint", &source.path, "--cluster", &c.name]);
    let second = v["job_id"].as_str().unwrap().to_string();
    let restored = wait_for("restore statistics", Duration::from_secs(120), || {
        let r = c.get(&format!("/jobs/{second}/checkpoints"))["latest"]["restored"].clone();
        (!r.is_null()).then_some(r)
    });
    // (Flink counts any restore through `savepointPath` as a savepoint restore: the path is the proof.)
    let external = restored["external_path"].as_str().expect("external_path");
    assert_eq!(local(external.trim_end_matches('/')), previous, "{restored}");
    cancel(c, &second);
}

fn take_savepoint(c: &TestCluster, id: &str, dir: &Path) -> String {
    let target = format!("file://{}", dir.display());
    let v = flinkops_json(&["job", "savepoint", id, "--savepoint-dir", &target, "--cluster", &c.name]);
    v["savepoint_path"].as_str().expect("savepoint_path").to_string()
}

#[test]
fn retention_deletes_real_savepoints_but_keeps_protected_and_newest() {
    let c = shared_cluster();
    let dir = tempfile::tempdir().unwrap();
    let sql = sql_file(&dir, "count.sql", &counting_sql("it-control-retention"));
    let v = flinkops_json(&["job", "submit", "--sql", sql.to_str().unwrap(), "--cluster", &c.name]);
    let id = v["job_id"].as_str().unwrap().to_string();
    wait_for("the job to run", Duration::from_secs(60), || (job_state(c, &id) == "RUNNING").then_some(()));
    let sp_dir = dir.path().join("savepoints");
    let savepoints: Vec<String> = (0..4).map(|_| take_savepoint(c, &id, &sp_dir)).collect();
    cancel(c, &id);
    for p in &savepoints {
        assert!(local(p).join("_metadata").is_file(), "{p}");
        assert!(check_metadata_file(&local(p)).is_ok(), "Flink's savepoint header reads: {p}");
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = SqlStore::open(dir.path().join("store").to_str().unwrap()).await.unwrap();
        for (i, p) in savepoints.iter().enumerate() {
            let s = Snapshot {
                id: 0,
                path: p.clone(),
                kind: SnapshotKind::Savepoint,
                job: "orders".into(),
                flink_job_id: Some(id.clone()),
                created_at: 1_000 * (i as i64 + 1),
                status: SnapshotStatus::Completed,
                size_bytes: None,
                protected: i == 0,
            };
            store.record_snapshot(&s).await.unwrap();
        }
        let report = enforce(&store, "orders", &RetentionPolicy { max_count: 1, max_age_ms: None }, 10_000).await.unwrap();
        assert_eq!(report.deleted, vec![savepoints[1].clone(), savepoints[2].clone()], "{report:?}");
        assert!(report.failed.is_empty(), "{report:?}");
        let catalog = store.snapshots("orders").await.unwrap();
        let status = |p: &str| catalog.iter().find(|s| s.path == p).map(|s| s.status);
        assert_eq!(status(&savepoints[1]), Some(SnapshotStatus::Deleted));
        assert_eq!(status(&savepoints[3]), Some(SnapshotStatus::Completed));
        store.close().await;
    });
    assert!(local(&savepoints[0]).exists(), "the protected savepoint is kept");
    assert!(!local(&savepoints[1]).exists() && !local(&savepoints[2]).exists(), "expired savepoints' files are gone");
    assert!(local(&savepoints[3]).join("_metadata").is_file(), "the newest savepoint is kept");
}
