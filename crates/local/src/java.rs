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

/// The zone a JVM started here defaults to (`ZoneId.systemDefault()`, which Flink SQL takes
/// as its session zone unless `table.local-time-zone` says otherwise), found as the JDK finds
/// it on Linux: the `TZ` variable, else the `/etc/localtime` link's target below `zoneinfo/`.
/// `None` when neither names a zone (e.g. a copied /etc/localtime, which the JDK matches by
/// content).
pub fn default_time_zone() -> Option<String> {
    zone_from(std::env::var("TZ").ok().as_deref(), std::fs::read_link("/etc/localtime").ok().as_deref())
}

fn zone_from(tz: Option<&str>, localtime_link: Option<&Path>) -> Option<String> {
    let below_zoneinfo = |p: &str| p.rsplit_once("zoneinfo/").map_or(p, |(_, zone)| zone).to_string();
    if let Some(tz) = tz.filter(|t| !t.is_empty()) {
        let tz = tz.strip_prefix(':').unwrap_or(tz);
        return Some(below_zoneinfo(tz.strip_prefix("posix/").unwrap_or(tz)));
    }
    let target = localtime_link?.to_str()?;
    target.contains("zoneinfo/").then(|| below_zoneinfo(target))
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

    #[test]
    fn the_default_zone_comes_from_tz_then_the_localtime_link() {
        let link = Path::new("/usr/share/zoneinfo/Etc/UTC");
        assert_eq!(zone_from(None, Some(link)).as_deref(), Some("Etc/UTC"));
        assert_eq!(zone_from(Some(""), Some(Path::new("../usr/share/zoneinfo/Europe/Berlin"))).as_deref(), Some("Europe/Berlin"));
        assert_eq!(zone_from(Some(":America/New_York"), Some(link)).as_deref(), Some("America/New_York"));
        assert_eq!(zone_from(Some("posix/Asia/Tokyo"), None).as_deref(), Some("Asia/Tokyo"));
        assert_eq!(zone_from(None, Some(Path::new("/etc/some-file"))), None);
        assert_eq!(zone_from(None, None), None);
    }

    /// What a real JVM on this machine says, with this process's environment and again with a
    /// `TZ` of its own.
    #[test]
    fn the_default_zone_is_the_one_a_jvm_here_uses() {
        let java = Java::find().expect("Java is needed for this test");
        let dir = std::env::temp_dir().join(format!("flinkops-zone-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("Zone.java");
        std::fs::write(&src, "public class Zone { public static void main(String[] a) { System.out.print(java.time.ZoneId.systemDefault()); } }").unwrap();
        let jvm_zone = |tz: Option<&str>| {
            let mut cmd = Command::new(&java.java);
            cmd.arg(&src);
            match tz {
                Some(tz) => cmd.env("TZ", tz),
                None => cmd.env_remove("TZ"),
            };
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        let link = std::fs::read_link("/etc/localtime").ok();
        if let Some(ours) = zone_from(None, link.as_deref()) {
            assert_eq!(ours, jvm_zone(None));
        }
        assert_eq!(zone_from(Some("Asia/Kolkata"), link.as_deref()).unwrap(), jvm_zone(Some("Asia/Kolkata")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
