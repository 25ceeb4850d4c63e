//! `flinkops tune` and `flinkops diagnose`: the tuning advisor (`flinkops-tune`) at the edge.
//!
//! `tune` assembles a workload from a file and flags (flags win), asks the pure core for a
//! configuration overlay with a reason per key, checks it again against the target version's
//! catalog, lint and memory model (an overlay that fails is never written), and prints it for
//! people (each key with its trigger, reason and expected effect) or as JSON, and writes it as
//! a Flink `config.yaml` or a `flinkConfiguration` map.
//!
//! `diagnose` samples a running job over a window through the REST client — plan, per-vertex
//! subtask metrics, checkpoints, TaskManagers' slots and GC — and hands the snapshot to the pure
//! `diagnose()`. A snapshot can be saved (`--save`) and diagnosed again offline (`--snapshot`).
//!
//! The file option is `--out` (not `-o`): `-o` is the global output format of every command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use flinkops_rest::{Aggregation, FlinkClient, JobId, JobState, VertexId};
use flinkops_tune::diagnose::{self, Finding, Kind, Severity, Snapshot};
use flinkops_tune::render::{FileFormat, render};
use flinkops_tune::workload::{AccessPattern, Api, Delivery, Goal, Mode};
use flinkops_tune::{Profile, Recommendation, TuneError, Workload};

use crate::cmd::job::{Target, rest_error};
use crate::output::{self, Exit, GlobalArgs, OutputFormat};

// ── tune ─────────────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// Milliseconds per record: 1 ms buffer timeout, 10 s checkpoints, fast restarts.
    LowLatency,
    /// Records per second: mini-batch, larger batches, 5 min checkpoints.
    HighThroughput,
    /// State larger than memory: RocksDB with managed memory, incremental checkpoints.
    MemoryIntensive,
    /// Neither at the other's expense (the default when the workload sets no goal).
    Balanced,
}

