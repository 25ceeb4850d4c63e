//! `flinkops health JOB_ID`: samples a running Flink job through its REST API
//! (`flinkops_notify::sample_job`), evaluates serve's built-in health rules on the samples
//! (`flinkops_notify::evaluate_job`, the same code serve runs) and prints each rule's condition
//! and alert state, with the numbers behind them.
//!
//! One command run keeps its alert state in memory only: a rule with a `for` duration longer
//! than the run shows `pending`, not `firing`; rules that compare counters over time
//! (restarts, failed checkpoints) need two samples (`--samples 2` or more). Exit code 0 when no
//! rule's condition holds at the last sample, 1 when one does, 2 for bad input (an unknown job
//! id), 3 when Flink cannot be reached.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use flinkops_notify::health::{Condition, condition};
use flinkops_notify::{HealthHistory, JobHealthSample, Rule, RuleSettings, SampleError, Sampled, evaluate_job, sample_job};
use flinkops_rest::JobId;
use serde::Serialize;
use serde_json::json;

use crate::cmd::job::{Target, client_for};
use crate::output::{self, Exit, GlobalArgs, OutputFormat, input, peer};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  flinkops health 3f1c…e2 --rest-url http://127.0.0.1:8081\n  flinkops health 3f1c…e2 --samples 3 --interval 10 --spec flinkops.yaml --env staging -o json")]
pub struct HealthArgs {
    /// The Flink job id (32 hex digits).
    pub job: String,
    /// Flink REST URL of the job's cluster. Default: the local cluster (`--cluster`).
    #[arg(long = "rest-url", visible_alias = "rest", env = "FLINKOPS_REST", value_name = "URL")]
    pub rest_url: Option<url::Url>,
    /// The local cluster to use when no --rest-url is given.
    #[arg(long, default_value = "default")]
    pub cluster: String,
    /// A platform spec: the rules' settings come from its environment (`alerts` overrides,
    /// `checkpointing.alertAfterMissed`, `alerting.runbookBaseUrl`).
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// The spec's environment (needed when the spec has more than one).
    #[arg(long, value_name = "ENV", requires = "spec")]
    pub env: Option<String>,
    /// How many samples to take (two or more let the counter rules compare).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub samples: u32,
    /// Seconds between samples.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub interval: u64,
}

/// One rule's outcome, as printed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleReport {
    rule: &'static str,
    severity: &'static str,
    for_ms: i64,
    /// `ok`, `holds`, `unknown` (its data could not be read or needs more samples), `disabled`.
    condition: &'static str,
    /// `inactive`, `pending`, `firing`, `resolved`.
    state: &'static str,
    summary: Option<String>,
}

pub fn run(args: HealthArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    crate::cmd::runtime()?.block_on(health(args, g))
}

