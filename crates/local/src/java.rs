//! Finding Java: `JAVA_HOME/bin/java`, else `java` on `PATH`. Flink needs Java ≥ 11 (17
//! recommended); the SQL runner also needs `javac` (a JDK).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result};

const INSTALL_HINT: &str = "install Java 17 (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`; macOS: `brew install openjdk@17`) or set JAVA_HOME";

/// A Java installation that was found and checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Java {
    /// The `java` executable.
    pub java: PathBuf,
    /// Its feature version (11, 17, 21…).
    pub major: u32,
    /// The full version string, e.g. `17.0.15`.
    pub version: String,
}

impl Java {
    /// Finds Java and checks its version.
    pub fn find() -> Result<Java> {
        let candidate = match std::env::var_os("JAVA_HOME").filter(|v| !v.is_empty()) {
            Some(home) => {
                let p = PathBuf::from(home).join("bin").join("java");
                if !p.is_file() {
                    return Err(Error::JavaMissing { hint: format!("JAVA_HOME points to {} which has no bin/java; {INSTALL_HINT}", p.display()) });
                }
                p
            }
            None => which("java").ok_or_else(|| Error::JavaMissing { hint: INSTALL_HINT.into() })?,
        };
        let out = Command::new(&candidate)
            .arg("-version")
            .output()
            .map_err(|e| Error::JavaMissing { hint: format!("running {} failed ({e}); {INSTALL_HINT}", candidate.display()) })?;
        let text = String::from_utf8_lossy(&out.stderr);
        let (major, version) = parse_java_version(&text)
            .ok_or_else(|| Error::JavaMissing { hint: format!("cannot read the version of {} from `{}`; {INSTALL_HINT}", candidate.display(), text.trim()) })?;
        if major < 11 {
            return Err(Error::JavaTooOld { found: major, path: candidate, hint: INSTALL_HINT.into() });
        }
        Ok(Java { java: candidate, major, version })
    }

    /// The `javac` next to this `java` (following symlinks), or on PATH.
    pub fn javac(&self) -> Result<PathBuf> {
        self.tool("javac")
    }

    /// A JDK tool next to `java` (`javac`, `jar`), following symlinks, else from PATH.
    pub fn tool(&self, name: &str) -> Result<PathBuf> {
        let real = std::fs::canonicalize(&self.java).unwrap_or_else(|_| self.java.clone());
        for java in [&self.java, &real] {
            if let Some(dir) = java.parent() {
                let p = dir.join(name);
                if p.is_file() {
                    return Ok(p);
                }
            }
        }
        which(name).ok_or_else(|| Error::JdkMissing { java: self.java.clone() })
    }
}

/// Looks `name` up on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Parses `java -version` output: `openjdk version "17.0.15" 2025-04-15` → (17, "17.0.15");
/// `java version "1.8.0_392"` → (8, "1.8.0_392").
pub fn parse_java_version(text: &str) -> Option<(u32, String)> {
    let line = text.lines().find(|l| l.contains(" version \""))?;
    let start = line.find('"')? + 1;
    let end = start + line[start..].find('"')?;
    let version = &line[start..end];
    let mut parts = version.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    let major = if first == 1 { parts.next()?.parse().ok()? } else { first };
    Some((major, version.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_java_versions() {
        assert_eq!(parse_java_version("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime"), Some((17, "17.0.15".into())));
        assert_eq!(parse_java_version("java version \"1.8.0_392\"\n"), Some((8, "1.8.0_392".into())));
        assert_eq!(parse_java_version("openjdk version \"21\" 2023-09-19"), Some((21, "21".into())));
        assert_eq!(parse_java_version("openjdk version \"11.0.2-ea\""), Some((11, "11.0.2-ea".into())));
        assert_eq!(parse_java_version("garbage"), None);
        assert_eq!(parse_java_version("x version \"\""), None);
    }
}
