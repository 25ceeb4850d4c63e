//! `flinkops local …`.

use crate::output::{Exit, GlobalArgs};

#[derive(Debug, clap::Subcommand)]
pub enum LocalCmd {
    /// Placeholder.
    List,
}

pub fn run(_cmd: LocalCmd, _g: &GlobalArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
