//! Savepoint retention: which savepoints to delete (the pure [`expired`]) and the shell that
//! deletes their files ([`enforce`]), recording each deletion as an intent first.
//!
//! Kept always: the newest completed savepoint; savepoints marked protected in the catalog;
//! savepoints a deployment may restore from ([`protected_paths`]: the savepoint of a pending or
//! of the last upgrade, the source of a pending recovery, and what the current job restored
//! from). Otherwise a completed savepoint expires when more than `max_count` newer completed
//! ones exist or when it is older than `max_age_ms`; a failed savepoint (partial files, never
//! restorable) expires once a newer completed one exists.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::location::Location;
use crate::store::{IntentKind, IntentState, NewIntent, Snapshot, SnapshotKind, SnapshotStatus, Store};
use crate::{Error, Result};

/// How many savepoints to keep and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Completed savepoints kept per job (at least 1: the newest is always kept).
    pub max_count: usize,
    /// Older completed savepoints are deleted (None: no age limit).
    pub max_age_ms: Option<i64>,
}

/// A savepoint retention would delete, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expired {
    pub path: String,
    pub reason: String,
}

/// The savepoints of one job's catalog that retention deletes, oldest first.
pub fn expired(catalog: &[Snapshot], policy: &RetentionPolicy, protected: &BTreeSet<String>, now_ms: i64) -> Vec<Expired> {
    let keep = policy.max_count.max(1);
    let mut completed: Vec<&Snapshot> = catalog.iter().filter(|s| s.kind == SnapshotKind::Savepoint && s.status == SnapshotStatus::Completed).collect();
    completed.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
    let newest_completed_at = completed.first().map(|s| s.created_at);
    let is_protected = |s: &Snapshot| s.protected || protected.contains(&s.path);
    let mut out: Vec<(i64, Expired)> = Vec::new();
    for (rank, s) in completed.iter().enumerate() {
        if rank == 0 || is_protected(s) {
            continue;
        }
        let age = now_ms - s.created_at;
        let reason = if rank >= keep {
            Some(format!("{} newer savepoints exist (keep {keep})", rank))
        } else {
            policy.max_age_ms.filter(|max| age > *max).map(|max| format!("{age} ms old (max {max} ms)"))
        };
        if let Some(reason) = reason {
            out.push((s.created_at, Expired { path: s.path.clone(), reason }));
        }
    }
    if let Some(newest) = newest_completed_at {
        for s in catalog.iter().filter(|s| s.kind == SnapshotKind::Savepoint && s.status == SnapshotStatus::Failed) {
            if s.created_at < newest && !is_protected(s) {
                out.push((s.created_at, Expired { path: s.path.clone(), reason: "failed, and a newer savepoint completed".into() }));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.path.cmp(&b.1.path)));
    out.into_iter().map(|(_, e)| e).collect()
}

/// Savepoints a deployment of `job` may restore from, read from the store: the savepoint of a
/// pending upgrade and of the last upgrade, the source of a pending recovery, and what the
/// current job restored from.
pub async fn protected_paths<S: Store>(store: &S, job: &str) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let recent = store.intents(job, 200).await?;
    let mut last_upgrade_seen = false;
    for i in &recent {
        let is_upgrade = i.kind == IntentKind::Upgrade;
        let counts = i.state == IntentState::Pending || (is_upgrade && !last_upgrade_seen);
        if is_upgrade {
            last_upgrade_seen = true;
        }
        if counts && matches!(i.kind, IntentKind::Upgrade | IntentKind::Recover | IntentKind::Rollback | IntentKind::Deploy) {
            for key in ["savepoint", "from_savepoint", "source"] {
                if let Some(p) = i.payload.get(key).and_then(|v| v.as_str().or_else(|| v.get("path").and_then(|p| p.as_str()))) {
                    out.insert(p.to_string());
                }
            }
        }
    }
    if let Some(o) = store.observed(job).await? {
        out.extend(o.restored_from);
    }
    Ok(out)
}

