//! Recovery: which retained checkpoint or savepoint to restore a job from, how long to wait
//! between attempts, and when to stop trying.
//!
//! A retained checkpoint is `<checkpoint-dir>/<flink-job-id>/chk-N/_metadata`; Flink writes
//! `_metadata` last, so its presence marks a completed checkpoint. Its header must read as
//! Flink's (`Checkpoints.HEADER_MAGIC_NUMBER` = 0x4960672d, then a metadata format version that
//! Flink knows, 1 to 6 as of Flink 2.3) — otherwise the next older checkpoint is taken, and when
//! none reads correctly, the newest completed savepoint of the catalog.
//!
//! [`select_source`], [`Backoff`] and [`CircuitBreaker`] are pure; [`scan_retained_checkpoints`]
//! and [`check_metadata_file`] read the local file system; [`scan_retained_checkpoints_at`],
//! [`check_metadata_at`] and [`select_for_job_at`] do the same over any [`Location`] (local, S3,
//! GCS, Azure) through [`SnapshotFs`].

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::lifecycle::{RestoreKind, RestoreSource};
use crate::location::{Location, SnapshotDir, snapshot_dir_name};
use crate::objstore::SnapshotFs;
use crate::store::{Snapshot, SnapshotKind, SnapshotStatus};
use crate::{Error, Result};

/// `org.apache.flink.runtime.checkpoint.Checkpoints.HEADER_MAGIC_NUMBER`.
pub const HEADER_MAGIC_NUMBER: u32 = 0x4960_672d;
/// The newest metadata format (`MetadataV6Serializer` in Flink 2.3).
pub const MAX_METADATA_VERSION: u32 = 6;
/// Header (magic + version) plus at least the checkpoint id that every format writes next.
const MIN_METADATA_LEN: usize = 16;

/// Why a `_metadata` file cannot be restored from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum MetadataProblem {
    #[error("no _metadata file (the checkpoint did not complete)")]
    Missing,
    #[error("_metadata is truncated ({len} bytes)")]
    Truncated { len: usize },
    #[error("_metadata does not start with Flink's magic number (found {found:#010x})")]
    BadMagic { found: u32 },
    #[error("_metadata has an unknown format version {found}")]
    UnknownVersion { found: u32 },
    #[error("_metadata cannot be read: {0}")]
    Unreadable(String),
}

/// Checks the start of a `_metadata` file; returns its format version.
pub fn check_metadata_header(bytes: &[u8]) -> Result<u32, MetadataProblem> {
    if bytes.len() < 8 {
        return Err(MetadataProblem::Truncated { len: bytes.len() });
    }
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let magic = word(0);
    if magic != HEADER_MAGIC_NUMBER {
        return Err(MetadataProblem::BadMagic { found: magic });
    }
    let version = word(4);
    if !(1..=MAX_METADATA_VERSION).contains(&version) {
        return Err(MetadataProblem::UnknownVersion { found: version });
    }
    if bytes.len() < MIN_METADATA_LEN {
        return Err(MetadataProblem::Truncated { len: bytes.len() });
    }
    Ok(version)
}

/// Reads the first bytes of `dir/_metadata` and checks them.
pub fn check_metadata_file(dir: &Path) -> Result<u32, MetadataProblem> {
    let path = dir.join("_metadata");
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(MetadataProblem::Missing),
        Err(e) => return Err(MetadataProblem::Unreadable(e.to_string())),
    };
    let mut head = Vec::with_capacity(MIN_METADATA_LEN);
    file.take(MIN_METADATA_LEN as u64).read_to_end(&mut head).map_err(|e| MetadataProblem::Unreadable(e.to_string()))?;
    check_metadata_header(&head)
}