impl From<ProfileArg> for Profile {
    fn from(p: ProfileArg) -> Profile {
        match p {
            ProfileArg::LowLatency => Profile::LowLatency,
            ProfileArg::HighThroughput => Profile::HighThroughput,
            ProfileArg::MemoryIntensive => Profile::MemoryIntensive,
            ProfileArg::Balanced => Profile::Balanced,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A Flink `config.yaml` with flat keys (a `flink-conf.yaml` for Flink before 1.19).
    Yaml,
    /// The `flinkConfiguration:` map of a FlinkDeployment (Kubernetes operator).
    FlinkConfiguration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Streaming,
    Batch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GoalArg {
    Latency,
    Throughput,
    Balanced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccessArg {
    ReadHeavy,
    WriteHeavy,
    Mixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeliveryArg {
    ExactlyOnce,
    AtLeastOnce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiArg {
    Sql,
    Datastream,
}

/// What a SQL job contains (`--sql group-aggregations,top-n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlArg {
    GroupAggregations,
    DistinctAggregates,
    WindowAggregations,
    RegularJoins,
    Deduplication,
    TopN,
}

/// `flinkops tune`.
#[derive(Debug, Args)]
#[command(after_help = "\
The workload comes from --workload FILE (YAML or JSON; see docs/tuning.md for every field) and/or
the flags below; a flag overrides the file. Without --profile the workload implies one: its goal,
or memory-intensive when its state is larger than the TaskManagers' memory.

Every key of the overlay is an option of the target version's catalog and the overlay lints clean
with a valid TaskManager memory model; each key is printed with what triggered it, why, and its
expected effect.

Examples:
  flinkops tune --profile high-throughput --sql group-aggregations --key-cardinality 100
  flinkops tune --workload job.yaml --taskmanager-memory 8gb --out config.yaml
  flinkops tune --workload job.yaml --format flink-configuration --out - >> deployment-values.yaml
  flinkops tune --workload job.yaml -o json | jq '.reasons[] | {key, because}'

Exit codes: 0 written/printed; 2 bad workload, flag or version (file:line:col for files).")]
pub struct TuneArgs {
    /// Starting profile (the seed guide's presets, corrected).
    #[arg(long, value_enum)]
    pub profile: Option<ProfileArg>,
    /// Workload file (YAML or JSON).
    #[arg(long, value_name = "FILE")]
    pub workload: Option<PathBuf>,
    /// Flink version whose catalog the keys come from (MAJOR.MINOR[.PATCH]).
    #[arg(long, default_value = flinkops_local::dist::DEFAULT_VERSION, value_name = "V")]
    pub flink_version: String,
    /// Write the overlay to FILE (`-` for stdout: the file alone, reasons as comments).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// File format of --out.
    #[arg(long, value_enum, default_value_t = FormatArg::Yaml)]
    pub format: FormatArg,

    /// Streaming or batch.
    #[arg(long, value_enum, help_heading = "Workload")]
    pub mode: Option<ModeArg>,
    /// What matters more.
    #[arg(long, value_enum, help_heading = "Workload")]
    pub goal: Option<GoalArg>,
    /// End-to-end latency a record may take, e.g. `200 ms`.
    #[arg(long, value_name = "DURATION", help_heading = "Workload")]
    pub latency_target: Option<String>,
    /// Expected input rate of all sources together.
    #[arg(long, value_name = "N", help_heading = "Workload")]
    pub records_per_second: Option<u64>,
    /// Average serialized record size, e.g. `200b`.
    #[arg(long, value_name = "SIZE", help_heading = "Workload")]
    pub record_size: Option<String>,
    /// Total keyed state of the job, e.g. `20gb`.
    #[arg(long, value_name = "SIZE", help_heading = "Workload")]
    pub state_size: Option<String>,
    /// How operators use their keyed state.
    #[arg(long, value_enum, help_heading = "Workload")]
    pub access_pattern: Option<AccessArg>,
    /// Distinct keys of the largest keyed operator.
    #[arg(long, value_name = "N", help_heading = "Workload")]
    pub key_cardinality: Option<u64>,
    /// How long a key's state stays useful after its last update (SQL state TTL), e.g. `1 d`.
    #[arg(long, value_name = "DURATION", help_heading = "Workload")]
    pub state_ttl: Option<String>,
    /// Session time zone of a SQL job (`table.local-time-zone`): an IANA zone such as
    /// `Europe/Berlin` or `Etc/UTC`, or `GMT+03:00`. `Etc/UTC`, `GMT` and other names of UTC
    /// become `UTC`, the only id Flink's window operators do not convert per record.
    #[arg(long, value_name = "ZONE", help_heading = "Workload")]
    pub time_zone: Option<String>,
    /// Checkpoint interval, e.g. `60 s` (default: the profile's).
    #[arg(long, value_name = "DURATION", help_heading = "Workload")]
    pub checkpoint_interval: Option<String>,
    /// Delivery guarantee the sinks need.
    #[arg(long, value_enum, help_heading = "Workload")]
    pub delivery: Option<DeliveryArg>,
    /// How the job is written.
    #[arg(long, value_enum, help_heading = "Workload")]
    pub api: Option<ApiArg>,
    /// DataStream jobs: the functions neither keep nor modify input records.
    #[arg(long, help_heading = "Workload")]
    pub object_reuse_safe: bool,
    /// What a SQL job contains (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST", help_heading = "Workload")]
    pub sql: Vec<SqlArg>,
    /// TaskManagers.
    #[arg(long, value_name = "N", help_heading = "Cluster")]
    pub taskmanagers: Option<u32>,
    /// `taskmanager.memory.process.size` of each TaskManager, e.g. `4gb`.
    #[arg(long, value_name = "SIZE", help_heading = "Cluster")]
    pub taskmanager_memory: Option<String>,
    /// CPU cores of each TaskManager.
    #[arg(long, value_name = "N", help_heading = "Cluster")]
    pub cores: Option<u32>,
    /// Task slots per TaskManager (default: one per core).
    #[arg(long, value_name = "N", help_heading = "Cluster")]
    pub slots: Option<u32>,
    /// Local disk of each TaskManager for RocksDB/ForSt, e.g. `100gb`.
    #[arg(long, value_name = "SIZE", help_heading = "Cluster")]
    pub local_disk: Option<String>,
}

fn tune_error(e: TuneError) -> anyhow::Error {
    output::input(e)
}

/// The workload: the file's, then every flag given on top.
fn workload(a: &TuneArgs) -> anyhow::Result<Workload> {
    let mut w = match &a.workload {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read workload file {}", p.display())).map_err(output::input)?;
            Workload::from_text(&p.display().to_string(), &text).map_err(tune_error)?
        }
        None => Workload::default(),
    };
    if let Some(m) = a.mode {
        w.mode = match m {
            ModeArg::Streaming => Mode::Streaming,
            ModeArg::Batch => Mode::Batch,
        };
    }
    if let Some(g) = a.goal {
        w.goal = match g {
            GoalArg::Latency => Goal::Latency,
            GoalArg::Throughput => Goal::Throughput,
            GoalArg::Balanced => Goal::Balanced,
        };
    }
    if let Some(x) = a.access_pattern {
        w.access_pattern = match x {
            AccessArg::ReadHeavy => AccessPattern::ReadHeavy,
            AccessArg::WriteHeavy => AccessPattern::WriteHeavy,
            AccessArg::Mixed => AccessPattern::Mixed,
        };
    }
    if let Some(d) = a.delivery {
        w.delivery = match d {
            DeliveryArg::ExactlyOnce => Delivery::ExactlyOnce,
            DeliveryArg::AtLeastOnce => Delivery::AtLeastOnce,
        };
    }
    if let Some(x) = a.api {
        w.api = match x {
            ApiArg::Sql => Api::Sql,
            ApiArg::Datastream => Api::Datastream,
        };
    }
    let set = |dst: &mut Option<String>, src: &Option<String>| {
        if src.is_some() {
            dst.clone_from(src);
        }
    };
    set(&mut w.latency_target, &a.latency_target);
    set(&mut w.record_size, &a.record_size);
    set(&mut w.state_size, &a.state_size);
    set(&mut w.state_ttl, &a.state_ttl);
    set(&mut w.time_zone, &a.time_zone);
    set(&mut w.checkpoint_interval, &a.checkpoint_interval);
    set(&mut w.cluster.local_disk, &a.local_disk);
    if let Some(x) = a.records_per_second {
        w.records_per_second = Some(x);
    }
    if let Some(x) = a.key_cardinality {
        w.key_cardinality = Some(x);
    }
    if a.object_reuse_safe {
        w.object_reuse_safe = true;
    }
    for s in &a.sql {
        match s {
            SqlArg::GroupAggregations => w.sql.group_aggregations = true,
            SqlArg::DistinctAggregates => w.sql.distinct_aggregates = true,
            SqlArg::WindowAggregations => w.sql.window_aggregations = true,
            SqlArg::RegularJoins => w.sql.regular_joins = true,
            SqlArg::Deduplication => w.sql.deduplication = true,
            SqlArg::TopN => w.sql.top_n = true,
        }
    }
    if let Some(x) = a.taskmanagers {
        w.cluster.taskmanagers = x;
    }
    if let Some(x) = &a.taskmanager_memory {
        w.cluster.taskmanager_memory.clone_from(x);
    }
    if let Some(x) = a.cores {
        w.cluster.cores = x;
    }
    if a.slots.is_some() {
        w.cluster.slots = a.slots;
    }
    // flag values are checked the same way as the file's (the field names are the file's)
    w.resolve().map_err(|e| match e {
        TuneError::Invalid { field, message } => output::input(anyhow::anyhow!("--{}: {message}", flag_of(&field))),
        other => tune_error(other),
    })?;
    Ok(w)
}

/// The flag that sets a workload field (`cluster.taskmanager_memory` → `taskmanager-memory`).
fn flag_of(field: &str) -> String {
    field.rsplit('.').next().unwrap_or(field).replace('_', "-")
}

/// Whether the version reads `config.yaml` (1.19+) rather than `flink-conf.yaml`.
fn reads_config_yaml(version: &str) -> bool {
    let mut it = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    major >= 2 || (major == 1 && minor >= 19)
}

/// The overlay file's text.
pub fn overlay_text(r: &Recommendation, format: FormatArg, command: &str) -> String {
    let m = &r.memory;
    let mb = |b: u64| b / (1024 * 1024);
    let mut header = vec![
        format!("{command} — profile {}, Flink {}", r.profile, r.flink_version),
        format!(
            "TaskManager memory (Flink's model): process {} MB, JVM heap {} MB (task heap {} MB), managed {} MB, network {} MB, {} slot(s)",
            mb(m.process),
            mb(m.jvm_heap),
            mb(m.task_heap),
            mb(m.managed),
            mb(m.network),
            m.slots
        ),
    ];
    header.extend(r.notes.iter().map(|n| format!("note: {n}")));
    let (ff, yaml) = match format {
        FormatArg::Yaml => (FileFormat::ConfigYaml, reads_config_yaml(&r.flink_version)),
        FormatArg::FlinkConfiguration => (FileFormat::FlinkConfiguration, true),
    };
    render(&r.config, &r.reasons, &header, ff, yaml)
}

/// Writes `text` to `path` through a temp file and one rename.
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "overlay".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display())).map_err(output::input)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display())).map_err(output::input)
}

