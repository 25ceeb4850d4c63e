//! `flinkops memory tm|jm`: Flink's exact memory model. (Owned by the config-intelligence work.)

use crate::output::{Exit, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct MemoryArgs {
    /// `tm` (TaskManager) or `jm` (JobManager).
    pub process: String,
}

pub fn run(_args: MemoryArgs, _g: &GlobalArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