/// Checks `<dir>/_metadata` wherever `dir` is. The outer error is a failure to ask (the
/// object store did not answer, credentials are missing): not a verdict on the checkpoint, so
/// callers retry instead of falling back to an older one. Local directories are checked as
/// [`check_metadata_file`] does.
pub async fn check_metadata_at(fs: &SnapshotFs, dir: &Location) -> Result<Result<u32, MetadataProblem>> {
    match dir {
        Location::Local(path) => Ok(check_metadata_file(path)),
        Location::Remote { .. } => Ok(match fs.read_prefix(&dir.join("_metadata"), MIN_METADATA_LEN).await? {
            None => Err(MetadataProblem::Missing),
            Some(head) => check_metadata_header(&head),
        }),
    }
}

/// One `chk-N` directory of a job and what its `_metadata` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainedCheckpoint {
    pub id: u64,
    /// The `chk-N` directory.
    pub location: Location,
    pub metadata: Result<u32, MetadataProblem>,
    /// When `_metadata` was last modified (epoch ms), when it exists and the store says.
    pub modified_ms: Option<i64>,
}

impl RetainedCheckpoint {
    /// The directory as a path Flink can restore from (`file:///…`, `s3://…`).
    pub fn path(&self) -> String {
        self.location.uri()
    }

    /// The directory on the local file system; None in an object store.
    pub fn local_dir(&self) -> Option<&Path> {
        match &self.location {
            Location::Local(p) => Some(p),
            Location::Remote { .. } => None,
        }
    }
}

fn checkpoint_number(name: &str) -> Option<u64> {
    match snapshot_dir_name(name)? {
        SnapshotDir::Checkpoint(n) => Some(n),
        SnapshotDir::Savepoint => None,
    }
}

/// The `chk-N` directories under `<checkpoint_dir>/<flink_job_id>/`, newest first. A missing
/// job directory is an empty list (the job never checkpointed here).
pub fn scan_retained_checkpoints(checkpoint_dir: &Path, flink_job_id: &str) -> Result<Vec<RetainedCheckpoint>> {
    let job_dir = checkpoint_dir.join(flink_job_id);
    let entries = match std::fs::read_dir(&job_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("listing checkpoints in", &job_dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("listing checkpoints in", &job_dir))?;
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(checkpoint_number) else { continue };
        let dir = entry.path();
        if dir.is_dir() {
            let modified_ms = std::fs::metadata(dir.join("_metadata"))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_millis()).ok());
            out.push(RetainedCheckpoint { id, metadata: check_metadata_file(&dir), location: Location::Local(dir), modified_ms });
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.id));
    Ok(out)
}

/// [`scan_retained_checkpoints`] over any location: the `chk-N` directories under
/// `<base>/<flink_job_id>/`, newest first, each with its `_metadata` checked (in an object
/// store: one listing, then a HEAD and a ranged GET of the first 16 bytes per checkpoint).
pub async fn scan_retained_checkpoints_at(fs: &SnapshotFs, base: &Location, flink_job_id: &str) -> Result<Vec<RetainedCheckpoint>> {
    if let Location::Local(dir) = base {
        let (dir, id) = (dir.clone(), flink_job_id.to_string());
        return tokio::task::spawn_blocking(move || scan_retained_checkpoints(&dir, &id))
            .await
            .map_err(|e| Error::Io { action: "scanning checkpoints in", path: base.uri().into(), source: std::io::Error::other(e) })?;
    }
    let job_dir = base.join(flink_job_id);
    let mut out = Vec::new();
    for name in fs.list_dirs(&job_dir).await? {
        let Some(id) = checkpoint_number(&name) else { continue };
        let location = job_dir.join(&name);
        let info = fs.stat(&location.join("_metadata")).await?;
        let metadata = match info {
            None => Err(MetadataProblem::Missing),
            Some(_) => check_metadata_at(fs, &location).await?,
        };
        out.push(RetainedCheckpoint { id, location, metadata, modified_ms: info.and_then(|i| i.modified_ms) });
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.id));
    Ok(out)
}

/// A candidate that was passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub path: String,
    pub problem: MetadataProblem,
}

/// The choice and the candidates rejected on the way (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    pub source: Option<RestoreSource>,
    pub rejected: Vec<Rejected>,
}

