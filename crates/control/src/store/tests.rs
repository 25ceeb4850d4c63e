//! One test suite for both backends: every check runs against SQLite in a temp dir and against
//! a real PostgreSQL 15 started by the test (`initdb` as the `postgres` user, 127.0.0.1 on a free
//! port, socket dir in the temp dir, stopped by its pid on drop — also when a check fails).

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::Error;

use crate::testing::Postgres;

/// Where each check gets a fresh, empty store.
enum Fresh {
    Sqlite(tempfile::TempDir),
    Postgres(Postgres),
}

impl Fresh {
    /// A new empty store for check `name`, and the location to reopen it.
    async fn store(&self, name: &str) -> (SqlStore, String) {
        let location = match self {
            Fresh::Sqlite(dir) => dir.path().join(name).display().to_string(),
            Fresh::Postgres(pg) => {
                let admin = pg.url("postgres");
                let mut last = None;
                let deadline = Instant::now() + Duration::from_secs(30);
                // The server accepts TCP slightly before it accepts sessions.
                loop {
                    match sqlx::AnyPool::connect(&admin).await {
                        Ok(pool) => {
                            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.expect("create database");
                            pool.close().await;
                            break;
                        }
                        Err(e) if Instant::now() < deadline => {
                            last = Some(e);
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Err(e) => panic!("cannot connect to PostgreSQL: {e} (before: {last:?})\n{}", pg.log()),
                    }
                }
                pg.url(name)
            }
        };
        let store = SqlStore::open(&location).await.unwrap_or_else(|e| panic!("open {location}: {e}"));
        (store, location)
    }
}

macro_rules! suite {
    ($($check:ident),+ $(,)?) => {
        async fn run_suite(fresh: &Fresh) {
            sql::install_drivers();
            $(
                let (store, location) = fresh.store(stringify!($check)).await;
                $check(&store, &location).await;
                store.close().await;
            )+
        }
    };
}

suite!(migrations_are_idempotent, spec_versions_change_only_with_the_hash, observed_jobs_round_trip, catalog_upserts_by_path, one_pending_exclusive_intent_per_job, concurrent_intents_only_one_wins, concurrent_read_then_write_transactions_wait, alerts_upsert, metric_history_is_a_ring, meta_deliveries_and_scalings, data_survives_reopening);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    run_suite(&Fresh::Sqlite(dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_on_postgres() {
    let pg = Postgres::start();
    run_suite(&Fresh::Postgres(pg)).await;
}

#[tokio::test]
async fn sqlite_store_is_a_wal_file_in_the_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqlStore::open(dir.path().join("nested/store").to_str().expect("utf-8")).await.expect("open");
    assert_eq!(store.backend(), Backend::Sqlite);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&store.pool_for_tests()).await.expect("pragma");
    assert_eq!(mode, "wal");
    assert!(dir.path().join("nested/store").join(sql::SQLITE_FILE).is_file());
}

#[tokio::test]
async fn bad_locations_are_input_errors() {
    let e = SqlStore::open("mysql://x/y").await.expect_err("mysql is not supported");
    assert_eq!(e.label(), "bad_store_url", "{e}");
    let e = SqlStore::open("postgres://nobody:pw@127.0.0.1:1/db").await.expect_err("nothing listens on port 1");
    assert_eq!(e.label(), "store", "{e}");
    assert!(!e.to_string().contains("pw@"), "{e}");
}

fn snapshot(job: &str, path: &str, created_at: i64) -> Snapshot {
    Snapshot {
        id: 0,
        path: path.into(),
        kind: SnapshotKind::Savepoint,
        job: job.into(),
        flink_job_id: Some("a".repeat(32)),
        created_at,
        status: SnapshotStatus::InProgress,
        size_bytes: None,
        protected: false,
    }
}

fn intent(job: &str, kind: IntentKind) -> NewIntent {
    NewIntent { job: job.into(), kind, reason: "test".into(), payload: json!({"step": "stop", "n": 1}), created_at: 1_000 }
}

async fn migrations_are_idempotent(store: &SqlStore, location: &str) {
    assert_eq!(store.schema_version().await.expect("version"), migrations::latest_version());
    assert_eq!(store.migrate().await.expect("migrate again"), Vec::<i64>::new());
    let again = SqlStore::open(location).await.expect("reopen");
    assert_eq!(again.schema_version().await.expect("version"), migrations::latest_version());
    // A schema from the future is refused, not guessed at.
    sqlx::query("INSERT INTO flinkops_migrations (version, name, applied_at) VALUES ($1, 'future', 0)")
        .bind(migrations::latest_version() + 1)
        .execute(&again.pool_for_tests())
        .await
        .expect("insert");
    again.close().await;
    let e = SqlStore::open(location).await.expect_err("newer schema");
    assert!(matches!(e, Error::SchemaTooNew { .. }), "{e}");
}

async fn spec_versions_change_only_with_the_hash(store: &SqlStore, _: &str) {
    assert_eq!(store.latest_spec("j").await.expect("latest"), None);
    let v1 = store.put_spec("j", "h1", "{\"a\":1}", 10).await.expect("put");
    assert_eq!(v1.version, 1);
    let same = store.put_spec("j", "h1", "{\"a\":1}", 20).await.expect("put same");
    assert_eq!(same, v1, "an unchanged spec is not a new version");
    let v2 = store.put_spec("j", "h2", "{\"a\":2}", 30).await.expect("put new");
    assert_eq!(v2.version, 2);
    let back = store.put_spec("j", "h1", "{\"a\":1}", 40).await.expect("put old again");
    assert_eq!((back.version, back.created_at), (3, 40), "going back is a new desired version");
    assert_eq!(store.latest_spec("j").await.expect("latest").map(|v| v.spec_hash), Some("h1".into()));
    assert_eq!(store.spec_version("j", 2).await.expect("v2").map(|v| v.spec), Some("{\"a\":2}".into()));
    assert_eq!(store.spec_versions("j").await.expect("all").len(), 3);
    assert_eq!(store.put_spec("other", "h9", "{}", 1).await.expect("other job").version, 1, "versions count per job");
}

async fn observed_jobs_round_trip(store: &SqlStore, _: &str) {
    let mut o = ObservedJob {
        job: "orders".into(),
        flink_job_id: None,
        state: "ABSENT".into(),
        phase: "deploying".into(),
        spec_version: None,
        last_checkpoint: None,
        last_savepoint: None,
        restored_from: None,
        health: "unknown".into(),
        updated_at: 5,
    };
    store.put_observed(&o).await.expect("put");
    assert_eq!(store.observed("orders").await.expect("get"), Some(o.clone()));
    o.flink_job_id = Some("f".repeat(32));
    o.state = "RUNNING".into();
    o.spec_version = Some(2);
    o.last_checkpoint = Some("file:///c/chk-3".into());
    o.restored_from = Some("file:///s/savepoint-1".into());
    o.updated_at = 6;
    store.put_observed(&o).await.expect("update");
    assert_eq!(store.observed("orders").await.expect("get"), Some(o.clone()));
    assert_eq!(store.all_observed().await.expect("all"), vec![o]);
    assert_eq!(store.observed("nope").await.expect("missing"), None);
}

async fn catalog_upserts_by_path(store: &SqlStore, _: &str) {
    let a = store.record_snapshot(&snapshot("j", "file:///s/a", 100)).await.expect("a");
    assert!(a.id > 0);
    let mut b = snapshot("j", "file:///s/b", 200);
    b.protected = true;
    store.record_snapshot(&b).await.expect("b");
    // Re-recording updates status and size, keeps the row and never drops protection.
    let mut b2 = snapshot("j", "file:///s/b", 999);
    b2.status = SnapshotStatus::Completed;
    b2.size_bytes = Some(4096);
    let b2 = store.record_snapshot(&b2).await.expect("b again");
    assert_eq!((b2.status, b2.size_bytes, b2.protected, b2.created_at), (SnapshotStatus::Completed, Some(4096), true, 200));
    store.record_snapshot(&snapshot("other", "file:///s/c", 300)).await.expect("c");
    let list = store.snapshots("j").await.expect("list");
    assert_eq!(list.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(), ["file:///s/b", "file:///s/a"], "newest first, this job only");
    store.set_snapshot_status("file:///s/a", SnapshotStatus::Deleted).await.expect("status");
    store.set_snapshot_protected("file:///s/b", false).await.expect("unprotect");
    let list = store.snapshots("j").await.expect("list");
    assert_eq!((list[0].protected, list[1].status), (false, SnapshotStatus::Deleted));
    let e = store.set_snapshot_status("file:///nope", SnapshotStatus::Deleted).await.expect_err("unknown path");
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
}

async fn one_pending_exclusive_intent_per_job(store: &SqlStore, _: &str) {
    let up = store.begin_intent(&intent("j", IntentKind::Upgrade)).await.expect("upgrade");
    assert_eq!((up.state, up.payload["step"].as_str()), (IntentState::Pending, Some("stop")));
    let e = store.begin_intent(&intent("j", IntentKind::Rollback)).await.expect_err("a second exclusive intent");
    match &e {
        Error::Conflict { job, kind, id } => assert_eq!((job.as_str(), kind.as_str(), *id), ("j", "upgrade", up.id)),
        other => panic!("expected a conflict, got {other}"),
    }
    // Non-exclusive kinds and other jobs are not blocked.
    let del = store.begin_intent(&intent("j", IntentKind::DeleteSnapshot)).await.expect("delete alongside");
    store.begin_intent(&intent("k", IntentKind::Deploy)).await.expect("another job");
    store.update_intent_payload(up.id, &json!({"step": "submit", "savepoint": "file:///s/x"})).await.expect("progress");
    let pending = store.pending_intents(Some("j")).await.expect("pending");
    assert_eq!(pending.iter().map(|i| i.id).collect::<Vec<_>>(), vec![up.id, del.id]);
    assert_eq!(pending[0].payload["savepoint"], "file:///s/x");
    assert_eq!(store.pending_intents(None).await.expect("all pending").len(), 3);
    let done = store.finish_intent(up.id, IntentState::RolledBack, Some("no checkpoint within 120 s"), 2_000).await.expect("finish");
    assert_eq!((done.state, done.finished_at, done.error.as_deref()), (IntentState::RolledBack, Some(2_000), Some("no checkpoint within 120 s")));
    let e = store.finish_intent(up.id, IntentState::Done, None, 3_000).await.expect_err("finished twice");
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = store.update_intent_payload(up.id, &json!({})).await.expect_err("progress after the end");
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    // Once finished, the job takes a new exclusive intent.
    let next = store.begin_intent(&intent("j", IntentKind::Recover)).await.expect("after finish");
    let log = store.intents("j", 10).await.expect("log");
    assert_eq!(log.iter().map(|i| i.id).collect::<Vec<_>>(), vec![next.id, del.id, up.id], "newest first");
    assert_eq!(store.intent(up.id).await.expect("one").map(|i| i.state), Some(IntentState::RolledBack));
    let e = store.finish_intent(next.id, IntentState::Pending, None, 1).await.expect_err("pending is not an end");
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
}

async fn concurrent_intents_only_one_wins(store: &SqlStore, _: &str) {
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move { s.begin_intent(&intent("race", IntentKind::Upgrade)).await }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(_) => ok += 1,
            Err(Error::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 5));
}

