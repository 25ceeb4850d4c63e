//! Flink distributions: install Flink's jars from PyPI (`apache-flink-libraries`) into
//! `$FLINKOPS_HOME/flink/<version>`, or use an existing Flink (official tarball layout).
//!
//! The download goes through the ordinary client (`python3 -m pip download --no-deps`), so a
//! user's pip mirrors, proxies and certificates apply. 2.x versions come as a wheel
//! (`pyflink/{bin,lib,opt,plugins}`), 1.x versions as an sdist (`*/deps/{bin,lib,opt,plugins}`).
//! Unpacking happens in a temporary directory beside the target and ends with one rename, so
//! an interrupted install leaves nothing half-written.

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::home::Home;
use crate::{Error, Result};

/// The version `flinkops flink install` installs when none is given.
pub const DEFAULT_VERSION: &str = "2.3.0";
/// The oldest Flink line flinkops supports.
pub const MIN_SUPPORTED: (u32, u32) = (1, 18);
const MARKER: &str = ".flinkops-dist.json";

/// A usable Flink distribution on disk.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct FlinkDist {
    /// Its root: contains `lib/`, `bin/`, `plugins/`, `opt/`.
    pub path: PathBuf,
    /// Full version, e.g. `2.3.0`.
    pub version: String,
    /// `pypi` when flinkops installed it, `external` for `--flink-home` / `FLINK_HOME`.
    pub source: String,
}

/// A parsed Flink version request: `2.3` (latest patch) or `2.3.0` (exact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionReq {
    pub major: u32,
    pub minor: u32,
    pub patch: Option<u32>,
}

impl VersionReq {
    pub fn parse(text: &str) -> Result<VersionReq> {
        let bad = |why: &str| Error::BadVersion { version: text.to_string(), why: why.to_string() };
        let t = text.trim().trim_start_matches(['v', 'V']);
        let parts: Vec<&str> = t.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad("write it as MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 2.3 or 2.3.0"));
        }
        let num = |s: &str| s.parse::<u32>().map_err(|_| bad("each part must be a number, e.g. 2.3.0"));
        let major = num(parts[0])?;
        let minor = num(parts[1])?;
        let patch = parts.get(2).map(|p| num(p)).transpose()?;
        if (major, minor) < MIN_SUPPORTED {
            return Err(bad("flinkops supports Flink 1.18 and newer (1.18, 1.19, 1.20, 2.x)"));
        }
        if major > 2 {
            return Err(bad("flinkops knows Flink 1.18 to 2.x"));
        }
        Ok(VersionReq { major, minor, patch })
    }

    /// The pip requirement: `==X.Y.Z`, or `~=X.Y.0` (the latest X.Y.* release).
    pub fn pip_requirement(&self) -> String {
        match self.patch {
            Some(p) => format!("apache-flink-libraries=={}.{}.{}", self.major, self.minor, p),
            None => format!("apache-flink-libraries~={}.{}.0", self.major, self.minor),
        }
    }

    pub fn matches(&self, version: &str) -> bool {
        let mut it = version.split('.').map(|p| p.parse::<u32>().ok());
        let (Some(Some(ma)), Some(Some(mi))) = (it.next(), it.next()) else { return false };
        let pa = it.next().flatten();
        ma == self.major && mi == self.minor && (self.patch.is_none() || self.patch == pa)
    }
}

impl std::fmt::Display for VersionReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{}", self.major, self.minor, p),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// Sorting key for versions like `2.3.0`.
fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

