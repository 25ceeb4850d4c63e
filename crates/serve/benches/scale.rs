//! Scale benchmark of `flinkops serve`: memory (RSS) and reconcile cycle time while it manages
//! N jobs, with N = 10 measured in the same run as the baseline.
//!
//! ```text
//! cargo bench -p flinkops-serve --bench scale -- [--jobs 1000] [--seconds 120] [--warmup 30] [--tick-secs 5] [--baseline 10] [--inject-every 3]
//! ```
//!
//! - A Flink REST simulator (axum on 127.0.0.1, a free port) answers every endpoint serve uses
//!   with the bodies recorded from a real Flink 2.3.0 (`crates/rest/tests/fixtures/2.3.0`), job
//!   ids, names and timestamps substituted: a run request creates a RUNNING job named by its
//!   `pipeline.name`; its checkpoints complete every [`SIM_CHECKPOINT_MS`] (also its configured
//!   interval); its job metrics and every vertex's subtask metrics answer as recorded (with a
//!   busy time and record rates).
//! - The real `flinkops serve` binary runs as a child process. It is `$FLINKOPS_BIN`, else
//!   `<target>/release/flinkops` (`$CARGO_TARGET_DIR` or the workspace's `target/`); when that is
//!   missing the bench builds it first with `cargo build --release -p flinkops`.
//! - serve needs a Flink 2.3 distribution and Java to build the SQL runner jar it uploads:
//!   `$FLINKOPS_HOME`, else the workspace's `target/test-home` (`scripts/test.sh` installs 2.3.0
//!   there).
//! - Measured: time until all N jobs run; then, after `--warmup` seconds (the jobs' first
//!   checkpoints), over a steady window of `--seconds`: serve's RSS
//!   (VmRSS sampled from `/proc/<pid>/status`, and VmHWM), its CPU (utime + stime from
//!   `/proc/<pid>/stat`), reconcile step durations (the `flinkops_reconcile_duration_seconds`
//!   histogram of `/metrics`, difference over the window), the interval between two reconciles of
//!   a job and the full-fleet cycle (from `reconciled_at` in `/api/v1/status`, sampled every second:
//!   for each sample at time t, how long until every job was reconciled after t; a light step
//!   counts), light and full steps (`flinkops_reconcile_steps_total`; the duration histogram
//!   counts full steps only).
//! - Change detection: every `--inject-every` seconds (default 3, 0: none) the simulator restarts
//!   one running job the way Flink's restart strategy does (state `RESTARTING`, a new
//!   `last-modification`); measured is how long until serve's status shows the job `STARTING`
//!   (polled every second, so the figures include up to a second of polling), after which the
//!   job runs again. Not shown within 60 s counts as missed.
//!
//! - `--postgres`: the store is a fresh PostgreSQL 15 server per scenario
//!   (`flinkops_control::testing::Postgres`, 127.0.0.1, `fsync=off`) instead of SQLite.
//!
//! Every process started here is stopped by its pid; the store and the spec live in temp dirs.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

// ---- recorded Flink 2.3.0 responses -----------------------------------------------------------

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../rest/tests/fixtures/2.3.0/", $name, ".json"))
    };
}

/// The job id, job name and jar id in the recording (replaced by the simulated ones).
const REC_JID: &str = "1a0181b3f17e47b21f89aaca830d78ec";
const REC_JID_RESTORED: &str = "482f971aee7ebfaa0cb6afb48b1a8d65";
const REC_NAME: &str = "flinkops-fixture";
/// How often the simulated jobs complete a checkpoint.
const SIM_CHECKPOINT_MS: i64 = 10_000;
/// The simulator re-renders `/jobs/overview` at most this often (its durations age); serve's
/// own cost is what is measured, not the simulator's.
const OVERVIEW_CACHE_MS: u128 = 250;

fn parse(text: &str, what: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("the recorded fixture {what} does not parse: {e}"))
}

struct Templates {
    overview: Value,
    config: &'static str,
    jars: &'static str,
    jar_upload: Value,
    jar_run: Value,
    jar_delete: &'static str,
    jobs_overview_entry: Value,
    job_running: &'static str,
    job_finished: &'static str,
    job_cancelled: &'static str,
    checkpoints: Value,
    checkpoints_restored: Value,
    checkpoints_config: Value,
    job_metrics: &'static str,
    subtask_metrics: Value,
    savepoint_trigger: Value,
    savepoint_completed: Value,
    stop_trigger: Value,
    cancel: &'static str,
    error_job_not_found: &'static str,
    error_jar_not_found: &'static str,
}

impl Templates {
    fn load() -> Templates {
        let jobs_overview = parse(fixture!("jobs_overview_running"), "jobs_overview_running");
        let entry = jobs_overview["jobs"][0].clone();
        assert!(entry.is_object(), "jobs_overview_running.json has no job");
        Templates {
            overview: parse(fixture!("overview"), "overview"),
            config: fixture!("config"),
            jars: fixture!("jars"),
            jar_upload: parse(fixture!("jar_upload"), "jar_upload"),
            jar_run: parse(fixture!("jar_run"), "jar_run"),
            jar_delete: fixture!("jar_delete"),
            jobs_overview_entry: entry,
            job_running: fixture!("job_running"),
            job_finished: fixture!("job_finished"),
            job_cancelled: fixture!("job_cancelled"),
            checkpoints: parse(fixture!("checkpoints_running"), "checkpoints_running"),
            checkpoints_restored: parse(fixture!("checkpoints_restored"), "checkpoints_restored"),
            checkpoints_config: parse(fixture!("checkpoints_config"), "checkpoints_config"),
            job_metrics: fixture!("job_metrics"),
            subtask_metrics: parse(fixture!("subtask_metrics_agg"), "subtask_metrics_agg"),
            savepoint_trigger: parse(fixture!("savepoint_trigger"), "savepoint_trigger"),
            savepoint_completed: parse(fixture!("savepoint_status_completed"), "savepoint_status_completed"),
            stop_trigger: parse(fixture!("stop_trigger"), "stop_trigger"),
            cancel: fixture!("cancel"),
            error_job_not_found: fixture!("error_job_not_found"),
            error_jar_not_found: fixture!("error_jar_not_found"),
        }
    }
}

