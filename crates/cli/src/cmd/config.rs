//! `flinkops config …`: lint, explain, migrate, diff. (Owned by the config-intelligence work.)

use crate::output::{Exit, GlobalArgs};

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCmd {
    /// Lint Flink configuration files against the real option catalog of a Flink version.
    Lint {
        /// Files to lint.
        files: Vec<std::path::PathBuf>,
    },
}

pub fn run(_cmd: ConfigCmd, _g: &GlobalArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
