//! Global flags, output formats, tracing set-up and exit-code discipline shared by all commands.

use clap::{Args, ValueEnum};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Tables and sentences for people.
    #[default]
    Table,
    /// One JSON document on stdout, for scripts.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format: `table` for people, `json` for scripts.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table, env = "FLINKOPS_OUTPUT")]
    pub output: OutputFormat,
    /// More log output (-v info, -vv debug, -vvv trace). Logs go to stderr.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// flinkops's home: Flink distributions, local clusters, caches. Default: the user's data dir.
    #[arg(long, global = true, env = "FLINKOPS_HOME", value_name = "DIR")]
    pub home: Option<std::path::PathBuf>,
}

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything as asked.
    Success,
    /// The command ran and found problems (e.g. lint errors).
    Findings,
}

/// Exit code for bad input or usage (clap uses 2 for usage errors too).
pub const EXIT_INPUT: u8 = 2;
/// Exit code for a failing peer: Flink, Java, the package index, a process.
pub const EXIT_PEER: u8 = 3;

/// An error that knows its exit code. Wrap with [`input`] or [`peer`]; anything unwrapped
/// counts as a peer failure.
#[derive(Debug)]
pub struct Coded {
    pub code: u8,
    pub error: anyhow::Error,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Coded {}

/// Marks an error as bad input (exit 2).
pub fn input(error: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(Coded { code: EXIT_INPUT, error: error.into() })
}

/// Marks an error as a failing peer (exit 3).
#[allow(dead_code)]
pub fn peer(error: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(Coded { code: EXIT_PEER, error: error.into() })
}

/// Prints an error (with its causes) and maps the outcome to the process exit code.
pub fn finish(result: anyhow::Result<Exit>) -> std::process::ExitCode {
    match result {
        Ok(Exit::Success) => std::process::ExitCode::SUCCESS,
        Ok(Exit::Findings) => std::process::ExitCode::from(1),
        Err(err) => {
            let code = err.chain().find_map(|e| e.downcast_ref::<Coded>().map(|c| c.code)).unwrap_or(EXIT_PEER);
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(code)
        }
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A table in the project's one style.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    // kubectl-style: no borders, upper-case headers, columns separated by spaces.
    t.load_style(comfy_table::presets::NOTHING);
    t.set_header(header.iter().copied());
    t
}

pub fn init_tracing(g: &GlobalArgs) {
    let level = match g.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLINKOPS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

impl GlobalArgs {
    /// True when progress output should be suppressed (JSON output, or stderr is not a terminal).
    pub fn quiet_progress(&self) -> bool {
        use std::io::IsTerminal;
        self.output == OutputFormat::Json || !std::io::stderr().is_terminal()
    }
}

/// A progress bar on stderr for long work; hidden for JSON output and when stderr is not a terminal.
pub struct Bar {
    bar: indicatif::ProgressBar,
}

impl Bar {
    pub fn new(g: &GlobalArgs) -> Bar {
        let bar = if g.quiet_progress() { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {wide_bar} {bytes}/{total_bytes}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Bar { bar }
    }

    /// A spinner with a message, for work without a known size.
    pub fn spinner(g: &GlobalArgs, msg: &str) -> Bar {
        let bar = if g.quiet_progress() { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new_spinner() };
        bar.set_message(msg.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl flinkops_local::dist::Progress for Bar {
    fn phase(&self, message: &str) {
        self.bar.set_position(0);
        self.bar.set_length(0);
        self.bar.set_message(message.to_string());
        if !self.bar.is_hidden() {
            // pip draws its own bar for the download; keep ours a line of its own.
            self.bar.println(message);
        }
    }

    fn advance(&self, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
    }
}
