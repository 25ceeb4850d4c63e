//! `flinkops autoscaler explain|simulate`: the DS2 scaling core (`flinkops-autoscale`) against a
//! running job — sample its vertex metrics over a window through the REST API, decide, print the
//! numbers behind every vertex's parallelism and, with `--apply`, rescale it in place through the
//! adaptive scheduler (`PUT /jobs/:id/resource-requirements`) — and the simulator's scenario suite.
//!
//! Applying sets, for each changed vertex, `lowerBound = 1, upperBound = new parallelism`: the
//! adaptive scheduler then runs the vertex with as many subtasks as it gets slots for, up to the
//! new parallelism, and never stalls the job waiting for slots (a lower bound equal to the upper
//! bound would keep the job from running until every slot is there). The command waits until
//! the job runs with the new parallelism and reports when slots were short.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use flinkops_autoscale::model::Settings;
use flinkops_autoscale::{Action, Decision, State, Status, decide};
use flinkops_rest::{ExecutionState, FlinkClient, JobId, JobState, VertexId, VertexResourceRequirements};
use flinkops_serve::autoscale::{job_graph, sample};

use crate::cmd::job::{Target, rest_error};
use crate::output::{self, Exit, GlobalArgs, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum AutoscalerCmd {
    /// Sample a running job's metrics, decide each vertex's parallelism (DS2) and explain it —
    /// or, with --env, show the latest decisions of `flinkops serve`'s autoscaler.
    ///
    /// One-shot: no history, so no stabilization, scale-down delay or ineffective-scale-up memory
    /// (serve's loop keeps those). `--apply` rescales in place (adaptive scheduler).
    #[command(
        after_help = "Examples:\n  flinkops autoscaler explain 3f1c…e2 --window 30 --sql job.sql\n  flinkops autoscaler explain 3f1c…e2 --apply -o json\n  flinkops autoscaler explain autoscaling-demo --env local --spec examples/autoscaling/flinkops.yaml   # serve's decisions"
    )]
    Explain(ExplainArgs),
    /// Run the simulator's scenario suite: DS2 beside a CPU-threshold policy (80 %), and DS2 when
    /// datagen-like sources do not declare their rate.
    ///
    /// Reports per policy the share of scenarios converged in one decision per load phase, the
    /// most rescales any scenario needed, oscillations, and over-/under-provisioning against
    /// the minimal backpressure-free parallelism.
    Simulate {
        /// Number of random scenarios.
        #[arg(long, default_value_t = 200)]
        scenarios: usize,
        /// Seed of the scenario generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The Flink job id (32 hex digits).
    pub job: String,
    /// Seconds of metrics to sample before deciding.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub window: u64,
    /// Seconds between samples.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub interval: u64,
    /// Busy share each subtask should run at after scaling.
    #[arg(long, default_value_t = 0.7)]
    pub target_utilization: f64,
    /// Lowest parallelism of any vertex.
    #[arg(long = "min", default_value_t = 1)]
    pub min_parallelism: u32,
    /// Highest parallelism of any vertex (also bounded by each vertex's max parallelism).
    #[arg(long = "max", default_value_t = 128)]
    pub max_parallelism: u32,
    /// Apply the decision in place and wait until the job runs with it.
    #[arg(long)]
    pub apply: bool,
    /// Seconds to wait for the rescaled job.
    #[arg(long, default_value_t = 180, value_name = "SECS")]
    pub wait: u64,
    /// The SQL script the job runs: the rates its `datagen` tables declare
    /// (`'rows-per-second'`) are the sources' demand, instead of a guess from backpressure.
    #[arg(long, value_name = "FILE")]
    pub sql: Option<std::path::PathBuf>,
    /// Ask `flinkops serve` instead: JOB is the job's name in the spec, and the latest decisions
    /// of serve's autoscaler are shown (nothing is sampled or applied).
    #[arg(long, short = 'e', value_name = "ENV")]
    pub env: Option<String>,
    /// How many of serve's decisions to show (with --env), newest first.
    #[arg(long, default_value_t = 1)]
    pub last: usize,
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub server: crate::cmd::serve::ServerArgs,
}

