//! The crate's one error type, [`Error`], and helpers to turn Flink's Java stack traces into the
//! one line a human needs ([`root_cause`]).
//!
//! Every variant says whether retrying the same request could succeed ([`Error::is_retryable`])
//! and has a stable short name for metric labels ([`Error::kind`]).

use std::time::Duration;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a Flink REST endpoint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The base URL cannot be used for REST calls (for example `mailto:` or `data:` URLs).
    #[error("invalid Flink REST base URL {url}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// The HTTP client could not be built (TLS setup and the like).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),

    /// Connection refused, DNS failure, TLS failure, or no answer within the per-call timeout.
    #[error("cannot reach Flink REST at {url}: {}", source_chain(source))]
    Unreachable {
        /// The URL that was called.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// Flink answered with a non-success HTTP status. `errors` is Flink's `{"errors": […]}` list
    /// (or the raw body when it was not that shape); use [`Error::root_cause`] for one line.
    #[error("Flink REST {status} from {url}: {}", summary(errors))]
    Http {
        /// The URL that was called.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// Flink's error messages; for failed submissions these are Java stack traces.
        errors: Vec<String>,
    },

    /// Flink said 404 for something this client named: an unknown job id, savepoint trigger id,
    /// checkpoint id or jar id.
    #[error("{what} not found (404 from {url})")]
    NotFound {
        /// What was not found, e.g. `job 0123…`.
        what: String,
        /// The URL that was called.
        url: String,
        /// Flink's error messages.
        errors: Vec<String>,
    },

    /// The response body does not match the expected shape. `path` is the JSON path of the
    /// first value that failed to decode (e.g. `vertices[0].parallelism`).
    #[error("cannot decode the response of {url} at `{path}`: {source}")]
    Decode {
        /// The URL that was called.
        url: String,
        /// JSON path of the offending value (`.` when the document itself is wrong).
        path: String,
        /// The decode error.
        #[source]
        source: serde_json::Error,
    },

    /// A request body could not be encoded (should not happen with this crate's types).
    #[error("cannot encode the request body for {url}: {source}")]
    Encode {
        /// The URL that was called.
        url: String,
        /// The encode error.
        #[source]
        source: serde_json::Error,
    },

    /// A deadline passed while waiting for an asynchronous operation.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// What was being waited for, e.g. `savepoint of job 0123…`.
        what: String,
        /// How long was waited.
        after: Duration,
    },

    /// An asynchronous operation (savepoint, stop-with-savepoint) completed with a failure.
    #[error("{what} failed: {cause}")]
    OperationFailed {
        /// The operation, e.g. `savepoint of job 0123…`.
        what: String,
        /// The root cause line of Flink's failure (see [`root_cause`]).
        cause: String,
        /// Flink's full stack trace, when it sent one.
        stack_trace: Option<String>,
    },

    /// Flink answered successfully but the answer lacks something this client needs.
    #[error("unexpected response from {url}: {reason}")]
    UnexpectedResponse {
        /// The URL that was called.
        url: String,
        /// What is missing or wrong.
        reason: String,
    },

    /// A local file (a jar to upload) could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A string is not a valid identifier of the given kind.
    #[error("invalid {kind} `{value}`: {reason}")]
    InvalidId {
        /// Which identifier (`job id`, `trigger id`, …).
        kind: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
}

impl Error {
    /// Whether the same request could succeed if repeated: transport failures and
    /// 429/502/503/504 answers are retryable; everything else is not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Unreachable { .. } => true,
            Error::Http { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// A short stable name of the variant, for metric labels and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidBaseUrl { .. } => "invalid_base_url",
            Error::Client(_) => "client",
            Error::Unreachable { .. } => "unreachable",
            Error::Http { .. } => "http",
            Error::NotFound { .. } => "not_found",
            Error::Decode { .. } => "decode",
            Error::Encode { .. } => "encode",
            Error::Timeout { .. } => "timeout",
            Error::OperationFailed { .. } => "operation_failed",
            Error::UnexpectedResponse { .. } => "unexpected_response",
            Error::Io { .. } => "io",
            Error::InvalidId { .. } => "invalid_id",
        }
    }

    /// The HTTP status, for [`Error::Http`] and [`Error::NotFound`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            Error::NotFound { .. } => Some(404),
            _ => None,
        }
    }

    /// Whether this is a 404 from Flink.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Flink's error messages, for [`Error::Http`] and [`Error::NotFound`].
    pub fn flink_errors(&self) -> &[String] {
        match self {
            Error::Http { errors, .. } | Error::NotFound { errors, .. } => errors,
            _ => &[],
        }
    }

    /// One human-readable line naming the root cause: for Flink answers, the message of the
    /// last top-level `Caused by:` of the Java stack trace in the error list; for failed
    /// operations, the recorded cause; otherwise `None`.
    pub fn root_cause(&self) -> Option<String> {
        match self {
            Error::Http { errors, .. } | Error::NotFound { errors, .. } => {
                root_cause_of_errors(errors)
            }
            Error::OperationFailed { cause, .. } => Some(cause.clone()),
            _ => None,
        }
    }

    /// Turns a 404 [`Error::Http`] into [`Error::NotFound`] naming `what`; other errors pass.
    pub(crate) fn not_found_as(self, what: impl FnOnce() -> String) -> Error {
        match self {
            Error::Http {
                url,
                status: 404,
                errors,
            } => Error::NotFound {
                what: what(),
                url,
                errors,
            },
            other => other,
        }
    }
}