// ---- the simulator ------------------------------------------------------------------------------

fn now_ms() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_millis()).expect("epoch ms fit i64")
}

#[derive(Clone)]
struct SimJob {
    jid: String,
    name: String,
    start: i64,
    state: &'static str,
    end: i64,
    /// When the job last changed state (`last-modification`).
    modified: i64,
    restored_from: Option<String>,
}

#[derive(Default)]
struct SimState {
    jobs: Vec<SimJob>,
    by_id: HashMap<String, usize>,
    jars: HashMap<String, ()>,
    /// trigger id → (job id, savepoint location).
    triggers: HashMap<String, (String, String)>,
    /// Rendered `/jobs/overview` and when.
    overview_cache: Option<(Instant, Bytes)>,
}

/// Requests by endpoint and bytes of `/jobs/overview` served.
#[derive(Default)]
struct SimCounters {
    requests: Mutex<BTreeMap<&'static str, u64>>,
    overview_bytes: AtomicU64,
}

struct Sim {
    t: Templates,
    state: Mutex<SimState>,
    counters: SimCounters,
    seq: AtomicU64,
}

type S = Arc<Sim>;

impl Sim {
    fn count(&self, endpoint: &'static str) {
        *self.counters.requests.lock().expect("counter lock").entry(endpoint).or_default() += 1;
    }
    fn hex_id(&self, bits: u64) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}{:016x}", bits ^ 0x5ca1_e000_0000_0000, n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
    fn requests(&self) -> BTreeMap<&'static str, u64> {
        self.counters.requests.lock().expect("counter lock").clone()
    }
    /// Flink's restart strategy at work on a running job: `RESTARTING` (`back` false), then
    /// `RUNNING` again (`back` true), each with a new `last-modification`, as in Flink.
    /// Returns whether the job was found.
    fn restart(&self, jid: &str, back: bool) -> bool {
        let mut st = self.state.lock().expect("sim lock");
        let Some(&i) = st.by_id.get(jid) else { return false };
        st.jobs[i].state = if back { "RUNNING" } else { "RESTARTING" };
        st.jobs[i].modified = now_ms();
        st.overview_cache = None;
        true
    }
    /// The id of the `k`-th job (in submission order) that runs now, cycling.
    fn running_job(&self, k: usize) -> Option<String> {
        let st = self.state.lock().expect("sim lock");
        let running: Vec<&SimJob> = st.jobs.iter().filter(|j| j.state == "RUNNING").collect();
        (!running.is_empty()).then(|| running[k % running.len()].jid.clone())
    }
}

fn json_body(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json; charset=UTF-8")], body.into()).into_response()
}

fn value_body(status: StatusCode, v: &Value) -> Response {
    json_body(status, serde_json::to_vec(v).expect("a JSON value serializes"))
}

async fn overview(State(s): State<S>) -> Response {
    s.count("GET /overview");
    let running = s.state.lock().expect("sim lock").jobs.iter().filter(|j| j.state == "RUNNING").count();
    let mut v = s.t.overview.clone();
    v["jobs-running"] = json!(running);
    v["slots-total"] = json!(running.max(1) * 2);
    v["slots-available"] = json!(running);
    value_body(StatusCode::OK, &v)
}

async fn config(State(s): State<S>) -> Response {
    s.count("GET /config");
    json_body(StatusCode::OK, s.t.config)
}

async fn jars(State(s): State<S>) -> Response {
    s.count("GET /jars");
    json_body(StatusCode::OK, s.t.jars)
}

async fn jar_upload(State(s): State<S>, body: Bytes) -> Response {
    s.count("POST /jars/upload");
    let id = format!("{}_flinkops-sql-runner.jar", s.hex_id(body.len() as u64));
    s.state.lock().expect("sim lock").jars.insert(id.clone(), ());
    let mut v = s.t.jar_upload.clone();
    let recorded = v["filename"].as_str().unwrap_or("/tmp/flink-web-upload/x.jar").to_string();
    let dir = recorded.rsplit_once('/').map_or("/tmp", |(d, _)| d).to_string();
    v["filename"] = json!(format!("{dir}/{id}"));
    value_body(StatusCode::OK, &v)
}

async fn jar_run(State(s): State<S>, UrlPath(jar): UrlPath<String>, body: Bytes) -> Response {
    s.count("POST /jars/:id/run");
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let name = req["flinkConfiguration"]["pipeline.name"].as_str().unwrap_or("unnamed").to_string();
    let restored_from = req["savepointPath"].as_str().map(str::to_string);
    let jid = s.hex_id(0);
    {
        let mut st = s.state.lock().expect("sim lock");
        if !st.jars.contains_key(&jar) {
            return json_body(StatusCode::INTERNAL_SERVER_ERROR, s.t.error_jar_not_found);
        }
        let i = st.jobs.len();
        let start = now_ms();
        st.jobs.push(SimJob { jid: jid.clone(), name, start, state: "RUNNING", end: -1, modified: start + 1_000, restored_from });
        st.by_id.insert(jid.clone(), i);
        st.overview_cache = None;
    }
    let mut v = s.t.jar_run.clone();
    v["jobid"] = json!(jid);
    v["applicationId"] = json!(jid);
    value_body(StatusCode::OK, &v)
}

async fn jar_delete(State(s): State<S>, UrlPath(jar): UrlPath<String>) -> Response {
    s.count("DELETE /jars/:id");
    s.state.lock().expect("sim lock").jars.remove(&jar);
    json_body(StatusCode::OK, s.t.jar_delete)
}

fn render_overview(s: &Sim, st: &SimState) -> Bytes {
    let now = now_ms();
    let jobs: Vec<Value> = st
        .jobs
        .iter()
        .map(|j| {
            let mut e = s.t.jobs_overview_entry.clone();
            e["jid"] = json!(j.jid);
            e["name"] = json!(j.name);
            e["state"] = json!(j.state);
            e["start-time"] = json!(j.start);
            e["end-time"] = json!(j.end);
            e["duration"] = json!(if j.end > 0 { j.end - j.start } else { now - j.start });
            e["last-modification"] = json!(if j.end > 0 { j.end } else { j.modified });
            e
        })
        .collect();
    Bytes::from(serde_json::to_vec(&json!({ "jobs": jobs })).expect("a JSON value serializes"))
}