/// Picks the restore source: the newest retained checkpoint whose `_metadata` reads correctly,
/// else the newest completed savepoint of the catalog whose metadata (checked by the caller
/// when it is local: `savepoint_checks`, by path) is not known to be bad.
pub fn select_source(checkpoints: &[RetainedCheckpoint], savepoints: &[Snapshot], savepoint_checks: &[(String, Result<u32, MetadataProblem>)]) -> Selection {
    let mut sel = Selection::default();
    let mut cps: Vec<&RetainedCheckpoint> = checkpoints.iter().collect();
    cps.sort_by_key(|c| std::cmp::Reverse(c.id));
    for cp in cps {
        let path = cp.path();
        match &cp.metadata {
            Ok(_) => {
                sel.source = Some(RestoreSource { path, kind: RestoreKind::Checkpoint });
                return sel;
            }
            Err(problem) => sel.rejected.push(Rejected { path, problem: problem.clone() }),
        }
    }
    let mut sps: Vec<&Snapshot> = savepoints.iter().filter(|s| s.kind == SnapshotKind::Savepoint && s.status == SnapshotStatus::Completed).collect();
    sps.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
    for sp in sps {
        match savepoint_checks.iter().find(|(p, _)| *p == sp.path).map(|(_, r)| r) {
            Some(Err(problem)) => sel.rejected.push(Rejected { path: sp.path.clone(), problem: problem.clone() }),
            _ => {
                sel.source = Some(RestoreSource { path: sp.path.clone(), kind: RestoreKind::Savepoint });
                return sel;
            }
        }
    }
    sel
}

/// The shell around [`select_source`]: scans the job's retained checkpoints and checks the
/// local savepoints' metadata.
pub fn select_for_job(checkpoint_dir: &Path, flink_job_id: &str, savepoints: &[Snapshot]) -> Result<Selection> {
    let cps = scan_retained_checkpoints(checkpoint_dir, flink_job_id)?;
    let checks: Vec<(String, Result<u32, MetadataProblem>)> = savepoints
        .iter()
        .filter_map(|s| match Location::parse(&s.path) {
            Ok(Location::Local(dir)) => Some((s.path.clone(), check_metadata_file(&dir))),
            _ => None,
        })
        .collect();
    Ok(select_source(&cps, savepoints, &checks))
}

/// [`select_for_job`] over any location: scans `<base>/<flink_job_id>/chk-N` and checks the
/// `_metadata` of every completed savepoint of the catalog, local or in an object store. A
/// store that does not answer is an error (try again later), never a reason to pick an older
/// source.
pub async fn select_for_job_at(fs: &SnapshotFs, base: &Location, flink_job_id: &str, savepoints: &[Snapshot]) -> Result<Selection> {
    let cps = scan_retained_checkpoints_at(fs, base, flink_job_id).await?;
    let mut checks = Vec::new();
    if !cps.iter().any(|c| c.metadata.is_ok()) {
        // Newest first, until one reads correctly or cannot be checked (then it is trusted).
        let mut sps: Vec<&Snapshot> = savepoints.iter().filter(|s| s.kind == SnapshotKind::Savepoint && s.status == SnapshotStatus::Completed).collect();
        sps.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
        for s in sps {
            let Ok(loc) = Location::parse(&s.path) else { break };
            if matches!(loc, Location::Remote { .. }) && loc.object().is_err() {
                break;
            }
            let check = check_metadata_at(fs, &loc).await?;
            let good = check.is_ok();
            checks.push((s.path.clone(), check));
            if good {
                break;
            }
        }
    }
    Ok(select_source(&cps, savepoints, &checks))
}

/// Exponential backoff with jitter between recovery attempts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    pub initial_ms: i64,
    pub max_ms: i64,
    pub multiplier: f64,
    /// Fraction of the delay that is randomised away (0: none, 1: anywhere from 0 to the delay).
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff { initial_ms: 10_000, max_ms: 600_000, multiplier: 2.0, jitter: 0.5 }
    }
}

