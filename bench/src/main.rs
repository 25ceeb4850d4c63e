//! The tuning benchmark (`bench/run.sh [--quick] [--only a,b] [--out DIR]`).
//!
//! For each workload of `bench/workloads` (a SQL job over datagen whose rate is far above what
//! the machine can process, and the workload description `flinkops tune` reads) it measures, on
//! real local Flink clusters started through `flinkops-local`:
//!
//! - **defaults**: Flink's defaults (parallelism 1);
//! - **seed**: the seed guide's high-throughput preset, with its RocksDB state-backend preset
//!   for stateful jobs (`flinkops_tune::seed::for_workload`);
//! - **tuned**: `flinkops_tune::recommend` for the workload (what `flinkops tune --workload`
//!   prints);
//! - **grid**: the best of a greedy search over the knobs that matter, starting from the
//!   defaults and keeping each knob's value when it is ≥ 3 % faster: mini-batch, object reuse,
//!   parallelism, the session zone `UTC` (window aggregations, when the cluster's zone is UTC
//!   under another name), state backend, buffer timeout, managed memory, then the parallel garbage
//!   collector on the fastest of those. With `--repeat N` the fastest
//!   configuration runs N − 1 times more (variant `grid best`) and the table shows its median.
//!
//! Every variant runs with the same TaskManager (process size from the workload, 2 slots) and
//! the workload's requirements (checkpoint interval and mode, state TTL) applied last.
//! Throughput is what the source operators emit: the operator-scoped counter
//! `Source__<table>[n].numRecordsOut`, summed over sources and subtasks, read through
//! `/jobs/:id/vertices/:vid/subtasks/metrics` every 200 ms (the JobManager's metric fetcher runs
//! every second here) after a warm-up; the rate of each 5 s span between counter updates is a
//! sample and the median is the result. CPU is the TaskManager processes' user + system time
//! (`/proc/<pid>/stat`) over the window, in cores; checkpoint duration the median end-to-end duration of the checkpoints completed
//! in the window. Results: `docs/bench/tuning.{json,md,png}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use flinkops_local::cluster::{ClusterOptions, LocalCluster, Role};
use flinkops_local::dist::FlinkDist;
use flinkops_local::home::Home;
use flinkops_local::java::Java;
use flinkops_local::submit::{Program, SubmitOptions, submit};
use flinkops_rest::{Aggregation, ExecutionState, FlinkClient, JobId, JobState, VertexId};
use flinkops_tune::{Profile, Workload};
use serde::{Deserialize, Serialize};

mod chart;
mod jfr;
mod report;

type Config = BTreeMap<String, String>;

#[derive(Debug, Clone)]
struct Args {
    quick: bool,
    only: Vec<String>,
    flink_version: String,
    out: PathBuf,
    warmup: Duration,
    measure: Duration,
    /// Ablation instead of the suite: defaults + one tuned key group at a time, and tuned − one.
    ablate: bool,
    /// Runs of the defaults, of the tuned config and of the grid's best (median), made at different times.
    repeat: usize,
    /// A/B instead of the suite: tuned, and tuned with these keys, alternately, `repeat` times.
    ab: Option<Config>,
    /// Write the report from these runs (`target/bench-partial.json` of a stopped suite).
    report_from: Option<PathBuf>,
    /// Record the TaskManager with JFR over each measurement window (`jfr::Profile`).
    jfr: bool,
    /// A new cluster for every run (no JIT state or caches shared between the variants).
    fresh: bool,
}

/// User + system CPU seconds of these processes so far (`flinkops_local::process::cpu_ticks`,
/// in Linux's 100 ticks per second); None when one cannot be read.
fn cpu_seconds(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    let ticks: Option<u64> = pids.iter().map(|&p| flinkops_local::process::cpu_ticks(p)).sum();
    Some(ticks? as f64 / 100.0)
}

