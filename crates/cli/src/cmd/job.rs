//! `flinkops job …`.

use crate::output::{Exit, GlobalArgs};

#[derive(Debug, clap::Subcommand)]
pub enum JobCmd {
    /// Placeholder.
    List,
}

pub fn run(_cmd: JobCmd, _g: &GlobalArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
