//! One module per top-level command. Each turns parsed arguments into a plan and runs it
//! against the libraries under `crates/`.

pub mod config;
pub mod flink;
pub mod job;
pub mod local;
pub mod memory;
