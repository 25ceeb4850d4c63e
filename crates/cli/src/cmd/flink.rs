//! `flinkops flink install|list`: Flink distributions from PyPI (`apache-flink-libraries`).

use std::process::Stdio;

use clap::Subcommand;
use flinkops_local::dist::{self, FlinkDist};

use crate::output::{self, Exit, GlobalArgs, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum FlinkCmd {
    /// Install a Flink version's jars from PyPI into $FLINKOPS_HOME/flink/VERSION.
    ///
    /// Uses `python3 -m pip download`, so your pip configuration (index mirror, proxy,
    /// certificates) applies. 2.x versions are ~330 MB. Installing a version that is already
    /// there does nothing.
    #[command(after_help = "Examples:\n  flinkops flink install          # Flink 2.3.0\n  flinkops flink install 1.20     # the latest 1.20.x\n  flinkops flink install 2.2.1")]
    Install {
        /// MAJOR.MINOR (latest patch) or MAJOR.MINOR.PATCH; 1.18 or newer.
        #[arg(default_value = dist::DEFAULT_VERSION, value_name = "VERSION")]
        flink_version: String,
    },
    /// List installed Flink distributions.
    List,
}

pub fn run(cmd: FlinkCmd, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let home = crate::cmd::home(g)?;
    match cmd {
        FlinkCmd::Install { flink_version } => {
            let installed = install(&home, &flink_version, g)?;
            match g.output {
                OutputFormat::Json => output::print_json(&installed)?,
                OutputFormat::Table => {
                    let verb = if installed.downloaded { "installed" } else { "already installed" };
                    println!("Flink {} {verb} at {}", installed.dist.version, installed.dist.path.display());
                }
            }
        }
        FlinkCmd::List => {
            let dists = FlinkDist::list(&home);
            match g.output {
                OutputFormat::Json => output::print_json(&dists)?,
                OutputFormat::Table if dists.is_empty() => {
                    println!("No Flink installed under {}. Install one with `flinkops flink install`.", home.flink_dir().display())
                }
                OutputFormat::Table => {
                    let mut t = output::table(&["VERSION", "SOURCE", "PATH"]);
                    for d in &dists {
                        t.add_row(vec![d.version.clone(), d.source.clone(), d.path.display().to_string()]);
                    }
                    println!("{t}");
                }
            }
        }
    }
    Ok(Exit::Success)
}

/// Installs `version` with progress on stderr (pip's own download bar, then an unpack bar).
pub fn install(home: &flinkops_local::home::Home, version: &str, g: &GlobalArgs) -> anyhow::Result<dist::Installed> {
    let progress = crate::output::Bar::new(g);
    let pip_out = if g.quiet_progress() { Stdio::null() } else { Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?) };
    let r = dist::install(home, version, pip_out, &progress);
    progress.finish();
    r.map_err(crate::cmd::local_error)
}

use std::os::fd::AsFd;