pub fn tune(args: TuneArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let w = workload(&args)?;
    let profile = args.profile.map(Profile::from).unwrap_or_else(|| Profile::for_workload(&w));
    let r = flinkops_tune::recommend(&w, profile, &args.flink_version).map_err(tune_error)?;
    // The core checks what it builds; the edge checks again what it is about to write.
    let problems = flinkops_tune::check::problems(&r.config, &r.flink_version).map_err(tune_error)?;
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("problem: {p}");
        }
        return Err(anyhow::anyhow!("the recommended overlay does not check clean for Flink {} (a flinkops bug): nothing written", r.flink_version));
    }
    let text = overlay_text(&r, args.format, "flinkops tune");
    let to_stdout = args.out.as_deref() == Some(Path::new("-"));
    if let Some(p) = args.out.as_deref().filter(|_| !to_stdout) {
        write_atomic(p, &text)?;
    }
    if to_stdout {
        print!("{text}");
        return Ok(Exit::Success);
    }
    match g.output {
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "flink_version": r.flink_version,
            "profile": r.profile,
            "workload": w,
            "config": r.config,
            "reasons": r.reasons,
            "notes": r.notes,
            "memory": r.memory,
            "file": args.out.as_ref().map(|p| p.display().to_string()),
            "text": text,
        }))?,
        OutputFormat::Table => {
            let m = &r.memory;
            let mb = |b: u64| b / (1024 * 1024);
            println!("Profile {} for Flink {}: {} keys.", r.profile, r.flink_version, r.config.len());
            println!(
                "TaskManager memory: process {} MB = heap {} MB (task {} MB) + managed {} MB + network {} MB + JVM/framework; {} slot(s).\n",
                mb(m.process),
                mb(m.jvm_heap),
                mb(m.task_heap),
                mb(m.managed),
                mb(m.network),
                m.slots
            );
            for x in &r.reasons {
                println!("{} = {}", x.key, x.value);
                println!("    trigger: {}", x.trigger);
                println!("    why:     {}", x.because);
                println!("    effect:  {}", x.expected_effect);
            }
            if !r.notes.is_empty() {
                println!();
                for n in &r.notes {
                    println!("note: {n}");
                }
            }
            println!();
            match &args.out {
                Some(p) => println!("Wrote {} ({}).", p.display(), if args.format == FormatArg::Yaml { "config.yaml overlay" } else { "flinkConfiguration" }),
                None => println!("Write it with --out config.yaml (or --out - for stdout)."),
            }
        }
    }
    Ok(Exit::Success)
}