impl FlinkDist {
    /// Opens an existing distribution (official tarball layout or one flinkops installed).
    pub fn open(path: &Path) -> Result<FlinkDist> {
        let lib = path.join("lib");
        let entries = std::fs::read_dir(&lib).map_err(|e| Error::NotADistribution { path: path.to_path_buf(), detail: format!("cannot read {}: {e}", lib.display()) })?;
        let mut version = None;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(v) = name.strip_prefix("flink-dist").and_then(|r| r.strip_suffix(".jar")) {
                // flink-dist-2.3.0.jar, or flink-dist_2.12-1.14.0.jar in old Scala-suffixed builds
                let v = v.rsplit('-').next().unwrap_or(v);
                version = Some(v.to_string());
            }
        }
        let version = version.ok_or_else(|| Error::NotADistribution { path: path.to_path_buf(), detail: "no lib/flink-dist-*.jar".into() })?;
        let source = if path.join(MARKER).exists() { "pypi" } else { "external" };
        Ok(FlinkDist { path: path.to_path_buf(), version, source: source.into() })
    }

    /// The distributions installed under `home`, newest first.
    pub fn list(home: &Home) -> Vec<FlinkDist> {
        let mut out: Vec<FlinkDist> = std::fs::read_dir(home.flink_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| FlinkDist::open(&e.path()).ok())
            .collect();
        out.sort_by_key(|d| std::cmp::Reverse(version_key(&d.version)));
        out
    }

    /// Picks the distribution to use: an explicit Flink home wins (`--flink-home`, then
    /// `FLINK_HOME`), else the newest installed version matching `req` (default 2.3.0).
    pub fn resolve(home: &Home, flink_home: Option<&Path>, req: Option<&str>) -> Result<FlinkDist> {
        if let Some(p) = flink_home {
            return FlinkDist::open(p);
        }
        let req = VersionReq::parse(req.unwrap_or(DEFAULT_VERSION))?;
        FlinkDist::list(home)
            .into_iter()
            .find(|d| req.matches(&d.version))
            .ok_or_else(|| Error::NotInstalled { version: req.to_string() })
    }

    pub fn lib_dir(&self) -> PathBuf {
        self.path.join("lib")
    }

    pub fn plugins_dir(&self) -> PathBuf {
        self.path.join("plugins")
    }

    /// `lib/*` as a Java class path.
    pub fn classpath(&self) -> String {
        format!("{}/*", self.lib_dir().display())
    }

    pub fn dist_jar(&self) -> PathBuf {
        self.lib_dir().join(format!("flink-dist-{}.jar", self.version))
    }

    pub fn bash_java_utils_jar(&self) -> PathBuf {
        self.path.join("bin").join("bash-java-utils.jar")
    }

    /// (major, minor) of this distribution.
    pub fn major_minor(&self) -> (u32, u32) {
        let k = version_key(&self.version);
        (k.first().copied().unwrap_or(0), k.get(1).copied().unwrap_or(0))
    }

    /// Flink 2.x reads `config.yaml` only; 1.x reads `flink-conf.yaml`.
    pub fn config_file_name(&self) -> &'static str {
        if self.major_minor().0 >= 2 { "config.yaml" } else { "flink-conf.yaml" }
    }
}

/// What an install reports while it works (the CLI shows it as progress bars).
pub trait Progress {
    /// A new phase starts ("downloading", "unpacking").
    fn phase(&self, _message: &str) {}
    /// `done` of `total` units of the current phase.
    fn advance(&self, _done: u64, _total: u64) {}
}

/// A progress sink that shows nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// How an install ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Installed {
    pub dist: FlinkDist,
    /// False when it was there already.
    pub downloaded: bool,
}

