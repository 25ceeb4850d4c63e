//! `flinkops local up|status|logs|down`: the embedded default — a real local Flink session
//! cluster that flinkops installs, starts and watches.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use flinkops_local::cluster::{ClusterOptions, LocalCluster, Role};
use flinkops_local::dist::FlinkDist;
use flinkops_local::java::Java;

use crate::output::{self, Exit, GlobalArgs, OutputFormat};

/// The demo job: datagen → keyed aggregation → sink, checkpointing every 5 s.
pub const DEMO_SQL: &str = include_str!("../../../../examples/sql/demo.sql");
pub const DEMO_JOB_NAME: &str = "flinkops-demo";

#[derive(Debug, Subcommand)]
pub enum LocalCmd {
    /// Start a local Flink session cluster (installs Flink first if needed).
    ///
    /// Starts one JobManager and N TaskManagers as background processes from a generated
    /// config (adaptive scheduler, Prometheus reporter, checkpoints and savepoints in the
    /// cluster's directory, retained checkpoints) and returns when every TaskManager has
    /// registered. Running it again on a running cluster does nothing.
    #[command(after_help = "Examples:\n  flinkops local up --demo                 # cluster + a checkpointed streaming SQL job\n  flinkops local up --taskmanagers 2 --slots 2 --rest-port 8082 --name second\n  flinkops local up -D state.backend.type=rocksdb")]
    Up(UpArgs),
    /// Show the cluster's processes, REST health, TaskManagers, slots and jobs.
    Status {
        #[arg(long, default_value = "default")]
        name: String,
    },
    /// Print a process's log: `jm` (default) or `tm [N]`.
    Logs {
        /// `jm`, or `tm` followed by the TaskManager's number (default 1).
        #[arg(default_value = "jm")]
        process: String,
        index: Option<u32>,
        /// Keep printing new lines as they are written.
        #[arg(long, short = 'f')]
        follow: bool,
        /// Print the process's stdout/stderr (`.out`) instead of its Flink log.
        #[arg(long)]
        stdout: bool,
        #[arg(long, default_value = "default")]
        name: String,
    },
    /// Stop the cluster: SIGTERM, then SIGKILL after the timeout.
    Down {
        #[arg(long, default_value = "default")]
        name: String,
        /// Seconds to wait for a graceful stop before killing.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
}

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Flink version (MAJOR.MINOR or MAJOR.MINOR.PATCH); installed from PyPI if missing.
    #[arg(long, default_value = flinkops_local::dist::DEFAULT_VERSION)]
    pub flink_version: String,
    /// Use an existing Flink (official tarball layout) instead of an installed one.
    #[arg(long, env = "FLINK_HOME", value_name = "DIR")]
    pub flink_home: Option<PathBuf>,
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=32))]
    pub taskmanagers: u32,
    /// Task slots per TaskManager.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub slots: u32,
    /// REST and Web UI port (bound to 127.0.0.1).
    #[arg(long, default_value_t = 8081)]
    pub rest_port: u16,
    /// `taskmanager.memory.process.size`.
    #[arg(long, default_value = "1728m")]
    pub taskmanager_memory: String,
    /// `jobmanager.memory.process.size`.
    #[arg(long, default_value = "1024m")]
    pub jobmanager_memory: String,
    /// Extra Flink settings, applied last (repeatable).
    #[arg(short = 'D', value_name = "KEY=VALUE", value_parser = crate::cmd::parse_kv)]
    pub dynamic: Vec<(String, String)>,
    /// The cluster's name (its directory under $FLINKOPS_HOME/clusters).
    #[arg(long, default_value = "default")]
    pub name: String,
    /// Also run the demo streaming SQL job (unless it already runs).
    #[arg(long)]
    pub demo: bool,
    /// Seconds to wait for every TaskManager to register.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