async fn jobs_overview(State(s): State<S>) -> Response {
    s.count("GET /jobs/overview");
    let body = {
        let mut st = s.state.lock().expect("sim lock");
        match &st.overview_cache {
            Some((at, b)) if at.elapsed().as_millis() < OVERVIEW_CACHE_MS => b.clone(),
            _ => {
                let b = render_overview(&s, &st);
                st.overview_cache = Some((Instant::now(), b.clone()));
                b
            }
        }
    };
    s.counters.overview_bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    json_body(StatusCode::OK, body)
}

fn job_of(s: &Sim, jid: &str) -> Option<SimJob> {
    let st = s.state.lock().expect("sim lock");
    st.by_id.get(jid).map(|&i| st.jobs[i].clone())
}

async fn job(State(s): State<S>, UrlPath(jid): UrlPath<String>) -> Response {
    s.count("GET /jobs/:id");
    let Some(j) = job_of(&s, &jid) else { return json_body(StatusCode::NOT_FOUND, s.t.error_job_not_found) };
    let template = match j.state {
        "RUNNING" | "RESTARTING" => s.t.job_running,
        "CANCELED" => s.t.job_cancelled,
        _ => s.t.job_finished,
    };
    let text = template.replace(REC_JID, &j.jid).replace(REC_JID_RESTORED, &j.jid).replace(REC_NAME, &j.name);
    let mut v = parse(&text, "job");
    v["state"] = json!(j.state);
    v["start-time"] = json!(j.start);
    v["end-time"] = json!(j.end);
    v["now"] = json!(now_ms());
    value_body(StatusCode::OK, &v)
}

async fn cancel(State(s): State<S>, UrlPath(jid): UrlPath<String>) -> Response {
    s.count("PATCH /jobs/:id");
    let mut st = s.state.lock().expect("sim lock");
    let Some(&i) = st.by_id.get(&jid) else { return json_body(StatusCode::NOT_FOUND, s.t.error_job_not_found) };
    st.jobs[i].state = "CANCELED";
    st.jobs[i].end = now_ms();
    st.jobs[i].modified = st.jobs[i].end;
    st.overview_cache = None;
    json_body(StatusCode::ACCEPTED, s.t.cancel)
}

async fn checkpoints(State(s): State<S>, UrlPath(jid): UrlPath<String>) -> Response {
    s.count("GET /jobs/:id/checkpoints");
    let Some(j) = job_of(&s, &jid) else { return json_body(StatusCode::NOT_FOUND, s.t.error_job_not_found) };
    let until = if j.end > 0 { j.end } else { now_ms() };
    let done = (until - j.start) / SIM_CHECKPOINT_MS;
    let mut v = s.t.checkpoints.clone();
    v["counts"]["completed"] = json!(done);
    v["counts"]["total"] = json!(done);
    let path = |id: i64| format!("file:/tmp/flinkops-scale-sim/checkpoints/{}/chk-{id}", j.jid);
    let history_template = v["history"][0].clone();
    let history: Vec<Value> = (0..done.min(3))
        .map(|k| {
            let id = done - k;
            let mut c = history_template.clone();
            let trigger = j.start + id * SIM_CHECKPOINT_MS;
            c["id"] = json!(id);
            c["trigger_timestamp"] = json!(trigger);
            c["latest_ack_timestamp"] = json!(trigger + 32);
            c["external_path"] = json!(path(id));
            c
        })
        .collect();
    v["latest"]["completed"] = history.first().cloned().unwrap_or(Value::Null);
    v["history"] = Value::Array(history);
    if let Some(from) = &j.restored_from {
        let mut r = s.t.checkpoints_restored["latest"]["restored"].clone();
        if r.is_object() {
            r["external_path"] = json!(from);
            r["restore_timestamp"] = json!(j.start);
            v["latest"]["restored"] = r;
            v["counts"]["restored"] = json!(1);
        }
    }
    value_body(StatusCode::OK, &v)
}

async fn checkpoints_config(State(s): State<S>, UrlPath(jid): UrlPath<String>) -> Response {
    s.count("GET /jobs/:id/checkpoints/config");
    if job_of(&s, &jid).is_none() {
        return json_body(StatusCode::NOT_FOUND, s.t.error_job_not_found);
    }
    let mut v = s.t.checkpoints_config.clone();
    v["interval"] = json!(SIM_CHECKPOINT_MS);
    value_body(StatusCode::OK, &v)
}

async fn job_metrics(State(s): State<S>, UrlPath(jid): UrlPath<String>) -> Response {
    s.count("GET /jobs/:id/metrics");
    if job_of(&s, &jid).is_none() {
        return json_body(StatusCode::NOT_FOUND, s.t.error_job_not_found);
    }
    json_body(StatusCode::OK, s.t.job_metrics)
}

/// Every vertex reports the recorded aggregates, with a busy time (the recording's is NaN: its
/// job had just started) and record rates of a job reading 10 rows per second.
async fn subtask_metrics(State(s): State<S>, UrlPath((jid, _vid)): UrlPath<(String, String)>) -> Response {
    s.count("GET /jobs/:id/vertices/:vid/subtasks/metrics");
    if job_of(&s, &jid).is_none() {
        return json_body(StatusCode::NOT_FOUND, s.t.error_job_not_found);
    }
    let mut v = s.t.subtask_metrics.clone();
    if let Some(ms) = v.as_array_mut() {
        for m in ms {
            let x = match m["id"].as_str() {
                Some("busyTimeMsPerSecond") => 120.0,
                Some("numRecordsInPerSecond" | "numRecordsOutPerSecond") => 10.0,
                _ => continue,
            };
            for agg in ["min", "max", "avg", "sum"] {
                m[agg] = json!(x);
            }
        }
    }
    value_body(StatusCode::OK, &v)
}

fn new_trigger(s: &Sim, jid: &str) -> String {
    let tid = s.hex_id(1);
    let location = format!("file:/tmp/flinkops-scale-sim/savepoints/savepoint-{}-{}", &jid[..6], &tid[..12]);
    s.state.lock().expect("sim lock").triggers.insert(tid.clone(), (jid.to_string(), location));
    tid
}