fn args() -> Result<Args> {
    let mut a = Args {
        quick: false,
        only: Vec::new(),
        flink_version: "2.3.0".into(),
        out: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/bench")),
        warmup: Duration::from_secs(20),
        measure: Duration::from_secs(20),
        ablate: false,
        repeat: 1,
        ab: None,
        report_from: None,
        jfr: false,
        fresh: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--quick" => {
                a.quick = true;
                a.warmup = Duration::from_secs(12);
                a.measure = Duration::from_secs(10);
            }
            "--only" => a.only = it.next().context("--only needs a list")?.split(',').map(str::to_string).collect(),
            "--flink-version" => a.flink_version = it.next().context("--flink-version needs a version")?,
            "--out" => a.out = PathBuf::from(it.next().context("--out needs a directory")?),
            "--warmup" => a.warmup = Duration::from_secs(it.next().context("--warmup needs seconds")?.parse()?),
            "--measure" => a.measure = Duration::from_secs(it.next().context("--measure needs seconds")?.parse()?),
            "--ablate" => a.ablate = true,
            "--jfr" => a.jfr = true,
            "--fresh" => a.fresh = true,
            "--report-from" => a.report_from = Some(PathBuf::from(it.next().context("--report-from needs a file")?)),
            "--repeat" => a.repeat = it.next().context("--repeat needs a count")?.parse::<usize>()?.max(1),
            "--ab" => {
                let spec = it.next().context("--ab needs key=value[,key=value]")?;
                let mut c = Config::new();
                for kv in spec.split(',') {
                    let (k, v) = kv.split_once('=').with_context(|| format!("--ab: `{kv}` is not key=value"))?;
                    c.insert(k.trim().to_string(), v.trim().to_string());
                }
                a.ab = Some(c);
            }
            "-h" | "--help" => {
                println!(
                    "bench/run.sh [--quick] [--only stateless,agg-low,…] [--flink-version 2.3.0] [--out DIR] [--warmup S] [--measure S] [--repeat N] [--ablate | --ab K=V,… | --report-from FILE] [--jfr] [--fresh]\n\
                     --repeat N: N runs (median) of the defaults, of the tuned config and of the grid's best, at different times\n\
                     --ablate:   instead of the suite, per workload: defaults, defaults + each tuned key group, tuned, tuned − each group (docs/bench/ablation.md)\n\
                     --ab K=V,…: instead of the suite, per workload: tuned and tuned with K=V,… alternately, --repeat times (docs/bench/ab.md)\n\
                     --jfr:      record the TaskManager with JFR over every measurement window; the report shows the share of samples per thread and method (OUT/jfr/*.jfr kept)\n\
                     --fresh:    a new cluster for every run (its first job runs and is discarded as `cold:`): variants share no JVM, so no JIT state or cache carries over\n\
                     --report-from FILE[,FILE…]: no runs; the report from FILE (target/bench-partial.json of a stopped suite, or a suite's tuning.json); a later file's runs replace the earlier files' runs of the workloads it has; an A/B's or ablation's ab.json/ablation.json gives its .md again"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (see --help)"),
        }
    }
    Ok(a)
}

/// One workload: its SQL and its description.
#[derive(Debug, Clone)]
struct Bench {
    name: String,
    sql: String,
    workload: Workload,
}

const ORDER: [&str; 8] = ["stateless", "tumble", "hop", "agg-low", "agg-high", "join", "topn", "dedup"];

fn workloads(only: &[String]) -> Result<Vec<Bench>> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/workloads"));
    let mut out = Vec::new();
    for name in ORDER {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let sql = std::fs::read_to_string(dir.join(format!("{name}.sql")))?;
        let yaml_path = dir.join(format!("{name}.yaml"));
        let mut workload = Workload::from_text(&yaml_path.display().to_string(), &std::fs::read_to_string(&yaml_path)?)?;
        // The session zone is a fact of the cluster: the local cluster's JVMs take this
        // machine's, and the harness tells `tune` so, as a user describing their cluster would.
        if workload.time_zone.is_none() {
            workload.time_zone = flinkops_local::java::default_time_zone();
        }
        out.push(Bench { name: name.to_string(), sql, workload });
    }
    if out.is_empty() {
        bail!("no workload matches {only:?} (known: {})", ORDER.join(", "));
    }
    Ok(out)
}

/// Keys only a cluster's processes read (the rest is set per job with SET).
fn is_cluster_key(k: &str) -> bool {
    ["taskmanager.", "jobmanager.", "cluster.", "metrics.", "rest.", "env."].iter().any(|p| k.starts_with(p))
}

fn split(config: &Config) -> (Config, Config) {
    config.iter().map(|(k, v)| (k.clone(), v.clone())).partition(|(k, _)| is_cluster_key(k))
}

/// The workload's requirements, the same for every variant.
fn requirements(w: &Workload) -> Config {
    let mut c = Config::new();
    if let Some(i) = &w.checkpoint_interval {
        c.insert("execution.checkpointing.interval".into(), i.clone());
    }
    c.insert(
        "execution.checkpointing.mode".into(),
        if w.delivery == flinkops_tune::workload::Delivery::ExactlyOnce { "EXACTLY_ONCE" } else { "AT_LEAST_ONCE" }.into(),
    );
    if let Some(t) = &w.state_ttl {
        c.insert("table.exec.state.ttl".into(), t.clone());
    }
    c
}

fn script(b: &Bench, job: &Config, pipeline: &str) -> String {
    let mut s = String::new();
    let mut set = |k: &str, v: &str| s.push_str(&format!("SET '{}' = '{}';\n", k.replace('\'', "''"), v.replace('\'', "''")));
    set("pipeline.name", pipeline);
    for (k, v) in job {
        set(k, v);
    }
    for (k, v) in requirements(&b.workload) {
        set(&k, &v);
    }
    s.push_str(&b.sql);
    s
}