// ── diagnose ─────────────────────────────────────────────────────────────────────────────

/// `flinkops diagnose`.
#[derive(Debug, Args)]
#[command(after_help = "\
Samples the job every --interval seconds for --window seconds (per-vertex busy, backpressured and
idle time, record rates, checkpoint start delay; checkpoints; TaskManager slots and GC) and reports:
the bottleneck vertex (busy >= 900 ms/s, not backpressured itself), the backpressure chain above
it, checkpoint failures, slow checkpoints and alignment, state growth, GC pressure, idle slots and
subtasks, skew between subtasks. Each finding has its evidence and a config overlay.
Flink's rates are 1-minute averages: diagnose a job that has run for at least a minute.

Examples:
  flinkops diagnose 3f1c…e2                       # a job on the local cluster
  flinkops diagnose 3f1c…e2 --rest http://flink:8081 --window 60 --out fix.yaml
  flinkops diagnose 3f1c…e2 --save snap.json       # keep the samples; later:
  flinkops diagnose --snapshot snap.json -o json

Exit codes: 0 no warning; 1 a warning or critical finding; 2 bad input; 3 Flink unreachable.")]
pub struct DiagnoseArgs {
    /// The Flink job id (32 hex digits).
    #[arg(required_unless_present = "snapshot")]
    pub job: Option<String>,
    /// Flink REST URL. Default: the local cluster (--cluster).
    #[arg(long, visible_alias = "rest-url", env = "FLINKOPS_REST", value_name = "URL")]
    pub rest: Option<url::Url>,
    /// The local cluster to use when no --rest is given.
    #[arg(long, default_value = "default")]
    pub cluster: String,
    /// Seconds of metrics to sample.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub window: u64,
    /// Seconds between samples.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub interval: u64,
    /// Write the snapshot (plan, samples, checkpoints) to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Diagnose a saved snapshot instead of a running job.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rest", "save"])]
    pub snapshot: Option<PathBuf>,
    /// Write the findings' overlay to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// File format of --out.
    #[arg(long, value_enum, default_value_t = FormatArg::Yaml)]
    pub format: FormatArg,
}