pub fn run(cmd: LocalCmd, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let home = crate::cmd::home(g)?;
    let rt = crate::cmd::runtime()?;
    match cmd {
        LocalCmd::Up(args) => rt.block_on(up(&home, args, g)),
        LocalCmd::Status { name } => rt.block_on(status(&home, &name, g)),
        LocalCmd::Logs { process, index, follow, stdout, name } => logs(&home, &name, &process, index, follow, stdout),
        LocalCmd::Down { name, timeout } => {
            let cluster = LocalCluster::new(&home, &name);
            let stopped = cluster.down(Duration::from_secs(timeout)).map_err(crate::cmd::local_error)?;
            match g.output {
                OutputFormat::Json => output::print_json(&serde_json::json!({"name": name, "stopped": stopped}))?,
                OutputFormat::Table if stopped.is_empty() => println!("Local cluster `{name}` was not running."),
                OutputFormat::Table => {
                    let names: Vec<String> = stopped.iter().map(|r| r.to_string()).collect();
                    println!("Stopped local cluster `{name}`: {}.", names.join(", "))
                }
            }
            Ok(Exit::Success)
        }
    }
}

async fn up(home: &flinkops_local::home::Home, args: UpArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let java = Java::find().map_err(crate::cmd::local_error)?;
    let dist = match &args.flink_home {
        Some(p) => FlinkDist::open(p).map_err(crate::cmd::local_error)?,
        None => crate::cmd::flink::install(home, &args.flink_version, g)?.dist,
    };
    let opts = ClusterOptions {
        name: args.name.clone(),
        taskmanagers: args.taskmanagers,
        slots: args.slots,
        rest_port: args.rest_port,
        jobmanager_memory: args.jobmanager_memory.clone(),
        taskmanager_memory: args.taskmanager_memory.clone(),
        extra: args.dynamic.iter().cloned().collect(),
        start_timeout: Duration::from_secs(args.timeout),
    };
    let cluster = LocalCluster::new(home, &args.name);
    let bar = output::Bar::spinner(g, &format!("starting Flink {} ({} TaskManager(s))", dist.version, opts.taskmanagers));
    let report = cluster.up(&dist, &java, &opts).await;
    bar.finish();
    let report = report.map_err(crate::cmd::local_error)?;
    let mut demo_job = None;
    if args.demo {
        demo_job = Some(ensure_demo(home, &report.rest_url, &dist, &java, g).await?);
    }
    match g.output {
        OutputFormat::Json => output::print_json(&serde_json::json!({"cluster": report, "demo_job": demo_job}))?,
        OutputFormat::Table => {
            if report.already_running {
                println!("Local cluster `{}` is already running (Flink {}).", report.name, report.flink_version);
            } else {
                println!(
                    "Local cluster `{}` is up: Flink {}, {} TaskManager(s), {} slots, ready in {:.1} s.",
                    report.name, report.flink_version, report.taskmanagers, report.slots_total, report.elapsed_ms as f64 / 1000.0
                );
            }
            println!("  REST API:  {}", report.rest_url);
            println!("  Web UI:    {}/#/overview", report.rest_url);
            println!("  Directory: {}", report.dir.display());
            if let Some(job) = &demo_job {
                println!("Demo job `{DEMO_JOB_NAME}` {} as {}: datagen -> per-customer totals -> sink, checkpoint every 5 s.", if job.1 { "submitted" } else { "is running" }, job.0);
                println!("  Watch it:  {}/#/job/running/{}/overview", report.rest_url, job.0);
                println!("  Checkpoints: {}", cluster.checkpoint_dir().join(&job.0).display());
            }
            println!("Next: `flinkops local status`, `flinkops job list`, `flinkops local down`.");
        }
    }
    Ok(Exit::Success)
}

