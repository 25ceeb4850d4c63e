//! One module per top-level command. Each turns parsed arguments into a plan and runs it
//! against the libraries under `crates/`.

pub mod apply;
pub mod autoscaler;
pub mod config;
pub mod flink;
pub mod health;
pub mod job;
pub mod local;
pub mod memory;
pub mod serve;
pub mod spec;
pub mod tune;

use crate::output::GlobalArgs;

/// The resolved flinkops home.
pub fn home(g: &GlobalArgs) -> anyhow::Result<flinkops_local::home::Home> {
    flinkops_local::home::Home::resolve(g.home.as_deref()).map_err(local_error)
}

/// Maps a local-crate error to its exit code: bad input → 2, everything else → 3.
pub fn local_error(e: flinkops_local::Error) -> anyhow::Error {
    if e.is_input() { crate::output::input(e) } else { crate::output::peer(e) }
}

/// A tokio runtime for commands that talk to Flink.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

/// Parses `key=value` (for `-D`).
pub fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}