impl Backoff {
    /// The delay before attempt `attempt` (0 = the first retry), with `unit` a random number in
    /// [0, 1): between `(1 - jitter) × d` and `d`, where `d = min(max, initial × multiplier^attempt)`.
    pub fn delay_ms(&self, attempt: u32, unit: f64) -> i64 {
        let initial = self.initial_ms.max(0) as f64;
        let cap = self.max_ms.max(self.initial_ms).max(0) as f64;
        let exp = self.multiplier.max(1.0).powi(attempt.min(1_000) as i32);
        let d = (initial * exp).min(cap);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let unit = if unit.is_finite() { unit.clamp(0.0, 1.0) } else { 0.0 };
        (d * (1.0 - jitter * unit)).round() as i64
    }

    /// [`Backoff::delay_ms`] with a fresh random number.
    pub fn random_delay_ms(&self, attempt: u32) -> i64 {
        self.delay_ms(attempt, rand::random::<f64>())
    }
}

/// Opens after `threshold` failed recoveries within `window_ms` and stays open until a person
/// resets it: a job that keeps failing is not restarted forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitBreaker {
    pub threshold: usize,
    pub window_ms: i64,
    /// Times of recent failures, oldest first, within the window.
    failures: Vec<i64>,
    opened_at: Option<i64>,
}

impl CircuitBreaker {
    pub fn new(threshold: usize, window_ms: i64) -> CircuitBreaker {
        CircuitBreaker { threshold: threshold.max(1), window_ms, failures: Vec::new(), opened_at: None }
    }

    /// Records a failed recovery at `now`; returns true when this failure opened the breaker.
    pub fn record_failure(&mut self, now: i64) -> bool {
        if self.opened_at.is_some() {
            return false;
        }
        self.failures.retain(|t| now - *t < self.window_ms);
        self.failures.push(now);
        if self.failures.len() >= self.threshold {
            self.opened_at = Some(now);
            return true;
        }
        false
    }

    /// A recovery worked: the failure count starts over (an open breaker stays open).
    pub fn record_success(&mut self) {
        if self.opened_at.is_none() {
            self.failures.clear();
        }
    }

    pub fn is_open(&self) -> bool {
        self.opened_at.is_some()
    }

    pub fn opened_at(&self) -> Option<i64> {
        self.opened_at
    }

    /// Failures counted in the window ending at `now`.
    pub fn recent_failures(&self, now: i64) -> usize {
        self.failures.iter().filter(|t| now - **t < self.window_ms).count()
    }