/// Transactions that read then write (put_spec) from many connections at once all succeed: on
/// SQLite a deferred transaction would fail with "database is locked" when it upgrades to a
/// writer after another one wrote.
async fn concurrent_read_then_write_transactions_wait(store: &SqlStore, _: &str) {
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let job = format!("busy-{}", i % 4);
            s.put_spec(&job, &format!("h{i}"), "spec", i).await
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("every concurrent put_spec succeeds");
    }
    for j in 0..4 {
        let latest = store.latest_spec(&format!("busy-{j}")).await.expect("latest").expect("a version");
        assert_eq!(latest.version, 4, "4 distinct hashes per job make versions 1..=4");
    }
}

async fn alerts_upsert(store: &SqlStore, _: &str) {
    let mut a = AlertState {
        job: "j".into(),
        rule: "checkpoint_too_old".into(),
        status: AlertStatus::Pending,
        severity: "warning".into(),
        since: 10,
        last_notified_at: None,
        summary: "no checkpoint for 10 min".into(),
        updated_at: 10,
    };
    store.put_alert(&a).await.expect("put");
    a.status = AlertStatus::Firing;
    a.last_notified_at = Some(20);
    a.updated_at = 20;
    store.put_alert(&a).await.expect("update");
    assert_eq!(store.alerts("j").await.expect("list"), vec![a.clone()]);
    assert!(store.alerts("k").await.expect("other").is_empty());
    let b = AlertState { job: "b".into(), ..a.clone() };
    store.put_alert(&b).await.expect("other job");
    assert_eq!(store.all_alerts().await.expect("all"), vec![b, a], "by job");
}

