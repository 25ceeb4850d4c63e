//! The flinkops platform spec (`flinkops.yaml`): types, strict reading with positions,
//! validation, and pure rendering of every artifact an environment needs — Kubernetes objects
//! for the Flink Kubernetes Operator, Helm values, Prometheus scrape configs and alert rules,
//! Alertmanager routing, Grafana dashboards. Nothing here talks to a network; [`output`] is the
//! one thin shell that writes a rendered bundle atomically.

pub mod diag;
pub mod output;
pub mod plan;
pub mod read;
pub mod render;
pub mod rules;
pub mod schema;
pub mod types;

pub use diag::{Diagnostic, Level, SourceMap};
pub use read::{Parsed, parse};
pub use types::Spec;
