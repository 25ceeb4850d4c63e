//! Savepoint and checkpoint locations, parsed in one place: local paths (`file:///a`, Flink's
//! `file:/a`, `/a`) and object stores (`s3://`, `gs://`, `abfs://`, …), which flinkops can name
//! but not yet delete.

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
}