pub fn diagnose_cmd(args: DiagnoseArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let snap = match &args.snapshot {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read snapshot {}", p.display())).map_err(output::input)?;
            serde_json::from_str::<Snapshot>(&text)
                .map_err(|e| output::input(anyhow::anyhow!("{}:{}:{}: {e}", p.display(), e.line(), e.column())))?
        }
        None => {
            if args.interval == 0 {
                return Err(output::input(anyhow::anyhow!("--interval must be at least 1 second")));
            }
            let job = args.job.clone().unwrap_or_default();
            let id: JobId = job.parse().map_err(output::input)?;
            let target = Target { rest: args.rest.clone(), cluster: args.cluster.clone() };
            let (client, _) = crate::cmd::job::client_for(g, &target)?;
            let s = crate::cmd::runtime()?.block_on(record(&client, &id, &args, g))?;
            if let Some(p) = &args.save {
                write_atomic(p, &serde_json::to_string_pretty(&s)?)?;
            }
            s
        }
    };
    let d = flinkops_tune::diagnose(&snap);
    let overlay_file = if d.overlay.is_empty() {
        None
    } else {
        let (ff, yaml) = match args.format {
            FormatArg::Yaml => (FileFormat::ConfigYaml, reads_config_yaml(&snap.flink_version)),
            FormatArg::FlinkConfiguration => (FileFormat::FlinkConfiguration, true),
        };
        let header = vec![format!("flinkops diagnose {} — {} finding(s) over {} s", snap.job_id, d.findings.len(), snap.window_ms / 1000)];
        Some(render(&d.overlay, &[], &header, ff, yaml))
    };
    let to_stdout = args.out.as_deref() == Some(Path::new("-"));
    if let (Some(p), Some(text)) = (args.out.as_deref().filter(|_| !to_stdout), &overlay_file) {
        write_atomic(p, text)?;
    }
    let serious = d.findings.iter().any(|f| f.severity >= Severity::Warning);
    if to_stdout {
        print!("{}", overlay_file.as_deref().unwrap_or(""));
    } else {
        match g.output {
            OutputFormat::Json => output::print_json(&serde_json::json!({
                "job_id": snap.job_id,
                "job_name": snap.job_name,
                "flink_version": snap.flink_version,
                "diagnosis": d,
            }))?,
            OutputFormat::Table => print_diagnosis(&snap, &d, args.out.as_deref(), overlay_file.as_deref()),
        }
    }
    Ok(if serious { Exit::Findings } else { Exit::Success })
}

fn vertex_name(s: &Snapshot, id: &str) -> String {
    s.vertices.iter().find(|v| v.id == id).map(|v| v.name.chars().take(70).collect()).unwrap_or_else(|| id.to_string())
}

fn print_diagnosis(s: &Snapshot, d: &flinkops_tune::Diagnosis, out: Option<&Path>, overlay: Option<&str>) {
    println!("Job {} ({}), Flink {}: {} sample(s) over {} s.", s.job_name, s.job_id, s.flink_version, d.samples, d.window_ms / 1000);
    match &d.bottleneck {
        Some(b) => println!("Bottleneck: {} [{b}]", vertex_name(s, b)),
        None => println!("Bottleneck: none (no vertex is saturated without being backpressured)"),
    }
    if !d.backpressure_chain.is_empty() {
        let names: Vec<String> = d.backpressure_chain.iter().map(|v| vertex_name(s, v)).collect();
        println!("Backpressured above it: {}", names.join(" ← "));
    }
    println!();
    if d.findings.is_empty() {
        println!("No findings.");
    }
    for f in &d.findings {
        print_finding(f);
    }
    if let Some(text) = overlay {
        match out {
            Some(p) => println!("Wrote the overlay to {}.", p.display()),
            None => {
                println!("Overlay that addresses the findings:");
                for line in text.lines().filter(|l| !l.starts_with('#')) {
                    println!("  {line}");
                }
            }
        }
    }
}

