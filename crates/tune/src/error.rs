//! The crate's one error type.

/// Why the advisor could not answer.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// A workload file that does not parse or holds a bad value.
    #[error("{file}: {message}")]
    Workload { file: String, message: String },
    /// A workload field with a bad value.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A Flink version flinkops has no catalog for.
    #[error(transparent)]
    Catalog(#[from] flinkops_config::catalog::CatalogError),
    /// The recommended configuration has no valid memory model (the TaskManager is too small
    /// for what the workload needs).
    #[error("no valid TaskManager memory layout for this workload: {0}")]
    Memory(String),
}
