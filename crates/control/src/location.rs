//! Savepoint and checkpoint locations, parsed in one place: local paths (`file:///a`, Flink's
//! `file:/a`, `/a`) and object stores (`s3://`, `gs://`, `abfs://`, …).
//!
//! Also the pure safety rule for deleting a snapshot directory from an object store
//! ([`deletable_prefix`]): only a prefix whose last segment is Flink's savepoint directory name
//! (`savepoint-<6 hex>-<12 hex>`) or a checkpoint directory (`chk-N`) — never a bucket root, a
//! parent directory or a single file. [`crate::objstore::SnapshotFs`] does the I/O.

use std::path::PathBuf;

use crate::{Error, Result};

/// Where a savepoint or checkpoint lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    /// An object store or distributed file system, with its scheme.
    Remote { scheme: String, url: String },
}

const REMOTE: &[&str] = &["s3", "s3a", "s3p", "gs", "abfs", "abfss", "wasb", "wasbs", "oss", "hdfs", "viewfs"];

impl Location {
    pub fn parse(s: &str) -> Result<Location> {
        let bad = |why: &str| Error::Location { action: "use", location: s.into(), why: why.into() };
        let s = s.trim();
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(rest) = s.strip_prefix("file:") {
            // file:///a, file:/a, and file://localhost/a are local; file://host/a is not.
            let path = match rest.strip_prefix("//") {
                Some(r) if r.starts_with('/') => r,
                Some(r) => match r.strip_prefix("localhost") {
                    Some(p) if p.starts_with('/') => p,
                    _ => return Err(bad("file URIs with a host are not local")),
                },
                None => rest,
            };
            if !path.starts_with('/') {
                return Err(bad("a file location must be absolute"));
            }
            return Ok(Location::Local(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            if REMOTE.contains(&scheme.as_str()) {
                return Ok(Location::Remote { scheme, url: s.into() });
            }
            return Err(bad(&format!("unknown scheme `{scheme}`")));
        }
        if s.starts_with('/') {
            return Ok(Location::Local(PathBuf::from(s)));
        }
        Err(bad("a relative path is ambiguous; use an absolute path or file:///"))
    }
}

impl Location {
    /// The location as a URI: `file:///a` for local paths, the URL as written otherwise.
    pub fn uri(&self) -> String {
        match self {
            Location::Local(p) => format!("file://{}", p.display()),
            Location::Remote { url, .. } => url.clone(),
        }
    }

    /// A child of this location (`name` is one path segment or a relative path).
    pub fn join(&self, name: &str) -> Location {
        let name = name.trim_start_matches('/');
        match self {
            Location::Local(p) => Location::Local(p.join(name)),
            Location::Remote { scheme, url } => Location::Remote { scheme: scheme.clone(), url: format!("{}/{name}", url.trim_end_matches('/')) },
        }
    }

    /// The last path segment (`chk-7`, `savepoint-…`); None for a root.
    pub fn file_name(&self) -> Option<String> {
        match self {
            Location::Local(p) => p.file_name().and_then(|n| n.to_str()).map(str::to_string),
            Location::Remote { .. } => self.object().ok().and_then(|o| o.key.rsplit('/').next().filter(|n| !n.is_empty()).map(str::to_string)),
        }
    }

    /// The object store, bucket and key of a remote location. Fails for local paths and for
    /// schemes flinkops cannot reach through an object store API (`oss`, `hdfs`, `viewfs`).
    pub fn object(&self) -> Result<ObjectLocation> {
        let (scheme, url) = match self {
            Location::Remote { scheme, url } => (scheme.as_str(), url.as_str()),
            Location::Local(p) => {
                return Err(Error::Location { action: "reach", location: format!("file://{}", p.display()), why: "it is a local path, not an object store".into() });
            }
        };
        let bad = |why: String| Error::Location { action: "reach", location: url.into(), why };
        let provider = match scheme {
            "s3" | "s3a" | "s3p" => Provider::S3,
            "gs" => Provider::Gcs,
            "abfs" | "abfss" | "wasb" | "wasbs" => Provider::Azure,
            other => return Err(bad(format!("{other}:// is not an object store flinkops can reach (S3, GCS and Azure are)"))),
        };
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
        if rest.contains(['?', '#']) {
            return Err(bad("a query or fragment is not part of a storage path".into()));
        }
        let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
        let (bucket, host) = match (provider, authority.split_once('@')) {
            (Provider::Azure, Some((container, host))) => (container, Some(host)),
            _ => (authority, None),
        };
        if bucket.is_empty() {
            return Err(bad("it names no bucket or container".into()));
        }
        if host.is_some_and(str::is_empty) {
            return Err(bad("it names no storage account host after `@`".into()));
        }
        Ok(ObjectLocation {
            provider,
            bucket: bucket.to_string(),
            host: host.map(str::to_string),
            key: key.trim_end_matches('/').to_string(),
        })
    }
}

/// The object store behind a remote location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// `s3://`, `s3a://`, `s3p://` (Amazon S3 and S3-compatible servers).
    S3,
    /// `gs://` (Google Cloud Storage).
    Gcs,
    /// `abfs[s]://`, `wasb[s]://` (Azure Blob Storage / ADLS Gen2).
    Azure,
}

/// A remote location split into what an object store API needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLocation {
    pub provider: Provider,
    /// The bucket (S3, GCS) or container (Azure).
    pub bucket: String,
    /// Azure's account host as written after `@` (`acct.dfs.core.windows.net`); None when the
    /// URL names only the container (the account then comes from `AZURE_STORAGE_ACCOUNT_NAME`).
    pub host: Option<String>,
    /// The key inside the bucket, without trailing `/`; empty for the bucket root.
    pub key: String,
}