async fn savepoint_trigger(State(s): State<S>, UrlPath(jid): UrlPath<String>) -> Response {
    s.count("POST /jobs/:id/savepoints");
    if job_of(&s, &jid).is_none() {
        return json_body(StatusCode::NOT_FOUND, s.t.error_job_not_found);
    }
    let mut v = s.t.savepoint_trigger.clone();
    v["request-id"] = json!(new_trigger(&s, &jid));
    value_body(StatusCode::ACCEPTED, &v)
}

async fn stop(State(s): State<S>, UrlPath(jid): UrlPath<String>) -> Response {
    s.count("POST /jobs/:id/stop");
    if job_of(&s, &jid).is_none() {
        return json_body(StatusCode::NOT_FOUND, s.t.error_job_not_found);
    }
    let tid = new_trigger(&s, &jid);
    {
        let mut st = s.state.lock().expect("sim lock");
        if let Some(&i) = st.by_id.get(&jid) {
            st.jobs[i].state = "FINISHED";
            st.jobs[i].end = now_ms();
            st.jobs[i].modified = st.jobs[i].end;
        }
        st.overview_cache = None;
    }
    let mut v = s.t.stop_trigger.clone();
    v["request-id"] = json!(tid);
    value_body(StatusCode::ACCEPTED, &v)
}

async fn savepoint_status(State(s): State<S>, UrlPath((_jid, tid)): UrlPath<(String, String)>) -> Response {
    s.count("GET /jobs/:id/savepoints/:trigger");
    let Some((_, location)) = s.state.lock().expect("sim lock").triggers.get(&tid).cloned() else {
        return json_body(StatusCode::NOT_FOUND, s.t.error_job_not_found);
    };
    let mut v = s.t.savepoint_completed.clone();
    v["operation"]["location"] = json!(location);
    value_body(StatusCode::OK, &v)
}

async fn not_found(State(s): State<S>, uri: axum::http::Uri) -> Response {
    s.count("other (404)");
    value_body(StatusCode::NOT_FOUND, &json!({"errors": [format!("Not found: {}", uri.path())]}))
}

struct SimHandle {
    url: String,
    sim: S,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

async fn start_sim() -> SimHandle {
    let sim = Arc::new(Sim { t: Templates::load(), state: Mutex::new(SimState::default()), counters: SimCounters::default(), seq: AtomicU64::new(1) });
    let app = Router::new()
        .route("/overview", get(overview))
        .route("/config", get(config))
        .route("/jars", get(jars))
        .route("/jars/upload", post(jar_upload))
        .route("/jars/{jar}/run", post(jar_run))
        .route("/jars/{jar}", delete(jar_delete))
        .route("/jobs/overview", get(jobs_overview))
        .route("/jobs/{jid}", get(job).patch(cancel))
        .route("/jobs/{jid}/checkpoints", get(checkpoints))
        .route("/jobs/{jid}/checkpoints/config", get(checkpoints_config))
        .route("/jobs/{jid}/metrics", get(job_metrics))
        .route("/jobs/{jid}/vertices/{vid}/subtasks/metrics", get(subtask_metrics))
        .route("/jobs/{jid}/savepoints", post(savepoint_trigger))
        .route("/jobs/{jid}/savepoints/{tid}", get(savepoint_status))
        .route("/jobs/{jid}/stop", post(stop))
        .fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .with_state(sim.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("the simulator binds a free port on 127.0.0.1");
    let addr: SocketAddr = listener.local_addr().expect("the simulator's address");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    SimHandle { url: format!("http://{addr}"), sim, stop: Some(tx), task }
}

impl SimHandle {
    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
        self.task.abort();
    }
}

// ---- serve as a child process -----------------------------------------------------------------

fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace directory exists")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_dir().join("target"))
}

/// The `flinkops` binary to measure (a release build; built here when absent).
fn flinkops_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("FLINKOPS_BIN") {
        return PathBuf::from(p);
    }
    let bin = target_dir().join("release").join("flinkops");
    if !bin.is_file() {
        eprintln!("{} is missing: building it with `cargo build --release -p flinkops`", bin.display());
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo).args(["build", "--release", "-p", "flinkops"]).current_dir(workspace_dir()).status().expect("cargo runs");
        assert!(status.success(), "`cargo build --release -p flinkops` failed");
    }
    bin
}

fn flinkops_home() -> PathBuf {
    std::env::var_os("FLINKOPS_HOME").map(PathBuf::from).unwrap_or_else(|| workspace_dir().join("target/test-home"))
}

const JOB_SQL: &str = "CREATE TABLE src (k INT, v BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10', 'fields.k.min' = '1', 'fields.k.max' = '100');\n\
CREATE TABLE snk (k INT, c BIGINT, s BIGINT) WITH ('connector' = 'blackhole');\n\
INSERT INTO snk SELECT k, COUNT(*), SUM(v) FROM src GROUP BY k;\n";

fn spec_yaml(platform: &str, rest_url: &str, n: usize) -> String {
    let mut s = format!(
        "platform: {platform}\n\
         environments:\n\
         \x20 sim:\n\
         \x20   target: standalone\n\
         \x20   flinkVersion: \"2.3\"\n\
         \x20   restUrl: {rest_url}\n\
         \x20   metrics: {{targets: [\"127.0.0.1:9249\"]}}\n\
         \x20   taskManager: {{replicas: 10, memory: 1728m, slots: 100}}\n\
         \x20   parallelism: 1\n\
         \x20   checkpointing: {{interval: 10s, mode: exactly-once}}\n\
         jobs:\n"
    );
    for i in 0..n {
        s.push_str(&format!("  job-{i:04}:\n    sql: job.sql\n    upgradeMode: stateless\n"));
    }
    s
}

/// serve's child process, stopped (SIGTERM, then SIGKILL) by its pid on drop.
struct ServeProcess {
    child: Child,
}

impl ServeProcess {
    fn pid(&self) -> u32 {
        self.child.id()
    }
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("a pid fits i32"));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// VmRSS and VmHWM of a process, in KiB.
fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| text.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok());
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn clock_ticks_per_sec() -> f64 {
    Command::new("getconf").arg("CLK_TCK").output().ok().and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok()).unwrap_or(100.0)
}