fn settings(args: &HealthArgs) -> anyhow::Result<RuleSettings> {
    let Some(path) = &args.spec else { return Ok(RuleSettings::default()) };
    let text = flinkops_spec::output::read_spec(path).map_err(input)?;
    let parsed = flinkops_spec::parse(&path.display().to_string(), &text).map_err(|diags| {
        let lines: Vec<String> = diags.iter().map(ToString::to_string).collect();
        input(anyhow!("the spec cannot be read:\n{}", lines.join("\n")))
    })?;
    let env = match &args.env {
        Some(e) => e.clone(),
        None => {
            let mut envs = parsed.spec.environments.keys();
            match (envs.next(), envs.next()) {
                (Some(only), None) => only.clone(),
                _ => {
                    let known: Vec<&str> = parsed.spec.environments.keys().map(String::as_str).collect();
                    return Err(input(anyhow!(
                        "{}: name the environment whose rule settings apply with --env (one of: {})",
                        path.display(),
                        known.join(", ")
                    )));
                }
            }
        }
    };
    RuleSettings::for_environment(&parsed.spec, &env).map_err(|e| input(anyhow!("{}: {e}", path.display())))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

async fn health(args: HealthArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let id: JobId = args.job.parse().map_err(input)?;
    let settings = settings(&args)?;
    let (client, _) = client_for(g, &Target { rest: args.rest_url.clone(), cluster: args.cluster.clone() })?;

    let mut history = HealthHistory::default();
    let mut states = Vec::new();
    let mut last: Option<(Sampled, flinkops_notify::JobEvaluation)> = None;
    for i in 0..args.samples {
        if i > 0 {
            tokio::time::sleep(Duration::from_secs(args.interval)).await;
        }
        let now = now_ms();
        let sampled = sample_job(&client, &id, None, now).await.map_err(|e| match e {
            SampleError::JobNotFound { .. } => input(e),
            SampleError::Flink { .. } => peer(e),
        })?;
        let eval = evaluate_job(&states, &sampled.sample, &mut history, &settings, now);
        states = eval.states().cloned().collect();
        last = Some((sampled, eval));
    }
    let Some((sampled, eval)) = last else { return Err(input(anyhow!("--samples must be at least 1"))) };

    let reports: Vec<RuleReport> = Rule::ALL
        .into_iter()
        .map(|rule| {
            let cfg = settings.rule(rule);
            let cond = condition(rule, &sampled.sample, &history, &settings);
            let outcome = eval.outcomes.iter().find(|o| o.rule == rule);
            let state = outcome.and_then(|o| o.state.as_ref());
            let (condition, summary) = match (&cond, cfg.disabled) {
                (_, true) => ("disabled", None),
                (Condition::Holds { summary }, false) => ("holds", Some(summary.clone())),
                (Condition::Clear, false) => ("ok", None),
                (Condition::Unknown, false) => ("unknown", None),
            };
            RuleReport {
                rule: rule.name(),
                severity: cfg.severity.as_str(),
                for_ms: cfg.for_ms,
                condition,
                state: state.map_or("inactive", |s| s.status.as_str()),
                summary,
            }
        })
        .collect();
    let holds = reports.iter().any(|r| r.condition == "holds");

    match g.output {
        OutputFormat::Json => output::print_json(&json!({
            "jobId": id.as_str(),
            "flinkName": sampled.flink_name,
            "restUrl": client.base_url().as_str(),
            "samples": args.samples,
            "healthy": !holds,
            "sample": sampled.sample,
            "missing": sampled.missing,
            "rules": reports,
        }))?,
        OutputFormat::Table => print_table(&id, &sampled, &reports, holds),
    }
    Ok(if holds { Exit::Findings } else { Exit::Success })
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn print_table(id: &JobId, s: &Sampled, reports: &[RuleReport], holds: bool) {
    let x: &JobHealthSample = &s.sample;
    println!("job {} ({}): {}", id, s.flink_name, opt(x.state.as_deref()));
    println!(
        "  restarts {}  checkpoints completed {} failed {}  last checkpoint {} ms  interval {} ms",
        opt(x.num_restarts),
        opt(x.completed_checkpoints),
        opt(x.failed_checkpoints),
        opt(x.last_checkpoint_duration_ms),
        opt(x.checkpoint_interval_ms)
    );
    println!(
        "  max busy {} ms/s  max back-pressured {} ms/s  uptime {} s",
        opt(x.max_busy_ms_per_s.map(|v| format!("{v:.0}"))),
        opt(x.max_backpressured_ms_per_s.map(|v| format!("{v:.0}"))),
        opt(x.uptime_ms.map(|v| v / 1000))
    );
    for m in &s.missing {
        println!("  not read: {m}");
    }
    println!();
    let mut t = output::table(&["RULE", "SEVERITY", "FOR", "CONDITION", "STATE", "SUMMARY"]);
    for r in reports {
        t.add_row(vec![
            r.rule.to_string(),
            r.severity.to_string(),
            format!("{}s", r.for_ms / 1000),
            r.condition.to_string(),
            r.state.to_string(),
            r.summary.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    println!("{}", if holds { "unhealthy: at least one rule's condition holds" } else { "healthy: no rule's condition holds" });
}
