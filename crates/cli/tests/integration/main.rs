//! The one integration-test binary: runs the real `flinkops` binary against real peers (local
//! Flink clusters, Java, PyPI through `flinkops flink install`).
//!
//! Flink comes from `$FLINKOPS_HOME` (scripts/test.sh installs the versions into
//! target/test-home). Tests that only need a running cluster share one (see
//! [`support::shared_cluster`]); tests that break a cluster start their own.

mod support;

mod catalog;
mod cli_basics;
mod local_cluster;
mod memory;
mod config_cli;
mod render;
mod control;
mod autoscale;
mod serve;
mod dashboard;
mod health;
mod kubernetes;
mod tune;
