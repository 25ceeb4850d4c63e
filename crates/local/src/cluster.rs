//! The local Flink session cluster: one JobManager and N TaskManagers as background processes,
//! started from a generated configuration in `$FLINKOPS_HOME/clusters/<name>/`:
//!
//! ```text
//! cluster.json            what was started (version, ports, sizes) — the cluster's identity
//! conf/config.yaml        Flink's configuration (flink-conf.yaml for 1.x), log4j.properties
//! log/jobmanager.{log,out}, log/taskmanager-<i>.{log,out}
//! pids/jobmanager.pid, pids/taskmanager-<i>.pid
//! checkpoints/ savepoints/ tmp/ uploads/
//! ```
//!
//! The building blocks (`start_process`, `process_status`, `stop_process`, `health`) are public
//! so the control plane's supervisor can restart a dead process on its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::dist::FlinkDist;
use crate::home::Home;
use crate::java::Java;
use crate::process;
use crate::{Error, Result};

/// JVM flags Flink's own scripts pass on Java 17 (`env.java.default-opts.all` of the distribution).
pub const JAVA_MODULE_FLAGS: &[&str] = &[
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.text=ALL-UNNAMED",
    "--add-opens=java.base/java.time=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED",
];

const JM_CLASS: &str = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
const TM_CLASS: &str = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";

/// What `flinkops local up` was asked for.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The cluster's name (its directory under `clusters/`).
    pub name: String,
    pub taskmanagers: u32,
    pub slots: u32,
    pub rest_port: u16,
    /// `jobmanager.memory.process.size`.
    pub jobmanager_memory: String,
    /// `taskmanager.memory.process.size`.
    pub taskmanager_memory: String,
    /// Extra Flink settings (`-D key=value`), applied last.
    pub extra: BTreeMap<String, String>,
    /// How long `up` waits for every TaskManager to register.
    pub start_timeout: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            name: "default".into(),
            taskmanagers: 1,
            slots: 4,
            rest_port: 8081,
            jobmanager_memory: "1024m".into(),
            taskmanager_memory: "1728m".into(),
            extra: BTreeMap::new(),
            start_timeout: Duration::from_secs(120),
        }
    }
}

/// A cluster's recorded identity (`cluster.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClusterState {
    pub name: String,
    pub flink_version: String,
    pub flink_home: PathBuf,
    pub rest_port: u16,
    pub rpc_port: u16,
    /// The TaskManagers the cluster was started with (its base).
    pub taskmanagers: u32,
    pub slots: u32,
    /// The TaskManagers that run now, by index, when it differs from `1..=taskmanagers`: serve's
    /// autoscaler adds TaskManagers when slots run short ([`LocalCluster::add_taskmanagers`]) and
    /// stops idle ones beyond the base ([`LocalCluster::remove_taskmanager`]). Empty: the base.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taskmanager_indices: Vec<u32>,
    /// The effective Flink configuration written to the conf dir.
    pub config: BTreeMap<String, String>,
    pub started_at_ms: u64,
}

impl ClusterState {
    /// The TaskManagers that should run now.
    pub fn taskmanager_roles(&self) -> Vec<Role> {
        if self.taskmanager_indices.is_empty() {
            (1..=self.taskmanagers).map(Role::TaskManager).collect()
        } else {
            self.taskmanager_indices.iter().copied().map(Role::TaskManager).collect()
        }
    }

    /// Every process that should run now: the JobManager, then the TaskManagers.
    pub fn roles(&self) -> Vec<Role> {
        std::iter::once(Role::JobManager).chain(self.taskmanager_roles()).collect()
    }
}

/// The `taskmanager.resource-id` prefix of a TaskManager of a cluster flinkops started: its id in
/// Flink's REST API (`/taskmanagers`) is this, then the start time in ms (unique per start, so a
/// restarted process never poses as the one before it).
pub fn resource_id_prefix(role: Role) -> Option<String> {
    match role {
        Role::JobManager => None,
        Role::TaskManager(i) => Some(format!("flinkops-taskmanager-{i}-")),
    }
}