pub fn run(cmd: AutoscalerCmd, g: &GlobalArgs) -> anyhow::Result<Exit> {
    match cmd {
        AutoscalerCmd::Simulate { scenarios, seed } => {
            let report = flinkops_autoscale::sim::suite::run_suite(scenarios, seed);
            match g.output {
                OutputFormat::Json => {
                    // the per-scenario outcomes are long: summaries only
                    let summary = |p: &flinkops_autoscale::sim::suite::PolicyReport| {
                        let mut v = serde_json::to_value(p).unwrap_or_default();
                        if let Some(o) = v.as_object_mut() {
                            o.remove("outcomes");
                        }
                        v
                    };
                    output::print_json(&serde_json::json!({
                        "seed": seed,
                        "scenarios": scenarios,
                        "policies": report.policies.iter().map(summary).collect::<Vec<_>>(),
                        "ds2_rate_unseen": summary(&report.ds2_rate_unseen),
                    }))?;
                }
                OutputFormat::Table => print!("{}", report.table()),
            }
            Ok(Exit::Success)
        }
        AutoscalerCmd::Explain(args) => crate::cmd::runtime()?.block_on(explain(args, g)),
    }
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

async fn explain(args: ExplainArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    if let Some(env) = &args.env {
        return from_serve(&args, env, g).await;
    }
    let settings = Settings {
        target_utilization: args.target_utilization,
        scale_up_threshold: Settings::default().scale_up_threshold.max(args.target_utilization),
        scale_down_threshold: Settings::default().scale_down_threshold.min(args.target_utilization),
        min_parallelism: args.min_parallelism,
        max_parallelism: args.max_parallelism,
        window_ms: args.window.saturating_mul(1000).max(1),
        min_window_ms: args.window.saturating_mul(1000).max(1) / 2,
        // one-shot: no history to stabilize against or delay scale-downs with
        stabilization_ms: 0,
        scale_down_delay_ms: 0,
        load_change_tolerance: 0.0,
        ..Settings::default()
    };
    settings.validate().map_err(output::input)?;
    if args.interval == 0 {
        return Err(output::input(anyhow::anyhow!("--interval must be at least 1 second")));
    }
    let (client, _) = crate::cmd::job::client_for(g, &args.target)?;
    let id: JobId = args.job.parse().map_err(output::input)?;
    let job = client.job(&id).await.map_err(rest_error)?;
    if job.state != JobState::Running {
        return Err(output::input(anyhow::anyhow!("job {id} is {}, not RUNNING", job.state)));
    }
    let graph = job_graph(&job);
    let declared = match &args.sql {
        Some(f) => flinkops_serve::autoscale::declared_datagen_rates(&std::fs::read_to_string(f).map_err(|e| output::input(anyhow::anyhow!("cannot read {}: {e}", f.display())))?),
        None => BTreeMap::new(),
    };

    let bar = output::Bar::spinner(g, &format!("sampling metrics of {id} for {} s", args.window));
    let started = Instant::now();
    let mut samples = Vec::new();
    loop {
        samples.push(sample(&client, &id, &graph, &declared, epoch_ms()).await.map_err(rest_error)?);
        if started.elapsed() >= Duration::from_secs(args.window) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(args.interval)).await;
    }
    bar.finish();
    let now = samples.last().map(|s| s.at_ms).unwrap_or_else(epoch_ms);
    let (decision, _) = decide(&graph, &samples, &settings, &State::default(), now).map_err(output::input)?;
    let decided_ms = started.elapsed().as_millis() as u64;

    let applied = if args.apply && decision.status == Status::Rescale { Some(apply(&client, &id, &decision, Duration::from_secs(args.wait)).await?) } else { None };
    match g.output {
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "job_id": id.to_string(),
            "sampled_ms": decided_ms,
            "decision": decision,
            "applied": applied,
        }))?,
        OutputFormat::Table => {
            println!("{}", decision_table(&decision));
            println!("{}", decision.explanation);
            for v in &decision.vertices {
                println!("  {}: {}", v.name, v.reason);
            }
            if let Some(a) = &applied {
                println!(
                    "Applied in {:.1} s: {}{}",
                    a.elapsed_ms as f64 / 1000.0,
                    a.running.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", "),
                    a.warning.as_deref().map(|w| format!(" ({w})")).unwrap_or_default()
                );
            }
        }
    }
    Ok(Exit::Success)
}