/// Submits the demo job unless a job with its name is running; returns (job id, newly submitted).
async fn ensure_demo(home: &flinkops_local::home::Home, rest_url: &str, dist: &FlinkDist, java: &Java, g: &GlobalArgs) -> anyhow::Result<(String, bool)> {
    let client = flinkops_rest::FlinkClient::new(url::Url::parse(rest_url)?)?;
    let jobs = client.jobs_overview().await.map_err(crate::output::peer)?.jobs;
    if let Some(j) = jobs.iter().find(|j| j.name == DEMO_JOB_NAME && !j.state.is_globally_terminal()) {
        return Ok((j.jid.to_string(), false));
    }
    let bar = output::Bar::spinner(g, "compiling the SQL runner and submitting the demo job");
    let program = flinkops_local::submit::Program::Sql { script: DEMO_SQL.to_string(), parallelism_by_name: Default::default() };
    let r = flinkops_local::submit::submit(&client, home, Some(dist), Some(java), program, &Default::default()).await;
    bar.finish();
    let id = r.map_err(crate::cmd::job::submit_error)?;
    Ok((id.to_string(), true))
}

async fn status(home: &flinkops_local::home::Home, name: &str, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let cluster = LocalCluster::new(home, name);
    let Some(state) = cluster.state() else {
        return Err(crate::cmd::local_error(flinkops_local::Error::NotRunning { name: name.to_string() }));
    };
    let procs = cluster.processes();
    let rest_url = LocalCluster::rest_url(&state);
    let client = flinkops_rest::FlinkClient::new(url::Url::parse(&rest_url)?)?;
    let overview = client.overview().await;
    let jobs = client.jobs_overview().await.map(|j| j.jobs).unwrap_or_default();
    let healthy = overview.is_ok() && procs.iter().all(|p| p.alive);
    match g.output {
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "name": name,
            "flink_version": state.flink_version,
            "rest_url": rest_url,
            "healthy": healthy,
            "processes": procs,
            "overview": overview.as_ref().ok(),
            "rest_error": overview.as_ref().err().map(|e| e.to_string()),
            "jobs": jobs,
        }))?,
        OutputFormat::Table => {
            println!("Local cluster `{name}`: Flink {} at {rest_url} — {}", state.flink_version, if healthy { "healthy" } else { "NOT healthy" });
            let mut t = output::table(&["PROCESS", "PID", "STATE", "LOG"]);
            for p in &procs {
                t.add_row(vec![
                    p.role.to_string(),
                    p.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                    if p.alive { "running".into() } else { "stopped".into() },
                    p.log.display().to_string(),
                ]);
            }
            println!("{t}");
            match &overview {
                Ok(o) => println!("REST: ok — {} TaskManager(s), {}/{} slots free, {} job(s) running", o.taskmanagers, o.slots_available, o.slots_total, o.jobs_running),
                Err(e) => println!("REST: {e}"),
            }
            if !jobs.is_empty() {
                println!("{}", crate::cmd::job::jobs_table(&jobs));
            }
        }
    }
    Ok(if healthy { Exit::Success } else { Exit::Findings })
}

fn logs(home: &flinkops_local::home::Home, name: &str, process: &str, index: Option<u32>, follow: bool, stdout: bool) -> anyhow::Result<Exit> {
    let role = match process {
        "jm" | "jobmanager" => Role::JobManager,
        "tm" | "taskmanager" => Role::TaskManager(index.unwrap_or(1)),
        other => return Err(output::input(anyhow::anyhow!("unknown process `{other}`: use `jm` or `tm [N]`"))),
    };
    let cluster = LocalCluster::new(home, name);
    let path = if stdout { cluster.out_path(role) } else { cluster.log_path(role) };
    let mut file = std::fs::File::open(&path).map_err(|e| output::input(anyhow::anyhow!("no log for the {role} of `{name}` at {}: {e}", path.display())))?;
    use std::io::{Read, Write};
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n > 0 {
            out.write_all(&buf[..n])?;
            continue;
        }
        if !follow {
            break;
        }
        out.flush()?;
        std::thread::sleep(Duration::from_millis(250));
    }
    Ok(Exit::Success)
}
