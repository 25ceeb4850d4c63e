//! flinkops's home directory (`$FLINKOPS_HOME`, default: the user's data dir) and its layout:
//!
//! ```text
//! $FLINKOPS_HOME/
//!   flink/<version>/{bin,lib,opt,plugins}   installed Flink distributions
//!   clusters/<name>/                        local clusters (conf, logs, pids, state)
//!   cache/sql-runner/<version>/             the compiled SQL runner per Flink version
//! ```

use std::path::{Path, PathBuf};

/// The resolved home directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `explicit` (from `--home` / `FLINKOPS_HOME`), else the platform data dir
    /// (`~/.local/share/flinkops` on Linux).
    pub fn resolve(explicit: Option<&Path>) -> crate::Result<Home> {
        if let Some(p) = explicit {
            return Ok(Home { root: p.to_path_buf() });
        }
        if let Ok(p) = std::env::var("FLINKOPS_HOME")
            && !p.is_empty()
        {
            return Ok(Home { root: PathBuf::from(p) });
        }
        directories::ProjectDirs::from("", "", "flinkops")
            .map(|d| Home { root: d.data_dir().to_path_buf() })
            .ok_or_else(|| crate::Error::Other("cannot determine a home directory: set FLINKOPS_HOME".into()))
    }

    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where installed Flink distributions live.
    pub fn flink_dir(&self) -> PathBuf {
        self.root.join("flink")
    }

    /// The directory of one local cluster.
    pub fn cluster_dir(&self, name: &str) -> PathBuf {
        self.root.join("clusters").join(name)
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }
}