/// `explain JOB --env E`: serve's latest decisions for the job, from its API.
async fn from_serve(args: &ExplainArgs, env: &str, g: &GlobalArgs) -> anyhow::Result<Exit> {
    if args.apply {
        return Err(output::input(anyhow::anyhow!("--apply does not go with --env: serve applies its own decisions")));
    }
    let body = crate::cmd::serve::get_json(&args.server, &format!("/api/v1/jobs/{env}/{}", args.job), g).await?;
    let scalings = body["scalings"].as_array().cloned().unwrap_or_default();
    let has_numbers = |s: &serde_json::Value| s["decision"]["vertices"].as_array().is_some_and(|v| !v.is_empty());
    let mut shown: Vec<serde_json::Value> = scalings.iter().take(args.last.max(1)).cloned().collect();
    // While it stabilizes or collects, the newest decision has no numbers: add the newest one
    // that has them.
    if !shown.iter().any(has_numbers)
        && let Some(last) = scalings.iter().find(|s| has_numbers(s))
    {
        shown.push(last.clone());
    }
    if g.output == OutputFormat::Json {
        output::print_json(&serde_json::json!({"job": format!("{env}/{}", args.job), "decisions": shown}))?;
        return Ok(Exit::Success);
    }
    if shown.is_empty() {
        println!(
            "{env}/{}: serve's autoscaler has made no decision yet (is `autoscaler` in the job's spec? It decides once a window of metrics is collected after the stabilization period)",
            args.job
        );
        return Ok(Exit::Success);
    }
    for s in &shown {
        let d: Decision = serde_json::from_value(s["decision"].clone()).map_err(|e| output::peer(anyhow::anyhow!("serve's decision does not read: {e}")))?;
        let at = s["at"].as_i64().unwrap_or(0);
        let ago = (epoch_ms() - at).max(0) / 1000;
        println!("{env}/{} {ago} s ago ({}): {}", args.job, if s["applied"].as_bool() == Some(true) { "applied" } else { "not applied" }, s["summary"].as_str().unwrap_or(""));
        println!("{}", decision_table(&d));
        println!("{}", d.explanation);
        for v in &d.vertices {
            println!("  {}: {}", v.name, v.reason);
        }
    }
    Ok(Exit::Success)
}

/// What `--apply` did.
#[derive(Debug, serde::Serialize)]
pub struct Applied {
    /// Requested parallelism per vertex id.
    pub requested: BTreeMap<String, u32>,
    /// Parallelism the job runs with afterwards, per vertex name.
    pub running: BTreeMap<String, u32>,
    /// From the request to the job running with the new parallelism.
    pub elapsed_ms: u64,
    /// E.g. too few free slots.
    pub warning: Option<String>,
}

async fn apply(client: &FlinkClient, id: &JobId, decision: &Decision, wait: Duration) -> anyhow::Result<Applied> {
    let changes = decision.changes();
    let overview = client.overview().await.map_err(rest_error)?;
    let needed = decision.vertices.iter().map(|v| v.new_parallelism).max().unwrap_or(1);
    // default slot sharing: one slot holds a subtask of every vertex
    let current = decision.vertices.iter().map(|v| v.current_parallelism).max().unwrap_or(1);
    let free = overview.slots_available + current;
    let warning = (needed > free).then(|| format!("the job needs {needed} slots, the cluster has {free} for it: it runs with fewer"));
    let mut req = client.resource_requirements(id).await.map_err(rest_error)?;
    for (vertex, p) in &changes {
        req.insert(VertexId::from_flink(vertex.clone()), VertexResourceRequirements::new(1, *p));
    }
    let started = Instant::now();
    client.set_resource_requirements(id, &req).await.map_err(rest_error)?;
    let expected: BTreeMap<String, u32> = changes.iter().map(|(k, &p)| (k.clone(), p.min(free.max(1)))).collect();
    let job = client
        .wait_for_job(id, wait, "the job to run with the new parallelism", |j| {
            j.state == JobState::Running
                && j.vertices.iter().all(|v| v.status == ExecutionState::Running)
                && expected.iter().all(|(vid, &p)| j.vertices.iter().any(|v| v.id.as_str() == vid && v.parallelism == p))
        })
        .await
        .map_err(rest_error)?;
    Ok(Applied { requested: changes, running: job.vertices.iter().map(|v| (v.name.clone(), v.parallelism)).collect(), elapsed_ms: started.elapsed().as_millis() as u64, warning })
}

fn num(x: Option<f64>) -> String {
    match x {
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "-".into(),
    }
}

/// The per-vertex table for people.
pub fn decision_table(d: &Decision) -> comfy_table::Table {
    let mut t = output::table(&["VERTEX", "P", "BUSY", "BP", "IN/S", "OUT/S", "TRUE/S/SUBTASK", "TARGET/S", "UTIL@TARGET", "NEW", "ACTION"]);
    for v in &d.vertices {
        let name: String = v.name.chars().take(40).collect();
        t.add_row(vec![
            name,
            v.current_parallelism.to_string(),
            num(v.metrics.busy_ms_per_s),
            num(v.metrics.backpressured_ms_per_s),
            num(v.metrics.records_in_per_s),
            num(v.metrics.records_out_per_s),
            num(v.true_rate_per_subtask),
            num(Some(v.target_rate)),
            v.utilization_at_target.map(|u| format!("{:.0} %", u * 100.0)).unwrap_or_else(|| "-".into()),
            v.new_parallelism.to_string(),
            match v.action {
                Action::Keep => "keep",
                Action::ScaleUp => "scale up",
                Action::ScaleDown => "scale down",
                Action::ScaleDownDelayed => "down (delayed)",
                Action::ScaleUpBlocked => "up (blocked)",
                Action::NoData => "no data",
            }
            .to_string(),
        ]);
    }
    t
}