/// Installs Flink `req` into `home` (no-op when a matching version is installed).
/// `pip_output` receives pip's own output (its progress bar); pass `Stdio::null()` to hide it.
pub fn install(home: &Home, req: &str, pip_output: Stdio, progress: &dyn Progress) -> Result<Installed> {
    let req = VersionReq::parse(req)?;
    if let Some(dist) = FlinkDist::list(home).into_iter().find(|d| req.matches(&d.version)) {
        return Ok(Installed { dist, downloaded: false });
    }
    let flink_dir = home.flink_dir();
    std::fs::create_dir_all(&flink_dir).map_err(Error::io("creating", &flink_dir))?;
    // Everything happens inside this directory; it is removed on every failure path (drop).
    let work = tempfile::Builder::new().prefix(".install-").tempdir_in(&flink_dir).map_err(Error::io("creating a temp dir in", &flink_dir))?;
    let dl = work.path().join("download");
    progress.phase(&format!("downloading Flink {req} from PyPI (apache-flink-libraries)"));
    let python = crate::java::which("python3").ok_or_else(|| Error::Download {
        version: req.to_string(),
        detail: "python3 with pip is needed to download from PyPI (Debian: `apt-get install python3-pip`)".into(),
    })?;
    let output = Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d"])
        .arg(&dl)
        .arg(req.pip_requirement())
        .stdout(pip_output)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::Download { version: req.to_string(), detail: format!("cannot run pip: {e}") })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail = if stderr.contains("No matching distribution") || stderr.contains("Could not find a version") {
            format!("PyPI has no release matching {} (see `pip index versions apache-flink-libraries`)", req.pip_requirement())
        } else {
            stderr.lines().filter(|l| l.starts_with("ERROR")).collect::<Vec<_>>().join("; ")
        };
        let detail = if detail.is_empty() { stderr.trim().to_string() } else { detail };
        return Err(Error::Download { version: req.to_string(), detail });
    }
    let archive = std::fs::read_dir(&dl)
        .map_err(Error::io("reading", &dl))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_file())
        .ok_or_else(|| Error::Download { version: req.to_string(), detail: "pip reported success but downloaded nothing".into() })?;
    let version = archive_version(&archive).ok_or_else(|| Error::CorruptArchive {
        version: req.to_string(),
        path: archive.clone(),
        detail: "unexpected file name".into(),
    })?;
    let dest = flink_dir.join(&version);
    let staged = work.path().join("dist");
    progress.phase(&format!("unpacking Flink {version}"));
    let corrupt = |detail: String| Error::CorruptArchive { version: version.clone(), path: archive.clone(), detail };
    unpack(&archive, &staged, progress).map_err(corrupt)?;
    let dist = FlinkDist::open(&staged).map_err(|e| corrupt(e.to_string()))?;
    if !dist.bash_java_utils_jar().is_file() {
        return Err(corrupt("no bin/bash-java-utils.jar".into()));
    }
    let marker = serde_json::json!({"version": version, "source": "pypi", "archive": archive.file_name().map(|n| n.to_string_lossy().to_string())});
    std::fs::write(staged.join(MARKER), marker.to_string()).map_err(Error::io("writing", staged.join(MARKER)))?;
    if dest.exists() {
        // A leftover without a flink-dist jar (FlinkDist::list skipped it): replace it.
        std::fs::remove_dir_all(&dest).map_err(Error::io("removing", &dest))?;
    }
    std::fs::rename(&staged, &dest).map_err(Error::io("moving into place", &dest))?;
    drop(work);
    Ok(Installed { dist: FlinkDist::open(&dest)?, downloaded: true })
}

/// `apache_flink_libraries-2.3.0-py2.py3-none-any.whl` / `apache-flink-libraries-1.20.3.tar.gz` → version.
fn archive_version(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("apache_flink_libraries-").or_else(|| name.strip_prefix("apache-flink-libraries-"))?;
    let v = rest.strip_suffix(".tar.gz").unwrap_or_else(|| rest.split('-').next().unwrap_or(rest));
    (v.split('.').count() == 3 && v.split('.').all(|p| p.chars().all(|c| c.is_ascii_digit()))).then(|| v.to_string())
}

/// Which part of an archive path lands where: `pyflink/lib/x.jar` or `pkg-1.20.3/deps/lib/x.jar`
/// → `lib/x.jar`; anything else (licenses, python files) is skipped.
fn dist_relative(path: &Path) -> Option<PathBuf> {
    let comps: Vec<&str> = path.components().map(|c| match c {
        Component::Normal(s) => s.to_str(),
        _ => None,
    }).collect::<Option<Vec<_>>>()?;
    let start = comps.iter().position(|c| *c == "pyflink" || *c == "deps")? + 1;
    let first = comps.get(start)?;
    if !["bin", "lib", "opt", "plugins"].contains(first) {
        return None;
    }
    Some(comps[start..].iter().collect())
}

fn unpack(archive: &Path, dest: &Path, progress: &dyn Progress) -> Result<(), String> {
    std::fs::create_dir_all(dest).map_err(|e| e.to_string())?;
    let name = archive.to_string_lossy();
    let total = std::fs::metadata(archive).map(|m| m.len()).unwrap_or(0);
    if name.ends_with(".whl") || name.ends_with(".zip") {
        let file = File::open(archive).map_err(|e| e.to_string())?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
        let mut done = 0u64;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
            let Some(name) = entry.enclosed_name() else { continue };
            done += entry.compressed_size();
            if entry.is_dir() {
                continue;
            }
            if let Some(rel) = dist_relative(&name) {
                write_entry(&mut entry, &dest.join(rel))?;
                progress.advance(done.min(total), total);
            }
        }
    } else if name.ends_with(".tar.gz") {
        let file = File::open(archive).map_err(|e| e.to_string())?;
        let counted = CountingReader { inner: file, count: 0, total, progress };
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(counted));
        for entry in tar.entries().map_err(|e| e.to_string())? {
            let mut entry = entry.map_err(|e| e.to_string())?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = entry.path().map_err(|e| e.to_string())?.to_path_buf();
            if let Some(rel) = dist_relative(&path) {
                write_entry(&mut entry, &dest.join(rel))?;
            }
        }
    } else {
        return Err(format!("unknown archive type {name}"));
    }
    progress.advance(total, total);
    Ok(())
}

