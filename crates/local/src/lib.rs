//! Flink distributions and the supervised local Flink session cluster — the embedded default.
//!
//! - [`home`]: flinkops's home directory and its layout.
//! - [`java`]: finding a Java runtime (and a JDK for the SQL runner).
//! - [`dist`]: installing Flink from PyPI (`apache-flink-libraries`) or using an existing Flink.
//! - [`cluster`]: starting, watching and stopping a local session cluster (one JobManager, N
//!   TaskManagers) as background processes, with the building blocks the supervisor reuses.
//! - [`process`]: pid files, liveness, graceful stop, who owns a port.
//! - [`sql_runner`]: the small Java job that runs SQL scripts, compiled on first use.

pub mod cluster;
pub mod dist;
pub mod home;
pub mod java;
pub mod process;
pub mod sql_runner;
pub mod submit;

mod error;
pub use error::{Error, Result};
