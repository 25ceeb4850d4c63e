//! One environment at run time: its Flink REST client and, for `local` targets, the cluster serve
//! starts and supervises (a dead JobManager or TaskManager process is started again).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use flinkops_local::cluster::{ClusterOptions, LocalCluster, Role};
use flinkops_local::dist::{self, FlinkDist, Quiet};
use flinkops_local::home::Home;
use flinkops_local::java::Java;
use flinkops_rest::FlinkClient;
use serde::Serialize;
use tokio::sync::{Mutex, RwLock};

use crate::model::EnvSpec;
use crate::{Error, Result};

/// What supervision did in one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Supervision {
    /// The whole cluster was (re)started.
    pub started_cluster: bool,
    /// Processes that were dead and were started again.
    pub restarted: Vec<String>,
}

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
}

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
        Ok(Arc::new(EnvRuntime { spec, home: home.clone(), cluster, client: RwLock::new(client), supervise_lock: Mutex::new(()), flink_home }))
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
        let (Some(cluster), Some(local)) = (&self.cluster, &self.spec.local) else { return Ok(Supervision::default()) };
        let _guard = self.supervise_lock.lock().await;
        let mut report = Supervision::default();
        let state = cluster.state();
        let statuses = cluster.processes();
        let any_alive = statuses.iter().any(|p| p.alive);
        let expected_tms = state.as_ref().map(|s| s.taskmanagers);
        if state.is_none() || !any_alive || expected_tms != Some(local.taskmanagers) {
            let dist = tokio::task::block_in_place(|| self.dist())?;
            let java = Java::find()?;
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
            report.started_cluster = true;
            return Ok(report);
        }
        let dead: Vec<Role> = statuses.iter().filter(|p| !p.alive).map(|p| p.role).collect();
        if !dead.is_empty() {
            let dist = tokio::task::block_in_place(|| self.dist())?;
            let java = Java::find()?;
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
        }
        if self.client.read().await.is_none()
            && let Some(s) = cluster.state()
        {
            *self.client.write().await = Some(rest_client(&LocalCluster::rest_url(&s))?);
        }
        Ok(report)
    }

    /// Stops a local cluster (serve's `--stop-local-clusters-on-exit`).
    pub fn stop_local(&self) {
        if let Some(c) = &self.cluster {
            let stopped = c.stop_all(Duration::from_secs(20));
            tracing::info!(env = %self.spec.name, stopped = stopped.len(), "local cluster stopped");
        }
    }
}