fn write_entry(reader: &mut dyn Read, target: &Path) -> Result<(), String> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let mut out = File::create(target).map_err(|e| format!("{}: {e}", target.display()))?;
    std::io::copy(reader, &mut out).map_err(|e| format!("{}: {e}", target.display()))?;
    Ok(())
}

struct CountingReader<'a, R> {
    inner: R,
    count: u64,
    total: u64,
    progress: &'a dyn Progress,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if self.count % (4 << 20) < n as u64 {
            self.progress.advance(self.count, self.total);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_requests() {
        let r = VersionReq::parse("2.3").unwrap();
        assert_eq!(r.pip_requirement(), "apache-flink-libraries~=2.3.0");
        assert!(r.matches("2.3.0") && r.matches("2.3.7") && !r.matches("2.2.1"));
        let r = VersionReq::parse("1.20.3").unwrap();
        assert_eq!(r.pip_requirement(), "apache-flink-libraries==1.20.3");
        assert!(r.matches("1.20.3") && !r.matches("1.20.1"));
        for bad in ["1.17", "1.13.6", "3.0", "two", "2", "2.3.x", "", "2.3.0.1"] {
            let e = VersionReq::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad) || bad.is_empty(), "{e}");
        }
    }

    #[test]
    fn archive_names() {
        assert_eq!(archive_version(Path::new("/x/apache_flink_libraries-2.3.0-py2.py3-none-any.whl")).as_deref(), Some("2.3.0"));
        assert_eq!(archive_version(Path::new("apache-flink-libraries-1.20.3.tar.gz")).as_deref(), Some("1.20.3"));
        assert_eq!(archive_version(Path::new("other-1.0.whl")), None);
    }

    #[test]
    fn archive_layouts() {
        assert_eq!(dist_relative(Path::new("pyflink/lib/flink-dist-2.3.0.jar")), Some(PathBuf::from("lib/flink-dist-2.3.0.jar")));
        assert_eq!(dist_relative(Path::new("apache-flink-libraries-1.20.3/deps/plugins/metrics-prometheus/x.jar")), Some(PathBuf::from("plugins/metrics-prometheus/x.jar")));
        assert_eq!(dist_relative(Path::new("pyflink/licenses/LICENSE")), None);
        assert_eq!(dist_relative(Path::new("pyflink/version.py")), None);
        assert_eq!(dist_relative(Path::new("../pyflink/lib/evil.jar")), None);
    }

    #[test]
    fn corrupt_archives_are_errors_not_panics() {
        let d = tempfile::tempdir().unwrap();
        for name in ["apache_flink_libraries-2.3.0-py2.py3-none-any.whl", "apache-flink-libraries-1.20.3.tar.gz"] {
            let archive = d.path().join(name);
            std::fs::write(&archive, b"this is not an archive").unwrap();
            let err = unpack(&archive, &d.path().join("out"), &Quiet).unwrap_err();
            assert!(!err.is_empty(), "{name}");
        }
        // A valid zip without Flink's layout unpacks nothing, which `open` then rejects.
        let archive = d.path().join("apache_flink_libraries-9.9.9-py2.py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
        zip.start_file("pyflink/README.txt", zip::write::SimpleFileOptions::default()).unwrap();
        zip.finish().unwrap();
        let out = d.path().join("out2");
        unpack(&archive, &out, &Quiet).unwrap();
        assert!(FlinkDist::open(&out).is_err());
    }

    #[test]
    fn open_rejects_non_distributions() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(FlinkDist::open(d.path()), Err(Error::NotADistribution { .. })));
        std::fs::create_dir_all(d.path().join("lib")).unwrap();
        std::fs::write(d.path().join("lib/flink-dist-1.19.1.jar"), b"").unwrap();
        let dist = FlinkDist::open(d.path()).unwrap();
        assert_eq!(dist.version, "1.19.1");
        assert_eq!(dist.config_file_name(), "flink-conf.yaml");
        assert_eq!(dist.source, "external");
    }
}
