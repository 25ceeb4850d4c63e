//! flinkops-autoscale: the DS2-model scaling core for Apache Flink jobs and a deterministic
//! simulator to measure it.
//!
//! * [`model`]: the input — job graph, metric samples as Flink's REST API reports them, settings.
//! * [`decide()`]: the pure decision (no I/O, no clock): true processing rates, target rates
//!   propagated from the sources, new parallelism per vertex, stabilization, scale-down delay,
//!   ineffective-scale-up blocking. Every [`Decision`] carries its whole computation.
//! * [`align`]: key-group alignment of a keyed vertex's parallelism.
//! * [`sim`]: a discrete-time simulator of a Flink-like job graph (rates, busy and backpressured
//!   time, backlog, restarts) and a scenario suite comparing the DS2 core with a CPU-threshold
//!   policy.
//!
//! ```
//! use flinkops_autoscale::{decide, model::*, State};
//! let graph = JobGraph {
//!     vertices: vec![
//!         Vertex { id: "src".into(), name: "Source".into(), parallelism: 1, max_parallelism: 128 },
//!         Vertex { id: "agg".into(), name: "GroupAggregate".into(), parallelism: 1, max_parallelism: 128 },
//!     ],
//!     edges: vec![Edge { from: "src".into(), to: "agg".into(), keyed: true }],
//! };
//! let sample = |at_ms| MetricSample { at_ms, vertices: [
//!     ("src".to_string(), VertexSample { busy_ms_per_s: Some(100.0), backpressured_ms_per_s: Some(500.0),
//!         records_in_per_s: Some(0.0), records_out_per_s: Some(1000.0), pending_records: None, declared_rate_per_s: None }),
//!     ("agg".to_string(), VertexSample { busy_ms_per_s: Some(1000.0), backpressured_ms_per_s: Some(0.0),
//!         records_in_per_s: Some(1000.0), records_out_per_s: Some(0.0), pending_records: None, declared_rate_per_s: None }),
//! ].into() };
//! let samples = vec![sample(0), sample(30_000)];
//! let settings = Settings { scale_down_delay_ms: 0, ..Settings::default() };
//! let (d, _) = decide(&graph, &samples, &settings, &State::default(), 30_000).unwrap();
//! // demand 1000 / (1 − 0.5) = 2000/s; 2000 / (1000/s × 0.7) = 2.86 → 3 → aligned to 4 (divides 128)
//! assert_eq!(d.vertex("agg").unwrap().new_parallelism, 4);
//! ```

pub mod align;
pub mod decide;
pub mod model;
pub mod sim;

pub use decide::{Action, Decision, DemandBasis, ScaleUpRecord, SourceDemand, State, Status, VertexDecision, VertexState, decide, retain_history};
pub use model::{Edge, JobGraph, MetricSample, Settings, Vertex, VertexSample};

/// Errors of the scaling core: bad input, never I/O.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The job graph is malformed.
    #[error("invalid job graph: {0}")]
    InvalidGraph(String),
    /// Settings out of range (all problems listed).
    #[error("invalid autoscaler settings: {}", .0.join("; "))]
    InvalidSettings(Vec<String>),
}