fn print_finding(f: &Finding) {
    let sev = match f.severity {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    };
    let kind = kind_name(f.kind);
    println!("{sev:<8} {kind}: {}", f.title);
    for e in &f.evidence {
        println!("    - {e}");
    }
    for (k, v) in &f.overlay {
        println!("    set {k} = {v}");
    }
    println!();
}

/// Subtask metrics sampled per vertex.
const VERTEX_METRICS: [&str; 6] = [
    "busyTimeMsPerSecond",
    "backPressuredTimeMsPerSecond",
    "idleTimeMsPerSecond",
    "numRecordsInPerSecond",
    "numRecordsOutPerSecond",
    "checkpointStartDelayNanos",
];

fn epoch_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

async fn sample(client: &FlinkClient, job: &JobId, vertices: &[diagnose::Vertex]) -> anyhow::Result<diagnose::Sample> {
    let mut out = BTreeMap::new();
    for v in vertices {
        let m = client
            .subtask_metrics(job, &VertexId::from_flink(v.id.clone()), &VERTEX_METRICS, &[Aggregation::Max, Aggregation::Avg, Aggregation::Sum])
            .await
            .map_err(rest_error)?;
        let get = |name: &str, f: fn(&flinkops_rest::AggregatedMetric) -> Option<f64>| m.iter().find(|x| x.id == name).and_then(f).filter(|x| x.is_finite());
        out.insert(
            v.id.clone(),
            diagnose::VertexSample {
                busy_max: get("busyTimeMsPerSecond", |x| x.max),
                busy_avg: get("busyTimeMsPerSecond", |x| x.avg),
                backpressured_max: get("backPressuredTimeMsPerSecond", |x| x.max),
                backpressured_avg: get("backPressuredTimeMsPerSecond", |x| x.avg),
                idle_avg: get("idleTimeMsPerSecond", |x| x.avg),
                records_in_max: get("numRecordsInPerSecond", |x| x.max),
                records_in_avg: get("numRecordsInPerSecond", |x| x.avg),
                records_in_sum: get("numRecordsInPerSecond", |x| x.sum),
                records_out_sum: get("numRecordsOutPerSecond", |x| x.sum),
                checkpoint_start_delay_ns: get("checkpointStartDelayNanos", |x| x.max),
            },
        );
    }
    Ok(diagnose::Sample { at_ms: epoch_ms(), vertices: out })
}

/// GC time (ms, all collectors) and heap of a TaskManager; `None` when Flink reports none.
async fn gc_and_heap(client: &FlinkClient, tm: &flinkops_rest::TaskManagerId) -> (Option<i64>, Option<i64>, Option<i64>) {
    let Ok(ids) = client.taskmanager_metrics(tm, &[]).await else { return (None, None, None) };
    let gc: Vec<String> = ids
        .iter()
        .map(|m| m.id.clone())
        .filter(|id| id.starts_with("Status.JVM.GarbageCollector.") && id.ends_with(".Time") && !id.contains(".All."))
        .collect();
    let mut names: Vec<&str> = gc.iter().map(String::as_str).collect();
    names.extend(["Status.JVM.Memory.Heap.Used", "Status.JVM.Memory.Heap.Max"]);
    let Ok(values) = client.taskmanager_metrics(tm, &names).await else { return (None, None, None) };
    let val = |id: &str| values.iter().find(|m| m.id == id).and_then(|m| m.as_f64()).filter(|x| x.is_finite()).map(|x| x as i64);
    let gc_total = if gc.is_empty() { None } else { Some(gc.iter().filter_map(|id| val(id)).sum()) };
    (gc_total, val("Status.JVM.Memory.Heap.Used"), val("Status.JVM.Memory.Heap.Max"))
}

