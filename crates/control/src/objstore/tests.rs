//! [`SnapshotFs`] and retention against a real S3-compatible server: moto (PyPI `moto[server]`)
//! started per test on 127.0.0.1 and stopped by pid on drop (also when the test fails), with a
//! watchdog that stops it if the test binary dies. Without `moto_server` on the PATH these tests
//! fail and say how to install it.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use object_store::PutPayload;
use serde_json::json;

use super::*;
use crate::recovery::{self, HEADER_MAGIC_NUMBER, MetadataProblem};
use crate::retention::{self, CheckpointPolicy, RetentionPolicy, RetentionReport};
use crate::store::{IntentKind, IntentState, NewIntent, ObservedJob, Snapshot, SnapshotKind, SnapshotStatus, SqlStore, Store};

/// The version CI installs (`.ci/run`).
const MOTO: &str = "moto[server]==5.2.1";

/// A moto S3 server on 127.0.0.1, killed by pid on drop.
struct Moto {
    child: Child,
    watchdog: Option<Child>,
    port: u16,
    _log: tempfile::NamedTempFile,
}

impl Moto {
    fn start() -> Moto {
        let program = std::env::var("FLINKOPS_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let log = tempfile::NamedTempFile::new().expect("log file");
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("log"))
            .stderr(log.reopen().expect("log"))
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot start `{program}` ({e}): these tests need moto's S3 server. Install it with \
                 `python3 -m pip install --user '{MOTO}'` (and put ~/.local/bin on the PATH), or set \
                 FLINKOPS_MOTO_SERVER to its path"
            ),
        };
        // Stops moto if this test binary dies without running destructors (SIGKILL, abort).
        let watchdog = Command::new("sh")
            .args([
                "-c",
                "while kill -0 \"$1\" 2>/dev/null && kill -0 \"$2\" 2>/dev/null; do sleep 1; done; kill \"$2\" 2>/dev/null",
                "moto-watchdog",
                &std::process::id().to_string(),
                &child.id().to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        let mut moto = Moto { child, watchdog, port, _log: log };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                let out = std::fs::read_to_string(moto._log.path()).unwrap_or_default();
                panic!("moto_server exited ({status}) before it served; its output:\n{out}\nIs it installed? `python3 -m pip install --user '{MOTO}'`");
            }
            if moto.request("GET", "/").is_ok_and(|r| r.starts_with("HTTP/1.")) {
                return moto;
            }
            assert!(Instant::now() < deadline, "moto_server did not answer on 127.0.0.1:{} within 30 s", moto.port);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One unsigned HTTP/1.1 request (moto does not check signatures); the response head.
    fn request(&self, method: &str, path: &str) -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", self.port)?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    }

    fn create_bucket(&self, bucket: &str) {
        let r = self.request("PUT", &format!("/{bucket}")).expect("create bucket");
        assert!(r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"), "creating bucket {bucket}: {r}");
    }

    fn fs(&self) -> SnapshotFs {
        SnapshotFs::new(RemoteConfig {
            from_env: false,
            endpoint: Some(self.endpoint()),
            allow_http: true,
            options: vec![
                ("aws_access_key_id".into(), "testing".into()),
                ("aws_secret_access_key".into(), "testing".into()),
                ("aws_region".into(), "us-east-1".into()),
            ],
            ..RemoteConfig::default()
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(w) = &mut self.watchdog {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn metadata(version: u32) -> Vec<u8> {
    let mut b = HEADER_MAGIC_NUMBER.to_be_bytes().to_vec();
    b.extend_from_slice(&version.to_be_bytes());
    b.extend_from_slice(&7u64.to_be_bytes());
    b.extend_from_slice(b"operator states follow");
    b
}

fn loc(s: &str) -> Location {
    Location::parse(s).expect("location")
}

async fn put(fs: &SnapshotFs, url: &str, bytes: Vec<u8>) {
    let (store, path) = fs.object_store(&loc(url)).expect("store");
    store.put(&path, PutPayload::from(bytes)).await.unwrap_or_else(|e| panic!("put {url}: {e}"));
}

/// Every key in the bucket with its size, sorted.
async fn listing(fs: &SnapshotFs, bucket: &str) -> Vec<(String, u64)> {
    let (store, _) = fs.object_store(&loc(&format!("s3://{bucket}/x"))).expect("store");
    let mut all: Vec<(String, u64)> = store.list(None).map_ok(|m| (m.location.to_string(), m.size)).try_collect().await.expect("list");
    all.sort();
    all
}

/// A fake savepoint directory: `_metadata` with Flink's header and two state files.
async fn put_savepoint(fs: &SnapshotFs, dir: &str) -> Vec<(String, u64)> {
    let files = vec![("_metadata", metadata(5)), ("op-1", vec![1u8; 300]), ("op-2", vec![2u8; 77])];
    let mut out = Vec::new();
    for (name, bytes) in files {
        let key = format!("{dir}/{name}");
        out.push((key.split_once("://").and_then(|(_, r)| r.split_once('/')).map(|(_, k)| k.to_string()).unwrap_or_default(), bytes.len() as u64));
        put(fs, &key, bytes).await;
    }
    out
}

fn snapshot(path: &str, kind: SnapshotKind, flink_job: Option<&str>, created_at: i64) -> Snapshot {
    Snapshot { id: 0, path: path.into(), kind, job: "orders".into(), flink_job_id: flink_job.map(str::to_string), created_at, status: SnapshotStatus::Completed, size_bytes: None, protected: false }
}

#[tokio::test]
async fn s3_retention_deletes_exactly_the_expired_prefixes() {
    let moto = Moto::start();
    moto.create_bucket("flink");
    let fs = moto.fs();
    let tmp = tempfile::tempdir().expect("tmp");
    let store = SqlStore::open_sqlite_dir(&tmp.path().join("store")).await.expect("store");

    let sp = |i: u32| format!("s3://flink/savepoints/savepoint-abc123-00000000000{i}");
    let mut files = Vec::new();
    for i in 1..=4 {
        files.push(put_savepoint(&fs, &sp(i)).await);
        store.record_snapshot(&snapshot(&sp(i), SnapshotKind::Savepoint, Some("abc123"), 1_000 * i64::from(i))).await.expect("record");
    }
    // Keys that share the expired directories' names as a string prefix, and a parent file.
    put(&fs, &format!("{}x/keep-me", sp(2)), vec![9; 11]).await;
    put(&fs, "s3://flink/savepoints/README", vec![0; 5]).await;
    // savepoint 1 is what the last upgrade stopped with: a rollback may need it.
    let up = store
        .begin_intent(&NewIntent { job: "orders".into(), kind: IntentKind::Upgrade, reason: "spec changed".into(), payload: json!({"savepoint": sp(1)}), created_at: 1 })
        .await
        .expect("upgrade");
    store.finish_intent(up.id, IntentState::Done, None, 2).await.expect("done");
    let before = listing(&fs, "flink").await;

    let report = retention::enforce_with(&store, &fs, "orders", &RetentionPolicy { max_count: 1, max_age_ms: None }, 10_000).await.expect("enforce");
    assert_eq!(report.deleted, vec![sp(2), sp(3)], "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    let gone: Vec<(String, u64)> = files[1].iter().chain(&files[2]).cloned().collect();
    assert_eq!(report.objects_deleted, gone.len() as u64);
    assert_eq!(report.bytes_deleted, gone.iter().map(|(_, n)| n).sum::<u64>());
    let want: Vec<(String, u64)> = before.iter().filter(|k| !gone.contains(k)).cloned().collect();
    let after = listing(&fs, "flink").await;
    assert_eq!(after, want, "exactly the expired savepoints' objects are gone");
    assert!(after.iter().any(|(k, _)| k == "savepoints/savepoint-abc123-000000000002x/keep-me"));
    assert!(after.iter().any(|(k, _)| k == "savepoints/savepoint-abc123-000000000001/_metadata"), "the protected one stays");
    assert!(after.iter().any(|(k, _)| k == "savepoints/savepoint-abc123-000000000004/_metadata"), "the newest stays");

    let catalog = store.snapshots("orders").await.expect("catalog");
    let status = |p: &str| catalog.iter().find(|s| s.path == p).map(|s| s.status);
    assert_eq!((status(&sp(1)), status(&sp(2)), status(&sp(3)), status(&sp(4))), (Some(SnapshotStatus::Completed), Some(SnapshotStatus::Deleted), Some(SnapshotStatus::Deleted), Some(SnapshotStatus::Completed)));
    let deletions: Vec<_> = store.intents("orders", 20).await.expect("log").into_iter().filter(|i| i.kind == IntentKind::DeleteSnapshot).collect();
    assert_eq!(deletions.len(), 2);
    assert!(deletions.iter().all(|i| i.state == IntentState::Done && i.payload["objects"] == json!(3)), "{deletions:?}");
    // Nothing more to do.
    assert_eq!(retention::enforce_with(&store, &fs, "orders", &RetentionPolicy { max_count: 1, max_age_ms: None }, 10_000).await.expect("again"), RetentionReport::default());

    // A deletion a crash left pending is finished; one whose directory is already gone is done.
    let crashed = "s3://flink/other/savepoint-def456-0123456789ab".to_string();
    put_savepoint(&fs, &crashed).await;
    let mut pending = Vec::new();
    for path in [crashed.clone(), sp(3)] {
        let i = store
            .begin_intent(&NewIntent { job: "orders".into(), kind: IntentKind::DeleteSnapshot, reason: "retention".into(), payload: json!({"path": path}), created_at: 3 })
            .await
            .expect("pending");
        pending.push(i.id);
    }
    assert_eq!(retention::resume_deletions_with(&store, &fs).await.expect("resume"), 2);
    for id in pending {
        assert_eq!(store.intent(id).await.expect("intent").map(|i| i.state), Some(IntentState::Done));
    }
    assert_eq!(listing(&fs, "flink").await, want, "the resumed deletion removed its directory and nothing else");
    store.close().await;
}

#[tokio::test]
async fn s3_refuses_bucket_roots_parents_and_files() {
    let moto = Moto::start();
    moto.create_bucket("flink");
    let fs = moto.fs();
    let sp = "s3://flink/sp/savepoint-abc123-0123456789ab";
    put_savepoint(&fs, sp).await;
    put(&fs, "s3://flink/cp/0123456789abcdef0123456789abcdef/shared/state-1", vec![3; 10]).await;
    let before = listing(&fs, "flink").await;
    for bad in [
        "s3://flink",
        "s3://flink/",
        "s3://flink/sp",
        "s3://flink/sp/",
        "s3://flink/sp/savepoint-abc123-0123456789ab/_metadata",
        "s3://flink/cp/0123456789abcdef0123456789abcdef",
        "s3://flink/cp/0123456789abcdef0123456789abcdef/shared",
        "s3://flink//sp/savepoint-abc123-0123456789ab",
        "s3://flink/sp/../sp/savepoint-abc123-0123456789ab",
    ] {
        let e = fs.delete_snapshot_dir(&loc(bad)).await.expect_err(bad);
        assert_eq!(e.label(), "location", "{bad}: {e}");
        assert!(e.to_string().starts_with("cannot delete"), "{bad}: {e}");
    }
    assert_eq!(listing(&fs, "flink").await, before, "nothing was deleted");
    // The same directory spelled with a trailing slash is a savepoint directory.
    let d = fs.delete_snapshot_dir(&loc(&format!("{sp}/"))).await.expect("delete");
    assert_eq!(d.objects, 3);
    assert_eq!(fs.delete_snapshot_dir(&loc(sp)).await.expect("again"), Deleted::default(), "already gone is done");
    assert_eq!(listing(&fs, "flink").await.len(), 1);
}

#[tokio::test]
async fn s3_checkpoints_are_read_registered_and_cleaned_for_replaced_jobs() {
    let moto = Moto::start();
    moto.create_bucket("ckpt");
    let fs = moto.fs();
    let base = loc("s3://ckpt/flink/checkpoints");
    let (old, current) = ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
    let chk = |job: &str, n: u64| format!("s3://ckpt/flink/checkpoints/{job}/chk-{n}");
    let mut corrupt = metadata(6);
    corrupt[..4].copy_from_slice(b"\0\0\0\0");
    put(&fs, &format!("{}/_metadata", chk(current, 3)), metadata(6)).await;
    put(&fs, &format!("{}/_metadata", chk(current, 4)), metadata(6)).await;
    put(&fs, &format!("{}/_metadata", chk(current, 5)), metadata(6)).await;
    put(&fs, &format!("{}/_metadata", chk(current, 6)), corrupt).await;
    put(&fs, &format!("{}/_metadata", chk(current, 7)), metadata(6)[..10].to_vec()).await;
    put(&fs, &format!("{}/state-0", chk(current, 8)), vec![1; 64]).await; // in progress: no _metadata
    put(&fs, &format!("s3://ckpt/flink/checkpoints/{current}/shared/sst-1"), vec![1; 64]).await;
    for n in [1, 2] {
        put(&fs, &format!("{}/_metadata", chk(old, n)), metadata(5)).await;
        put(&fs, &format!("{}/state-0", chk(old, n)), vec![2; 100]).await;
    }
    put(&fs, &format!("s3://ckpt/flink/checkpoints/{old}/shared/sst-9"), vec![1; 64]).await;

    // The `_metadata` header, read through S3.
    let m = loc(&format!("{}/_metadata", chk(current, 5)));
    assert!(fs.exists(&m).await.expect("exists"));
    assert!(!fs.exists(&loc(&format!("{}/_metadata", chk(current, 8)))).await.expect("exists"));
    assert_eq!(fs.read_prefix(&m, 8).await.expect("read"), Some(metadata(6)[..8].to_vec()));
    assert_eq!(recovery::check_metadata_at(&fs, &loc(&chk(current, 5))).await.expect("check"), Ok(6));
    let cps = recovery::scan_retained_checkpoints_at(&fs, &base, current).await.expect("scan");
    let got: Vec<(u64, Result<u32, MetadataProblem>)> = cps.iter().map(|c| (c.id, c.metadata.clone())).collect();
    assert_eq!(
        got,
        vec![
            (8, Err(MetadataProblem::Missing)),
            (7, Err(MetadataProblem::Truncated { len: 10 })),
            (6, Err(MetadataProblem::BadMagic { found: 0 })),
            (5, Ok(6)),
            (4, Ok(6)),
            (3, Ok(6)),
        ]
    );
    assert!(cps.iter().all(|c| c.modified_ms.is_some() || c.id == 8));
    let sel = recovery::select_for_job_at(&fs, &base, current, &[]).await.expect("select");
    assert_eq!(sel.source.map(|s| s.path), Some(chk(current, 5)));
    assert_eq!(sel.rejected.len(), 3);

    // Registered into the catalog, then the replaced job's checkpoints are cleaned.
    let tmp = tempfile::tempdir().expect("tmp");
    let store = SqlStore::open_sqlite_dir(&tmp.path().join("store")).await.expect("store");
    let ids = BTreeSet::from([old.to_string(), current.to_string()]);
    let registered = retention::register_retained_checkpoints(&store, &fs, "orders", &base, Some(&ids), 50).await.expect("register");
    assert_eq!(registered.len(), 8);
    assert!(registered.iter().all(|s| s.kind == SnapshotKind::Checkpoint && s.job == "orders"));
    let all = retention::register_retained_checkpoints(&store, &fs, "orders", &base, None, 60).await.expect("register again");
    assert_eq!(all.len(), 8, "every job directory of the base, no duplicates");
    assert_eq!(store.snapshots("orders").await.expect("catalog").len(), 8);
    // The current job restored from the old job's chk-2 (spelled as Flink's s3a path).
    store
        .put_observed(&ObservedJob {
            job: "orders".into(),
            flink_job_id: Some(current.into()),
            state: "RUNNING".into(),
            phase: "running".into(),
            spec_version: Some(1),
            last_checkpoint: Some(chk(current, 5)),
            last_savepoint: None,
            restored_from: Some(format!("s3a://ckpt/flink/checkpoints/{old}/chk-2/")),
            health: "healthy".into(),
            updated_at: 70,
        })
        .await
        .expect("observed");
    let before = listing(&fs, "ckpt").await;
    let report = retention::enforce_checkpoints(&store, &fs, "orders", &CheckpointPolicy { keep_current: 2 }, 100).await.expect("clean");
    let mut deleted = report.deleted.clone();
    deleted.sort();
    // Old chk-1: its job was replaced; chk-2 is what the current job restored from. Current
    // chk-3: beyond the newest two completed; chk-6/7 (unreadable, newer than the newest good
    // one) and chk-8 (no _metadata yet) stay: they may still be being written.
    assert_eq!(deleted, vec![chk(old, 1), chk(current, 3)], "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    let gone = |k: &str| [format!("{old}/chk-1/"), format!("{current}/chk-3/")].iter().any(|p| k.starts_with(&format!("flink/checkpoints/{p}")));
    let want: Vec<(String, u64)> = before.iter().filter(|(k, _)| !gone(k)).cloned().collect();
    assert_eq!(listing(&fs, "ckpt").await, want);
    assert_eq!(report.objects_deleted, (before.len() - want.len()) as u64);
    store.close().await;
}