/// The root cause line of one Java stack trace (or any text): the message of the last
/// top-level `Caused by:` (indented ones belong to suppressed exceptions and are skipped),
/// else the first line. Multi-line exception messages are joined with a space. `None` for
/// blank text.
pub fn root_cause(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().rposition(|l| l.starts_with("Caused by: "));
    let (first, rest_from) = match start {
        Some(i) => (lines[i].trim_start_matches("Caused by: "), i + 1),
        None => {
            let i = lines.iter().position(|l| {
                !l.trim().is_empty() && !l.starts_with("<Exception on server side:")
            })?;
            (lines[i], i + 1)
        }
    };
    let first = first.trim_start_matches('<').trim_end_matches('>');
    let mut out = first.trim().to_owned();
    // Continuation lines of a multi-line message run until the first frame (`\tat …`).
    for l in lines.iter().skip(rest_from) {
        let t = l.trim_start();
        if t.starts_with("at ")
            || t.starts_with("... ")
            || t.starts_with("Caused by:")
            || t.is_empty()
        {
            break;
        }
        out.push(' ');
        out.push_str(t.trim_end_matches('>'));
    }
    if out.is_empty() { None } else { Some(out) }
}

/// The root cause of Flink's `errors` list: the last entry that carries a stack trace wins
/// (Flink sends e.g. `["Internal server error.", "<Exception on server side: …>"]`).
pub fn root_cause_of_errors(errors: &[String]) -> Option<String> {
    let with_trace = errors
        .iter()
        .rev()
        .find(|e| e.contains("\n\tat ") || e.contains("Caused by: "));
    match with_trace {
        Some(e) => root_cause(e),
        None => errors.iter().rev().find_map(|e| root_cause(e)),
    }
}

/// First line of the most useful error message, for `Display`.
fn summary(errors: &[String]) -> String {
    let first = root_cause_of_errors(errors).unwrap_or_else(|| "(no error message)".to_owned());
    const MAX: usize = 500;
    if first.len() > MAX {
        let mut end = MAX;
        while !first.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &first[..end])
    } else {
        first
    }
}

/// `err: cause: cause…` for a transport error, so the message names the real cause.
fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn root_cause_takes_last_top_level_caused_by() {
        let trace = "a.B: outer\n\tat x.y(Z.java:1)\nCaused by: c.D: middle\n\tat q\n\tSuppressed: e.F: sup\n\t\tCaused by: g.H: nested suppressed\nCaused by: i.J: the root\n  continues here\n\tat r\n\t... 5 more";
        assert_eq!(
            root_cause(trace).as_deref(),
            Some("i.J: the root continues here")
        );
    }

    #[test]
    fn root_cause_without_caused_by_is_first_line() {
        assert_eq!(
            root_cause("\njava.lang.X: boom\n\tat a").as_deref(),
            Some("java.lang.X: boom")
        );
        assert_eq!(
            root_cause("Job not found."),
            Some("Job not found.".to_owned())
        );
        assert_eq!(root_cause("  \n"), None);
    }

    #[test]
    fn root_cause_of_recorded_failing_jar_run() {
        for v in fixtures::versions() {
            let body = fixtures::load(&v, "error_jar_run_failed");
            let errors: Vec<String> = serde_json::from_str::<crate::client::ErrorBody>(&body)
                .expect("error body decodes")
                .errors;
            let cause = root_cause_of_errors(&errors).expect("a root cause");
            assert!(cause.contains("no_such_table"), "{v}: {cause}");
            assert!(!cause.contains("\tat "), "{v}: {cause}");
        }
    }

    #[test]
    fn root_cause_of_recorded_internal_error() {
        for v in fixtures::versions() {
            let body = fixtures::load(&v, "error_jar_not_found");
            let errors = serde_json::from_str::<crate::client::ErrorBody>(&body)
                .expect("decodes")
                .errors;
            let cause = root_cause_of_errors(&errors).expect("a root cause");
            assert!(cause.contains("no-such-jar.jar"), "{v}: {cause}");
        }
    }

    #[test]
    fn retryable_and_kinds() {
        let http = |status| Error::Http {
            url: "u".into(),
            status,
            errors: vec![],
        };
        assert!(http(503).is_retryable());
        assert!(http(429).is_retryable());
        assert!(!http(500).is_retryable());
        assert!(!http(404).is_retryable());
        assert_eq!(
            http(404).not_found_as(|| "job x".into()).kind(),
            "not_found"
        );
        assert!(
            !Error::Timeout {
                what: "x".into(),
                after: Duration::from_secs(1)
            }
            .is_retryable()
        );
    }

    #[test]
    fn display_is_one_line_with_root_cause() {
        let e = Error::Http {
            url: "http://h/jars/x/run".into(),
            status: 400,
            errors: vec!["a.B: outer\n\tat c\nCaused by: d.E: inner\n\tat f".into()],
        };
        assert_eq!(
            e.to_string(),
            "Flink REST 400 from http://h/jars/x/run: d.E: inner"
        );
    }
}
