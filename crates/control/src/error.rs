//! The crate's one error type. Variants map to metric labels through [`Error::label`]; messages
//! say what went wrong and what to do about it.

use std::path::PathBuf;

/// Everything the control plane's core can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store URL is neither a SQLite path nor `postgres://…`.
    #[error("`{url}` is not a store flinkops can use: {why} (expected a directory for SQLite, or postgres://user@host:port/db)")]
    BadStoreUrl { url: String, why: String },
    /// The database could not be reached when opening the store.
    #[error("cannot connect to the store {url}: {cause} (is the database running and reachable from here? check the URL given to --store)")]
    Unreachable {
        /// Password redacted.
        url: String,
        /// In the message (not a `source`, so error chains do not print it twice).
        cause: sqlx::Error,
    },
    /// The database answered with an error or could not be reached.
    #[error("the store ({backend}) failed while {action}: {source}")]
    Store {
        backend: &'static str,
        action: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// Another destructive action on the same job is still pending.
    #[error("job `{job}` already has a pending {kind} action (intent #{id}); wait for it to finish or resolve it first")]
    Conflict { job: String, kind: String, id: i64 },
    /// A row that must exist does not.
    #[error("{what} not found")]
    NotFound { what: String },
    /// A stored value no longer decodes (a newer flinkops wrote it, or it was edited by hand).
    #[error("the stored {what} is unreadable: {detail}")]
    Corrupt { what: String, detail: String },
    /// The store's schema is newer than this flinkops knows.
    #[error("the store's schema is at version {found}, newer than this flinkops knows ({known}); upgrade flinkops")]
    SchemaTooNew { found: i64, known: i64 },
    /// A file-system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A savepoint or checkpoint location that flinkops cannot act on.
    #[error("cannot {action} `{location}`: {why}")]
    Location { action: &'static str, location: String, why: String },
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }

    /// A short, stable label for metrics (`flinkops_errors_total{kind=…}`).
    pub fn label(&self) -> &'static str {
        match self {
            Error::BadStoreUrl { .. } => "bad_store_url",
            Error::Store { .. } | Error::Unreachable { .. } => "store",
            Error::Conflict { .. } => "conflict",
            Error::NotFound { .. } => "not_found",
            Error::Corrupt { .. } => "corrupt",
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::Io { .. } => "io",
            Error::Location { .. } => "location",
        }
    }

    /// True when retrying later may succeed (the database or the file system had a hiccup);
    /// false for errors that need a person (bad URL, conflicts, corrupt rows).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Store { .. } | Error::Unreachable { .. } | Error::Io { .. })
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_and_retryability_is_split() {
        let conflict = Error::Conflict { job: "j".into(), kind: "upgrade".into(), id: 3 };
        let io = Error::Io { action: "reading", path: "/x".into(), source: std::io::Error::other("boom") };
        assert_eq!(conflict.label(), "conflict");
        assert_eq!(io.label(), "io");
        assert!(!conflict.is_retryable());
        assert!(io.is_retryable());
        assert!(conflict.to_string().contains("intent #3"), "{conflict}");
    }
}