// ---- measuring ---------------------------------------------------------------------------------

/// The reconcile-duration histogram summed over every job: `le` → cumulative count, sum, count.
#[derive(Debug, Default, Clone)]
struct Hist {
    buckets: BTreeMap<u64, f64>,
    sum: f64,
    count: f64,
}

/// `le` in nanoseconds (a sortable key); +Inf is u64::MAX.
fn le_key(le: &str) -> u64 {
    if le == "+Inf" { u64::MAX } else { (le.parse::<f64>().unwrap_or(f64::MAX) * 1e9).round() as u64 }
}

fn parse_hist(text: &str) -> Hist {
    let mut h = Hist::default();
    for line in text.lines() {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        if series.starts_with("flinkops_reconcile_duration_seconds_bucket{") {
            let Some(le) = series.split("le=\"").nth(1).and_then(|r| r.split('"').next()) else { continue };
            *h.buckets.entry(le_key(le)).or_default() += value;
        } else if series.starts_with("flinkops_reconcile_duration_seconds_sum{") {
            h.sum += value;
        } else if series.starts_with("flinkops_reconcile_duration_seconds_count{") {
            h.count += value;
        }
    }
    h
}

/// `flinkops_reconcile_steps_total` by kind (`light`, `full:<why>`); empty for a serve that
/// does not export it (every step of such a serve is a full one, counted by the histogram).
fn parse_steps(text: &str) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("flinkops_reconcile_steps_total{") else { continue };
        let Some((labels, value)) = rest.rsplit_once("} ") else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        let label = |name: &str| labels.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string();
        let key = match label("kind").as_str() {
            "full" => format!("full:{}", label("why")),
            k => k.to_string(),
        };
        *m.entry(key).or_default() += value;
    }
    m
}

fn minus_steps(after: &BTreeMap<String, f64>, before: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    after.iter().map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0))).collect()
}