/// The key of a catalog path for comparisons: `file:/a`, `file:///a/` and `/a` are one
/// location, as are `s3a://b/k/` and `s3://b/k`. Unparsable paths compare as written.
pub fn normalize(path: &str) -> String {
    match Location::parse(path) {
        Ok(Location::Local(p)) => {
            let s = p.to_string_lossy();
            let t = s.trim_end_matches('/');
            format!("file://{}", if t.is_empty() { "/" } else { t })
        }
        Ok(Location::Remote { scheme, url }) => {
            let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("").trim_end_matches('/');
            let scheme = match scheme.as_str() {
                "s3a" | "s3p" => "s3",
                s => s,
            };
            format!("{scheme}://{rest}")
        }
        Err(_) => path.trim().to_string(),
    }
}

/// What a snapshot directory name says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotDir {
    /// Flink's `savepoint-<first 6 hex of the job id>-<12 random hex>`.
    Savepoint,
    /// A checkpoint directory `chk-N`, with N.
    Checkpoint(u64),
}

/// Recognises Flink's snapshot directory names exactly: `savepoint-` + 6 lowercase hex + `-` +
/// 12 lowercase hex (`AbstractFsCheckpointStorageAccess` + `FileUtils.getRandomFilename`), or
/// `chk-` + decimal digits.
pub fn snapshot_dir_name(name: &str) -> Option<SnapshotDir> {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if let Some(rest) = name.strip_prefix("savepoint-") {
        let (job, random) = rest.split_once('-')?;
        return (hex(job, 6) && hex(random, 12)).then_some(SnapshotDir::Savepoint);
    }
    let n = name.strip_prefix("chk-")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().map(SnapshotDir::Checkpoint)
}