async fn checkpoint_history(client: &FlinkClient, id: &JobId) -> anyhow::Result<(u64, u64, Vec<diagnose::Checkpoint>)> {
    let Ok(stats) = client.checkpoints(id).await else { return Ok((0, 0, Vec::new())) };
    let mut history: Vec<diagnose::Checkpoint> = stats
        .history
        .iter()
        .filter(|c| !c.is_savepoint)
        .map(|c| diagnose::Checkpoint {
            id: c.id,
            status: c.status.as_str().to_string(),
            trigger_ms: c.trigger_timestamp,
            duration_ms: c.end_to_end_duration,
            state_size: c.state_size,
            checkpointed_size: c.checkpointed_size,
            persisted_data: c.persisted_data,
            failure_message: c.failure_message.clone(),
        })
        .collect();
    history.sort_by_key(|c| c.id);
    Ok((stats.counts.failed, stats.counts.completed, history))
}

/// Records a snapshot of a running job over the window.
async fn record(client: &FlinkClient, id: &JobId, args: &DiagnoseArgs, g: &GlobalArgs) -> anyhow::Result<Snapshot> {
    let overview = client.overview().await.map_err(rest_error)?;
    let job = client.job(id).await.map_err(rest_error)?;
    if job.state != JobState::Running {
        return Err(output::input(anyhow::anyhow!("job {id} is {}, not RUNNING: diagnose needs a running job", job.state)));
    }
    let vertices: Vec<diagnose::Vertex> =
        job.vertices.iter().map(|v| diagnose::Vertex { id: v.id.to_string(), name: v.name.clone(), parallelism: v.parallelism }).collect();
    let edges: Vec<diagnose::Edge> = job
        .plan
        .iter()
        .flat_map(|p| p.nodes.iter())
        .flat_map(|n| n.inputs.iter().map(move |i| diagnose::Edge { from: i.id.to_string(), to: n.id.to_string(), ship_strategy: i.ship_strategy.clone() }))
        .collect();
    let config = client.checkpoint_config(id).await.ok();
    let (failed_before, completed_before, _) = checkpoint_history(client, id).await?;
    let tms = client.taskmanagers().await.map_err(rest_error)?.taskmanagers;
    let mut gc_before = BTreeMap::new();
    for t in &tms {
        gc_before.insert(t.id.to_string(), gc_and_heap(client, &t.id).await.0);
    }

    let bar = output::Bar::spinner(g, &format!("sampling {id} for {} s", args.window));
    let started = Instant::now();
    let mut samples = Vec::new();
    loop {
        samples.push(sample(client, id, &vertices).await?);
        if started.elapsed() >= Duration::from_secs(args.window) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(args.interval)).await;
    }
    bar.finish();
    let window_ms = started.elapsed().as_millis() as i64;

    let (failed_after, completed_after, history) = checkpoint_history(client, id).await?;
    let tms_after = client.taskmanagers().await.map_err(rest_error)?.taskmanagers;
    let mut taskmanagers = Vec::new();
    for t in &tms_after {
        let (gc_after, heap_used, heap_max) = gc_and_heap(client, &t.id).await;
        let before = gc_before.get(&t.id.to_string()).copied().flatten();
        let (b, a) = match (before, gc_after) {
            (Some(b), Some(a)) => (b, a),
            _ => (0, 0),
        };
        taskmanagers.push(diagnose::TaskManager {
            id: t.id.to_string(),
            slots: t.slots_number,
            free_slots: t.free_slots,
            gc_time_before_ms: b,
            gc_time_after_ms: a,
            heap_used,
            heap_max,
        });
    }
    Ok(Snapshot {
        job_id: id.to_string(),
        job_name: job.name.clone(),
        flink_version: overview.flink_version.clone(),
        window_ms,
        vertices,
        edges,
        samples,
        checkpoints: diagnose::Checkpoints {
            interval_ms: config.as_ref().map(|c| c.interval).filter(|i| *i > 0 && *i < i64::MAX / 2),
            timeout_ms: config.as_ref().map(|c| c.timeout),
            unaligned: config.as_ref().and_then(|c| c.unaligned_checkpoints),
            exactly_once: config.as_ref().map(|c| c.mode.eq_ignore_ascii_case("exactly_once")),
            state_backend: config.as_ref().and_then(|c| c.state_backend.clone()),
            failed_before,
            failed_after,
            completed_before,
            completed_after,
            history,
        },
        taskmanagers,
    })
}

/// A finding kind's name as in JSON (`checkpoint-failures`).
fn kind_name(k: Kind) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
