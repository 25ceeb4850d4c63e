//! `flinkops spec schema`, `flinkops validate --spec F` and `flinkops render --spec F --env E
//! --out-dir DIR`: the platform spec. Reading, checking and rendering live in `flinkops-spec`;
//! this file turns arguments into calls, prints diagnostics and maps them to exit codes
//! (0 ok, 1 the spec has errors, 2 unreadable input or unusable output directory).

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use flinkops_spec::{Diagnostic, Level, output, plan, render};
use serde_json::json;

use crate::output::{Exit, GlobalArgs, OutputFormat, input, print_json};

/// The platform spec.
#[derive(Debug, clap::Subcommand)]
pub enum SpecCmd {
    /// Print the JSON Schema of `flinkops.yaml` (generated from the spec types).
    ///
    /// Point your editor's YAML language server at it, e.g. with a first line
    /// `# yaml-language-server: $schema=flinkops.schema.json`.
    Schema,
}

/// Check a platform spec and every Flink configuration it implies.
///
/// Reports every problem at once with file:line:col and a fix: unknown fields (with
/// did-you-mean), wrong types, inline secrets, unknown environments or channels, conflicting
/// settings, and Flink config lint findings for each environment's Flink version.
/// Exit 0 when there are no errors, 1 when there are, 2 when the file cannot be read.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  flinkops validate --spec examples/enterprise/flinkops.yaml\n  flinkops validate --spec flinkops.yaml -o json")]
pub struct ValidateArgs {
    /// The spec file (`flinkops.yaml`).
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
}

/// Render one environment of a platform spec: Kubernetes objects for the Flink Kubernetes
/// Operator, Helm values, Prometheus scrape config and rules, Alertmanager routing, Grafana
/// dashboards.
///
/// Nothing is written when the spec has any error: files are rendered into a temporary
/// directory beside DIR and renamed into place at the end. DIR must not exist or be empty.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  flinkops render --spec examples/enterprise/flinkops.yaml --env production --out-dir out/production\n  flinkops render --spec examples/local/flinkops.yaml --env local -d out/local")]
pub struct RenderArgs {
    /// The spec file (`flinkops.yaml`).
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// The environment to render.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Output directory (`-o` is the global output format).
    #[arg(long = "out-dir", short = 'd', value_name = "DIR")]
    pub out_dir: PathBuf,
}

/// `flinkops spec …`.
pub fn run(cmd: SpecCmd, _g: &GlobalArgs) -> anyhow::Result<Exit> {
    match cmd {
        SpecCmd::Schema => {
            print!("{}", flinkops_spec::schema::schema_json());
            Ok(Exit::Success)
        }
    }
}

fn spec_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub(crate) fn print_diagnostics(diags: &[Diagnostic], g: &GlobalArgs, extra: serde_json::Value) -> anyhow::Result<()> {
    let errors = diags.iter().filter(|d| d.level == Level::Error).count();
    let warnings = diags.iter().filter(|d| d.level == Level::Warning).count();
    match g.output {
        OutputFormat::Json => {
            let mut v = json!({"errors": errors, "warnings": warnings, "diagnostics": diags});
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            print_json(&v)?;
        }
        OutputFormat::Table => {
            for d in diags {
                eprintln!("{d}");
            }
            if !diags.is_empty() {
                eprintln!("{errors} error(s), {warnings} warning(s)");
            }
        }
    }
    Ok(())
}

/// Reads and parses a spec and loads the SQL scripts it names; spec problems come back as diagnostics.
pub(crate) fn read(path: &Path) -> anyhow::Result<Result<(flinkops_spec::Parsed, plan::SqlScripts), Vec<Diagnostic>>> {
    let text = output::read_spec(path).map_err(input)?;
    let name = path.display().to_string();
    let parsed = match flinkops_spec::parse(&name, &text) {
        Ok(p) => p,
        Err(d) => return Ok(Err(d)),
    };
    let sql = match output::load_sql(&parsed, &spec_dir(path)) {
        Ok(s) => s,
        Err(d) => return Ok(Err(d)),
    };
    Ok(Ok((parsed, sql)))
}

/// `flinkops validate --spec F`.
pub fn validate(args: ValidateArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let diags = match read(&args.spec)? {
        Err(d) => d,
        Ok((parsed, sql)) => plan::validate(&parsed, &sql),
    };
    let ok = !diags.iter().any(|d| d.level == Level::Error);
    print_diagnostics(&diags, g, json!({"valid": ok}))?;
    if ok && g.output == OutputFormat::Table {
        println!("{}: valid", args.spec.display());
    }
    Ok(if ok { Exit::Success } else { Exit::Findings })
}

/// `flinkops render --spec F --env E --out-dir DIR`.
pub fn render(args: RenderArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    if args.out_dir.exists() && std::fs::read_dir(&args.out_dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(input(anyhow!(
            "{}: already exists and is not empty; pass an empty or new directory (or remove it first)",
            args.out_dir.display()
        )));
    }
    let (parsed, sql) = match read(&args.spec)? {
        Ok(x) => x,
        Err(d) => {
            print_diagnostics(&d, g, json!({"written": false}))?;
            return Ok(Exit::Findings);
        }
    };
    let rendered = match render::render(&parsed, &args.env, &sql) {
        Ok(r) => r,
        Err(d) => {
            print_diagnostics(&d, g, json!({"written": false}))?;
            if g.output == OutputFormat::Table {
                eprintln!("nothing written to {}", args.out_dir.display());
            }
            return Ok(Exit::Findings);
        }
    };
    output::write_bundle(&rendered.bundle, &args.out_dir).map_err(input)?;
    let files: Vec<&String> = rendered.bundle.files.keys().collect();
    print_diagnostics(&rendered.warnings, g, json!({"written": true, "dir": args.out_dir.display().to_string(), "files": files}))?;
    if g.output == OutputFormat::Table {
        println!("Rendered environment `{}` into {} ({} files):", args.env, args.out_dir.display(), files.len());
        for f in files {
            println!("  {f}");
        }
    }
    Ok(Exit::Success)
}