/// One process of the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(tag = "role", content = "index", rename_all = "lowercase")]
pub enum Role {
    JobManager,
    TaskManager(u32),
}

impl Role {
    /// `jobmanager` / `taskmanager-2`: the stem of its pid and log files.
    pub fn file_stem(&self) -> String {
        match self {
            Role::JobManager => "jobmanager".into(),
            Role::TaskManager(i) => format!("taskmanager-{i}"),
        }
    }

    fn main_class(&self) -> &'static str {
        match self {
            Role::JobManager => JM_CLASS,
            Role::TaskManager(_) => TM_CLASS,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::JobManager => write!(f, "JobManager"),
            Role::TaskManager(i) => write!(f, "TaskManager {i}"),
        }
    }
}

/// A process's observed state.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessStatus {
    pub role: Role,
    pub pid: Option<u32>,
    pub alive: bool,
    pub log: PathBuf,
}

/// What `up` did.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub name: String,
    pub flink_version: String,
    pub rest_url: String,
    pub already_running: bool,
    pub taskmanagers: u32,
    pub slots_total: u32,
    pub elapsed_ms: u64,
    pub dir: PathBuf,
}

/// A local cluster's directory and its recorded state.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    pub name: String,
    pub dir: PathBuf,
}

impl LocalCluster {
    pub fn new(home: &Home, name: &str) -> LocalCluster {
        LocalCluster { name: name.to_string(), dir: home.cluster_dir(name) }
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join("cluster.json")
    }

    pub fn conf_dir(&self) -> PathBuf {
        self.dir.join("conf")
    }

    pub fn pid_path(&self, role: Role) -> PathBuf {
        self.dir.join("pids").join(format!("{}.pid", role.file_stem()))
    }

    /// The Flink log of a process (`.log`); its stdout/stderr go to `.out` beside it.
    pub fn log_path(&self, role: Role) -> PathBuf {
        self.dir.join("log").join(format!("{}.log", role.file_stem()))
    }

    pub fn out_path(&self, role: Role) -> PathBuf {
        self.dir.join("log").join(format!("{}.out", role.file_stem()))
    }

    pub fn checkpoint_dir(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }

    pub fn savepoint_dir(&self) -> PathBuf {
        self.dir.join("savepoints")
    }