impl Hist {
    fn minus(&self, before: &Hist) -> Hist {
        Hist {
            buckets: self.buckets.iter().map(|(k, v)| (*k, v - before.buckets.get(k).copied().unwrap_or(0.0))).collect(),
            sum: self.sum - before.sum,
            count: self.count - before.count,
        }
    }
    /// Prometheus' `histogram_quantile`: linear within the bucket (seconds).
    fn quantile(&self, q: f64) -> f64 {
        if self.count <= 0.0 {
            return f64::NAN;
        }
        let rank = q * self.count;
        let (mut prev_le, mut prev_count) = (0.0, 0.0);
        for (&le, &c) in &self.buckets {
            if c >= rank {
                if le == u64::MAX {
                    // Beyond the last finite bucket: only a lower bound is known.
                    return f64::INFINITY;
                }
                let le_s = le as f64 / 1e9;
                let within = if c > prev_count { (rank - prev_count) / (c - prev_count) } else { 0.0 };
                return prev_le + (le_s - prev_le) * within;
            }
            prev_le = le as f64 / 1e9;
            prev_count = c;
        }
        prev_le
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    percentile(&s, 0.5)
}

struct Snapshot {
    at_ms: i64,
    /// `reconciled_at` per job, in the order of the status view.
    updated: Vec<Option<i64>>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct Figures {
    jobs: usize,
    deploy_s: f64,
    rss_deploy_peak_mib: f64,
    rss_steady_median_mib: f64,
    rss_hwm_mib: f64,
    cpu_cores_steady: f64,
    step_count: f64,
    step_mean_ms: f64,
    step_p50_ms: f64,
    step_p95_ms: f64,
    step_p99_ms: f64,
    light_steps_per_s: f64,
    full_steps_per_s: f64,
    /// Full steps per second by why (`full:due`, `full:changed`, …); empty for a serve without
    /// light steps.
    full_steps_by_why: BTreeMap<String, f64>,
    /// Injected restarts (RESTARTING) and how long until serve's status showed them.
    injected: usize,
    detected: usize,
    /// Not shown within [`DETECT_TIMEOUT`].
    missed: usize,
    detect_p50_s: f64,
    detect_p95_s: f64,
    detect_max_s: f64,
    job_interval_median_s: f64,
    job_interval_p95_s: f64,
    fleet_cycle_median_s: f64,
    fleet_cycle_max_s: f64,
    jobs_overview_per_s: f64,
    jobs_overview_mib_per_s: f64,
    sim_requests_per_s: f64,
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn text(&self, path: &str) -> Option<String> {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.text().await.ok()
    }
    async fn status(&self) -> Option<Value> {
        serde_json::from_str(&self.text("/api/v1/status").await?).ok()
    }
}

fn wait_for_listen(log: &Path, child: &mut Child, deadline: Duration) -> String {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if let Ok(text) = std::fs::read_to_string(log)
            && let Some(url) = text.lines().find_map(|l| l.split(" on http://").nth(1)).and_then(|r| r.split_whitespace().next())
        {
            return format!("http://{url}");
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("serve exited ({status}) before listening:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("serve did not report its address within {deadline:?}:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}

/// An injected restart not shown by serve within this long counts as missed (and is undone).
const DETECT_TIMEOUT: Duration = Duration::from_secs(60);

async fn run_scenario(n: usize, seconds: u64, warmup: u64, tick_secs: u64, inject_every: u64, postgres: bool, bin: &Path) -> Figures {
    let sim = start_sim().await;
    // `--postgres`: a fresh PostgreSQL server per scenario (stopped by its pid when dropped).
    let pg = postgres.then(flinkops_control::testing::Postgres::start);
    let dir = tempfile::tempdir().expect("a temp dir for the spec and the store");
    let platform = format!("scale-bench-{}-{n}", std::process::id());
    let spec = dir.path().join("flinkops.yaml");
    std::fs::write(dir.path().join("job.sql"), JOB_SQL).expect("writing job.sql");
    std::fs::write(&spec, spec_yaml(&platform, &sim.url, n)).expect("writing the spec");
    let store = match &pg {
        Some(pg) => std::ffi::OsString::from(pg.url("postgres")),
        None => {
            let store = dir.path().join("store");
            std::fs::create_dir_all(&store).expect("creating the store dir");
            store.into_os_string()
        }
    };
    let token = dir.path().join("token");
    std::fs::write(&token, "scale-bench-token").expect("writing the token");
    let log = dir.path().join("serve.log");
    let home = flinkops_home();

    let started = Instant::now();
    let child = Command::new(bin)
        .args(["serve", "--spec"])
        .arg(&spec)
        .arg("--store")
        .arg(&store)
        .args(["--listen", "127.0.0.1:0", "--tick-secs", &tick_secs.to_string(), "--token-file"])
        .arg(&token)
        .env("FLINKOPS_HOME", &home)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("serve.out")).expect("serve.out"))
        .stderr(std::fs::File::create(&log).expect("serve.log"))
        .spawn()
        .expect("starting flinkops serve");
    let mut serve = ServeProcess { child };
    let pid = serve.pid();
    let url = wait_for_listen(&log, &mut serve.child, Duration::from_secs(120));
    let client = Client { http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("an HTTP client"), base: url };

    // RSS sampler.
    let rss: Arc<Mutex<Vec<(f64, u64, u64)>>> = Arc::default();
    let sampler = {
        let rss = rss.clone();
        tokio::spawn(async move {
            loop {
                if let Some((r, h)) = rss_kib(pid) {
                    rss.lock().expect("rss lock").push((started.elapsed().as_secs_f64(), r, h));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    // Deployment: until every job runs.
    let deploy_deadline = Duration::from_secs(900);
    let deploy_s = loop {
        if let Some(st) = client.status().await {
            let jobs = st["jobs"].as_array().cloned().unwrap_or_default();
            let running = jobs.iter().filter(|j| j["state"] == "RUNNING" && j["phase"] == "running").count();
            if jobs.len() == n && running == n {
                break started.elapsed().as_secs_f64();
            }
        }
        assert!(started.elapsed() < deploy_deadline, "not all {n} jobs ran within {deploy_deadline:?}; serve's log: {}", log.display());
        assert!(matches!(serve.child.try_wait(), Ok(None)), "serve exited during deployment:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let rss_deploy_peak = rss.lock().expect("rss lock").iter().map(|s| s.1).max().unwrap_or(0);

    // Steady window, after the jobs' first checkpoints and the first full steps that follow.
    tokio::time::sleep(Duration::from_secs(warmup)).await;
    let window_start = started.elapsed().as_secs_f64();
    let metrics0 = client.text("/metrics").await.unwrap_or_default();
    let hist0 = parse_hist(&metrics0);
    let steps0 = parse_steps(&metrics0);
    let cpu0 = flinkops_local::process::cpu_ticks(pid);
    let req0 = sim.sim.requests();
    let bytes0 = sim.sim.counters.overview_bytes.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let mut snaps: Vec<Snapshot> = Vec::new();
    // Restarts injected every `inject_every` seconds (Flink job id → when), and how long serve's
    // status took to show each (the job's state STARTING).
    let mut injected: HashMap<String, i64> = HashMap::new();
    let (mut n_injected, mut missed) = (0usize, 0usize);
    let mut detect: Vec<f64> = Vec::new();
    let mut second = 0u64;
    while t0.elapsed() < Duration::from_secs(seconds) {
        second += 1;
        if inject_every > 0 && second.is_multiple_of(inject_every) {
            let k = (n_injected * 7919) % n.max(1);
            if let Some(jid) = sim.sim.running_job(k).filter(|j| !injected.contains_key(j))
                && sim.sim.restart(&jid, false)
            {
                injected.insert(jid, now_ms());
                n_injected += 1;
            }
        }
        let at_ms = now_ms();
        if let Some(st) = client.status().await {
            let seen_at = now_ms();
            let jobs = st["jobs"].as_array().cloned().unwrap_or_default();
            for j in &jobs {
                if let Some(id) = j["flink_job_id"].as_str()
                    && j["state"] == "STARTING"
                    && let Some(t) = injected.remove(id)
                {
                    detect.push((seen_at - t) as f64 / 1000.0);
                    sim.sim.restart(id, true);
                }
            }
            let updated = jobs.iter().map(|j| j["reconciled_at"].as_i64()).collect();
            snaps.push(Snapshot { at_ms, updated });
        }
        let timed_out: Vec<String> = injected.iter().filter(|(_, t)| now_ms() - **t > DETECT_TIMEOUT.as_millis() as i64).map(|(id, _)| id.clone()).collect();
        for id in timed_out {
            injected.remove(&id);
            missed += 1;
            sim.sim.restart(&id, true);
        }
        let next = Duration::from_secs(snaps.len() as u64);
        if let Some(wait) = next.checked_sub(t0.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    let window = t0.elapsed().as_secs_f64();
    let cpu1 = flinkops_local::process::cpu_ticks(pid);
    let metrics1 = client.text("/metrics").await.unwrap_or_default();
    let hist = parse_hist(&metrics1).minus(&hist0);
    let steps = minus_steps(&parse_steps(&metrics1), &steps0);
    // Restarts injected in the window's last seconds are undone uncounted.
    for id in injected.keys() {
        sim.sim.restart(id, true);
    }
    n_injected -= injected.len();
    detect.sort_by(f64::total_cmp);
    let req1 = sim.sim.requests();
    let bytes1 = sim.sim.counters.overview_bytes.load(Ordering::Relaxed);
    sampler.abort();
    let samples = rss.lock().expect("rss lock").clone();
    assert!(matches!(serve.child.try_wait(), Ok(None)), "serve exited during the steady window:\n{}", std::fs::read_to_string(&log).unwrap_or_default());

    serve.stop();
    // `SCALE_BENCH_KEEP_LOGS=DIR` keeps serve's log (`serve-<N>.log`; run serve with e.g.
    // `FLINKOPS_LOG=info,flinkops_serve=debug` for more).
    if let Some(keep) = std::env::var_os("SCALE_BENCH_KEEP_LOGS") {
        let _ = std::fs::create_dir_all(&keep);
        let _ = std::fs::copy(&log, Path::new(&keep).join(format!("serve-{n}.log")));
    }
    sim.stop().await;
    let _ = std::fs::remove_dir_all(home.join("serve").join(&platform));

    // Reconcile intervals per job and full-fleet cycles.
    let jobs = snaps.first().map_or(0, |s| s.updated.len());
    let mut intervals = Vec::new();
    for k in 0..jobs {
        let mut seen: Vec<i64> = snaps.iter().filter_map(|s| s.updated.get(k).copied().flatten()).collect();
        seen.dedup();
        intervals.extend(seen.windows(2).map(|w| (w[1] - w[0]) as f64 / 1000.0));
    }
    intervals.sort_by(f64::total_cmp);
    let mut cycles = Vec::new();
    for (i, s) in snaps.iter().enumerate() {
        let mut worst: Option<i64> = Some(s.at_ms);
        for k in 0..jobs {
            let first_after = snaps[i..].iter().filter_map(|x| x.updated.get(k).copied().flatten()).find(|&u| u > s.at_ms);
            worst = match (worst, first_after) {
                (Some(w), Some(u)) => Some(w.max(u)),
                _ => None,
            };
        }
        if let Some(w) = worst {
            cycles.push((w - s.at_ms) as f64 / 1000.0);
        }
    }
    cycles.sort_by(f64::total_cmp);

    let steady_rss: Vec<f64> = samples.iter().filter(|s| s.0 >= window_start).map(|s| s.1 as f64 / 1024.0).collect();
    let hwm = samples.iter().map(|s| s.2).max().unwrap_or(0);
    let overview_calls = req1.get("GET /jobs/overview").copied().unwrap_or(0) - req0.get("GET /jobs/overview").copied().unwrap_or(0);
    let all_requests: u64 = req1.values().sum::<u64>() - req0.values().sum::<u64>();
    let ms = |s: f64| s * 1000.0;
    Figures {
        jobs: n,
        deploy_s,
        rss_deploy_peak_mib: rss_deploy_peak as f64 / 1024.0,
        rss_steady_median_mib: median(&steady_rss),
        rss_hwm_mib: hwm as f64 / 1024.0,
        cpu_cores_steady: match (cpu0, cpu1) {
            (Some(a), Some(b)) => (b - a) as f64 / clock_ticks_per_sec() / window,
            _ => f64::NAN,
        },
        step_count: hist.count,
        light_steps_per_s: steps.get("light").copied().unwrap_or(0.0) / window,
        full_steps_per_s: hist.count / window,
        full_steps_by_why: steps.iter().filter(|(k, _)| k.starts_with("full:")).map(|(k, v)| (k.clone(), v / window)).collect(),
        injected: n_injected,
        detected: detect.len(),
        missed,
        detect_p50_s: percentile(&detect, 0.5),
        detect_p95_s: percentile(&detect, 0.95),
        detect_max_s: detect.last().copied().unwrap_or(f64::NAN),
        step_mean_ms: if hist.count > 0.0 { ms(hist.sum / hist.count) } else { f64::NAN },
        step_p50_ms: ms(hist.quantile(0.5)),
        step_p95_ms: ms(hist.quantile(0.95)),
        step_p99_ms: ms(hist.quantile(0.99)),
        job_interval_median_s: percentile(&intervals, 0.5),
        job_interval_p95_s: percentile(&intervals, 0.95),
        fleet_cycle_median_s: percentile(&cycles, 0.5),
        fleet_cycle_max_s: cycles.last().copied().unwrap_or(f64::NAN),
        jobs_overview_per_s: overview_calls as f64 / window,
        jobs_overview_mib_per_s: (bytes1 - bytes0) as f64 / window / (1024.0 * 1024.0),
        sim_requests_per_s: all_requests as f64 / window,
    }
}

// ---- main --------------------------------------------------------------------------------------

struct Args {
    jobs: usize,
    baseline: usize,
    seconds: u64,
    tick_secs: u64,
    inject_every: u64,
    warmup: u64,
    postgres: bool,
}

fn args() -> Args {
    let mut a = Args { jobs: 1000, baseline: 10, seconds: 120, tick_secs: 5, inject_every: 3, warmup: 30, postgres: false };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = || argv.get(i + 1).unwrap_or_else(|| panic!("{} needs a value", argv[i]));
        match argv[i].as_str() {
            "--jobs" => a.jobs = value().parse().expect("--jobs takes a number"),
            "--baseline" => a.baseline = value().parse().expect("--baseline takes a number"),
            "--seconds" => a.seconds = value().parse().expect("--seconds takes a number"),
            "--tick-secs" => a.tick_secs = value().parse().expect("--tick-secs takes a number"),
            "--warmup" => a.warmup = value().parse().expect("--warmup takes a number of seconds"),
            "--inject-every" => a.inject_every = value().parse().expect("--inject-every takes a number of seconds (0: none)"),
            "--postgres" => {
                a.postgres = true;
                i += 1;
                continue;
            }
            // `cargo bench` passes `--bench`; other harness flags are ignored too.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    assert!(a.jobs >= 1 && a.baseline >= 1, "--jobs and --baseline must be at least 1");
    a
}

fn main() {
    let a = args();
    let bin = flinkops_bin();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime");
    eprintln!(
        "scale bench: serve = {}, FLINKOPS_HOME = {}, store {}, tick {} s, warm-up {} s, steady window {} s",
        bin.display(),
        flinkops_home().display(),
        if a.postgres { "PostgreSQL" } else { "SQLite" },
        a.tick_secs,
        a.warmup,
        a.seconds
    );
    let mut results = Vec::new();
    for n in [a.baseline, a.jobs] {
        eprintln!("scale bench: {n} jobs …");
        let f = rt.block_on(run_scenario(n, a.seconds, a.warmup, a.tick_secs, a.inject_every, a.postgres, &bin));
        eprintln!("scale bench: {n} jobs deployed in {:.1} s", f.deploy_s);
        results.push(f);
    }
    let (b, m) = (&results[0], &results[1]);
    let rows: Vec<(&str, String, String, String)> = {
        let r = |x: f64, y: f64| if x.is_finite() && y.is_finite() && x != 0.0 { format!("{:.2}×", y / x) } else { "-".into() };
        // An infinite quantile lies beyond the histogram's last bucket (32.768 s); a NaN cycle
        // means no full-fleet cycle completed within the window.
        let f1 = |v: f64| if v.is_infinite() { "> 32768".into() } else if v.is_nan() { "> window".into() } else { format!("{v:.1}") };
        let f2 = |v: f64| if v.is_nan() { "> window".into() } else { format!("{v:.2}") };
        vec![
            ("deploy all jobs (s)", f1(b.deploy_s), f1(m.deploy_s), r(b.deploy_s, m.deploy_s)),
            ("RSS steady, median (MiB)", f1(b.rss_steady_median_mib), f1(m.rss_steady_median_mib), r(b.rss_steady_median_mib, m.rss_steady_median_mib)),
            ("RSS peak while deploying (MiB)", f1(b.rss_deploy_peak_mib), f1(m.rss_deploy_peak_mib), r(b.rss_deploy_peak_mib, m.rss_deploy_peak_mib)),
            ("VmHWM (MiB)", f1(b.rss_hwm_mib), f1(m.rss_hwm_mib), r(b.rss_hwm_mib, m.rss_hwm_mib)),
            ("serve CPU, steady (cores)", f2(b.cpu_cores_steady), f2(m.cpu_cores_steady), r(b.cpu_cores_steady, m.cpu_cores_steady)),
            ("full reconcile steps in window", format!("{:.0}", b.step_count), format!("{:.0}", m.step_count), r(b.step_count, m.step_count)),
            ("full steps per s", f2(b.full_steps_per_s), f2(m.full_steps_per_s), r(b.full_steps_per_s, m.full_steps_per_s)),
            ("light steps per s", f2(b.light_steps_per_s), f2(m.light_steps_per_s), r(b.light_steps_per_s, m.light_steps_per_s)),
            ("restarts injected / shown / missed", format!("{}/{}/{}", b.injected, b.detected, b.missed), format!("{}/{}/{}", m.injected, m.detected, m.missed), "-".into()),
            ("restart shown after, p50 (s)", f2(b.detect_p50_s), f2(m.detect_p50_s), r(b.detect_p50_s, m.detect_p50_s)),
            ("restart shown after, p95 (s)", f2(b.detect_p95_s), f2(m.detect_p95_s), r(b.detect_p95_s, m.detect_p95_s)),
            ("restart shown after, max (s)", f2(b.detect_max_s), f2(m.detect_max_s), r(b.detect_max_s, m.detect_max_s)),
            ("step duration p50 (ms)", f1(b.step_p50_ms), f1(m.step_p50_ms), r(b.step_p50_ms, m.step_p50_ms)),
            ("step duration p95 (ms)", f1(b.step_p95_ms), f1(m.step_p95_ms), r(b.step_p95_ms, m.step_p95_ms)),
            ("step duration p99 (ms)", f1(b.step_p99_ms), f1(m.step_p99_ms), r(b.step_p99_ms, m.step_p99_ms)),
            ("step duration mean (ms)", f1(b.step_mean_ms), f1(m.step_mean_ms), r(b.step_mean_ms, m.step_mean_ms)),
            ("per-job step interval p50 (s)", f2(b.job_interval_median_s), f2(m.job_interval_median_s), r(b.job_interval_median_s, m.job_interval_median_s)),
            ("per-job step interval p95 (s)", f2(b.job_interval_p95_s), f2(m.job_interval_p95_s), r(b.job_interval_p95_s, m.job_interval_p95_s)),
            ("fleet cycle (any step), median (s)", f2(b.fleet_cycle_median_s), f2(m.fleet_cycle_median_s), r(b.fleet_cycle_median_s, m.fleet_cycle_median_s)),
            ("fleet cycle (any step), max (s)", f2(b.fleet_cycle_max_s), f2(m.fleet_cycle_max_s), r(b.fleet_cycle_max_s, m.fleet_cycle_max_s)),
            ("GET /jobs/overview per s", f1(b.jobs_overview_per_s), f1(m.jobs_overview_per_s), r(b.jobs_overview_per_s, m.jobs_overview_per_s)),
            ("/jobs/overview MiB/s parsed", f2(b.jobs_overview_mib_per_s), f2(m.jobs_overview_mib_per_s), r(b.jobs_overview_mib_per_s, m.jobs_overview_mib_per_s)),
            ("Flink REST requests per s", f1(b.sim_requests_per_s), f1(m.sim_requests_per_s), r(b.sim_requests_per_s, m.sim_requests_per_s)),
        ]
    };
    println!();
    println!("flinkops serve at scale (tick {} s, steady window {} s, Flink 2.3.0 REST simulator)", a.tick_secs, a.seconds);
    println!("| {:<36} | {:>10} | {:>10} | {:>9} |", "", format!("{} jobs", b.jobs), format!("{} jobs", m.jobs), "ratio");
    println!("|{:-<38}|{:-<12}|{:-<12}|{:-<11}|", "", "", "", "");
    for (name, x, y, ratio) in &rows {
        println!("| {name:<36} | {x:>10} | {y:>10} | {ratio:>9} |");
    }
    let rss_per_job_kib = (m.rss_steady_median_mib - b.rss_steady_median_mib) * 1024.0 / (m.jobs - b.jobs).max(1) as f64;
    println!();
    println!("RSS per additional job: {rss_per_job_kib:.1} KiB (steady medians, {} vs {} jobs)", m.jobs, b.jobs);
    println!("full-fleet cycle {} vs {} jobs: {:.2}× (medians); per-job step p50 {:.2}×", m.jobs, b.jobs, m.fleet_cycle_median_s / b.fleet_cycle_median_s, m.step_p50_ms / b.step_p50_ms);
    let line = json!({
        "bench": "serve-scale",
        "tick_secs": a.tick_secs,
        "window_secs": a.seconds,
        "baseline": b,
        "measured": m,
        "rss_per_job_kib": rss_per_job_kib,
        "fleet_cycle_ratio": m.fleet_cycle_median_s / b.fleet_cycle_median_s,
        "step_p50_ratio": m.step_p50_ms / b.step_p50_ms,
    });
    for f in [b, m] {
        if !f.full_steps_by_why.is_empty() {
            let why: Vec<String> = f.full_steps_by_why.iter().map(|(k, v)| format!("{}={v:.2}", k.trim_start_matches("full:"))).collect();
            println!("full steps per s at {} jobs, by why: {}", f.jobs, why.join(", "));
        }
    }
    println!("{line}");
}
