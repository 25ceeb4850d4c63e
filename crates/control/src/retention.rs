//! Retention: which savepoints and retained checkpoints to delete (the pure [`expired`] and
//! [`expired_checkpoints`]) and the shell that deletes their files ([`enforce`],
//! [`enforce_checkpoints`]) on the local file system or in S3/GCS/Azure
//! ([`crate::objstore::SnapshotFs`]), recording each deletion as an intent first.
//!
//! Savepoints. Kept always: the newest completed savepoint; savepoints marked protected in the
//! catalog; savepoints a deployment may restore from ([`protected_paths`]: the savepoint of a
//! pending or of the last upgrade, the source of a pending recovery, and what the current job
//! restored from). Otherwise a completed savepoint expires when more than `max_count` newer
//! completed ones exist or when it is older than `max_age_ms`; a failed savepoint (partial
//! files, never restorable) expires once a newer completed one exists.
//!
//! Retained checkpoints (`kind = checkpoint`, registered from a checkpoint base directory by
//! [`register_retained_checkpoints`]). Those of Flink jobs that are no longer the job's current
//! one expire (completed or failed; an incomplete one is left alone), the current job's beyond
//! its newest `keep_current`; kept always: protected entries and [`protected_paths`] (what the
//! current job restored from, the sources of pending recoveries and upgrades) and the observed
//! last checkpoint. Nothing is cleaned while the current job is unknown or an exclusive intent
//! (deploy, upgrade, rollback, recover, suspend) is pending: "current" is not settled then.
//!
//! Paths are compared through [`crate::location::normalize`] (`file:/a` = `file:///a/`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::location::{Location, SnapshotDir, normalize, snapshot_dir_name};
use crate::objstore::{Deleted, SnapshotFs};
use crate::recovery::{self, MetadataProblem};
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

/// A savepoint or checkpoint retention would delete, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expired {
    pub path: String,
    pub reason: String,
}

/// The savepoints of one job's catalog that retention deletes, oldest first.
pub fn expired(catalog: &[Snapshot], policy: &RetentionPolicy, protected: &BTreeSet<String>, now_ms: i64) -> Vec<Expired> {
    let keep = policy.max_count.max(1);
    let protected: BTreeSet<String> = protected.iter().map(|p| normalize(p)).collect();
    let mut completed: Vec<&Snapshot> = catalog.iter().filter(|s| s.kind == SnapshotKind::Savepoint && s.status == SnapshotStatus::Completed).collect();
    completed.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
    let newest_completed_at = completed.first().map(|s| s.created_at);
    let is_protected = |s: &Snapshot| s.protected || protected.contains(&normalize(&s.path));
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
    sorted(out)
}

/// How many retained checkpoints of the job's current Flink job to keep. Keep at least
/// Flink's `execution.checkpointing.num-retained` (default 1): Flink itself subsumes older ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointPolicy {
    /// Completed checkpoints of the current Flink job kept (at least 1).
    pub keep_current: usize,
}

impl Default for CheckpointPolicy {
    fn default() -> CheckpointPolicy {
        CheckpointPolicy { keep_current: 1 }
    }
}