/// What one run measured.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
struct Measured {
    /// Median source records/s over the spans.
    throughput: f64,
    spans: Vec<f64>,
    /// Operator `numRecordsOutPerSecond` (Flink's 60 s meter) summed, at the end, for reference.
    flink_meter: Option<f64>,
    cpu_cores: Option<f64>,
    checkpoint_ms: Option<f64>,
    checkpoints_completed: usize,
    checkpoints_failed: u64,
    load_avg: Option<f64>,
    /// The job's `numRestarts` at the end of the measurement (a restart idles the job for
    /// the restart strategy's delay and replays from the last checkpoint).
    restarts: Option<f64>,
    /// The job's failures (`/jobs/:id/exceptions`): exception class, failing task and the
    /// first line of the stack trace, newest first (at most 3).
    exceptions: Vec<String>,
    /// JFR execution samples of the TaskManager over the window (`--jfr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<jfr::Profile>,
    error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    workload: String,
    variant: String,
    /// What differs from Flink's defaults (cluster and job keys).
    config: Config,
    measured: Measured,
}

struct Harness {
    args: Args,
    home: Home,
    dist: FlinkDist,
    java: Java,
    current: Option<(Config, LocalCluster, FlinkClient)>,
    /// The current cluster has run no job yet (its first job runs slowly: see `run`).
    fresh: bool,
    results: Vec<RunResult>,
    started: Instant,
}

const SLOTS: u32 = 2;

/// The variant of the grid's best configuration run again with the repeats (`run_all`).
pub(crate) const GRID_BEST: &str = "grid best";

