//! `flinkops job submit|list|status|savepoint|stop|cancel`: jobs on any session cluster over
//! Flink's REST API (default: the local cluster).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use flinkops_local::cluster::LocalCluster;
use flinkops_local::dist::FlinkDist;
use flinkops_local::java::Java;
use flinkops_local::submit::{Program, SubmitOptions};
use flinkops_rest::{FlinkClient, JobId};

use crate::output::{self, Exit, GlobalArgs, OutputFormat};

/// Which cluster to talk to.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// Flink REST URL of a session cluster. Default: the local cluster (`--cluster`).
    #[arg(long, env = "FLINKOPS_REST", value_name = "URL", global = true)]
    pub rest: Option<url::Url>,
    /// The local cluster to use when no --rest is given.
    #[arg(long, default_value = "default", global = true)]
    pub cluster: String,
}

#[derive(Debug, Subcommand)]
pub enum JobCmd {
    /// Submit a jar or a SQL script as a job; prints the job id.
    ///
    /// SQL scripts run through flinkops's SQL runner (compiled with javac against the
    /// cluster's Flink version on first use): `SET 'key' = 'value';` statements configure the
    /// job, the other statements run in order, and all INSERTs form one job.
    #[command(after_help = "Examples:\n  flinkops job submit --sql examples/sql/demo.sql\n  flinkops job submit --jar app.jar --class com.acme.Main --parallelism 4 -- --input s3://bucket/in\n  flinkops job submit --sql job.sql --from-savepoint file:///tmp/savepoints/savepoint-1a2b3c-0123")]
    Submit(SubmitArgs),
    /// List jobs.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Show a job: state, vertices, checkpoints and what it restored from.
    Status {
        /// The Flink job id (32 hex digits).
        id: String,
        #[command(flatten)]
        target: Target,
    },
    /// Trigger a savepoint and wait for it; prints its path.
    Savepoint {
        id: String,
        /// Where to write it (default: the cluster's `execution.checkpointing.savepoint-dir`).
        #[arg(long, value_name = "URI")]
        savepoint_dir: Option<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        #[command(flatten)]
        target: Target,
    },
    /// Stop a job with a savepoint and wait; prints the savepoint's path.
    Stop {
        id: String,
        #[arg(long, value_name = "URI")]
        savepoint_dir: Option<String>,
        /// Drain: advance event time to the end before stopping (emits final windows).
        #[arg(long)]
        drain: bool,
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        #[command(flatten)]
        target: Target,
    },
    /// Cancel a job without a savepoint (retained checkpoints stay).
    Cancel {
        id: String,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("program").required(true).args(["jar", "sql"])))]