/// What one retention run did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RetentionReport {
    pub deleted: Vec<String>,
    /// Path and error of deletions that failed (their intents are marked failed).
    pub failed: Vec<(String, String)>,
}

/// Deletes the files of `job`'s expired savepoints: each deletion is recorded as a pending
/// intent first, then performed, then the catalog entry is marked deleted and the intent done
/// (or failed, with the error). One failure does not stop the others.
pub async fn enforce<S: Store>(store: &S, job: &str, policy: &RetentionPolicy, now_ms: i64) -> Result<RetentionReport> {
    let catalog = store.snapshots(job).await?;
    let protected = protected_paths(store, job).await?;
    let mut report = RetentionReport::default();
    for e in expired(&catalog, policy, &protected, now_ms) {
        let intent = store
            .begin_intent(&NewIntent { job: job.into(), kind: IntentKind::DeleteSnapshot, reason: format!("retention: {}", e.reason), payload: json!({"path": e.path}), created_at: now_ms })
            .await?;
        match delete_snapshot_files(&e.path) {
            Ok(()) => {
                store.set_snapshot_status(&e.path, SnapshotStatus::Deleted).await?;
                store.finish_intent(intent.id, IntentState::Done, None, crate::store::now_ms()).await?;
                report.deleted.push(e.path);
            }
            Err(err) => {
                store.finish_intent(intent.id, IntentState::Failed, Some(&err.to_string()), crate::store::now_ms()).await?;
                report.failed.push((e.path, err.to_string()));
            }
        }
    }
    Ok(report)
}