    /// A person acted: close the breaker and forget the failures.
    pub fn reset(&mut self) {
        self.failures.clear();
        self.opened_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn metadata(version: u32) -> Vec<u8> {
        let mut b = HEADER_MAGIC_NUMBER.to_be_bytes().to_vec();
        b.extend_from_slice(&version.to_be_bytes());
        b.extend_from_slice(&42u64.to_be_bytes());
        b.extend_from_slice(b"rest of the metadata");
        b
    }

    fn write_chk(root: &Path, job: &str, n: u64, content: Option<&[u8]>) -> PathBuf {
        let dir = root.join(job).join(format!("chk-{n}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        if let Some(c) = content {
            std::fs::write(dir.join("_metadata"), c).expect("write");
        }
        dir
    }

    fn savepoint(path: &str, created_at: i64, status: SnapshotStatus) -> Snapshot {
        Snapshot { id: created_at, path: path.into(), kind: SnapshotKind::Savepoint, job: "j".into(), flink_job_id: None, created_at, status, size_bytes: None, protected: false }
    }

    #[test]
    fn headers_are_checked_like_flink_does() {
        assert_eq!(check_metadata_header(&metadata(3)), Ok(3));
        assert_eq!(check_metadata_header(&metadata(6)), Ok(6));
        assert_eq!(check_metadata_header(&metadata(0)), Err(MetadataProblem::UnknownVersion { found: 0 }));
        assert_eq!(check_metadata_header(&metadata(7)), Err(MetadataProblem::UnknownVersion { found: 7 }));
        let mut bad = metadata(3);
        bad[..4].copy_from_slice(b"XXXX");
        assert_eq!(check_metadata_header(&bad), Err(MetadataProblem::BadMagic { found: 0x5858_5858 }));
        assert_eq!(check_metadata_header(&metadata(3)[..6]), Err(MetadataProblem::Truncated { len: 6 }));
        assert_eq!(check_metadata_header(&metadata(3)[..12]), Err(MetadataProblem::Truncated { len: 12 }));
        assert_eq!(check_metadata_header(&[]), Err(MetadataProblem::Truncated { len: 0 }));
    }

    #[test]
    fn the_newest_readable_checkpoint_wins_then_savepoints() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path();
        write_chk(root, "job", 3, Some(&metadata(5)));
        write_chk(root, "job", 4, Some(&metadata(5)));
        let mut corrupt = metadata(5);
        corrupt[..4].copy_from_slice(&[0, 0, 0, 0]);
        write_chk(root, "job", 5, Some(&corrupt));
        write_chk(root, "job", 6, None); // in progress
        std::fs::create_dir_all(root.join("job/shared")).expect("shared");
        let sel = select_for_job(root, "job", &[]).expect("select");
        let source = sel.source.expect("a source");
        assert_eq!(source.kind, RestoreKind::Checkpoint);
        assert!(source.path.ends_with("/job/chk-4"), "{}", source.path);
        assert_eq!(sel.rejected.iter().map(|r| r.problem.clone()).collect::<Vec<_>>(), vec![MetadataProblem::Missing, MetadataProblem::BadMagic { found: 0 }]);

        // No readable checkpoint: the newest completed savepoint whose metadata is fine.
        let dir2 = tempfile::tempdir().expect("tmp");
        write_chk(dir2.path(), "job", 9, Some(b"garbage"));
        let good = dir2.path().join("sp/savepoint-good");
        let broken = dir2.path().join("sp/savepoint-broken");
        for (d, c) in [(&good, metadata(6)), (&broken, b"nope nope nope nope".to_vec())] {
            std::fs::create_dir_all(d).expect("mkdir");
            std::fs::write(d.join("_metadata"), c).expect("write");
        }
        let sps = vec![
            savepoint(&format!("file://{}", good.display()), 100, SnapshotStatus::Completed),
            savepoint(&format!("file://{}", broken.display()), 300, SnapshotStatus::Completed),
            savepoint("file:///never/finished", 400, SnapshotStatus::Failed),
        ];
        let sel = select_for_job(dir2.path(), "job", &sps).expect("select");
        assert_eq!(sel.source, Some(RestoreSource { path: format!("file://{}", good.display()), kind: RestoreKind::Savepoint }));
        assert_eq!(sel.rejected.len(), 2, "{:?}", sel.rejected);
        // Nothing at all.
        assert_eq!(select_for_job(dir2.path(), "other-job", &[]).expect("select"), Selection::default());
    }

    #[tokio::test]
    async fn the_location_api_reads_local_checkpoints_like_the_path_api() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path();
        write_chk(root, "job", 1, Some(&metadata(4)));
        write_chk(root, "job", 2, Some(b"short"));
        write_chk(root, "job", 3, None);
        std::fs::create_dir_all(root.join("job/chk-x")).expect("not a checkpoint");
        let fs = SnapshotFs::from_env();
        let base = Location::Local(root.to_path_buf());
        let by_path = scan_retained_checkpoints(root, "job").expect("scan");
        let by_location = scan_retained_checkpoints_at(&fs, &base, "job").await.expect("scan");
        assert_eq!(by_path, by_location);
        assert_eq!(by_path.iter().map(|c| (c.id, c.metadata.clone())).collect::<Vec<_>>(), vec![(3, Err(MetadataProblem::Missing)), (2, Err(MetadataProblem::Truncated { len: 5 })), (1, Ok(4))]);
        assert_eq!(by_path[2].local_dir(), Some(root.join("job/chk-1").as_path()));
        assert_eq!(by_path[2].path(), format!("file://{}", root.join("job/chk-1").display()));
        assert!(by_path[2].modified_ms.is_some() && by_path[0].modified_ms.is_none());
        assert_eq!(check_metadata_at(&fs, &by_path[2].location).await.expect("check"), Ok(4));
        let sel = select_for_job_at(&fs, &base, "job", &[]).await.expect("select");
        assert_eq!(sel, select_for_job(root, "job", &[]).expect("select"));
        assert_eq!(sel.source.map(|s| s.path), Some(by_path[2].path()));

        // No good checkpoint: savepoints are checked newest first, wherever they are.
        let good = root.join("sp/savepoint-good");
        std::fs::create_dir_all(&good).expect("mkdir");
        std::fs::write(good.join("_metadata"), metadata(6)).expect("write");
        let sps = vec![savepoint(&format!("file:{}", good.display()), 100, SnapshotStatus::Completed), savepoint("file:///gone/savepoint-x", 200, SnapshotStatus::Completed)];
        let sel = select_for_job_at(&fs, &base, "other-job", &sps).await.expect("select");
        assert_eq!(sel.source.map(|s| s.path), Some(format!("file:{}", good.display())));
        assert_eq!(sel.rejected, vec![Rejected { path: "file:///gone/savepoint-x".into(), problem: MetadataProblem::Missing }]);
    }