/// The safety rule for deleting everything under an object-store key prefix: the key must be a
/// clean relative path (no empty, `.` or `..` segments) whose last segment is a snapshot
/// directory name ([`snapshot_dir_name`]). A bucket root, a parent such as `savepoints/` or
/// `<job-id>/`, a `shared/` directory or a file inside a snapshot is refused, with why.
pub fn deletable_prefix(key: &str) -> std::result::Result<SnapshotDir, String> {
    let key = key.strip_suffix('/').unwrap_or(key);
    if key.is_empty() {
        return Err("it is the root of the bucket".into());
    }
    let segments: Vec<&str> = key.split('/').collect();
    if let Some(s) = segments.iter().find(|s| s.is_empty() || **s == "." || **s == "..") {
        return Err(format!("its key has a `{s}` segment"));
    }
    let last = segments.last().copied().unwrap_or("");
    snapshot_dir_name(last).ok_or_else(|| format!("`{last}` is not a savepoint (savepoint-xxxxxx-xxxxxxxxxxxx) or checkpoint (chk-N) directory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_as_flink_writes_them() {
        let local = |p: &str| Ok(Location::Local(PathBuf::from(p)));
        let cases: Vec<(&str, Result<Location, ()>)> = vec![
            ("file:///tmp/sp/savepoint-1", local("/tmp/sp/savepoint-1")),
            ("file:/tmp/sp/savepoint-1", local("/tmp/sp/savepoint-1")),
            ("file://localhost/tmp/x", local("/tmp/x")),
            ("/tmp/x", local("/tmp/x")),
            ("s3://bucket/sp/savepoint-1", Ok(Location::Remote { scheme: "s3".into(), url: "s3://bucket/sp/savepoint-1".into() })),
            ("GS://b/x", Ok(Location::Remote { scheme: "gs".into(), url: "GS://b/x".into() })),
            ("abfss://c@acct.dfs.core.windows.net/x", Ok(Location::Remote { scheme: "abfss".into(), url: "abfss://c@acct.dfs.core.windows.net/x".into() })),
            ("file://otherhost/tmp/x", Err(())),
            ("file:relative", Err(())),
            ("relative/dir", Err(())),
            ("ftp://x/y", Err(())),
            ("", Err(())),
        ];
        for (input, want) in cases {
            let got = Location::parse(input).map_err(|_| ());
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn snapshot_directory_names_are_flinks_exactly() {
        let cases: &[(&str, Option<SnapshotDir>)] = &[
            ("savepoint-abc123-0123456789ab", Some(SnapshotDir::Savepoint)),
            ("savepoint-000000-ffffffffffff", Some(SnapshotDir::Savepoint)),
            ("chk-0", Some(SnapshotDir::Checkpoint(0))),
            ("chk-42", Some(SnapshotDir::Checkpoint(42))),
            ("chk-18446744073709551615", Some(SnapshotDir::Checkpoint(u64::MAX))),
            ("chk-18446744073709551616", None),
            ("chk-", None),
            ("chk-+1", None),
            ("chk--1", None),
            ("chk-1a", None),
            ("chk-1 ", None),
            ("CHK-1", None),
            ("savepoint-abc123-0123456789a", None),
            ("savepoint-abc123-0123456789abc", None),
            ("savepoint-abc12-0123456789ab", None),
            ("savepoint-ABC123-0123456789AB", None),
            ("savepoint-abc123-0123456789ag", None),
            ("savepoint-abc123_0123456789ab", None),
            ("savepoint-1", None),
            ("savepoint-", None),
            ("shared", None),
            ("taskowned", None),
            ("_metadata", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(snapshot_dir_name(name), *want, "{name:?}");
        }
    }

    #[test]
    fn only_snapshot_directories_are_deletable_prefixes() {
        let sp = "savepoint-abc123-0123456789ab";
        let ok: &[(&str, SnapshotDir)] = &[
            ("savepoint-abc123-0123456789ab", SnapshotDir::Savepoint),
            ("sp/savepoint-abc123-0123456789ab", SnapshotDir::Savepoint),
            ("sp/savepoint-abc123-0123456789ab/", SnapshotDir::Savepoint),
            ("a/b/c/savepoint-abc123-0123456789ab", SnapshotDir::Savepoint),
            ("cp/0123456789abcdef0123456789abcdef/chk-12", SnapshotDir::Checkpoint(12)),
            ("chk-1", SnapshotDir::Checkpoint(1)),
        ];
        for (key, want) in ok {
            assert_eq!(deletable_prefix(key), Ok(*want), "{key:?}");
        }
        let refused: &[(&str, &str)] = &[
            ("", "root of the bucket"),
            ("/", "root of the bucket"),
            ("sp", "`sp` is not"),
            ("sp/", "`sp` is not"),
            ("cp/0123456789abcdef0123456789abcdef", "is not"),
            ("cp/0123456789abcdef0123456789abcdef/shared", "`shared` is not"),
            ("cp/0123456789abcdef0123456789abcdef/taskowned", "is not"),
            ("sp/savepoint-abc123-0123456789ab/_metadata", "`_metadata` is not"),
            ("sp/savepoint-abc123-0123456789ab/op-1", "is not"),
            ("sp/savepoint-1", "is not"),
            ("cp/chk-1/..", "`..` segment"),
            ("sp/../savepoint-abc123-0123456789ab", "`..` segment"),
            ("sp/./savepoint-abc123-0123456789ab", "`.` segment"),
            ("sp//savepoint-abc123-0123456789ab", "`` segment"),
            ("/sp/savepoint-abc123-0123456789ab", "`` segment"),
            ("sp/savepoint-abc123-0123456789ab//", "`` segment"),
        ];
        for (key, why) in refused {
            let e = deletable_prefix(key).expect_err(key);
            assert!(e.contains(why), "{key:?}: {e}");
        }
        assert!(deletable_prefix(&format!("x/{sp}")).is_ok());
    }

    #[test]
    fn remote_locations_split_into_bucket_and_key() {
        let obj = |s: &str| Location::parse(s).and_then(|l| l.object());
        let o = |provider, bucket: &str, host: Option<&str>, key: &str| ObjectLocation { provider, bucket: bucket.into(), host: host.map(str::to_string), key: key.into() };
        let cases: Vec<(&str, Option<ObjectLocation>)> = vec![
            ("s3://b/sp/savepoint-1", Some(o(Provider::S3, "b", None, "sp/savepoint-1"))),
            ("s3a://b/sp/x/", Some(o(Provider::S3, "b", None, "sp/x"))),
            ("s3p://b", Some(o(Provider::S3, "b", None, ""))),
            ("s3://b/", Some(o(Provider::S3, "b", None, ""))),
            ("gs://bucket/a/chk-1", Some(o(Provider::Gcs, "bucket", None, "a/chk-1"))),
            ("abfss://c@acct.dfs.core.windows.net/cp/chk-1", Some(o(Provider::Azure, "c", Some("acct.dfs.core.windows.net"), "cp/chk-1"))),
            ("wasbs://c@acct.blob.core.windows.net/sp", Some(o(Provider::Azure, "c", Some("acct.blob.core.windows.net"), "sp"))),
            ("abfs://c/sp", Some(o(Provider::Azure, "c", None, "sp"))),
            ("s3://user@b/k", Some(o(Provider::S3, "user@b", None, "k"))),
            ("s3:///k", None),
            ("abfs://c@/k", None),
            ("s3://b/k?versionId=1", None),
            ("hdfs://nn:8020/flink/sp", None),
            ("oss://b/k", None),
            ("file:///tmp/x", None),
        ];
        for (input, want) in cases {
            assert_eq!(obj(input).ok(), want, "{input}");
        }
    }

    #[test]
    fn paths_join_name_and_normalize() {
        let l = Location::parse("s3://b/cp/").expect("s3");
        assert_eq!(l.join("job").join("chk-3").uri(), "s3://b/cp/job/chk-3");
        assert_eq!(l.join("job/chk-3").file_name().as_deref(), Some("chk-3"));
        assert_eq!(Location::parse("s3://b").expect("s3").file_name(), None);
        let local = Location::parse("file:/tmp/cp").expect("local");
        assert_eq!(local.join("j").join("chk-1").uri(), "file:///tmp/cp/j/chk-1");
        assert_eq!(local.file_name().as_deref(), Some("cp"));
        let same = ["file:/tmp/cp/chk-1", "file:///tmp/cp/chk-1/", "/tmp/cp/chk-1", "file://localhost/tmp/cp/chk-1"];
        for p in same {
            assert_eq!(normalize(p), "file:///tmp/cp/chk-1", "{p}");
        }
        assert_eq!(normalize("s3a://b/cp/chk-1/"), normalize("s3://b/cp/chk-1"));
        assert_eq!(normalize("S3://b/k"), "s3://b/k");
        assert_ne!(normalize("s3://b/cp/chk-1"), normalize("s3://b/cp/chk-10"));
        assert_eq!(normalize("  not a path "), "not a path");
    }
}