/// Finishes deletions that a crash left pending (deleting is idempotent).
pub async fn resume_deletions<S: Store>(store: &S) -> Result<usize> {
    let mut n = 0;
    for i in store.pending_intents(None).await?.into_iter().filter(|i| i.kind == IntentKind::DeleteSnapshot) {
        let Some(path) = i.payload.get("path").and_then(|p| p.as_str()).map(str::to_string) else {
            store.finish_intent(i.id, IntentState::Failed, Some("no path in the intent"), crate::store::now_ms()).await?;
            continue;
        };
        match delete_snapshot_files(&path) {
            Ok(()) => {
                match store.set_snapshot_status(&path, SnapshotStatus::Deleted).await {
                    Ok(()) | Err(Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
                store.finish_intent(i.id, IntentState::Done, None, crate::store::now_ms()).await?;
            }
            Err(e) => {
                store.finish_intent(i.id, IntentState::Failed, Some(&e.to_string()), crate::store::now_ms()).await?;
            }
        }
        n += 1;
    }
    Ok(n)
}

/// Deletes a savepoint's directory. Only directories that look like one (a `_metadata` file,
/// or Flink's `savepoint-…`/`chk-N` name) are deleted; one that is already gone counts as done.
pub fn delete_snapshot_files(path: &str) -> Result<()> {
    match Location::parse(path)? {
        Location::Local(dir) => {
            if !dir.exists() {
                return Ok(());
            }
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let looks_like_one = dir.join("_metadata").is_file() || name.starts_with("savepoint-") || name.starts_with("chk-");
            if !dir.is_dir() || !looks_like_one {
                return Err(Error::Location { action: "delete", location: path.into(), why: "it is not a savepoint or checkpoint directory".into() });
            }
            std::fs::remove_dir_all(&dir).map_err(Error::io("deleting", &dir))
        }
        Location::Remote { scheme, .. } => {
            Err(Error::Location { action: "delete", location: path.into(), why: format!("deleting from {scheme}:// object stores is not supported yet") })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 86_400_000;

    fn sp(id: i64, created_at: i64, status: SnapshotStatus, protected: bool) -> Snapshot {
        Snapshot { id, path: format!("file:///sp/savepoint-{id}"), kind: SnapshotKind::Savepoint, job: "j".into(), flink_job_id: None, created_at, status, size_bytes: None, protected }
    }

    #[test]
    fn count_and_age_with_the_newest_and_protected_kept() {
        let now = 10 * DAY;
        let cat = vec![
            sp(1, DAY, SnapshotStatus::Completed, true),
            sp(2, 2 * DAY, SnapshotStatus::Completed, false),
            sp(3, 8 * DAY, SnapshotStatus::Completed, false),
            sp(4, 9 * DAY, SnapshotStatus::Failed, false),
            sp(5, 9 * DAY + 1, SnapshotStatus::Completed, false),
            sp(6, 9 * DAY + 2, SnapshotStatus::InProgress, false),
            sp(7, 9 * DAY + 3, SnapshotStatus::Completed, false),
        ];
        let policy = RetentionPolicy { max_count: 3, max_age_ms: Some(5 * DAY) };
        let protected = BTreeSet::from(["file:///sp/savepoint-3".to_string()]);
        let got: Vec<String> = expired(&cat, &policy, &protected, now).into_iter().map(|e| e.path).collect();
        // 1 protected (flag), 3 protected (restore source), 7 newest, 6 in progress.
        assert_eq!(got, vec!["file:///sp/savepoint-2", "file:///sp/savepoint-4"]);
        // Only count: keeps 2 newest completed + protected.
        let by_count = RetentionPolicy { max_count: 2, max_age_ms: None };
        let got: Vec<String> = expired(&cat, &by_count, &BTreeSet::new(), now).into_iter().map(|e| e.path).collect();
        assert_eq!(got, vec!["file:///sp/savepoint-2", "file:///sp/savepoint-3", "file:///sp/savepoint-4"]);
        // Even an ancient newest savepoint is kept, and max_count 0 means 1.
        let old = vec![sp(1, 0, SnapshotStatus::Completed, false), sp(2, 1, SnapshotStatus::Completed, false)];
        let got = expired(&old, &RetentionPolicy { max_count: 0, max_age_ms: Some(1) }, &BTreeSet::new(), 100 * DAY);
        assert_eq!(got.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), vec!["file:///sp/savepoint-1"]);
    }

    fn arb_catalog() -> impl Strategy<Value = Vec<Snapshot>> {
        let status = prop_oneof![4 => Just(SnapshotStatus::Completed), 1 => Just(SnapshotStatus::Failed), 1 => Just(SnapshotStatus::InProgress), 1 => Just(SnapshotStatus::Deleted)];
        proptest::collection::vec((0i64..20 * DAY, status, proptest::bool::weighted(0.2)), 0..25)
            .prop_map(|v| v.into_iter().enumerate().map(|(i, (t, st, p))| sp(i as i64 + 1, t, st, p)).collect())
    }

    proptest! {
        #[test]
        fn policy_invariants(cat in arb_catalog(), max_count in 0usize..6, max_age in proptest::option::of(0i64..15 * DAY), pinned in proptest::collection::btree_set(1i64..26, 0..3)) {
            let now = 20 * DAY;
            let policy = RetentionPolicy { max_count, max_age_ms: max_age };
            let protected: BTreeSet<String> = pinned.iter().map(|i| format!("file:///sp/savepoint-{i}")).collect();
            let out = expired(&cat, &policy, &protected, now);
            let deleted: BTreeSet<&str> = out.iter().map(|e| e.path.as_str()).collect();
            prop_assert_eq!(deleted.len(), out.len(), "no duplicates");
            let mut completed: Vec<&Snapshot> = cat.iter().filter(|s| s.status == SnapshotStatus::Completed).collect();
            completed.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
            if let Some(newest) = completed.first() {
                prop_assert!(!deleted.contains(newest.path.as_str()), "the newest successful savepoint is never deleted");
            }
            for s in &cat {
                let is_deleted = deleted.contains(s.path.as_str());
                if s.protected || protected.contains(&s.path) {
                    prop_assert!(!is_deleted, "protected {} deleted", s.path);
                }
                if matches!(s.status, SnapshotStatus::InProgress | SnapshotStatus::Deleted) {
                    prop_assert!(!is_deleted, "{:?} {} deleted", s.status, s.path);
                }
            }
            // Bounds: what remains unprotected is within count and age (the newest aside), and
            // nothing within both bounds was deleted.
            let keep = max_count.max(1);
            for (rank, s) in completed.iter().enumerate() {
                let prot = s.protected || protected.contains(&s.path);
                let too_old = max_age.is_some_and(|m| now - s.created_at > m);
                if rank == 0 || prot {
                    continue;
                }
                prop_assert_eq!(deleted.contains(s.path.as_str()), rank >= keep || too_old, "rank {} age {} of {}", rank, now - s.created_at, s.path);
            }
        }
    }

    #[test]
    fn deleting_files_is_careful() {
        let dir = tempfile::tempdir().expect("tmp");
        let sp_dir = dir.path().join("savepoint-abc-1");
        std::fs::create_dir_all(&sp_dir).expect("mkdir");
        std::fs::write(sp_dir.join("_metadata"), b"x").expect("write");
        delete_snapshot_files(&format!("file://{}", sp_dir.display())).expect("delete");
        assert!(!sp_dir.exists());
        delete_snapshot_files(&format!("file://{}", sp_dir.display())).expect("gone already is fine");
        let precious = dir.path().join("precious");
        std::fs::create_dir_all(&precious).expect("mkdir");
        let e = delete_snapshot_files(&format!("file://{}", precious.display())).expect_err("not a savepoint dir");
        assert_eq!(e.label(), "location");
        assert!(precious.exists());
        assert_eq!(delete_snapshot_files("s3://b/savepoint-1").expect_err("remote").label(), "location");
    }

    #[tokio::test]
    async fn enforce_records_intents_and_keeps_what_a_deployment_needs() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = crate::store::SqlStore::open_sqlite_dir(&dir.path().join("store")).await.expect("store");
        let mut paths = Vec::new();
        for i in 1..=5 {
            let d = dir.path().join(format!("savepoint-{i}"));
            std::fs::create_dir_all(&d).expect("mkdir");
            std::fs::write(d.join("_metadata"), b"x").expect("write");
            let path = format!("file://{}", d.display());
            let mut s = sp(0, i * 1_000, SnapshotStatus::Completed, false);
            s.path = path.clone();
            store.record_snapshot(&s).await.expect("record");
            paths.push((path, d));
        }
        // savepoint-1 is what the last upgrade stopped with: a rollback may need it.
        let up = store
            .begin_intent(&NewIntent { job: "j".into(), kind: IntentKind::Upgrade, reason: "spec changed".into(), payload: json!({"savepoint": paths[0].0}), created_at: 1 })
            .await
            .expect("upgrade");
        store.finish_intent(up.id, IntentState::Done, None, 2).await.expect("done");
        let report = enforce(&store, "j", &RetentionPolicy { max_count: 2, max_age_ms: None }, 10_000).await.expect("enforce");
        assert_eq!(report.deleted, vec![paths[1].0.clone(), paths[2].0.clone()]);
        assert!(report.failed.is_empty());
        assert!(paths[0].1.exists() && paths[3].1.exists() && paths[4].1.exists());
        assert!(!paths[1].1.exists() && !paths[2].1.exists());
        let log = store.intents("j", 10).await.expect("log");
        let deletions: Vec<_> = log.iter().filter(|i| i.kind == IntentKind::DeleteSnapshot).collect();
        assert_eq!(deletions.len(), 2);
        assert!(deletions.iter().all(|i| i.state == IntentState::Done && i.reason.starts_with("retention:")));
        // Running again deletes nothing more.
        assert_eq!(enforce(&store, "j", &RetentionPolicy { max_count: 2, max_age_ms: None }, 10_000).await.expect("again"), RetentionReport::default());

        // A deletion that a crash left pending is finished on restart.
        let crashed = store
            .begin_intent(&NewIntent { job: "j".into(), kind: IntentKind::DeleteSnapshot, reason: "retention".into(), payload: json!({"path": paths[3].0}), created_at: 3 })
            .await
            .expect("pending");
        assert_eq!(resume_deletions(&store).await.expect("resume"), 1);
        assert!(!paths[3].1.exists());
        assert_eq!(store.intent(crashed.id).await.expect("intent").map(|i| i.state), Some(IntentState::Done));
        store.close().await;
    }
}
