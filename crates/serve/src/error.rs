//! serve's error type: every variant maps to an HTTP status for the API and to a metric label.

/// Everything serve can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input from a person: a spec with errors, an unknown job, a bad request body.
    #[error("{0}")]
    Input(String),
    /// No such job or environment.
    #[error("{0}")]
    NotFound(String),
    /// Another action on the job is pending.
    #[error("{0}")]
    Conflict(String),
    /// Missing or wrong bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// Flink's REST API failed or did not answer.
    #[error(transparent)]
    Flink(#[from] flinkops_rest::Error),
    /// The store failed.
    #[error(transparent)]
    Store(flinkops_control::Error),
    /// Starting, stopping or submitting to a local cluster failed.
    #[error(transparent)]
    Local(#[from] flinkops_local::Error),
    /// Stored data that no longer reads.
    #[error("{0}")]
    Corrupt(String),
}

impl From<flinkops_control::Error> for Error {
    fn from(e: flinkops_control::Error) -> Error {
        match e {
            flinkops_control::Error::Conflict { .. } => Error::Conflict(e.to_string()),
            flinkops_control::Error::NotFound { .. } => Error::NotFound(e.to_string()),
            other => Error::Store(other),
        }
    }
}

impl Error {
    /// A short stable label (`flinkops_reconcile_errors_total{kind=…}`).
    pub fn label(&self) -> &'static str {
        match self {
            Error::Input(_) => "input",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::Unauthorized(_) => "unauthorized",
            Error::Flink(_) => "flink",
            Error::Store(_) => "store",
            Error::Local(_) => "local",
            Error::Corrupt(_) => "corrupt",
        }
    }

    /// The HTTP status of this error in the API.
    pub fn status(&self) -> u16 {
        match self {
            Error::Input(_) => 400,
            Error::Unauthorized(_) => 401,
            Error::NotFound(_) => 404,
            Error::Conflict(_) => 409,
            Error::Flink(_) => 502,
            Error::Store(_) | Error::Local(_) | Error::Corrupt(_) => 500,
        }
    }
}

/// serve's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
