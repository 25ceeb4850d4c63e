//! The tuning advisor's pure core (no I/O): recommendations derived from a workload and a
//! profile, and the diagnosis of a running job from plain metric samples.
//!
//! - [`workload`]: what the job does and runs on (YAML/JSON or flags).
//! - [`profile`]: the four starting profiles (the seed guide's presets, corrected).
//! - [`seed`]: the seed's presets verbatim, and what Flink makes of their keys.
//! - [`recommend()`]: a config overlay with the reason for every key.
//! - [`check`]: the overlay as Flink sees it (catalog, lint, memory model).
//! - [`diagnose()`]: bottleneck, backpressure, checkpoints, state, GC, slots and skew of a
//!   running job, each with evidence and an overlay.

pub mod check;
pub mod diagnose;
mod error;
pub mod profile;
pub mod recommend;
pub mod render;
pub mod seed;
pub mod workload;

pub use diagnose::{Diagnosis, Snapshot, diagnose};
pub use error::TuneError;
pub use profile::Profile;
pub use recommend::{Reason, Recommendation, recommend};
pub use workload::Workload;