pub struct SubmitArgs {
    /// The job's jar.
    #[arg(long, value_name = "FILE")]
    pub jar: Option<PathBuf>,
    /// Entry class (default: the jar manifest's Main-Class).
    #[arg(long = "class", value_name = "CLASS", requires = "jar")]
    pub entry_class: Option<String>,
    /// A SQL script to run as a job.
    #[arg(long, value_name = "FILE")]
    pub sql: Option<PathBuf>,
    #[arg(long, short = 'p')]
    pub parallelism: Option<u32>,
    /// Start from this savepoint (or retained checkpoint) path.
    #[arg(long, value_name = "URI")]
    pub from_savepoint: Option<String>,
    /// Skip savepoint state that maps to no operator of the new job.
    #[arg(long, requires = "from_savepoint")]
    pub allow_non_restored_state: bool,
    /// Flink to compile the SQL runner against (default: the cluster's version, installed if needed).
    #[arg(long, env = "FLINK_HOME", value_name = "DIR")]
    pub flink_home: Option<PathBuf>,
    #[command(flatten)]
    pub target: Target,
    /// Program arguments for the jar (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

pub fn run(cmd: JobCmd, g: &GlobalArgs) -> anyhow::Result<Exit> {
    crate::cmd::runtime()?.block_on(run_async(cmd, g))
}

/// The REST client for `target`, and the local cluster's Flink home when it is local.
pub(crate) fn client_for(g: &GlobalArgs, target: &Target) -> anyhow::Result<(FlinkClient, Option<PathBuf>)> {
    if let Some(url) = &target.rest {
        return Ok((FlinkClient::new(url.clone())?, None));
    }
    let home = crate::cmd::home(g)?;
    let cluster = LocalCluster::new(&home, &target.cluster);
    match cluster.state() {
        Some(state) if cluster.is_running() => {
            Ok((FlinkClient::new(url::Url::parse(&LocalCluster::rest_url(&state))?)?, Some(state.flink_home)))
        }
        _ => Err(output::input(anyhow::anyhow!(
            "no --rest URL given and the local cluster `{}` is not running: start it with `flinkops local up` or pass --rest http://HOST:PORT",
            target.cluster
        ))),
    }
}

fn job_id(s: &str) -> anyhow::Result<JobId> {
    s.parse::<JobId>().map_err(output::input)
}

/// REST errors: unknown ids and rejected requests are the user's input (2); the rest is a peer failure (3).
pub fn rest_error(e: flinkops_rest::Error) -> anyhow::Error {
    match e.status() {
        Some(400..=499) => output::input(e),
        _ => output::peer(e),
    }
}

/// Errors of a submission: when Flink rejects the program, show its root cause, not a stack dump.
pub fn submit_error(e: flinkops_local::Error) -> anyhow::Error {
    match e {
        flinkops_local::Error::Rest(rest) if rest.status().is_some() => {
            let cause = rest.root_cause().unwrap_or_else(|| rest.to_string());
            output::input(anyhow::anyhow!("Flink rejected the job: {cause}"))
        }
        other => crate::cmd::local_error(other),
    }
}

async fn run_async(cmd: JobCmd, g: &GlobalArgs) -> anyhow::Result<Exit> {
    match cmd {
        JobCmd::Submit(args) => submit(args, g).await,
        JobCmd::List { target } => {
            let (client, _) = client_for(g, &target)?;
            let jobs = client.jobs_overview().await.map_err(rest_error)?.jobs;
            match g.output {
                OutputFormat::Json => output::print_json(&jobs)?,
                OutputFormat::Table if jobs.is_empty() => println!("No jobs."),
                OutputFormat::Table => println!("{}", jobs_table(&jobs)),
            }
            Ok(Exit::Success)
        }
        JobCmd::Status { id, target } => {
            let (client, _) = client_for(g, &target)?;
            let id = job_id(&id)?;
            let job = client.job(&id).await.map_err(rest_error)?;
            let checkpoints = client.checkpoints(&id).await.ok();
            match g.output {
                OutputFormat::Json => output::print_json(&serde_json::json!({"job": job, "checkpoints": checkpoints}))?,
                OutputFormat::Table => {
                    println!("{} `{}`: {}", job.jid, job.name, job.state);
                    let mut t = output::table(&["VERTEX", "PARALLELISM", "STATUS"]);
                    for v in &job.vertices {
                        t.add_row(vec![v.name.clone(), v.parallelism.to_string(), v.status.to_string()]);
                    }
                    println!("{t}");
                    if let Some(c) = &checkpoints {
                        println!("Checkpoints: {} completed, {} failed, {} in progress", c.counts.completed, c.counts.failed, c.counts.in_progress);
                        if let Some(done) = c.latest.completed.as_ref() {
                            println!("  latest completed: #{} at {}", done.id, done.external_path.as_deref().unwrap_or("-"));
                        }
                        if let Some(r) = c.latest.restored.as_ref() {
                            println!("  restored from: {} ({})", r.external_path.as_deref().unwrap_or("-"), if r.is_savepoint { "savepoint" } else { "checkpoint" });
                        }
                    }
                }
            }
            Ok(Exit::Success)
        }
        JobCmd::Savepoint { id, savepoint_dir, timeout, target } => {
            let (client, _) = client_for(g, &target)?;
            let id = job_id(&id)?;
            let bar = output::Bar::spinner(g, &format!("savepoint of {id}"));
            let path = client.savepoint(&id, savepoint_dir.as_deref(), Duration::from_secs(timeout)).await;
            bar.finish();
            print_path(g, &id, path.map_err(rest_error)?.as_str(), "savepoint")
        }
        JobCmd::Stop { id, savepoint_dir, drain, timeout, target } => {
            let (client, _) = client_for(g, &target)?;
            let id = job_id(&id)?;
            let bar = output::Bar::spinner(g, &format!("stopping {id} with a savepoint"));
            let path = client.stop_with_savepoint(&id, savepoint_dir.as_deref(), drain, Duration::from_secs(timeout)).await;
            bar.finish();
            print_path(g, &id, path.map_err(rest_error)?.as_str(), "stopped")
        }
        JobCmd::Cancel { id, target } => {
            let (client, _) = client_for(g, &target)?;
            let id = job_id(&id)?;
            client.cancel(&id).await.map_err(rest_error)?;
            match g.output {
                OutputFormat::Json => output::print_json(&serde_json::json!({"job_id": id.to_string(), "cancelled": true}))?,
                OutputFormat::Table => println!("Cancelled {id}."),
            }
            Ok(Exit::Success)
        }
    }
}

fn print_path(g: &GlobalArgs, id: &JobId, path: &str, what: &str) -> anyhow::Result<Exit> {
    match g.output {
        OutputFormat::Json => output::print_json(&serde_json::json!({"job_id": id.to_string(), "savepoint_path": path, "action": what}))?,
        OutputFormat::Table => println!("{path}"),
    }
    Ok(Exit::Success)
}

async fn submit(args: SubmitArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let (client, local_flink_home) = client_for(g, &args.target)?;
    let home = crate::cmd::home(g)?;
    let opts = SubmitOptions { parallelism: args.parallelism, from_savepoint: args.from_savepoint.clone(), allow_non_restored_state: args.allow_non_restored_state, ..Default::default() };
    let (program, dist, java) = if let Some(sql) = &args.sql {
        let script = std::fs::read_to_string(sql).map_err(|e| output::input(anyhow::anyhow!("cannot read {}: {e}", sql.display())))?;
        let java = Java::find().map_err(crate::cmd::local_error)?;
        let dist = match args.flink_home.as_ref().or(local_flink_home.as_ref()) {
            Some(p) => FlinkDist::open(p).map_err(crate::cmd::local_error)?,
            None => {
                let version = client.overview().await.map_err(rest_error)?.flink_version;
                crate::cmd::flink::install(&home, &version, g)?.dist
            }
        };
        (Program::Sql { script, parallelism_by_name: Default::default() }, Some(dist), Some(java))
    } else {
        let jar = args.jar.as_deref().ok_or_else(|| output::input(anyhow::anyhow!("pass --jar FILE or --sql FILE")))?;
        if !jar.is_file() {
            return Err(output::input(anyhow::anyhow!("the jar {} does not exist", jar.display())));
        }
        (Program::Jar { path: jar, entry_class: args.entry_class.clone(), args: args.args.clone() }, None, None)
    };
    let bar = output::Bar::spinner(g, "submitting");
    let id = flinkops_local::submit::submit(&client, &home, dist.as_ref(), java.as_ref(), program, &opts).await;
    bar.finish();
    let id = id.map_err(submit_error)?;
    match g.output {
        OutputFormat::Json => output::print_json(&serde_json::json!({"job_id": id.to_string()}))?,
        OutputFormat::Table => println!("{id}"),
    }
    Ok(Exit::Success)
}

/// A table of jobs for people.
pub fn jobs_table(jobs: &[flinkops_rest::JobOverview]) -> comfy_table::Table {
    let mut t = output::table(&["JOB ID", "NAME", "STATE", "STARTED", "DURATION"]);
    for j in jobs {
        t.add_row(vec![
            j.jid.to_string(),
            j.name.clone(),
            j.state.to_string(),
            format_time(j.start_time),
            format_duration(j.duration),
        ]);
    }
    t
}

fn format_time(ms: i64) -> String {
    if ms <= 0 {
        return "-".into();
    }
    let secs = ms / 1000;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let days = secs / 86_400;
    // civil date from days since epoch (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}Z")
}

fn format_duration(ms: i64) -> String {
    if ms < 0 {
        return "-".into();
    }
    let s = ms / 1000;
    if s >= 3600 { format!("{}h{:02}m", s / 3600, (s / 60) % 60) } else if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{s}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(format_time(0), "-");
        assert_eq!(format_time(1_795_461_981_000), "2026-11-23 19:26:21Z");
        assert_eq!(format_duration(59_999), "59s");
        assert_eq!(format_duration(61_000), "1m01s");
        assert_eq!(format_duration(3_725_000), "1h02m");
    }
}
