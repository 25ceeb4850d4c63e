//! `flinkops flink …`.

use crate::output::{Exit, GlobalArgs};

#[derive(Debug, clap::Subcommand)]
pub enum FlinkCmd {
    /// Placeholder.
    List,
}

pub fn run(_cmd: FlinkCmd, _g: &GlobalArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
