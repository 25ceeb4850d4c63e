//! Typed async client for Apache Flink's REST API (Flink 1.18 – 2.x).
//!
//! Hand-written serde types for the endpoints flinkops uses, checked against bodies recorded
//! from real Flink clusters of every supported version (`tests/fixtures/<version>/`, recorded by
//! `scripts/record-rest-fixtures.sh`). Unknown fields are ignored, fields that differ between
//! versions are `Option`s, and state enums keep unknown values (`Unknown(String)`), so a newer
//! Flink does not break decoding.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flinkops_rest::Error> {
//! use std::time::Duration;
//! use flinkops_rest::{FlinkClient, RunJarRequest};
//! let flink = FlinkClient::new("http://127.0.0.1:8081".parse().expect("url"))?;
//! let jar = flink.upload_jar(std::path::Path::new("job.jar")).await?;
//! let job = flink.run_jar(&jar, &RunJarRequest { parallelism: Some(2), ..Default::default() }).await?;
//! let sp = flink.stop_with_savepoint(&job, Some("file:///savepoints"), false, Duration::from_secs(300)).await?;
//! println!("stopped with {sp}");
//! # Ok(()) }
//! ```
//!
//! Modules: [`client`] (transport, timeouts, retries, auth), [`error`], [`ids`], [`enums`], and
//! one module per endpoint group holding its types and `FlinkClient` methods.

pub mod checkpoints;
pub mod client;
pub mod cluster;
pub mod enums;
pub mod error;
pub mod ids;
pub mod jars;
pub mod jobs;
pub mod metrics;
pub mod resources;
pub mod retry;
pub mod savepoints;
mod serde_util;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod transport_tests;

pub use checkpoints::{
    CheckpointConfig, CheckpointCounts, CheckpointStatistics, CheckpointSummary,
    CheckpointingStatistics, Externalization, LatestCheckpoints, MinMaxAvg, RestoredCheckpoint,
    TaskCheckpointStatistics,
};
pub use client::{Auth, DEFAULT_SUBMIT_TIMEOUT, DEFAULT_TIMEOUT, FlinkClient, FlinkClientBuilder};
pub use cluster::{
    ClusterOverview, ConfigEntry, DashboardConfig, DashboardFeatures, GarbageCollector, Hardware,
    ResourceProfile, TaskManagerDetails, TaskManagerInfo, TaskManagerMemoryConfiguration,
    TaskManagerMetrics, TaskManagers,
};
pub use enums::{
    CheckpointStatus, ExecutionState, JobState, OperationStatus, RecoveryClaimMode, SavepointFormat,
};
pub use error::{Error, Result, root_cause, root_cause_of_errors};
pub use ids::{JarId, JobId, TaskManagerId, TriggerId, VertexId};
pub use jars::{JarEntry, JarFile, JarList, JarRunResponse, JarUploadResponse, RunJarRequest};
pub use jobs::{
    ExceptionEntry, ExceptionHistory, JobDetails, JobExceptions, JobOverview, JobPlan, JobVertex,
    JobsOverview, PlanInput, PlanNode, VertexIoMetrics,
};
pub use metrics::{AggregatedMetric, Aggregation, MetricValue};
pub use resources::{ParallelismBounds, ResourceRequirements, VertexResourceRequirements};
pub use retry::RetryPolicy;
pub use savepoints::{
    FailureCause, QueueStatus, SavepointOperation, SavepointOutcome, SavepointPath,
    SavepointRequest, SavepointStatus, StopRequest, TriggerResponse,
};
