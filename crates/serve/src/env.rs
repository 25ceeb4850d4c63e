//! One environment at run time: its Flink REST client and, for `local` targets, the cluster serve
//! starts and supervises (a dead JobManager or TaskManager process is started again).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use flinkops_control::lifecycle::plan::parse_flink_job_name;
use flinkops_local::cluster::{ClusterOptions, LocalCluster, Role};
use flinkops_local::dist::{self, FlinkDist, Quiet};
use flinkops_local::home::Home;
use flinkops_local::java::Java;
use flinkops_rest::{FlinkClient, JobOverview};
use serde::Serialize;
use tokio::sync::{Mutex, OnceCell, RwLock};

use crate::model::EnvSpec;
use crate::{Error, Result};

/// What supervision did in one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Supervision {
    /// The whole cluster was (re)started.
    pub started_cluster: bool,
    /// Processes that were dead and were started again.
    pub restarted: Vec<String>,
    /// TaskManagers beyond the spec's `replicas` that stayed idle and were stopped.
    pub released: Vec<String>,
}

/// How long a TaskManager the autoscaler added must have every slot free before it is stopped
/// (longer than Flink's `slot.idle.timeout`, 50 s, after which a job returns slots it no longer
/// uses, so that a scale-down has settled).
pub const IDLE_TASKMANAGER_GRACE: Duration = Duration::from_secs(60);
/// How long [`EnvRuntime::add_taskmanagers`] waits for new TaskManagers to register.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(120);

/// An environment with its live handles.
pub struct EnvRuntime {
    pub spec: EnvSpec,
    home: Home,
    /// `local` targets: the cluster serve runs.
    pub cluster: Option<LocalCluster>,
    client: RwLock<Option<FlinkClient>>,
    /// Serialises supervision (one start at a time).
    supervise_lock: Mutex<()>,
    flink_home: Option<PathBuf>,
    /// The Java that runs Flink's tools here, found once (finding it starts a JVM).
    java: OnceCell<Java>,
    /// The cluster's `/jobs/overview`, shared by every job of the environment (see
    /// [`EnvRuntime::jobs_by_name`]).
    overview: Mutex<Option<CachedOverview>>,
    /// Bumped when what the cluster runs changed (an action, a new client): cached overviews of
    /// an older epoch are not used.
    overview_epoch: AtomicU64,
    /// Since when each TaskManager (by Flink resource id) has had every slot free.
    idle_since: std::sync::Mutex<HashMap<String, Instant>>,
}

/// Flink jobs of the environment's cluster grouped by managed job name (`<job>@<hash>`).
pub type JobsByName = HashMap<String, Vec<JobOverview>>;

struct CachedOverview {
    at: Instant,
    epoch: u64,
    jobs: Arc<JobsByName>,
}

/// How long one `/jobs/overview` serves the environment's reconcile steps.
pub const OVERVIEW_MAX_AGE: Duration = Duration::from_secs(1);

fn rest_client(url: &str) -> Result<FlinkClient> {
    let parsed = url::Url::parse(url).map_err(|e| Error::Input(format!("`{url}` is not a Flink REST URL: {e}")))?;
    Ok(FlinkClient::builder(parsed).timeout(Duration::from_secs(15)).connect_timeout(Duration::from_secs(3)).build()?)
}

impl EnvRuntime {
    pub fn new(spec: EnvSpec, home: &Home, flink_home: Option<PathBuf>) -> Result<Arc<EnvRuntime>> {
        let cluster = spec.local.as_ref().map(|l| LocalCluster::new(home, &l.cluster));
        let client = match (&spec.rest_url, &cluster) {
            (Some(url), _) => Some(rest_client(url)?),
            (None, Some(c)) => c.state().map(|s| rest_client(&LocalCluster::rest_url(&s))).transpose()?,
            (None, None) => None,
        };
        Ok(Arc::new(EnvRuntime {
            spec,
            home: home.clone(),
            cluster,
            client: RwLock::new(client),
            supervise_lock: Mutex::new(()),
            flink_home,
            java: OnceCell::new(),
            overview: Mutex::new(None),
            overview_epoch: AtomicU64::new(0),
            idle_since: std::sync::Mutex::new(HashMap::new()),
        }))
    }

