//! The crate's one error type. Messages say what went wrong, where, and how to fix it.

use std::path::PathBuf;

/// Everything that can go wrong while installing Flink or running a local cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no Java runtime found: {hint}")]
    JavaMissing { hint: String },
    #[error("Java {found} at {path} is too old: Flink needs Java 11 or newer (17 recommended); {hint}")]
    JavaTooOld { found: u32, path: PathBuf, hint: String },
    #[error("no Java compiler (javac) found next to {java}: the SQL runner is compiled on first use; install a JDK (e.g. `apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME to one")]
    JdkMissing { java: PathBuf },
    #[error("`{version}` is not a Flink version flinkops can install: {why}")]
    BadVersion { version: String, why: String },
    #[error("Flink {version} could not be downloaded from PyPI (apache-flink-libraries): {detail}")]
    Download { version: String, detail: String },
    #[error("the downloaded Flink {version} archive {path} is corrupt or unexpected: {detail}; it was removed, run the install again")]
    CorruptArchive { version: String, path: PathBuf, detail: String },
    #[error("{path} is not a Flink distribution: {detail} (expected the official layout: lib/flink-dist-*.jar, bin/, plugins/)")]
    NotADistribution { path: PathBuf, detail: String },
    #[error("Flink {version} is not installed; run `flinkops flink install {version}`")]
    NotInstalled { version: String },
    #[error("port {port} on 127.0.0.1 is already in use by {owner}; choose another with --rest-port or stop that process")]
    PortInUse { port: u16, owner: String },
    #[error("the local cluster `{name}` is not running; start it with `flinkops local up`")]
    NotRunning { name: String },
    #[error("the {role} process exited during start-up: {reason}\n  see {log}")]
    ProcessDied { role: String, reason: String, log: PathBuf },
    #[error("timed out after {secs} s waiting for {what}; see the logs under {logs}")]
    StartTimeout { what: String, secs: u64, logs: PathBuf },
    #[error("Flink's memory model rejects the configuration: {0}")]
    Memory(String),
    #[error("compiling the SQL runner failed:\n{0}")]
    Compile(String),
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, #[source] source: std::io::Error },
    #[error("Flink REST: {0}")]
    Rest(#[from] flinkops_rest::Error),
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }

    /// True when the cause is the user's input (a bad version, a port they chose), not a peer.
    pub fn is_input(&self) -> bool {
        matches!(self, Error::BadVersion { .. } | Error::PortInUse { .. } | Error::NotADistribution { .. } | Error::NotInstalled { .. } | Error::NotRunning { .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