/// The retained checkpoints of one job's catalog that retention deletes, oldest first:
/// completed and failed checkpoints of Flink jobs other than `current_flink_job`, and the
/// current job's completed ones beyond its newest `keep_current` (by checkpoint number) and its
/// failed ones older than its newest completed one. Never: a protected entry or path, an entry
/// whose Flink job is unknown, an in-progress or deleted one, or a path whose last segment is
/// not `chk-N`.
pub fn expired_checkpoints(catalog: &[Snapshot], current_flink_job: &str, policy: &CheckpointPolicy, protected: &BTreeSet<String>) -> Vec<Expired> {
    let keep = policy.keep_current.max(1);
    let protected: BTreeSet<String> = protected.iter().map(|p| normalize(p)).collect();
    let number = |s: &Snapshot| match Location::parse(&s.path).ok().and_then(|l| l.file_name()).and_then(|n| snapshot_dir_name(&n)) {
        Some(SnapshotDir::Checkpoint(n)) => Some(n),
        _ => None,
    };
    let candidates: Vec<(&Snapshot, u64)> = catalog
        .iter()
        .filter(|s| s.kind == SnapshotKind::Checkpoint && matches!(s.status, SnapshotStatus::Completed | SnapshotStatus::Failed))
        .filter(|s| !s.protected && !protected.contains(&normalize(&s.path)))
        .filter_map(|s| number(s).map(|n| (s, n)))
        .collect();
    // The current job's completed checkpoints, newest first (protected ones count toward the
    // newest: they are kept anyway, and a restore source must not make an older one expire).
    let mut current: Vec<(i64, u64, i64)> = catalog
        .iter()
        .filter(|s| s.kind == SnapshotKind::Checkpoint && s.status == SnapshotStatus::Completed && s.flink_job_id.as_deref() == Some(current_flink_job))
        .filter_map(|s| number(s).map(|n| (s.created_at, n, s.id)))
        .collect();
    current.sort_by_key(|(at, n, id)| std::cmp::Reverse((*n, *at, *id)));
    let rank: BTreeMap<(u64, i64), usize> = current.iter().enumerate().map(|(r, (_, n, id))| ((*n, *id), r)).collect();
    let newest_current = current.first().map(|(_, n, _)| *n);
    let mut out = Vec::new();
    for (s, n) in candidates {
        let Some(flink_job) = s.flink_job_id.as_deref() else { continue };
        let reason = if flink_job != current_flink_job {
            Some(format!("checkpoint of Flink job {flink_job}, replaced by {current_flink_job}"))
        } else if s.status == SnapshotStatus::Completed {
            rank.get(&(n, s.id)).filter(|r| **r >= keep).map(|r| format!("{r} newer checkpoints of the current job exist (keep {keep})"))
        } else {
            newest_current.filter(|newest| n < *newest).map(|_| "failed, and a newer checkpoint completed".to_string())
        };
        if let Some(reason) = reason {
            out.push((s.created_at, Expired { path: s.path.clone(), reason }));
        }
    }
    sorted(out)
}

