//! `flinkops apply --spec F --env E [--dry-run]`: render one environment in memory and
//! server-side apply its Kubernetes objects (field manager `flinkops`), printing a diff of each
//! object against the live one first. The apply logic lives in `flinkops-kube`.
//!
//! Exit codes: 0 applied, 1 the spec has errors (nothing sent), 2 unreadable input or no usable
//! kubeconfig, 3 the API refused an object (nothing after it is applied).

use std::path::PathBuf;

use anyhow::anyhow;
use flinkops_kube::{Action, Applied, DiffLine, Report};
use flinkops_spec::render;
use serde_json::json;

use crate::cmd::spec::print_diagnostics;
use crate::output::{Exit, GlobalArgs, OutputFormat, input, peer, print_json};

/// Server-side apply one environment of a platform spec to Kubernetes.
///
/// Renders the environment in memory (as `flinkops render` would) and applies its Kubernetes
/// objects in order — Namespace, RBAC, ConfigMaps, Flink, monitoring — as field manager
/// `flinkops`, printing for each object a diff of the fields flinkops sets against the live
/// object (`+` added, `-` removed, `~` changed). The first refused object stops the run.
/// The cluster comes from kube's defaults (`KUBECONFIG`, `~/.kube/config`, in-cluster) unless
/// `--kubeconfig`/`--context` say otherwise.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  flinkops apply --spec examples/enterprise/flinkops.yaml --env development --dry-run\n  flinkops apply --spec flinkops.yaml --env production --context prod-cluster")]
pub struct ApplyArgs {
    /// The spec file (`flinkops.yaml`).
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// The environment to apply (its target must be `kubernetes`).
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Server-side dry run (`dryRun=All`): the API server validates and admits every object,
    /// nothing is persisted.
    #[arg(long)]
    pub dry_run: bool,
    /// Kubeconfig file (default: `KUBECONFIG`, then `~/.kube/config`, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

fn diff_json(l: &DiffLine) -> serde_json::Value {
    match l {
        DiffLine::Add { path, value } => json!({"op": "+", "path": path, "value": value}),
        DiffLine::Remove { path, value } => json!({"op": "-", "path": path, "value": value}),
        DiffLine::Change { path, live, rendered } => json!({"op": "~", "path": path, "live": live, "value": rendered}),
    }
}

fn applied_json(a: &Applied) -> serde_json::Value {
    json!({"object": a.key, "file": a.file, "action": a.action.to_string(), "validated": a.validated, "diff": a.diff.iter().map(diff_json).collect::<Vec<_>>()})
}

fn print_object(a: &Applied, dry_run: bool) {
    let verb = match (&a.action, dry_run) {
        (Action::Create, false) => "created",
        (Action::Create, true) => "would create",
        (Action::Update, false) => "updated",
        (Action::Update, true) => "would update",
        (Action::Unchanged, _) => "unchanged",
    };
    let note = match (dry_run, a.validated) {
        (false, _) => "",
        (true, true) => " (dry run)",
        (true, false) => " (dry run, not sent: its namespace does not exist yet)",
    };
    println!("{} {verb}{note}", a.key);
    for l in &a.diff {
        println!("    {l}");
    }
}

/// `flinkops apply --spec F --env E [--dry-run]`.
pub fn apply(args: ApplyArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let (parsed, sql) = match crate::cmd::spec::read(&args.spec)? {
        Ok(r) => r,
        Err(d) => {
            print_diagnostics(&d, g, json!({"applied": []}))?;
            return Ok(Exit::Findings);
        }
    };
    let rendered = match render::render(&parsed, &args.env, &sql) {
        Ok(r) => r,
        Err(d) => {
            print_diagnostics(&d, g, json!({"applied": []}))?;
            if g.output == OutputFormat::Table {
                eprintln!("nothing applied");
            }
            return Ok(Exit::Findings);
        }
    };
    if g.output == OutputFormat::Table {
        for d in &rendered.warnings {
            eprintln!("{d}");
        }
    }
    let objects = flinkops_kube::objects(&rendered.bundle.files).map_err(input)?;
    if objects.is_empty() {
        return Err(input(anyhow!(
            "environment `{}` renders no Kubernetes objects (its target is not `kubernetes`); nothing to apply",
            args.env
        )));
    }
    let table = g.output == OutputFormat::Table;
    let dry_run = args.dry_run;
    let report: Report = super::runtime()?.block_on(async {
        let client = flinkops_kube::client(args.kubeconfig.as_deref(), args.context.as_deref()).await.map_err(input)?;
        Ok::<_, anyhow::Error>(
            flinkops_kube::apply(&client, &objects, dry_run, |a| {
                if table {
                    print_object(a, dry_run);
                }
            })
            .await,
        )
    })?;
    match g.output {
        OutputFormat::Json => print_json(&json!({
            "env": args.env,
            "dryRun": report.dry_run,
            "applied": report.applied.iter().map(applied_json).collect::<Vec<_>>(),
            "failed": report.failed.as_ref().map(|f| json!({"object": f.key, "file": f.file, "step": f.step, "code": f.code, "message": f.message})),
            "skipped": report.skipped,
            "warnings": rendered.warnings,
        }))?,
        OutputFormat::Table => {
            let n = report.applied.iter().filter(|a| a.validated).count();
            let unsent = report.applied.len() - n;
            let what = if report.dry_run { "dry run: the API server accepted" } else { "applied" };
            let unsent = if unsent > 0 { format!(" ({unsent} more only diffed: their namespace does not exist yet)") } else { String::new() };
            match &report.failed {
                None => println!("{what} {n} object(s) of environment `{}`{unsent}", args.env),
                Some(_) => eprintln!("{what} {n} object(s) before the failure{unsent}; not attempted: {}", report.skipped.len()),
            }
        }
    }
    match report.failed {
        None => Ok(Exit::Success),
        Some(f) => Err(peer(anyhow!("{f}"))),
    }
}