    #[test]
    fn remote_savepoints_are_trusted_when_they_cannot_be_read() {
        let sps = vec![savepoint("s3://b/sp/savepoint-1", 10, SnapshotStatus::Completed)];
        let sel = select_source(&[], &sps, &[]);
        assert_eq!(sel.source.map(|s| s.path), Some("s3://b/sp/savepoint-1".into()));
    }

    #[test]
    fn backoff_grows_to_its_cap_and_jitter_stays_in_bounds() {
        let b = Backoff { initial_ms: 1_000, max_ms: 30_000, multiplier: 2.0, jitter: 0.5 };
        assert_eq!((0..7).map(|a| b.delay_ms(a, 0.0)).collect::<Vec<_>>(), vec![1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        assert_eq!(b.delay_ms(3, 0.999_999), 4_000);
        assert_eq!(b.delay_ms(u32::MAX, 0.0), 30_000);
        assert_eq!(b.delay_ms(2, f64::NAN), 4_000);
        proptest!(|(attempt in 0u32..100, unit in 0.0f64..1.0)| {
            let d = b.delay_ms(attempt, unit);
            let full = b.delay_ms(attempt, 0.0);
            prop_assert!(d <= full && d * 2 >= full, "{d} vs {full}");
            prop_assert!(full <= 30_000);
            prop_assert!(b.random_delay_ms(attempt) <= full);
        });
    }

    #[test]
    fn breaker_opens_after_n_failures_in_the_window_and_needs_a_person() {
        let mut br = CircuitBreaker::new(3, 60_000);
        assert!(!br.record_failure(0));
        assert!(!br.record_failure(10_000));
        // The first failure leaves the window: still two.
        assert!(!br.record_failure(65_000));
        assert_eq!(br.recent_failures(65_000), 2);
        assert!(br.record_failure(69_000), "third failure within a minute opens it");
        assert!(br.is_open());
        assert_eq!(br.opened_at(), Some(69_000));
        br.record_success();
        assert!(br.is_open(), "only a person closes it");
        assert!(!br.record_failure(80_000));
        br.reset();
        assert!(!br.is_open());
        assert_eq!(br.recent_failures(80_000), 0);
        // A success in between starts the count over.
        let mut br = CircuitBreaker::new(2, 60_000);
        br.record_failure(0);
        br.record_success();
        assert!(!br.record_failure(1));
        let json = serde_json::to_string(&br).expect("json");
        assert_eq!(serde_json::from_str::<CircuitBreaker>(&json).expect("back"), br, "it is stored between restarts");
    }
}