fn sorted(mut out: Vec<(i64, Expired)>) -> Vec<Expired> {
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
        if counts && matches!(i.kind, IntentKind::Upgrade | IntentKind::Recover | IntentKind::Rollback | IntentKind::Deploy | IntentKind::RescaleBySavepoint) {
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
    /// Files (objects) and bytes the deletions removed.
    #[serde(default)]
    pub objects_deleted: u64,
    #[serde(default)]
    pub bytes_deleted: u64,
    /// Why nothing was looked at (checkpoint retention while the current job is not settled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Deletes the files of `job`'s expired savepoints (local, or in object stores with credentials
/// from the environment): [`enforce_with`] and [`SnapshotFs::from_env`].
pub async fn enforce<S: Store>(store: &S, job: &str, policy: &RetentionPolicy, now_ms: i64) -> Result<RetentionReport> {
    enforce_with(store, &SnapshotFs::from_env(), job, policy, now_ms).await
}

/// Deletes the files of `job`'s expired savepoints: each deletion is recorded as a pending
/// intent first, then performed, then the catalog entry is marked deleted and the intent done
/// (or failed, with the error). One failure does not stop the others.
pub async fn enforce_with<S: Store>(store: &S, fs: &SnapshotFs, job: &str, policy: &RetentionPolicy, now_ms: i64) -> Result<RetentionReport> {
    let catalog = store.snapshots(job).await?;
    let protected = protected_paths(store, job).await?;
    let mut report = RetentionReport::default();
    for e in expired(&catalog, policy, &protected, now_ms) {
        delete_with_intent(store, fs, job, e, "retention", now_ms, &mut report).await?;
    }
    Ok(report)
}

/// Deletes `job`'s expired retained checkpoints ([`expired_checkpoints`] against the observed
/// current Flink job), intent first like [`enforce_with`]. Does nothing (with `skipped` saying
/// why) while no current Flink job is observed or an exclusive intent of the job is pending.
pub async fn enforce_checkpoints<S: Store>(store: &S, fs: &SnapshotFs, job: &str, policy: &CheckpointPolicy, now_ms: i64) -> Result<RetentionReport> {
    let skip = |why: String| Ok(RetentionReport { skipped: Some(why), ..RetentionReport::default() });
    let observed = store.observed(job).await?;
    let Some(current) = observed.as_ref().and_then(|o| o.flink_job_id.clone()) else {
        return skip("no current Flink job is observed".into());
    };
    if let Some(i) = store.pending_intents(Some(job)).await?.into_iter().find(|i| i.kind.is_exclusive()) {
        return skip(format!("a {} is in progress (intent #{})", i.kind, i.id));
    }
    let catalog = store.snapshots(job).await?;
    let mut protected = protected_paths(store, job).await?;
    protected.extend(observed.and_then(|o| o.last_checkpoint));
    let mut report = RetentionReport::default();
    for e in expired_checkpoints(&catalog, &current, policy, &protected) {
        delete_with_intent(store, fs, job, e, "checkpoint retention", now_ms, &mut report).await?;
    }
    Ok(report)
}

async fn delete_with_intent<S: Store>(store: &S, fs: &SnapshotFs, job: &str, e: Expired, why: &str, now_ms: i64, report: &mut RetentionReport) -> Result<()> {
    let intent = store
        .begin_intent(&NewIntent { job: job.into(), kind: IntentKind::DeleteSnapshot, reason: format!("{why}: {}", e.reason), payload: json!({"path": e.path}), created_at: now_ms })
        .await?;
    match delete_dir(fs, &e.path).await {
        Ok(d) => {
            store.set_snapshot_status(&e.path, SnapshotStatus::Deleted).await?;
            store.update_intent_payload(intent.id, &json!({"path": e.path, "objects": d.objects, "bytes": d.bytes})).await?;
            store.finish_intent(intent.id, IntentState::Done, None, crate::store::now_ms()).await?;
            report.objects_deleted += d.objects;
            report.bytes_deleted += d.bytes;
            report.deleted.push(e.path);
        }
        Err(err) => {
            store.finish_intent(intent.id, IntentState::Failed, Some(&err.to_string()), crate::store::now_ms()).await?;
            report.failed.push((e.path, err.to_string()));
        }
    }
    Ok(())
}

async fn delete_dir(fs: &SnapshotFs, path: &str) -> Result<Deleted> {
    fs.delete_snapshot_dir(&Location::parse(path)?).await
}

/// Finishes deletions that a crash left pending ([`resume_deletions_with`], credentials from
/// the environment).
pub async fn resume_deletions<S: Store>(store: &S) -> Result<usize> {
    resume_deletions_with(store, &SnapshotFs::from_env()).await
}

/// Finishes deletions that a crash left pending (deleting is idempotent: a directory already
/// gone counts as deleted). Returns how many pending deletions were finished (done or failed).
pub async fn resume_deletions_with<S: Store>(store: &S, fs: &SnapshotFs) -> Result<usize> {
    let mut n = 0;
    for i in store.pending_intents(None).await?.into_iter().filter(|i| i.kind == IntentKind::DeleteSnapshot) {
        let Some(path) = i.payload.get("path").and_then(|p| p.as_str()).map(str::to_string) else {
            store.finish_intent(i.id, IntentState::Failed, Some("no path in the intent"), crate::store::now_ms()).await?;
            continue;
        };
        match delete_dir(fs, &path).await {
            Ok(d) => {
                match store.set_snapshot_status(&path, SnapshotStatus::Deleted).await {
                    Ok(()) | Err(Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
                store.update_intent_payload(i.id, &json!({"path": path, "objects": d.objects, "bytes": d.bytes, "resumed": true})).await?;
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

/// Deletes a local savepoint or checkpoint directory. Only directories that look like one (a
/// `_metadata` file, or Flink's `savepoint-…`/`chk-N` name) are deleted; one that is already
/// gone counts as done. Object stores need async I/O: [`SnapshotFs::delete_snapshot_dir`].
pub fn delete_snapshot_files(path: &str) -> Result<()> {
    match Location::parse(path)? {
        Location::Local(dir) => crate::objstore::delete_local_snapshot_dir(&dir).map(|_| ()),
        Location::Remote { scheme, .. } => Err(Error::Location {
            action: "delete",
            location: path.into(),
            why: format!("{scheme}:// is an object store: delete through objstore::SnapshotFs (retention::enforce does)"),
        }),
    }
}

/// Registers the retained checkpoints under `<base>/<flink-job-id>/chk-N` in `job`'s catalog
/// (kind checkpoint, with their Flink job id), so [`enforce_checkpoints`] can clean them:
/// completed when `_metadata` reads as Flink's, failed when it does not, in progress when it is
/// missing; created at `_metadata`'s modification time (else `now_ms`). An entry already in the
/// catalog under another spelling of the same path is updated, not duplicated.
///
/// `flink_job_ids` names the Flink jobs that ran for `job`. A checkpoint base directory is
/// shared by every job of a session cluster: pass the ids there. `None` takes every
/// subdirectory named like a Flink job id (32 hex digits): only for a base directory that
/// belongs to this job alone (application mode).
pub async fn register_retained_checkpoints<S: Store>(
    store: &S,
    fs: &SnapshotFs,
    job: &str,
    base: &Location,
    flink_job_ids: Option<&BTreeSet<String>>,
    now_ms: i64,
) -> Result<Vec<Snapshot>> {
    let ids: Vec<String> = match flink_job_ids {
        Some(ids) => ids.iter().cloned().collect(),
        None => fs.list_dirs(base).await?.into_iter().filter(|n| is_flink_job_id(n)).collect(),
    };
    let known: BTreeMap<String, String> = store.snapshots(job).await?.into_iter().map(|s| (normalize(&s.path), s.path)).collect();
    let mut out = Vec::new();
    for id in ids {
        for cp in recovery::scan_retained_checkpoints_at(fs, base, &id).await? {
            let uri = cp.location.uri();
            let path = known.get(&normalize(&uri)).cloned().unwrap_or(uri);
            let status = match &cp.metadata {
                Ok(_) => SnapshotStatus::Completed,
                Err(MetadataProblem::Missing) => SnapshotStatus::InProgress,
                Err(_) => SnapshotStatus::Failed,
            };
            let s = Snapshot {
                id: 0,
                path,
                kind: SnapshotKind::Checkpoint,
                job: job.into(),
                flink_job_id: Some(id.clone()),
                created_at: cp.modified_ms.unwrap_or(now_ms),
                status,
                size_bytes: None,
                protected: false,
            };
            out.push(store.record_snapshot(&s).await?);
        }
    }
    Ok(out)
}

/// Flink's `JobID` as text: 32 lowercase hex digits.
pub fn is_flink_job_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
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

    const OLD: &str = "0123456789abcdef0123456789abcdef";
    const CUR: &str = "fedcba9876543210fedcba9876543210";

    fn cp(id: i64, job: Option<&str>, n: u64, created_at: i64, status: SnapshotStatus) -> Snapshot {
        Snapshot {
            id,
            path: format!("file:///cp/{}/chk-{n}", job.unwrap_or("unknown")),
            kind: SnapshotKind::Checkpoint,
            job: "j".into(),
            flink_job_id: job.map(str::to_string),
            created_at,
            status,
            size_bytes: None,
            protected: false,
        }
    }

    #[test]
    fn checkpoints_of_replaced_jobs_expire_and_the_current_jobs_newest_stay() {
        use SnapshotStatus::*;
        let mut pinned = cp(9, Some(OLD), 3, 30, Completed);
        pinned.protected = true;
        let cat = vec![
            cp(1, Some(OLD), 1, 10, Completed),
            cp(2, Some(OLD), 2, 20, Failed),
            pinned,
            cp(3, Some(OLD), 4, 40, InProgress),
            cp(4, Some(OLD), 5, 45, Completed), // what the current job restored from
            cp(5, Some(CUR), 10, 50, Completed),
            cp(6, Some(CUR), 11, 60, Failed),
            cp(7, Some(CUR), 12, 70, Completed),
            cp(8, Some(CUR), 13, 80, Completed),
            cp(10, Some(CUR), 14, 90, Failed), // newer than the newest completed: may be in progress
            cp(11, Some(CUR), 15, 95, InProgress),
            cp(12, None, 1, 5, Completed),           // unknown Flink job: never
            cp(13, Some(OLD), 6, 46, Deleted),       // already deleted
            Snapshot { path: "file:///cp/x/not-a-chk".into(), ..cp(14, Some(OLD), 0, 1, Completed) },
            Snapshot { kind: SnapshotKind::Savepoint, path: "file:///sp/savepoint-abc123-0123456789ab".into(), ..cp(15, Some(OLD), 0, 2, Completed) },
        ];
        // Flink reports the restore path as `file:/…/` — the same directory.
        let protected = BTreeSet::from([format!("file:/cp/{OLD}/chk-5/")]);
        let paths = |policy: CheckpointPolicy| -> Vec<String> { expired_checkpoints(&cat, CUR, &policy, &protected).into_iter().map(|e| e.path).collect() };
        assert_eq!(
            paths(CheckpointPolicy { keep_current: 2 }),
            vec![format!("file:///cp/{OLD}/chk-1"), format!("file:///cp/{OLD}/chk-2"), format!("file:///cp/{CUR}/chk-10"), format!("file:///cp/{CUR}/chk-11")]
        );
        assert_eq!(
            paths(CheckpointPolicy { keep_current: 0 }),
            vec![
                format!("file:///cp/{OLD}/chk-1"),
                format!("file:///cp/{OLD}/chk-2"),
                format!("file:///cp/{CUR}/chk-10"),
                format!("file:///cp/{CUR}/chk-11"),
                format!("file:///cp/{CUR}/chk-12")
            ],
            "keep 0 keeps the newest"
        );
        assert_eq!(paths(CheckpointPolicy { keep_current: 3 }).len(), 3, "chk-11 is failed and older than the newest completed: it goes");
        let reasons = expired_checkpoints(&cat, CUR, &CheckpointPolicy { keep_current: 1 }, &protected);
        assert!(reasons[0].reason.contains("replaced by"), "{reasons:?}");
        assert!(reasons.iter().any(|e| e.reason.contains("2 newer checkpoints of the current job")), "{reasons:?}");
        // A job that has no checkpoint yet keeps none of the old job's except what is protected.
        let fresh = "00000000000000000000000000000001";
        assert_eq!(expired_checkpoints(&cat, fresh, &CheckpointPolicy::default(), &protected).len(), 7);
    }

    #[test]
    fn protected_paths_match_any_spelling_of_a_savepoint() {
        let mut s = sp(1, DAY, SnapshotStatus::Completed, false);
        s.path = "file:/sp/savepoint-1".into();
        let cat = vec![s, sp(2, 2 * DAY, SnapshotStatus::Completed, false)];
        let protected = BTreeSet::from(["file:///sp/savepoint-1/".to_string()]);
        assert!(expired(&cat, &RetentionPolicy { max_count: 1, max_age_ms: None }, &protected, 3 * DAY).is_empty());
        assert_eq!(expired(&cat, &RetentionPolicy { max_count: 1, max_age_ms: None }, &BTreeSet::new(), 3 * DAY).len(), 1);
    }

    fn arb_checkpoints() -> impl Strategy<Value = Vec<Snapshot>> {
        let status = prop_oneof![4 => Just(SnapshotStatus::Completed), 1 => Just(SnapshotStatus::Failed), 1 => Just(SnapshotStatus::InProgress), 1 => Just(SnapshotStatus::Deleted)];
        let job = prop_oneof![Just(Some(OLD)), Just(Some(CUR)), Just(None)];
        proptest::collection::vec((job, 0u64..30, status, proptest::bool::weighted(0.15)), 0..30).prop_map(|v| {
            let mut seen = BTreeSet::new();
            v.into_iter()
                .enumerate()
                .filter(|(_, (job, n, _, _))| seen.insert((*job, *n)))
                .map(|(i, (job, n, st, p))| Snapshot { protected: p, ..cp(i as i64 + 1, job, n, n as i64 * 10, st) })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn checkpoint_policy_invariants(cat in arb_checkpoints(), keep in 0usize..5, pinned in proptest::collection::btree_set(0u64..30, 0..3)) {
            let protected: BTreeSet<String> = pinned.iter().map(|n| format!("file:/cp/{OLD}/chk-{n}/")).collect();
            let out = expired_checkpoints(&cat, CUR, &CheckpointPolicy { keep_current: keep }, &protected);
            let deleted: BTreeSet<&str> = out.iter().map(|e| e.path.as_str()).collect();
            prop_assert_eq!(deleted.len(), out.len(), "no duplicates");
            let mut current: Vec<&Snapshot> = cat.iter().filter(|s| s.flink_job_id.as_deref() == Some(CUR) && s.status == SnapshotStatus::Completed).collect();
            current.sort_by_key(|s| std::cmp::Reverse(s.created_at));
            for (rank, s) in current.iter().enumerate() {
                prop_assert_eq!(deleted.contains(s.path.as_str()), rank >= keep.max(1) && !s.protected, "rank {} of {}", rank, s.path);
            }
            for s in &cat {
                let is_deleted = deleted.contains(s.path.as_str());
                let pinned = s.protected || protected.iter().any(|p| normalize(p) == normalize(&s.path));
                if pinned || s.flink_job_id.is_none() || matches!(s.status, SnapshotStatus::InProgress | SnapshotStatus::Deleted) {
                    prop_assert!(!is_deleted, "{:?} {} deleted", s.status, s.path);
                }
                if s.flink_job_id.as_deref() == Some(OLD) && !pinned && matches!(s.status, SnapshotStatus::Completed | SnapshotStatus::Failed) {
                    prop_assert!(is_deleted, "replaced job's {} kept", s.path);
                }
            }
        }
    }

    fn write_chk(base: &std::path::Path, job: &str, n: u64, meta: Option<&[u8]>) -> std::path::PathBuf {
        let d = base.join(job).join(format!("chk-{n}"));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("state-0"), [7u8; 100]).expect("state");
        if let Some(m) = meta {
            std::fs::write(d.join("_metadata"), m).expect("metadata");
        }
        d
    }

    fn flink_metadata() -> Vec<u8> {
        let mut b = crate::recovery::HEADER_MAGIC_NUMBER.to_be_bytes().to_vec();
        b.extend_from_slice(&6u32.to_be_bytes());
        b.extend_from_slice(&[0u8; 24]);
        b
    }

    #[tokio::test]
    async fn local_checkpoints_of_replaced_jobs_are_registered_and_cleaned() {
        let dir = tempfile::tempdir().expect("tmp");
        let base = dir.path().join("checkpoints");
        let other_job = "11111111111111111111111111111111"; // another job of the same session cluster
        let m = flink_metadata();
        let old1 = write_chk(&base, OLD, 1, Some(&m));
        let old2 = write_chk(&base, OLD, 2, Some(&m));
        let broken = write_chk(&base, OLD, 3, Some(b"garbage garbage garbage"));
        let cur = [write_chk(&base, CUR, 7, Some(&m)), write_chk(&base, CUR, 8, Some(&m)), write_chk(&base, CUR, 9, Some(&m))];
        let writing = write_chk(&base, CUR, 10, None);
        let foreign = write_chk(&base, other_job, 1, Some(&m));
        std::fs::create_dir_all(base.join(OLD).join("shared")).expect("shared");
        let store = crate::store::SqlStore::open_sqlite_dir(&dir.path().join("store")).await.expect("store");
        let fs = SnapshotFs::from_env();
        let base_loc = Location::Local(base.clone());

        // Nothing observed yet: nothing is cleaned, whatever the catalog says.
        let ids = BTreeSet::from([OLD.to_string(), CUR.to_string()]);
        let reg = register_retained_checkpoints(&store, &fs, "j", &base_loc, Some(&ids), 1).await.expect("register");
        assert_eq!(reg.len(), 7);
        let status = |p: &std::path::Path| reg.iter().find(|s| s.path == format!("file://{}", p.display())).map(|s| (s.status, s.flink_job_id.clone()));
        assert_eq!(status(&broken), Some((SnapshotStatus::Failed, Some(OLD.to_string()))));
        assert_eq!(status(&writing), Some((SnapshotStatus::InProgress, Some(CUR.to_string()))));
        assert_eq!(status(&foreign), None, "another job's checkpoints are not this job's");
        assert!(reg.iter().all(|s| (s.created_at > 1_000_000) == (s.status != SnapshotStatus::InProgress)), "created at _metadata's mtime, else now: {reg:?}");
        let skipped = enforce_checkpoints(&store, &fs, "j", &CheckpointPolicy { keep_current: 2 }, 100).await.expect("skip");
        assert!(skipped.deleted.is_empty() && skipped.skipped.as_deref() == Some("no current Flink job is observed"), "{skipped:?}");

        // The current job restored from the old job's chk-2 (Flink's `file:/…` spelling).
        let observed = crate::store::ObservedJob {
            job: "j".into(),
            flink_job_id: Some(CUR.into()),
            state: "RUNNING".into(),
            phase: "running".into(),
            spec_version: Some(2),
            last_checkpoint: None,
            last_savepoint: None,
            restored_from: Some(format!("file:{}", old2.display())),
            health: "healthy".into(),
            updated_at: 5,
        };
        store.put_observed(&observed).await.expect("observed");
        // While an upgrade is pending, "current" is not settled: nothing is cleaned.
        let up = store
            .begin_intent(&NewIntent { job: "j".into(), kind: IntentKind::Upgrade, reason: "spec".into(), payload: json!({}), created_at: 6 })
            .await
            .expect("upgrade");
        let skipped = enforce_checkpoints(&store, &fs, "j", &CheckpointPolicy { keep_current: 2 }, 100).await.expect("skip");
        assert!(skipped.skipped.as_deref().is_some_and(|s| s.contains("upgrade")), "{skipped:?}");
        store.finish_intent(up.id, IntentState::Done, None, 7).await.expect("done");

        let report = enforce_checkpoints(&store, &fs, "j", &CheckpointPolicy { keep_current: 2 }, 100).await.expect("clean");
        let mut deleted = report.deleted.clone();
        deleted.sort();
        let uri = |p: &std::path::Path| format!("file://{}", p.display());
        let mut want = vec![uri(&old1), uri(&broken), uri(&cur[0])];
        want.sort();
        assert_eq!(deleted, want, "{report:?}");
        assert!(report.failed.is_empty());
        assert_eq!(report.objects_deleted, 6, "three state files and three _metadata");
        assert_eq!(report.bytes_deleted, 3 * 100 + 2 * m.len() as u64 + 23);
        assert!(!old1.exists() && !broken.exists() && !cur[0].exists());
        assert!(old2.exists() && cur[1].exists() && cur[2].exists() && writing.exists() && foreign.exists());
        assert!(base.join(OLD).join("shared").exists(), "shared state is not a checkpoint directory");
        let catalog = store.snapshots("j").await.expect("catalog");
        assert_eq!(catalog.iter().filter(|s| s.status == SnapshotStatus::Deleted).count(), 3);
        let log = store.intents("j", 20).await.expect("log");
        let deletions: Vec<_> = log.iter().filter(|i| i.kind == IntentKind::DeleteSnapshot).collect();
        assert_eq!(deletions.len(), 3);
        assert!(deletions.iter().all(|i| i.state == IntentState::Done && i.reason.starts_with("checkpoint retention:") && i.payload.get("bytes").is_some()), "{deletions:?}");
        // Registering again finds what is left and duplicates nothing; cleaning again does nothing.
        let again = register_retained_checkpoints(&store, &fs, "j", &base_loc, Some(&ids), 200).await.expect("register");
        assert_eq!(again.len(), 4);
        assert_eq!(store.snapshots("j").await.expect("catalog").len(), 7);
        assert_eq!(enforce_checkpoints(&store, &fs, "j", &CheckpointPolicy { keep_current: 2 }, 300).await.expect("again"), RetentionReport::default());
        store.close().await;
    }
}