async fn metric_history_is_a_ring(store: &SqlStore, _: &str) {
    for i in 0..10 {
        store.record_metric("j", "busy", MetricPoint { ts: 1_000 + i, value: i as f64 * 0.5 }, 3).await.expect("record");
    }
    store.record_metric("j", "lag", MetricPoint { ts: 1, value: 7.0 }, 3).await.expect("other metric");
    store.record_metric("k", "busy", MetricPoint { ts: 1, value: 9.0 }, 3).await.expect("other job");
    let h = store.metric_history("j", "busy").await.expect("history");
    assert_eq!(h, vec![MetricPoint { ts: 1_007, value: 3.5 }, MetricPoint { ts: 1_008, value: 4.0 }, MetricPoint { ts: 1_009, value: 4.5 }]);
    assert_eq!(store.metric_history("j", "lag").await.expect("lag").len(), 1);
    assert_eq!(store.metric_history("k", "busy").await.expect("k").len(), 1);
}

async fn meta_deliveries_and_scalings(store: &SqlStore, _: &str) {
    assert_eq!(store.meta("j", "suspended").await.expect("meta"), None);
    store.put_meta("j", "suspended", Some(&json!(true)), 1).await.expect("put");
    store.put_meta("j", "suspended", Some(&json!({"by": "ops"})), 2).await.expect("replace");
    store.put_meta("k", "suspended", Some(&json!(false)), 2).await.expect("other job");
    assert_eq!(store.meta("j", "suspended").await.expect("meta"), Some(json!({"by": "ops"})));
    store.put_meta("j", "suspended", None, 3).await.expect("remove");
    assert_eq!(store.meta("j", "suspended").await.expect("meta"), None);
    assert_eq!(store.meta("k", "suspended").await.expect("meta"), Some(json!(false)));
    store.put_meta("j", "pinned", Some(&json!({"version": 3})), 4).await.expect("put");
    store.put_meta("j", "deployed", Some(&json!("x")), 4).await.expect("put");
    let all = store.all_meta("j").await.expect("all meta");
    assert_eq!(all.into_iter().collect::<Vec<_>>(), vec![("deployed".to_string(), json!("x")), ("pinned".to_string(), json!({"version": 3}))], "only j's values, the removed one gone");
    assert!(store.all_meta("nobody").await.expect("empty").is_empty());

    for i in 0..5 {
        let d = Delivery { id: 0, job: if i % 2 == 0 { "j" } else { "k" }.into(), rule: "R".into(), channel: format!("c{i}"), kind: "webhook".into(), status: "firing".into(), ok: i != 3, error: (i == 3).then(|| "HTTP 500".into()), attempts: 2, at: 100 + i };
        store.record_delivery(&d, 4).await.expect("delivery");
    }
    let all = store.deliveries(None, 10).await.expect("all");
    assert_eq!(all.iter().map(|d| d.channel.as_str()).collect::<Vec<_>>(), vec!["c4", "c3", "c2", "c1"], "newest first, the oldest beyond 4 dropped");
    assert_eq!(all[1].error.as_deref(), Some("HTTP 500"));
    assert!(!all[1].ok && all[0].ok);
    assert_eq!(store.deliveries(Some("j"), 10).await.expect("j").len(), 2);

    for i in 0..3 {
        let r = ScalingRecord { id: 0, job: "j".into(), at: i, applied: i == 2, summary: format!("s{i}"), decision: json!({"vertices": [i]}) };
        store.record_scaling(&r, 2).await.expect("scaling");
    }
    let s = store.scalings("j", 10).await.expect("scalings");
    assert_eq!(s.iter().map(|r| r.summary.as_str()).collect::<Vec<_>>(), vec!["s2", "s1"]);
    assert!(s[0].applied && !s[1].applied);
    assert_eq!(s[0].decision, json!({"vertices": [2]}));
}

async fn data_survives_reopening(store: &SqlStore, location: &str) {
    let i = store.begin_intent(&intent("j", IntentKind::Upgrade)).await.expect("intent");
    store.put_spec("j", "h", "{}", 1).await.expect("spec");
    store.close().await;
    let again = SqlStore::open(location).await.expect("reopen");
    let pending = again.pending_intents(None).await.expect("pending");
    assert_eq!(pending.iter().map(|p| p.id).collect::<Vec<_>>(), vec![i.id], "a pending intent survives a restart");
    assert_eq!(again.latest_spec("j").await.expect("spec").map(|s| s.version), Some(1));
    again.close().await;
}