    /// The recorded state, if the cluster was ever started.
    pub fn state(&self) -> Option<ClusterState> {
        let text = std::fs::read_to_string(self.state_path()).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn rest_url(state: &ClusterState) -> String {
        format!("http://127.0.0.1:{}", state.rest_port)
    }

    /// The processes the recorded state expects, with what is running now.
    pub fn processes(&self) -> Vec<ProcessStatus> {
        let Some(state) = self.state() else { return Vec::new() };
        state.roles().into_iter().map(|r| self.process_status(r)).collect()
    }

    /// Whether one process runs (pid file present, process alive and really ours).
    pub fn process_status(&self, role: Role) -> ProcessStatus {
        let pid = process::read_pid(&self.pid_path(role));
        let alive = pid.is_some_and(|p| process::is_ours(p, &self.marker()));
        ProcessStatus { role, pid, alive, log: self.log_path(role) }
    }

    /// A string every process of this cluster has on its command line (its conf dir).
    fn marker(&self) -> String {
        self.conf_dir().display().to_string()
    }

    /// True when the JobManager process of this cluster runs.
    pub fn is_running(&self) -> bool {
        self.process_status(Role::JobManager).alive
    }

    /// Starts the cluster and waits until every TaskManager has registered. On any failure,
    /// everything this call started is stopped again.
    pub async fn up(&self, dist: &FlinkDist, java: &Java, opts: &ClusterOptions) -> Result<UpReport> {
        let started = Instant::now();
        let report = |state: &ClusterState, overview: &flinkops_rest::ClusterOverview, already_running: bool| UpReport {
            name: self.name.clone(),
            flink_version: state.flink_version.clone(),
            rest_url: Self::rest_url(state),
            already_running,
            taskmanagers: overview.taskmanagers,
            slots_total: overview.slots_total,
            elapsed_ms: started.elapsed().as_millis() as u64,
            dir: self.dir.clone(),
        };
        if let Some(state) = self.state().filter(|_| self.is_running()) {
            let client = flinkops_rest::FlinkClient::new(rest_url_parsed(&state)?)?;
            return Ok(report(&state, &client.overview().await?, true));
        }
        // Not running: whatever is left (stale pid files, orphaned TaskManagers) goes first.
        self.stop_all(Duration::from_secs(10));
        if !process::port_free(opts.rest_port) {
            return Err(Error::PortInUse { port: opts.rest_port, owner: process::port_owner(opts.rest_port) });
        }
        let rpc_port = free_port()?;
        let state = self.write_config(dist, opts, rpc_port)?;
        match self.start_and_wait(dist, java, &state, opts.start_timeout).await {
            Ok(overview) => Ok(report(&state, &overview, false)),
            Err(e) => {
                self.stop_all(Duration::from_secs(10));
                Err(e)
            }
        }
    }

    async fn start_and_wait(&self, dist: &FlinkDist, java: &Java, state: &ClusterState, timeout: Duration) -> Result<flinkops_rest::ClusterOverview> {
        let roles = state.roles();
        // Validate both memory models before starting anything: a rejected config starts nothing.
        for role in [Role::JobManager, Role::TaskManager(1)] {
            memory_params(dist, &state.config, role)?;
        }
        for role in &roles {
            self.start_process(dist, java, *role)?;
        }
        let client = flinkops_rest::FlinkClient::new(rest_url_parsed(state)?)?;
        let deadline = Instant::now() + timeout;
        loop {
            for role in &roles {
                // Plain liveness here: right after spawn a `java` shim (jenv, sdkman) may not
                // have exec'd the JVM yet, so the command line is not ours until it has.
                let pid = process::read_pid(&self.pid_path(*role));
                if !pid.is_some_and(process::is_alive) {
                    let log = self.log_path(*role);
                    let reason = process::failure_reason(&log)
                        .or_else(|| process::failure_reason(&self.out_path(*role)))
                        .unwrap_or_else(|| format!("no error in its log; last lines of {}:\n{}", self.out_path(*role).display(), process::tail(&self.out_path(*role), 10)));
                    return Err(Error::ProcessDied { role: role.to_string(), reason, log });
                }
            }
            if let Ok(o) = client.overview().await
                && o.taskmanagers >= state.taskmanagers
            {
                return Ok(o);
            }
            if Instant::now() > deadline {
                return Err(Error::StartTimeout {
                    what: format!("{} TaskManager(s) to register at {}", state.taskmanagers, Self::rest_url(state)),
                    secs: timeout.as_secs(),
                    logs: self.dir.join("log"),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Writes conf/, cluster.json and the state directories; returns the recorded state.
    pub fn write_config(&self, dist: &FlinkDist, opts: &ClusterOptions, rpc_port: u16) -> Result<ClusterState> {
        let config = generate_config(&self.dir, dist, opts, rpc_port);
        for sub in ["conf", "log", "pids", "checkpoints", "savepoints", "tmp", "uploads"] {
            let d = self.dir.join(sub);
            std::fs::create_dir_all(&d).map_err(Error::io("creating", &d))?;
        }
        let conf_file = self.conf_dir().join(dist.config_file_name());
        std::fs::write(&conf_file, render_flat_yaml(&config)).map_err(Error::io("writing", &conf_file))?;
        // A 2.x conf dir must not also hold a flink-conf.yaml (and vice versa): remove leftovers.
        let other = self.conf_dir().join(if dist.config_file_name() == "config.yaml" { "flink-conf.yaml" } else { "config.yaml" });
        let _ = std::fs::remove_file(other);
        let log4j = self.conf_dir().join("log4j.properties");
        std::fs::write(&log4j, LOG4J).map_err(Error::io("writing", &log4j))?;
        let state = ClusterState {
            name: self.name.clone(),
            flink_version: dist.version.clone(),
            flink_home: dist.path.clone(),
            rest_port: opts.rest_port,
            rpc_port,
            taskmanagers: opts.taskmanagers,
            slots: opts.slots,
            taskmanager_indices: Vec::new(),
            config,
            started_at_ms: now_ms(),
        };
        self.save_state(&state)?;
        Ok(state)
    }

    pub fn save_state(&self, state: &ClusterState) -> Result<()> {
        let path = self.state_path();
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(state).map_err(|e| Error::Other(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(Error::io("writing", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(Error::io("writing", &path))
    }

    /// Starts one process in the background (its own process group, so a Ctrl-C of the CLI
    /// does not reach it) and records its pid. JVM sizes come from Flink's memory model.
    pub fn start_process(&self, dist: &FlinkDist, java: &Java, role: Role) -> Result<u32> {
        let state = self.state().ok_or_else(|| Error::NotRunning { name: self.name.clone() })?;
        let (jvm, dynamic) = memory_params(dist, &state.config, role)?;
        let out_path = self.out_path(role);
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&out_path).map_err(Error::io("opening", &out_path))?;
        let err = out.try_clone().map_err(Error::io("opening", &out_path))?;
        let mut cmd = Command::new(&java.java);
        cmd.args(&jvm)
            .args(java_opts(&state.config, role))
            .arg(format!("-Dlog.file={}", self.log_path(role).display()))
            .arg(format!("-Dlog4j.configuration=file:{}/log4j.properties", self.conf_dir().display()))
            .arg(format!("-Dlog4j.configurationFile=file:{}/log4j.properties", self.conf_dir().display()))
            .arg("-classpath")
            .arg(dist.classpath())
            .arg(role.main_class())
            .arg("--configDir")
            .arg(self.conf_dir());
        for (k, v) in &dynamic {
            cmd.arg("-D").arg(format!("{k}={v}"));
        }
        if let Some(prefix) = resource_id_prefix(role) {
            cmd.arg("-D").arg(format!("taskmanager.resource-id={prefix}{}", now_ms()));
        }
        cmd.env("FLINK_PLUGINS_DIR", dist.plugins_dir())
            .env("FLINK_CONF_DIR", self.conf_dir())
            .env("FLINK_LIB_DIR", dist.lib_dir())
            .env("FLINK_HOME", &dist.path)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let pid = process::spawn_detached(&mut cmd, &role.to_string()).map_err(|e| Error::Other(format!("starting the {role} with {}: {e}", java.java.display())))?;
        let pid_path = self.pid_path(role);
        std::fs::write(&pid_path, pid.to_string()).map_err(Error::io("writing", &pid_path))?;
        tracing::info!(%role, pid, "started");
        Ok(pid)
    }

    /// Starts `n` more TaskManagers (indices after the highest in use), recording them in the
    /// cluster's state first, so that supervision keeps them up (and a crash after the record
    /// starts them at the next supervision pass). Does not wait for them to register.
    pub fn add_taskmanagers(&self, dist: &FlinkDist, java: &Java, n: u32) -> Result<Vec<Role>> {
        let mut state = self.state().ok_or_else(|| Error::NotRunning { name: self.name.clone() })?;
        let mut indices: Vec<u32> = state.taskmanager_roles().into_iter().filter_map(|r| if let Role::TaskManager(i) = r { Some(i) } else { None }).collect();
        let mut added = Vec::new();
        for _ in 0..n {
            let next = indices.iter().max().copied().unwrap_or(0) + 1;
            indices.push(next);
            added.push(Role::TaskManager(next));
        }
        state.taskmanager_indices = indices;
        self.save_state(&state)?;
        for role in &added {
            self.start_process(dist, java, *role)?;
        }
        Ok(added)
    }

    /// Stops a TaskManager and removes it from the cluster's state (supervision no longer starts
    /// it). Refuses to go below the cluster's base number of TaskManagers.
    pub fn remove_taskmanager(&self, role: Role, grace: Duration) -> Result<()> {
        let mut state = self.state().ok_or_else(|| Error::NotRunning { name: self.name.clone() })?;
        let mut roles = state.taskmanager_roles();
        if !matches!(role, Role::TaskManager(_)) || !roles.contains(&role) {
            return Err(Error::Other(format!("{role} is not a TaskManager of cluster {}", self.name)));
        }
        if roles.len() as u32 <= state.taskmanagers {
            return Err(Error::Other(format!("cluster {} runs its base of {} TaskManager(s); none is removed", self.name, state.taskmanagers)));
        }
        roles.retain(|r| *r != role);
        // The record first: a crash after it leaves a process supervision no longer restarts,
        // which `stop_all` still stops (it goes by pid files).
        state.taskmanager_indices = roles.into_iter().filter_map(|r| if let Role::TaskManager(i) = r { Some(i) } else { None }).collect();
        self.save_state(&state)?;
        self.stop_process(role, grace);
        Ok(())
    }

    /// Stops one process: SIGTERM, then SIGKILL after `grace`. Removes its pid file.
    pub fn stop_process(&self, role: Role, grace: Duration) -> bool {
        let st = self.process_status(role);
        let gone = match st.pid {
            Some(pid) if st.alive => process::stop(pid, grace),
            _ => true,
        };
        if gone {
            let _ = std::fs::remove_file(self.pid_path(role));
        }
        gone
    }

    /// Stops every process that has a pid file (TaskManagers first). Returns the roles stopped.
    pub fn stop_all(&self, grace: Duration) -> Vec<Role> {
        let mut roles: Vec<Role> = std::fs::read_dir(self.dir.join("pids"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let stem = name.strip_suffix(".pid")?;
                if stem == "jobmanager" {
                    Some(Role::JobManager)
                } else {
                    stem.strip_prefix("taskmanager-")?.parse().ok().map(Role::TaskManager)
                }
            })
            .collect();
        roles.sort_by_key(|r| matches!(r, Role::JobManager));
        let mut stopped = Vec::new();
        for role in roles {
            let was_alive = self.process_status(role).alive;
            if self.stop_process(role, grace) && was_alive {
                stopped.push(role);
            }
        }
        stopped
    }

    /// `local down`: graceful stop of every process. Error when nothing was running.
    pub fn down(&self, grace: Duration) -> Result<Vec<Role>> {
        if self.state().is_none() {
            return Err(Error::NotRunning { name: self.name.clone() });
        }
        Ok(self.stop_all(grace))
    }
}

fn rest_url_parsed(state: &ClusterState) -> Result<url::Url> {
    url::Url::parse(&LocalCluster::rest_url(state)).map_err(|e| Error::Other(e.to_string()))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A free TCP port on 127.0.0.1 chosen by the OS.
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Other(format!("cannot find a free port: {e}")))?;
    l.local_addr().map(|a| a.port()).map_err(|e| Error::Other(format!("cannot find a free port: {e}")))
}

/// The Flink configuration of a local cluster. Keys differ between 1.x and 2.x where Flink
/// renamed them; everything binds to 127.0.0.1.
pub fn generate_config(dir: &Path, dist: &FlinkDist, opts: &ClusterOptions, rpc_port: u16) -> BTreeMap<String, String> {
    // The `execution.checkpointing.*` names exist since 1.20, where the `state.*` ones became
    // deprecated aliases (and 2.0 removed them).
    let new_checkpoint_keys = dist.major_minor() >= (1, 20);
    let uri = |p: &str| format!("file://{}", dir.join(p).display());
    let mut c = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        c.insert(k.to_string(), v);
    };
    set("jobmanager.rpc.address", "127.0.0.1".into());
    set("jobmanager.rpc.port", rpc_port.to_string());
    set("jobmanager.bind-host", "127.0.0.1".into());
    set("taskmanager.bind-host", "127.0.0.1".into());
    set("taskmanager.host", "127.0.0.1".into());
    set("rest.address", "127.0.0.1".into());
    set("rest.bind-address", "127.0.0.1".into());
    set("rest.port", opts.rest_port.to_string());
    set("jobmanager.memory.process.size", opts.jobmanager_memory.clone());
    set("taskmanager.memory.process.size", opts.taskmanager_memory.clone());
    set("taskmanager.numberOfTaskSlots", opts.slots.to_string());
    set("parallelism.default", "1".into());
    // The adaptive scheduler lets flinkops rescale a running job in place (PUT resource-requirements).
    set("jobmanager.scheduler", "adaptive".into());
    set("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory".into());
    set("metrics.reporter.prom.port", "9249-9299".into());
    if new_checkpoint_keys {
        set("execution.checkpointing.dir", uri("checkpoints"));
        set("execution.checkpointing.savepoint-dir", uri("savepoints"));
        set("execution.checkpointing.num-retained", "3".into());
    } else {
        set("state.checkpoints.dir", uri("checkpoints"));
        set("state.savepoints.dir", uri("savepoints"));
        set("state.checkpoints.num-retained", "3".into());
    }
    // Retained (externalized) checkpoints: recovery after a cancel or a lost cluster needs them.
    set("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION".into());
    set("io.tmp.dirs", dir.join("tmp").display().to_string());
    set("web.upload.dir", dir.join("uploads").display().to_string());
    set("web.tmpdir", dir.join("tmp").display().to_string());
    for (k, v) in &opts.extra {
        set(k, v.clone());
    }
    c
}

/// Renders flat `key: value` lines, valid both as Flink 2.x standard YAML and as 1.x
/// `flink-conf.yaml`. Values are single-quoted when YAML would otherwise retype them.
pub fn render_flat_yaml(config: &BTreeMap<String, String>) -> String {
    let mut out = String::from("# Generated by flinkops. Edit with `flinkops local up -D key=value`, not by hand.\n");
    for (k, v) in config {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(&yaml_scalar(v));
        out.push('\n');
    }
    out
}

fn yaml_scalar(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars().all(|c| c.is_ascii_alphanumeric() || "._-/:=".contains(c))
        && !v.starts_with(['-', ':'])
        && !v.contains(": ");
    if plain { v.to_string() } else { format!("'{}'", v.replace('\'', "''")) }
}

const LOG4J: &str = "\
# Generated by flinkops: one rolling log file per process.
monitorInterval = 30
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
logger.akka.name = akka
logger.akka.level = INFO
logger.pekko.name = org.apache.pekko
logger.pekko.level = INFO
logger.kafka.name = org.apache.kafka
logger.kafka.level = INFO
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = WARN
logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = INFO
logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
appender.main.name = MainAppender
appender.main.type = RollingFile
appender.main.append = true
appender.main.fileName = ${sys:log.file}
appender.main.filePattern = ${sys:log.file}.%i
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.main.policies.type = Policies
appender.main.policies.size.type = SizeBasedTriggeringPolicy
appender.main.policies.size.size = 100MB
appender.main.strategy.type = DefaultRolloverStrategy
appender.main.strategy.max = 5
";

/// JVM flags and `-D key=value` dynamic configs of a process.
pub type JvmParams = (Vec<String>, Vec<(String, String)>);

/// The JVM options Flink's scripts (`config.sh`, `flink-daemon.sh`) put after the memory flags
/// of a process of this role, in their order: `env.java.default-opts.all` (the distribution's
/// module flags, [`JAVA_MODULE_FLAGS`], when it is not set), `env.java.opts.all` (`env.java.opts`
/// in 1.x configs), then `env.java.opts.jobmanager` or `env.java.opts.taskmanager`. The scripts
/// expand each unquoted, so it is split on whitespace here too. Later flags win in the JVM: a
/// role's `-XX:+UseParallelGC` overrides the default G1.
pub fn java_opts(config: &BTreeMap<String, String>, role: Role) -> Vec<String> {
    let words = |key: &str| config.get(key).map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>());
    let mut opts = words("env.java.default-opts.all").unwrap_or_else(|| JAVA_MODULE_FLAGS.iter().map(|f| f.to_string()).collect());
    opts.extend(words("env.java.opts.all").or_else(|| words("env.java.opts")).unwrap_or_default());
    let own = match role {
        Role::JobManager => "env.java.opts.jobmanager",
        Role::TaskManager(_) => "env.java.opts.taskmanager",
    };
    opts.extend(words(own).unwrap_or_default());
    opts
}

/// JVM flags and `-D` dynamic configs for a process, from Flink's memory model
/// (`flinkops_config::memory`, proven identical to Flink's own BashJavaUtils by a
/// differential test), computed from the cluster's effective configuration.
pub fn memory_params(dist: &FlinkDist, config: &BTreeMap<String, String>, role: Role) -> Result<JvmParams> {
    use flinkops_config::memory;
    let params = match role {
        Role::JobManager => memory::jobmanager(&dist.version, config).map(|m| (m.jvm_args(), m.dynamic_configs())),
        Role::TaskManager(_) => memory::taskmanager(&dist.version, config).map(|m| (m.jvm_args(), m.dynamic_configs())),
    };
    params.map_err(|e| Error::Memory(format!("{role}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(version: &str) -> FlinkDist {
        FlinkDist { path: PathBuf::from("/opt/flink"), version: version.into(), source: "external".into() }
    }

    #[test]
    fn java_opts_follow_flinks_scripts() {
        let cfg = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        // nothing set: the distribution's module flags only
        assert_eq!(java_opts(&cfg(&[]), Role::TaskManager(0)), JAVA_MODULE_FLAGS.iter().map(|f| f.to_string()).collect::<Vec<_>>());
        let c = cfg(&[
            ("env.java.opts.all", " -Da=1   -Xss2m "),
            ("env.java.opts.taskmanager", "-XX:+UseParallelGC"),
            ("env.java.opts.jobmanager", "-Djm=yes"),
        ]);
        let tm = java_opts(&c, Role::TaskManager(1));
        assert_eq!(tm[JAVA_MODULE_FLAGS.len()..], ["-Da=1", "-Xss2m", "-XX:+UseParallelGC"]);
        let jm = java_opts(&c, Role::JobManager);
        assert_eq!(jm[JAVA_MODULE_FLAGS.len()..], ["-Da=1", "-Xss2m", "-Djm=yes"]);
        // the 1.x key when the 2.x one is absent; a set default-opts replaces the module flags
        let old = cfg(&[("env.java.opts", "-Dold=1"), ("env.java.default-opts.all", "--add-opens=java.base/java.lang=ALL-UNNAMED")]);
        assert_eq!(java_opts(&old, Role::JobManager), ["--add-opens=java.base/java.lang=ALL-UNNAMED", "-Dold=1"]);
    }

    #[test]
    fn config_uses_the_versions_keys() {
        let opts = ClusterOptions::default();
        let c2 = generate_config(Path::new("/c"), &dist("2.3.0"), &opts, 6123);
        assert_eq!(c2["execution.checkpointing.dir"], "file:///c/checkpoints");
        assert!(!c2.contains_key("state.checkpoints.dir"));
        let c120 = generate_config(Path::new("/c"), &dist("1.20.3"), &opts, 6123);
        assert_eq!(c120["execution.checkpointing.dir"], "file:///c/checkpoints");
        assert!(!c120.contains_key("state.checkpoints.dir"), "a deprecated alias in 1.20");
        let c1 = generate_config(Path::new("/c"), &dist("1.18.1"), &opts, 6123);
        assert_eq!(c1["state.checkpoints.dir"], "file:///c/checkpoints");
        assert_eq!(c1["jobmanager.scheduler"], "adaptive");
        assert_eq!(c1["rest.bind-address"], "127.0.0.1");
    }

    fn state(dir: &Path, taskmanagers: u32) -> ClusterState {
        ClusterState {
            name: "c".into(),
            flink_version: "2.3.0".into(),
            flink_home: dir.join("flink"),
            rest_port: 1,
            rpc_port: 2,
            taskmanagers,
            slots: 2,
            taskmanager_indices: Vec::new(),
            config: BTreeMap::new(),
            started_at_ms: 0,
        }
    }

    #[test]
    fn the_running_taskmanagers_are_the_base_until_the_autoscaler_changes_them() {
        let dir = tempfile::tempdir().unwrap();
        let cluster = LocalCluster { name: "c".into(), dir: dir.path().to_path_buf() };
        let mut s = state(dir.path(), 2);
        assert_eq!(s.roles(), vec![Role::JobManager, Role::TaskManager(1), Role::TaskManager(2)]);
        // A cluster.json written before the field existed reads as the base.
        let mut old = serde_json::to_value(&s).unwrap();
        old.as_object_mut().unwrap().remove("taskmanager_indices");
        assert_eq!(serde_json::from_value::<ClusterState>(old).unwrap(), s);
        // Removing below the base is refused, and so is a TaskManager the cluster does not run.
        cluster.save_state(&s).unwrap();
        assert!(cluster.remove_taskmanager(Role::TaskManager(2), Duration::from_millis(1)).unwrap_err().to_string().contains("base of 2"));
        s.taskmanager_indices = vec![1, 2, 3];
        cluster.save_state(&s).unwrap();
        assert!(cluster.remove_taskmanager(Role::TaskManager(7), Duration::from_millis(1)).is_err());
        assert!(cluster.remove_taskmanager(Role::JobManager, Duration::from_millis(1)).is_err());
        // Any TaskManager beyond the base count can go, the first one too.
        cluster.remove_taskmanager(Role::TaskManager(1), Duration::from_millis(1)).unwrap();
        assert_eq!(cluster.state().unwrap().taskmanager_roles(), vec![Role::TaskManager(2), Role::TaskManager(3)]);
        assert!(cluster.remove_taskmanager(Role::TaskManager(3), Duration::from_millis(1)).is_err(), "back at the base of 2");
        assert_eq!(resource_id_prefix(Role::TaskManager(3)).as_deref(), Some("flinkops-taskmanager-3-"));
        assert_eq!(resource_id_prefix(Role::JobManager), None);
    }

    #[test]
    fn extra_settings_win() {
        let mut opts = ClusterOptions::default();
        opts.extra.insert("parallelism.default".into(), "4".into());
        let c = generate_config(Path::new("/c"), &dist("2.3.0"), &opts, 1);
        assert_eq!(c["parallelism.default"], "4");
    }

    #[test]
    fn jvm_sizes_come_from_the_memory_model() {
        let opts = ClusterOptions::default();
        let c = generate_config(Path::new("/c"), &dist("2.3.0"), &opts, 6123);
        let (jvm, dynamic) = memory_params(&dist("2.3.0"), &c, Role::TaskManager(1)).unwrap();
        assert!(jvm.iter().any(|a| a.starts_with("-Xmx")) && jvm.iter().any(|a| a.starts_with("-XX:MaxDirectMemorySize=")), "{jvm:?}");
        assert!(dynamic.iter().any(|(k, v)| k == "taskmanager.numberOfTaskSlots" && v == "4"), "{dynamic:?}");
        let (jvm, _) = memory_params(&dist("2.3.0"), &c, Role::JobManager).unwrap();
        assert!(jvm.iter().any(|a| a.starts_with("-Xmx")), "{jvm:?}");
        let mut bad = c.clone();
        bad.insert("taskmanager.memory.process.size".into(), "100m".into());
        let err = memory_params(&dist("2.3.0"), &bad, Role::TaskManager(1)).unwrap_err().to_string();
        assert!(err.contains("TaskManager 1"), "{err}");
    }

    #[test]
    fn yaml_values_keep_their_text() {
        assert_eq!(yaml_scalar("1024m"), "1024m");
        assert_eq!(yaml_scalar("file:///a/b"), "file:///a/b");
        assert_eq!(yaml_scalar("yes"), "yes");
        assert_eq!(yaml_scalar("a b"), "'a b'");
        assert_eq!(yaml_scalar("it's"), "'it''s'");
        assert_eq!(yaml_scalar(""), "''");
        assert_eq!(yaml_scalar("-Dx"), "'-Dx'");
        let y = render_flat_yaml(&BTreeMap::from([("a.b".to_string(), "x: y".to_string())]));
        assert!(y.ends_with("a.b: 'x: y'\n"), "{y}");
    }
}