    /// The Java of this machine (found on first use; `java -version` runs once).
    pub async fn java(&self) -> Result<Java> {
        let j = self
            .java
            .get_or_try_init(|| async {
                let found = tokio::task::spawn_blocking(Java::find).await.map_err(|e| Error::Input(format!("finding Java: {e}")))?;
                found.map_err(Error::from)
            })
            .await?;
        Ok(j.clone())
    }

    /// The jobs on the cluster grouped by managed job name, from one `GET /jobs/overview` that
    /// every job of the environment shares for [`OVERVIEW_MAX_AGE`] (concurrent callers wait
    /// for one request instead of each sending their own: at N jobs that is N times fewer
    /// requests, each of N entries). [`EnvRuntime::invalidate_overview`] forces a fresh one.
    pub async fn jobs_by_name(&self, client: &FlinkClient) -> flinkops_rest::Result<Arc<JobsByName>> {
        self.jobs_by_name_within(client, OVERVIEW_MAX_AGE).await
    }

    /// [`EnvRuntime::jobs_by_name`] accepting an overview up to `max_age` old (a full step that
    /// no change asked for reads the one the environment's watcher read this tick).
    pub async fn jobs_by_name_within(&self, client: &FlinkClient, max_age: Duration) -> flinkops_rest::Result<Arc<JobsByName>> {
        let mut cached = self.overview.lock().await;
        let epoch = self.overview_epoch.load(Ordering::Acquire);
        if let Some(c) = cached.as_ref()
            && c.epoch == epoch
            && c.at.elapsed() < max_age
        {
            return Ok(c.jobs.clone());
        }
        let at = Instant::now();
        let overview = match client.jobs_overview().await {
            Ok(o) => o,
            Err(e) => {
                // What was seen before no longer stands (see [`EnvRuntime::recent_jobs_by_name`]).
                *cached = None;
                return Err(e);
            }
        };
        let mut jobs: JobsByName = HashMap::new();
        for j in overview.jobs {
            if let Some((name, _)) = parse_flink_job_name(&j.name) {
                jobs.entry(name.to_string()).or_default().push(j);
            }
        }
        let jobs = Arc::new(jobs);
        *cached = Some(CachedOverview { at, epoch, jobs: jobs.clone() });
        Ok(jobs)
    }

    /// The newest overview read (by [`EnvRuntime::jobs_by_name`]) if it is at most `max_age` old,
    /// without asking Flink; None when there is none, it is older, or the last request failed.
    /// Unlike `jobs_by_name` it also returns an overview read before an action of another job
    /// ([`EnvRuntime::invalidate_overview`]): a light step only compares its own job's entries,
    /// and a job that acted gets a full step.
    pub async fn recent_jobs_by_name(&self, max_age: Duration) -> Option<Arc<JobsByName>> {
        let cached = self.overview.lock().await;
        cached.as_ref().filter(|c| c.at.elapsed() <= max_age).map(|c| c.jobs.clone())
    }