impl Harness {
    async fn cluster(&mut self, cfg: &Config, memory: &str) -> Result<FlinkClient> {
        let mut want = cfg.clone();
        want.insert("metrics.fetcher.update-interval".into(), "1 s".into());
        want.insert("taskmanager.memory.process.size".into(), memory.to_string());
        want.entry("taskmanager.numberOfTaskSlots".into()).or_insert_with(|| SLOTS.to_string());
        if let Some((have, _, client)) = &self.current
            && *have == want
        {
            return Ok(client.clone());
        }
        self.down();
        let name = format!("bench-{}", std::process::id());
        let cluster = LocalCluster::new(&self.home, &name);
        let opts = ClusterOptions {
            name: name.clone(),
            taskmanagers: 1,
            slots: SLOTS,
            rest_port: flinkops_local::cluster::free_port()?,
            taskmanager_memory: memory.to_string(),
            extra: want.clone(),
            ..ClusterOptions::default()
        };
        eprintln!("[{:>5.0}s] cluster: {}", self.started.elapsed().as_secs_f64(), want.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "));
        let up = cluster.up(&self.dist, &self.java, &opts).await?;
        let client = FlinkClient::new(up.rest_url.parse()?)?;
        self.current = Some((want, cluster, client.clone()));
        self.fresh = true;
        Ok(client)
    }

    fn down(&mut self) {
        if let Some((_, c, _)) = self.current.take()
            && let Err(e) = c.down(Duration::from_secs(20))
        {
            eprintln!("warning: stopping the bench cluster: {e}");
        }
    }

    /// Runs one variant of one workload and records it.
    async fn run(&mut self, b: &Bench, variant: &str, config: &Config) -> Measured {
        let (cluster_cfg, job_cfg) = split(config);
        let memory = b.workload.cluster.taskmanager_memory.clone();
        if self.args.fresh {
            self.down();
        }
        let m = match self.cluster(&cluster_cfg, &memory).await {
            Ok(client) => {
                // The first job on a new TaskManager often ran slower than the jobs after it
                // (cold JVM: JIT, heap): in 4 of the 6 cluster starts of docs/bench/ablation.md
                // and ab-*.md at 0.2–0.6× of the next run (in 2 faster). Only some variants
                // start a cluster, so that job is run once first and kept only as a `cold:`
                // run, outside every ratio.
                if std::mem::take(&mut self.fresh) {
                    let cold = self.measure(&client, b, variant, &job_cfg).await.unwrap_or_else(|e| Measured { error: Some(format!("{e:#}")), ..Measured::default() });
                    self.log(b, &format!("cold: {variant}"), &cold);
                    self.results.push(RunResult { workload: b.name.clone(), variant: format!("cold: {variant}"), config: config.clone(), measured: cold });
                }
                match self.measure(&client, b, variant, &job_cfg).await {
                    Ok(m) => m,
                    Err(e) => Measured { error: Some(format!("{e:#}")), ..Measured::default() },
                }
            }
            Err(e) => Measured { error: Some(format!("cluster did not start: {e:#}")), ..Measured::default() },
        };
        self.log(b, variant, &m);
        self.results.push(RunResult { workload: b.name.clone(), variant: variant.to_string(), config: config.clone(), measured: m.clone() });
        // what ran so far, in case the suite is stopped before it writes its report
        let partial = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-partial.json"));
        if let Ok(text) = serde_json::to_string_pretty(&self.results) {
            let _ = std::fs::write(partial, text);
        }
        m
    }

    fn log(&self, b: &Bench, variant: &str, m: &Measured) {
        eprintln!(
            "[{:>5.0}s] {:<10} {:<28} {:>10.0} rec/s  cpu {:>4}  ckpt {:>6}  restarts {:>3}  {}{}",
            self.started.elapsed().as_secs_f64(),
            b.name,
            variant,
            m.throughput,
            m.cpu_cores.map(|c| format!("{c:.2}")).unwrap_or_else(|| "-".into()),
            m.checkpoint_ms.map(|c| format!("{c:.0}ms")).unwrap_or_else(|| "-".into()),
            m.restarts.map(|r| format!("{r:.0}")).unwrap_or_else(|| "-".into()),
            m.error.as_deref().unwrap_or(""),
            m.exceptions.first().map(|e| format!(" [{e}]")).unwrap_or_default()
        );
    }

    async fn measure(&self, client: &FlinkClient, b: &Bench, variant: &str, job_cfg: &Config) -> Result<Measured> {
        let load_avg = std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| s.split_whitespace().next()?.parse().ok());
        let sql = script(b, job_cfg, &format!("bench {} {variant}", b.name));
        let job = submit(client, &self.home, Some(&self.dist), Some(&self.java), Program::Sql { script: sql, parallelism_by_name: Default::default() }, &SubmitOptions::default())
            .await
            .map_err(|e| anyhow!("submit: {e}"))?;
        let jfr_file = if self.args.jfr {
            let dir = self.args.out.join("jfr");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let slug: String = variant.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
            Some(dir.join(format!("{:03}-{}-{slug}.jfr", self.results.len(), b.name)))
        } else {
            None
        };
        let result = self.observe(client, &job, jfr_file.as_deref()).await;
        let restarts = client.job_metrics(&job, &["numRestarts"]).await.ok().and_then(|m| m.first().and_then(|m| m.as_f64()));
        let exceptions: Vec<String> = match client.job_exceptions(&job).await {
            Ok(x) => x
                .exception_history
                .entries
                .iter()
                .take(3)
                .map(|e| format!("{} in {}: {}", e.exception_name, e.task_name.as_deref().unwrap_or("-"), e.stacktrace.lines().next().unwrap_or_default()))
                .collect(),
            Err(_) => Vec::new(),
        };
        let _ = client.cancel(&job).await;
        let _ = client.wait_until_terminal(&job, Duration::from_secs(60)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut m = match result {
            Ok(m) => m,
            Err(e) => Measured { error: Some(format!("{e:#}")), ..Measured::default() },
        };
        m.load_avg = load_avg;
        m.restarts = restarts;
        m.exceptions = exceptions;
        Ok(m)
    }

    async fn observe(&self, client: &FlinkClient, job: &JobId, jfr_file: Option<&Path>) -> Result<Measured> {
        let details = client
            .wait_for_job(job, Duration::from_secs(90), "every task running", |j| {
                j.state == JobState::Running && !j.vertices.is_empty() && j.vertices.iter().all(|v| v.status == ExecutionState::Running)
            })
            .await?;
        let running_at = Instant::now();
        let sources: Vec<VertexId> = details.vertices.iter().filter(|v| v.name.starts_with("Source: ")).map(|v| v.id.clone()).collect();
        if sources.is_empty() {
            bail!("no source vertex in {:?}", details.vertices.iter().map(|v| &v.name).collect::<Vec<_>>());
        }
        // The sources' operator-scoped counters, once Flink has registered them.
        let deadline = Instant::now() + Duration::from_secs(60);
        let counters: Vec<(VertexId, String)> = loop {
            let mut found = Vec::new();
            for v in &sources {
                let ids = client.subtask_metrics(job, v, &[], &[]).await?;
                found.extend(ids.into_iter().filter(|m| m.id.starts_with("Source__") && m.id.ends_with(".numRecordsOut")).map(|m| (v.clone(), m.id)));
            }
            if found.len() >= sources.len() {
                break found;
            }
            if Instant::now() > deadline {
                bail!("no Source__*.numRecordsOut metric on the source vertices");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        // CPU: the TaskManager processes' own user + system time (/proc/<pid>/stat). Flink's
        // `Status.JVM.CPU.Time` (used before 2026-12-07) read 3.5–4.2 cores on this 2-core VM.
        let tm_pids: Vec<u32> = self
            .current
            .as_ref()
            .map(|(_, c, _)| c.processes().into_iter().filter(|p| matches!(p.role, Role::TaskManager(_))).filter_map(|p| p.pid).collect())
            .unwrap_or_default();
        let warm_left = self.args.warmup.saturating_sub(running_at.elapsed());
        tokio::time::sleep(warm_left).await;

        if let Some(file) = jfr_file {
            let &[pid] = tm_pids.as_slice() else { bail!("--jfr: expected one TaskManager process, found {}", tm_pids.len()) };
            jfr::start(&self.java.tool("jcmd")?, pid, self.args.measure, file)?;
        }
        // Counter change points: (time, records).
        let mut points: Vec<(Instant, f64)> = Vec::new();
        let cpu0 = (Instant::now(), cpu_seconds(&tm_pids));
        let measure_start_ms = epoch_ms();
        let until = Instant::now() + self.args.measure;
        while Instant::now() < until {
            let mut total = 0.0;
            for (v, id) in &counters {
                let m = client.subtask_metrics(job, v, &[id.as_str()], &[Aggregation::Sum]).await?;
                total += m.first().and_then(|a| a.sum).unwrap_or(0.0);
            }
            if points.last().is_none_or(|p| p.1 != total) {
                points.push((Instant::now(), total));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // 5 s spans between change points.
        let mut spans = Vec::new();
        let mut i = 0;
        while i < points.len() {
            let Some(j) = (i + 1..points.len()).find(|&j| points[j].0.duration_since(points[i].0) >= Duration::from_millis(4500)) else { break };
            let dt = points[j].0.duration_since(points[i].0).as_secs_f64();
            spans.push((points[j].1 - points[i].1) / dt);
            i = j;
        }
        if spans.is_empty() {
            bail!("the source counters did not move during the measurement ({} readings)", points.len());
        }
        let cpu_cores = match (cpu0, cpu_seconds(&tm_pids)) {
            ((t0, Some(c0)), Some(c1)) => Some((c1 - c0) / t0.elapsed().as_secs_f64()),
            _ => None,
        };
        let mut meter = 0.0;
        for (v, id) in &counters {
            let name = format!("{id}PerSecond");
            let m = client.subtask_metrics(job, v, &[name.as_str()], &[Aggregation::Sum]).await?;
            meter += m.first().and_then(|a| a.sum).unwrap_or(0.0);
        }
        let profile = match jfr_file {
            Some(file) => {
                jfr::wait_written(file, Duration::from_secs(30)).await?;
                Some(jfr::summarize(&self.java.tool("jfr")?, file)?)
            }
            None => None,
        };
        let cps = client.checkpoints(job).await?;
        let window: Vec<f64> = cps
            .history
            .iter()
            .filter(|c| c.trigger_timestamp >= measure_start_ms - 10_000 && c.status == flinkops_rest::CheckpointStatus::Completed)
            .map(|c| c.end_to_end_duration as f64)
            .collect();
        Ok(Measured {
            throughput: median(spans.clone()).unwrap_or(0.0),
            spans,
            flink_meter: Some(meter),
            cpu_cores,
            checkpoint_ms: median(window.clone()),
            checkpoints_completed: window.len(),
            checkpoints_failed: cps.counts.failed,
            load_avg: None,
            restarts: None,
            exceptions: Vec::new(),
            profile,
            error: None,
        })
    }
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 })
}

fn cfg(pairs: &[(&str, &str)]) -> Config {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The knobs of the search that apply to a workload, most promising first. Each is a set of
/// keys changed together.
fn knobs(w: &Workload) -> Vec<(&'static str, Config)> {
    let s = &w.sql;
    let mut k = Vec::new();
    if s.group_aggregations || s.distinct_aggregates || s.regular_joins || s.deduplication {
        k.push(("mini-batch", cfg(&[("table.exec.mini-batch.enabled", "true"), ("table.exec.mini-batch.allow-latency", "2 s"), ("table.exec.mini-batch.size", "5000")])));
    }
    k.push(("object-reuse", cfg(&[("pipeline.object-reuse", "true")])));
    k.push(("parallelism-2", cfg(&[("parallelism.default", "2")])));
    // The session zone under the one name Flink's window operators do not convert per record.
    let utc_alias = w.time_zone.as_deref().is_some_and(|z| z != "UTC" && flinkops_tune::workload::Zone::classify(z) == Ok(flinkops_tune::workload::Zone::Utc));
    if s.window_aggregations && utc_alias {
        k.push(("utc", cfg(&[("table.local-time-zone", "UTC")])));
    }
    if w.is_stateful() {
        k.push(("rocksdb", cfg(&[("state.backend.type", "rocksdb")])));
    }
    if !w.is_stateful() {
        k.push(("no-buffer-timeout", cfg(&[("execution.buffer-timeout.enabled", "false")])));
    }
    k
}

/// The cluster-level memory knob: heap state needs no managed memory (window buffers some).
fn memory_knob(w: &Workload, best: &Config) -> Option<Config> {
    if best.get("state.backend.type").is_some_and(|b| b != "hashmap") {
        return None;
    }
    let f = if w.sql.window_aggregations { "0.1" } else { "0" };
    Some(cfg(&[("taskmanager.memory.managed.fraction", f)]))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = args()?;
    let benches = workloads(&args.only)?;
    if let Some(file) = &args.report_from {
        // The report of a suite that was stopped before its end (the runs it finished), or of
        // several: `a.json,b.json` — a later file's runs replace every run of the workloads it
        // has (a suite re-run for some workloads after a change that concerns only them).
        // An A/B's or an ablation's runs (their JSON has the command and the elapsed time):
        // its report again, e.g. after the report changed.
        if let Ok(text) = std::fs::read_to_string(file)
            && let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
            && let (Some(command), Some(elapsed)) = (value.get("command").and_then(|c| c.as_str()), value.get("elapsed_s").and_then(|e| e.as_u64()))
        {
            let runs: Vec<RunResult> = serde_json::from_value(value.get("runs").cloned().unwrap_or_default()).with_context(|| format!("--report-from {}", file.display()))?;
            let name = if command.contains("--ablate") { "ablation" } else { "ab" };
            std::fs::create_dir_all(&args.out)?;
            std::fs::write(args.out.join(format!("{name}.md")), report::ablation_markdown(command, &args.flink_version, &args, elapsed, &runs))?;
            println!("wrote {}/{name}.md from {}", args.out.display(), file.display());
            return Ok(());
        }
        let mut runs: Vec<RunResult> = Vec::new();
        for part in file.to_string_lossy().split(',') {
            let text = std::fs::read_to_string(part).with_context(|| format!("--report-from {part}"))?;
            // A suite's tuning.json holds its runs under "runs"; bench-partial.json is the list.
            let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("--report-from {part}"))?;
            let list = if value.is_array() { value } else { value.get("runs").cloned().with_context(|| format!("--report-from {part}: no runs"))? };
            let these: Vec<RunResult> = serde_json::from_value(list).with_context(|| format!("--report-from {part}"))?;
            let theirs: std::collections::BTreeSet<String> = these.iter().map(|r| r.workload.clone()).collect();
            runs.retain(|r| !theirs.contains(&r.workload));
            runs.extend(these);
        }
        let meta = report::Meta {
            flink_version: args.flink_version.clone(),
            quick: args.quick,
            warmup_s: args.warmup.as_secs(),
            measure_s: args.measure.as_secs(),
            elapsed_s: 0,
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            command: format!("{} (the report from the runs in {})", std::env::var("BENCH_COMMAND").unwrap_or_else(|_| "bench/run.sh".into()), file.display()),
        };
        let rows = report::rows(&benches.iter().map(|b| b.name.clone()).collect::<Vec<_>>(), &runs);
        std::fs::create_dir_all(&args.out)?;
        std::fs::write(args.out.join("tuning.json"), serde_json::to_string_pretty(&serde_json::json!({"meta": meta, "rows": rows, "runs": runs}))? + "\n")?;
        std::fs::write(args.out.join("tuning.md"), report::markdown(&meta, &rows, &runs))?;
        chart::draw(&args.out.join("tuning.png"), &rows, &meta)?;
        println!("{}", report::table(&rows));
        return Ok(());
    }
    let home = Home::resolve(None).map_err(|e| anyhow!("{e}"))?;
    let dist = FlinkDist::resolve(&home, None, Some(&args.flink_version)).map_err(|e| anyhow!("Flink {}: {e} (install it with `flinkops flink install {}`)", args.flink_version, args.flink_version))?;
    let java = Java::find().map_err(|e| anyhow!("{e}"))?;
    let version = dist.version.clone();
    let mut h = Harness { args: args.clone(), home, dist, java, current: None, fresh: false, results: Vec::new(), started: Instant::now() };
    if args.ablate || args.ab.is_some() {
        let file = if args.ablate { "ablation" } else { "ab" };
        let outcome = if args.ablate { ablate(&mut h, &benches, &version).await } else { ab(&mut h, &benches, &version).await };
        h.down();
        outcome?;
        std::fs::create_dir_all(&args.out)?;
        let elapsed = h.started.elapsed().as_secs();
        let command = std::env::var("BENCH_COMMAND").unwrap_or_else(|_| "bench/run.sh --ablate".into());
        std::fs::write(args.out.join(format!("{file}.json")), serde_json::to_string_pretty(&serde_json::json!({"command": command, "elapsed_s": elapsed, "runs": h.results}))? + "\n")?;
        std::fs::write(args.out.join(format!("{file}.md")), report::ablation_markdown(&command, &version, &args, elapsed, &h.results))?;
        println!("wrote {}/{file}.{{md,json}} in {elapsed} s", args.out.display());
        return Ok(());
    }
    let outcome = run_all(&mut h, &benches, &version).await;
    h.down();
    outcome?;
    std::fs::create_dir_all(&args.out)?;
    let rows = report::rows(&benches.iter().map(|b| b.name.clone()).collect::<Vec<_>>(), &h.results);
    let meta = report::Meta {
        flink_version: version,
        quick: args.quick,
        warmup_s: args.warmup.as_secs(),
        measure_s: args.measure.as_secs(),
        elapsed_s: h.started.elapsed().as_secs(),
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        command: std::env::var("BENCH_COMMAND").unwrap_or_else(|_| "bench/run.sh".into()),
    };
    std::fs::write(args.out.join("tuning.json"), serde_json::to_string_pretty(&serde_json::json!({"meta": meta, "rows": rows, "runs": h.results}))? + "\n")?;
    std::fs::write(args.out.join("tuning.md"), report::markdown(&meta, &rows, &h.results))?;
    chart::draw(&args.out.join("tuning.png"), &rows, &meta)?;
    println!("{}", report::table(&rows));
    println!("wrote {}/tuning.{{md,json,png}} in {} s", args.out.display(), meta.elapsed_s);
    Ok(())
}

async fn run_all(h: &mut Harness, benches: &[Bench], version: &str) -> Result<()> {
    // Phase 1, Flink's default cluster: defaults, then the search over job-level knobs.
    let mut best: BTreeMap<String, (Config, f64)> = BTreeMap::new();
    // Every configuration the search measured, per workload: the fastest one is the grid's best.
    let mut candidates: BTreeMap<String, Vec<(Config, f64)>> = BTreeMap::new();
    for b in benches {
        let d = h.run(b, "defaults", &Config::new()).await;
        let mut cur = (Config::new(), d.throughput);
        if d.error.is_none() {
            candidates.entry(b.name.clone()).or_default().push(cur.clone());
        }
        let limit = if h.args.quick { 2 } else { usize::MAX };
        for (name, knob) in knobs(&b.workload).into_iter().take(limit) {
            let mut c = cur.0.clone();
            c.extend(knob);
            let m = h.run(b, &format!("grid +{name}"), &c).await;
            if m.error.is_none() {
                candidates.entry(b.name.clone()).or_default().push((c.clone(), m.throughput));
            }
            if m.error.is_none() && m.throughput > cur.1 * 1.03 {
                cur = (c, m.throughput);
            }
        }
        best.insert(b.name.clone(), cur);
    }
    // Phase 2: the seed's preset (one cluster: its TaskManager keys are the same everywhere).
    for b in benches {
        let seed = flinkops_tune::seed::for_workload(Profile::HighThroughput, &b.workload);
        h.run(b, "seed", &seed).await;
    }
    // Phase 3: flinkops tune, grouped by cluster configuration.
    let mut tuned: Vec<(&Bench, Config)> = Vec::new();
    for b in benches {
        let r = flinkops_tune::recommend(&b.workload, Profile::for_workload(&b.workload), version)?;
        tuned.push((b, r.config));
    }
    tuned.sort_by_key(|(_, c)| split(c).0);
    for (b, c) in &tuned {
        h.run(b, "tuned", c).await;
    }
    // Phase 4: the search's memory knob on the best job-level configuration.
    let mut with_memory: Vec<(&Bench, Config, f64)> = Vec::new();
    for b in benches {
        let Some((c, t)) = best.get(&b.name).cloned() else { continue };
        if let Some(mk) = memory_knob(&b.workload, &c) {
            let mut c2 = c.clone();
            c2.extend(mk);
            with_memory.push((b, c2, t));
        }
    }
    with_memory.sort_by_key(|(_, c, _)| split(c).0);
    for (b, c, _) in with_memory {
        let m = h.run(b, "grid +managed-memory", &c).await;
        if m.error.is_none() {
            candidates.entry(b.name.clone()).or_default().push((c, m.throughput));
        }
    }
    // Phase 5: the garbage collector, a cluster-level knob, on the fastest configuration so
    // far (the JVM's default G1 against the parallel collector, which favours throughput).
    let fastest = |candidates: &BTreeMap<String, Vec<(Config, f64)>>, name: &str| -> Option<Config> {
        candidates.get(name).and_then(|cs| cs.iter().max_by(|x, y| x.1.total_cmp(&y.1))).map(|(c, _)| c.clone())
    };
    let mut with_gc: Vec<(&Bench, Config)> = Vec::new();
    for b in benches {
        if let Some(mut c) = fastest(&candidates, &b.name) {
            c.insert("env.java.opts.taskmanager".into(), flinkops_tune::recommend::PARALLEL_GC.into());
            with_gc.push((b, c));
        }
    }
    with_gc.sort_by_key(|(_, c)| split(c).0);
    for (b, c) in with_gc {
        let m = h.run(b, "grid +parallel-gc", &c).await;
        if m.error.is_none() {
            candidates.entry(b.name.clone()).or_default().push((c, m.throughput));
        }
    }
    // The grid's best is the fastest of single runs: picking the maximum of several noisy
    // runs picks a lucky one too (on this machine repeated runs of one config differ by up to
    // 25 %). So the winning configuration runs again with the repeats, and the table shows the
    // median of all its runs, like the defaults' and the tuned column.
    let mut winners: Vec<(&Bench, Config)> = Vec::new();
    for b in benches {
        if let Some(c) = fastest(&candidates, &b.name) {
            winners.push((b, c));
        }
    }
    winners.sort_by_key(|(_, c)| split(c).0);
    // Repeats: the defaults, the tuned config and the grid's best again, later (the load on
    // this shared machine drifts over minutes; one run per variant compared one moment with
    // another). The table shows each variant's median.
    for _ in 1..h.args.repeat {
        for b in benches {
            h.run(b, "defaults", &Config::new()).await;
        }
        for (b, c) in &tuned {
            h.run(b, "tuned", c).await;
        }
        for (b, c) in &winners {
            h.run(b, GRID_BEST, c).await;
        }
    }
    Ok(())
}

/// The tuned overlay's keys in groups that only act together (restart strategy, mini-batch,
/// network bounds, RocksDB options), without the keys every variant has anyway: the
/// TaskManager size and slots the harness sets, the workload's requirements, and values equal
/// to Flink's defaults.
fn key_groups(b: &Bench, tuned: &Config, version: &str) -> Vec<(String, Config)> {
    let cat = flinkops_config::catalog::Catalog::for_version(version).ok();
    let req = requirements(&b.workload);
    let mut groups: BTreeMap<String, Config> = BTreeMap::new();
    for (k, v) in tuned {
        if k == "taskmanager.memory.process.size" || (k == "taskmanager.numberOfTaskSlots" && *v == SLOTS.to_string()) || req.contains_key(k) {
            continue;
        }
        if cat.and_then(|c| c.get(k)).and_then(|o| o.default.as_deref()) == Some(v.as_str()) {
            continue;
        }
        let g = if k.starts_with("restart-strategy") {
            "restart-strategy".to_string()
        } else if k.starts_with("table.exec.mini-batch.") {
            "mini-batch".to_string()
        } else if k.starts_with("taskmanager.memory.network.") {
            "network-memory".to_string()
        } else if k.starts_with("state.backend.rocksdb.") {
            "rocksdb-options".to_string()
        } else {
            k.clone()
        };
        groups.entry(g).or_default().insert(k.clone(), v.clone());
    }
    groups.into_iter().collect()
}

/// Ablation: which of the tuned keys makes the difference against Flink's defaults.
async fn ablate(h: &mut Harness, benches: &[Bench], version: &str) -> Result<()> {
    for b in benches {
        let tuned = flinkops_tune::recommend(&b.workload, Profile::for_workload(&b.workload), version)?.config;
        let groups = key_groups(b, &tuned, version);
        let mut plan: Vec<(String, Config)> = vec![("defaults".into(), Config::new()), ("tuned".into(), tuned.clone())];
        for (g, keys) in &groups {
            plan.push((format!("defaults + {g}"), keys.clone()));
            let mut minus = tuned.clone();
            for k in keys.keys() {
                minus.remove(k);
            }
            plan.push((format!("tuned - {g}"), minus));
        }
        // fewer cluster restarts: the same cluster keys run one after another
        plan.sort_by_key(|(_, c)| split(c).0);
        for _ in 0..h.args.repeat {
            for (name, c) in &plan {
                h.run(b, name, c).await;
            }
        }
    }
    Ok(())
}

/// A/B: the tuned overlay against the same with `--ab`'s keys, alternately (load drifts: runs
/// next to each other see about the same machine).
async fn ab(h: &mut Harness, benches: &[Bench], version: &str) -> Result<()> {
    let extra = h.args.ab.clone().unwrap_or_default();
    let label = extra.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    for b in benches {
        let tuned = flinkops_tune::recommend(&b.workload, Profile::for_workload(&b.workload), version)?.config;
        let mut other = tuned.clone();
        other.extend(extra.clone());
        for _ in 0..h.args.repeat {
            h.run(b, "tuned", &tuned).await;
            h.run(b, &format!("tuned + {label}"), &other).await;
        }
    }
    Ok(())
}
