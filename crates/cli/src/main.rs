//! The `flinkops` binary: parses the command line, turns it into a plan and runs it.
//!
//! Exit codes (stable, for scripts): 0 success; 1 the command ran and found problems
//! (lint errors, failed checks); 2 bad input or usage (unreadable file, bad flag);
//! 3 a peer failed (Flink unreachable, process did not start, download failed).

mod cmd;
mod output;

use clap::{CommandFactory, Parser, Subcommand};

/// flinkops — the brain around Apache Flink: deploy, tune, monitor, recover and automate.
///
/// Start with `flinkops local up --demo`: it installs Flink (from PyPI), starts a real
/// local session cluster and runs a checkpointed streaming SQL job on it.
#[derive(Debug, Parser)]
#[command(name = "flinkops", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: output::GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install and list Flink distributions.
    #[command(subcommand)]
    Flink(cmd::flink::FlinkCmd),
    /// Run a real local Flink session cluster (the embedded default).
    #[command(subcommand)]
    Local(cmd::local::LocalCmd),
    /// Submit, inspect, savepoint, stop and cancel Flink jobs over the REST API.
    #[command(subcommand)]
    Job(cmd::job::JobCmd),
    /// Lint, explain, migrate and diff Flink configurations against Flink's real option catalog.
    #[command(subcommand)]
    Config(cmd::config::ConfigCmd),
    /// Compute Flink's TaskManager / JobManager memory model exactly as Flink does.
    Memory(cmd::memory::MemoryArgs),
    /// The platform spec (`flinkops.yaml`): print its JSON Schema.
    #[command(subcommand)]
    Spec(cmd::spec::SpecCmd),
    /// Check a platform spec and every Flink configuration it implies.
    Validate(cmd::spec::ValidateArgs),
    /// Render one environment of a platform spec: manifests, Helm values, rules, dashboards.
    Render(cmd::spec::RenderArgs),
    /// Server-side apply one environment's Kubernetes objects (diff first; --dry-run).
    Apply(cmd::apply::ApplyArgs),
    /// Explain and apply DS2 autoscaling decisions for a running job; run the simulator suite.
    #[command(subcommand)]
    Autoscaler(cmd::autoscaler::AutoscalerCmd),
    /// Run the control plane: keep every job of a spec deployed, upgraded, savepointed and recovered.
    Serve(cmd::serve::ServeArgs),
    /// Show every environment and job of a running serve.
    Status(cmd::serve::StatusArgs),
    /// Deploy a job's current spec through serve (an unchanged spec does nothing).
    Deploy(cmd::serve::LifecycleArgs),
    /// Upgrade a job to its changed spec through serve: savepoint, new version, rollback if it fails.
    Upgrade(cmd::serve::LifecycleArgs),
    /// Go back to the version that ran before, through a savepoint.
    Rollback(cmd::serve::LifecycleArgs),
    /// Stop a job with a savepoint and keep it stopped.
    Suspend(cmd::serve::LifecycleArgs),
    /// Start a suspended job from its savepoint (also re-enables stopped recoveries).
    Resume(cmd::serve::LifecycleArgs),
    /// Take a savepoint of a job now.
    Savepoint(cmd::serve::LifecycleArgs),
    /// Restart a job from a checkpoint or savepoint of its catalog.
    Restore(cmd::serve::RestoreArgs),
    /// Sample a Flink job and evaluate the built-in health rules on it (exit 1 if one holds).
    Health(cmd::health::HealthArgs),
    /// Recommend a Flink configuration for a workload: every key explained, linted, memory-checked.
    Tune(Box<cmd::tune::TuneArgs>),
    /// Find what slows a running job down (bottleneck, backpressure, checkpoints, GC, skew).
    Diagnose(cmd::tune::DiagnoseArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to generate completions for.
        shell: clap_complete::Shell,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    output::init_tracing(&cli.global);
    let global = cli.global.clone();
    let result = match cli.command {
        Command::Flink(c) => cmd::flink::run(c, &global),
        Command::Local(c) => cmd::local::run(c, &global),
        Command::Job(c) => cmd::job::run(c, &global),
        Command::Config(c) => cmd::config::run(c, &global),
        Command::Memory(c) => cmd::memory::run(c, &global),
        Command::Spec(c) => cmd::spec::run(c, &global),
        Command::Validate(c) => cmd::spec::validate(c, &global),
        Command::Render(c) => cmd::spec::render(c, &global),
        Command::Apply(c) => cmd::apply::apply(c, &global),
        Command::Autoscaler(c) => cmd::autoscaler::run(c, &global),
        Command::Serve(c) => cmd::serve::serve(c, &global),
        Command::Status(c) => cmd::serve::status(c, &global),
        Command::Deploy(c) => cmd::serve::lifecycle("deploy", c, &global),
        Command::Upgrade(c) => cmd::serve::lifecycle("upgrade", c, &global),
        Command::Rollback(c) => cmd::serve::lifecycle("rollback", c, &global),
        Command::Suspend(c) => cmd::serve::lifecycle("suspend", c, &global),
        Command::Resume(c) => cmd::serve::lifecycle("resume", c, &global),
        Command::Savepoint(c) => cmd::serve::lifecycle("savepoint", c, &global),
        Command::Restore(c) => cmd::serve::restore(c, &global),
        Command::Health(c) => cmd::health::run(c, &global),
        Command::Tune(c) => cmd::tune::tune(*c, &global),
        Command::Diagnose(c) => cmd::tune::diagnose_cmd(c, &global),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "flinkops", &mut std::io::stdout());
            Ok(output::Exit::Success)
        }
    };
    output::finish(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