    /// The next [`EnvRuntime::jobs_by_name`] asks Flink again (after an action changed what runs).
    pub fn invalidate_overview(&self) {
        self.overview_epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// The client of the environment's cluster (None while a local cluster was never started).
    pub async fn client(&self) -> Option<FlinkClient> {
        self.client.read().await.clone()
    }

    /// The REST URL users open (Flink's own Web UI).
    pub async fn rest_url(&self) -> Option<String> {
        self.client.read().await.as_ref().map(|c| c.base_url().as_str().trim_end_matches('/').to_string())
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The local file-system directory holding `<flink-job-id>/chk-N` (local clusters, or a
    /// `file://` checkpoint storage).
    pub fn checkpoint_dir(&self) -> Option<PathBuf> {
        if let Some(d) = &self.spec.checkpoint_dir {
            return d.strip_prefix("file://").map(PathBuf::from).or_else(|| d.starts_with('/').then(|| PathBuf::from(d)));
        }
        self.cluster.as_ref().map(LocalCluster::checkpoint_dir)
    }

    /// Where savepoints are written (None: the cluster's configured default).
    pub fn savepoint_dir(&self) -> Option<String> {
        if let Some(d) = &self.spec.savepoint_dir {
            return Some(d.clone());
        }
        self.cluster.as_ref().map(|c| format!("file://{}", c.savepoint_dir().display()))
    }

    /// The Flink distribution of this environment's version (installed from PyPI when missing).
    pub fn dist(&self) -> Result<FlinkDist> {
        if let Some(p) = &self.flink_home {
            return Ok(FlinkDist::open(p)?);
        }
        match FlinkDist::resolve(&self.home, None, Some(&self.spec.flink_version)) {
            Ok(d) => Ok(d),
            Err(flinkops_local::Error::NotInstalled { .. }) => {
                tracing::info!(env = %self.spec.name, version = %self.spec.flink_version, "installing Flink from PyPI");
                Ok(dist::install(&self.home, &self.spec.flink_version, Stdio::null(), &Quiet)?.dist)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Local targets: starts the cluster if it does not run, and starts any dead process of it
    /// again. Other targets: nothing.
    pub async fn supervise(&self) -> Result<Supervision> {
        let (Some(cluster), Some(local)) = (&self.cluster, &self.spec.local) else {
            return Ok(Supervision::default());
        };
        let _guard = self.supervise_lock.lock().await;
        let mut report = Supervision::default();
        let state = cluster.state();
        let statuses = cluster.processes();
        let any_alive = statuses.iter().any(|p| p.alive);
        let expected_tms = state.as_ref().map(|s| s.taskmanagers);
        if state.is_none() || !any_alive || expected_tms != Some(local.taskmanagers) {
            let dist = tokio::task::block_in_place(|| self.dist())?;
            let java = self.java().await?;
            let rest_port = match &state {
                Some(s) if flinkops_local::process::port_free(s.rest_port) => s.rest_port,
                _ => flinkops_local::cluster::free_port()?,
            };
            if any_alive {
                // The spec changed the cluster's shape: start it again with the new shape.
                cluster.stop_all(Duration::from_secs(20));
            }
            let opts = ClusterOptions {
                name: local.cluster.clone(),
                taskmanagers: local.taskmanagers,
                slots: local.slots,
                rest_port,
                jobmanager_memory: local.jobmanager_memory.clone(),
                taskmanager_memory: local.taskmanager_memory.clone(),
                extra: local.config.clone(),
                start_timeout: Duration::from_secs(180),
            };
            let up = cluster.up(&dist, &java, &opts).await?;
            tracing::info!(env = %self.spec.name, rest_url = %up.rest_url, "local cluster started");
            *self.client.write().await = Some(rest_client(&up.rest_url)?);
            self.invalidate_overview();
            report.started_cluster = true;
            return Ok(report);
        }
        let dead: Vec<Role> = statuses.iter().filter(|p| !p.alive).map(|p| p.role).collect();
        if !dead.is_empty() {
            let dist = tokio::task::block_in_place(|| self.dist())?;
            let java = self.java().await?;
            // A new JobManager: TaskManagers of the old one take up to a minute to find it
            // (their registration backs off), so they are started afresh with it.
            let mut dead = dead;
            if dead.contains(&Role::JobManager) {
                for p in statuses.iter().filter(|p| p.alive && matches!(p.role, Role::TaskManager(_))) {
                    cluster.stop_process(p.role, Duration::from_secs(5));
                    dead.push(p.role);
                }
            }
            // The JobManager first: TaskManagers register with it.
            dead.sort_by_key(|r| !matches!(r, Role::JobManager));
            for role in dead {
                tracing::warn!(env = %self.spec.name, %role, "process is not running; starting it again");
                cluster.start_process(&dist, &java, role)?;
                report.restarted.push(role.to_string());
            }
            self.invalidate_overview();
        }
        if self.client.read().await.is_none()
            && let Some(s) = cluster.state()
        {
            *self.client.write().await = Some(rest_client(&LocalCluster::rest_url(&s))?);
        }
        if report.restarted.is_empty() {
            match self.release_idle_taskmanagers(cluster, local).await {
                Ok(r) => report.released = r,
                // The REST API not answering now is seen again at the next pass.
                Err(Error::Flink(e)) => tracing::debug!(env = %self.spec.name, "reading TaskManagers: {e}"),
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Slots the autoscaler could still add to this environment by starting TaskManagers (local
    /// targets below `taskManager.maxReplicas`; 0 elsewhere).
    pub fn growable_slots(&self) -> u32 {
        let (Some(cluster), Some(local)) = (&self.cluster, &self.spec.local) else { return 0 };
        let running = cluster.state().map_or(local.taskmanagers, |s| s.taskmanager_roles().len() as u32);
        local.max_taskmanagers.saturating_sub(running) * local.slots
    }

    /// Starts enough TaskManagers for `slots` more slots (at most up to `maxReplicas`) and waits
    /// until they have registered with the JobManager. Returns the TaskManagers started.
    pub async fn add_taskmanagers(&self, client: &FlinkClient, slots: u32) -> Result<Vec<String>> {
        let (Some(cluster), Some(local)) = (&self.cluster, &self.spec.local) else { return Ok(Vec::new()) };
        let _guard = self.supervise_lock.lock().await;
        let state = cluster.state().ok_or_else(|| Error::Input(format!("the local cluster of {} is not started", self.spec.name)))?;
        let running = state.taskmanager_roles().len() as u32;
        let n = slots.div_ceil(local.slots.max(1)).min(local.max_taskmanagers.saturating_sub(running));
        if n == 0 {
            return Ok(Vec::new());
        }
        let dist = tokio::task::block_in_place(|| self.dist())?;
        let java = self.java().await?;
        let added = cluster.add_taskmanagers(&dist, &java, n)?;
        tracing::info!(env = %self.spec.name, added = ?added.iter().map(ToString::to_string).collect::<Vec<_>>(), "started TaskManagers for the autoscaler");
        let deadline = Instant::now() + REGISTER_TIMEOUT;
        loop {
            match client.overview().await {
                Ok(o) if o.taskmanagers >= running + n => break,
                _ if Instant::now() > deadline => {
                    return Err(Error::Input(format!(
                        "{} new TaskManager(s) of {} did not register within {} s; see {}",
                        n,
                        self.spec.name,
                        REGISTER_TIMEOUT.as_secs(),
                        cluster.dir.join("log").display()
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
        Ok(added.iter().map(ToString::to_string).collect())
    }

    /// Stops TaskManagers beyond the spec's `replicas` whose every slot has been free for
    /// [`IDLE_TASKMANAGER_GRACE`] (by Flink's `/taskmanagers`; a TaskManager serve did not start
    /// with a known resource id is never touched).
    async fn release_idle_taskmanagers(&self, cluster: &LocalCluster, local: &crate::model::LocalEnv) -> Result<Vec<String>> {
        let Some(state) = cluster.state() else { return Ok(Vec::new()) };
        let roles = state.taskmanager_roles();
        if roles.len() as u32 <= local.taskmanagers {
            self.idle_since.lock().unwrap_or_else(|p| p.into_inner()).clear();
            return Ok(Vec::new());
        }
        let Some(client) = self.client().await else { return Ok(Vec::new()) };
        let tms = client.taskmanagers().await?.taskmanagers;
        let now = Instant::now();
        let mut releasable = Vec::new();
        {
            let mut idle = self.idle_since.lock().unwrap_or_else(|p| p.into_inner());
            idle.retain(|id, _| tms.iter().any(|t| t.id.as_str() == id));
            for t in &tms {
                if t.free_slots < t.slots_number {
                    idle.remove(t.id.as_str());
                    continue;
                }
                let since = *idle.entry(t.id.as_str().to_string()).or_insert(now);
                if now.duration_since(since) >= IDLE_TASKMANAGER_GRACE
                    && let Some(role) = roles.iter().find(|r| flinkops_local::cluster::resource_id_prefix(**r).is_some_and(|p| t.id.as_str().starts_with(&p)))
                {
                    releasable.push((*role, t.id.as_str().to_string()));
                }
            }
        }
        let mut released = Vec::new();
        let mut running = roles.len() as u32;
        // Highest index first: the cluster shrinks back towards its first TaskManagers.
        releasable.sort_by(|a, b| b.0.cmp(&a.0));
        for (role, id) in releasable {
            if running <= local.taskmanagers {
                break;
            }
            cluster.remove_taskmanager(role, Duration::from_secs(20))?;
            self.idle_since.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            tracing::info!(env = %self.spec.name, %role, "stopped a TaskManager that stayed idle");
            released.push(role.to_string());
            running -= 1;
        }
        if !released.is_empty() {
            self.invalidate_overview();
        }
        Ok(released)
    }

    /// Stops a local cluster (serve's `--stop-local-clusters-on-exit`).
    pub fn stop_local(&self) {
        if let Some(c) = &self.cluster {
            let stopped = c.stop_all(Duration::from_secs(20));
            tracing::info!(env = %self.spec.name, stopped = stopped.len(), "local cluster stopped");
        }
    }
}
