//! The daemon: shared state, one reconcile loop per job (kube-rs style: requeue after a delay
//! or when woken, error policy with backoff), one supervisor per local environment, and the
//! commands the API and CLI send (deploy, upgrade, rollback, suspend, resume, savepoint, restore).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use flinkops_control::lifecycle::{RestoreKind, RestoreSource, VersionRef};
use flinkops_control::recovery::check_metadata_file;
use flinkops_control::store::{AlertState, AlertStatus, IntentKind, SnapshotStatus, SqlStore, Store, now_ms};
use flinkops_local::home::Home;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{Mutex, Notify, RwLock, watch};

use crate::cadence::{self, Fingerprint, FullStep, Kind, Why};
use crate::env::EnvRuntime;
use crate::metrics::SelfMetrics;
use crate::model::{self, ManagedJob, Platform};
use crate::reconcile::{self, RecoveryState, StepReport, meta};
use crate::{Error, Result};

/// How serve runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub spec: PathBuf,
    /// A directory (SQLite), `sqlite://FILE` or `postgres://…`.
    pub store: String,
    pub home: Home,
    /// Use this Flink installation for every local environment.
    pub flink_home: Option<PathBuf>,
    /// How often each job is reconciled when nothing happens.
    pub tick: Duration,
    /// How often local clusters are checked.
    pub supervise_every: Duration,
    /// The API token (mutating endpoints). None: mutating endpoints are refused.
    pub token: Option<String>,
    /// Kubernetes client configuration for `target: kubernetes` environments (None: kube's
    /// defaults, `KUBECONFIG` / `~/.kube/config` / in-cluster).
    pub kubeconfig: Option<PathBuf>,
    pub kube_context: Option<String>,
}

/// At most this many reconcile steps run at once (see [`Shared::steps`]).
pub const CONCURRENT_STEPS: usize = 16;

/// One managed job's loop handles.
pub struct JobRuntime {
    pub key: String,
    /// Wakes the loop for its next step (light or full, [`cadence::decide`]); the environment's
    /// watcher uses it when the job's overview entries changed.
    pub wake: Notify,
    /// Set by [`JobRuntime::request_full`]: the next step is a full one.
    requested: AtomicBool,
    /// Held while the job's actions run (the loop, or a savepoint requested through the API).
    pub lock: Mutex<()>,
    pub last: std::sync::Mutex<StepReport>,
    /// What the last full step left (None before the first one and after a failed one).
    pub full: std::sync::Mutex<Option<FullStep>>,
}

impl JobRuntime {
    fn new(key: &str) -> JobRuntime {
        JobRuntime {
            key: key.to_string(),
            wake: Notify::new(),
            requested: AtomicBool::new(false),
            lock: Mutex::new(()),
            last: std::sync::Mutex::new(StepReport::default()),
            full: std::sync::Mutex::new(None),
        }
    }

    /// Wakes the loop for a full step now (a command, a spec reload, supervision that acted).
    pub fn request_full(&self) {
        self.requested.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// The fingerprint the last full step saw, if there was one.
    fn seen(&self) -> Option<Option<Fingerprint>> {
        self.full.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|f| f.seen)
    }
}

/// Everything the loops and the API share.
pub struct Shared {
    pub store: SqlStore,
    pub tick: Duration,
    pub metrics: SelfMetrics,
    pub platform: RwLock<Platform>,
    pub envs: RwLock<BTreeMap<String, Arc<EnvRuntime>>>,
    pub jobs: RwLock<BTreeMap<String, Arc<JobRuntime>>>,
    pub token: Option<String>,
    pub opts: ServeOptions,
    pub started_at_ms: i64,
    /// The spec's alert channels (rebuilt when the spec is reloaded).
    pub notifier: RwLock<flinkops_notify::Notifier>,
    /// Per job: the counters the health rules compare over time (in memory; alert states are stored).
    pub health: std::sync::Mutex<BTreeMap<String, flinkops_notify::HealthHistory>>,
    /// Reconcile steps in flight at once: with every loop stepping together (hundreds of jobs),
    /// a bound keeps each step's latency near its own cost instead of queueing all of them on
    /// the store's connection pool.
    pub steps: tokio::sync::Semaphore,
    /// Per job: the autoscaler's metric window (in memory; its decisions and state are stored).
    pub autoscale: std::sync::Mutex<BTreeMap<String, crate::autoscale::Memory>>,
    /// Kubernetes environments whose loop runs.
    kube_loops: std::sync::Mutex<std::collections::BTreeSet<String>>,
    shutdown: watch::Sender<bool>,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// What a command did, for the API and the CLI.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CommandResult {
    pub job: String,
    pub command: String,
    /// True when something will change (false: already so).
    pub changed: bool,
    pub message: String,
    /// The savepoint a `savepoint` command took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub savepoint: Option<String>,
}

impl Shared {
    /// Opens the store, reads the spec, stores its job versions and starts every loop.
    pub async fn start(opts: ServeOptions) -> Result<Arc<Shared>> {
        let store = SqlStore::open(&opts.store).await?;
        let platform = model::load(&opts.spec)?;
        let (tx, _rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            store,
            tick: opts.tick,
            metrics: SelfMetrics::new(),
            platform: RwLock::new(platform.clone()),
            envs: RwLock::new(BTreeMap::new()),
            jobs: RwLock::new(BTreeMap::new()),
            token: opts.token.clone(),
            opts,
            started_at_ms: now_ms(),
            // Built (and its problems logged) once, by apply_platform below.
            notifier: RwLock::new(flinkops_notify::Notifier::new(&Default::default(), &BTreeMap::new(), Default::default())),
            health: std::sync::Mutex::new(BTreeMap::new()),
            steps: tokio::sync::Semaphore::new(CONCURRENT_STEPS),
            autoscale: std::sync::Mutex::new(BTreeMap::new()),
            kube_loops: std::sync::Mutex::new(std::collections::BTreeSet::new()),
            shutdown: tx,
            tasks: std::sync::Mutex::new(Vec::new()),
        });
        // A rescale request a previous run sent but never saw answered: the next decision looks
        // at the job as it runs now.
        for i in shared.store.pending_intents(None).await?.into_iter().filter(|i| i.kind == flinkops_control::store::IntentKind::Rescale) {
            shared.store.finish_intent(i.id, flinkops_control::store::IntentState::Failed, Some("serve stopped before the rescale request was answered"), now_ms()).await?;
        }
        let n = flinkops_control::retention::resume_deletions(&shared.store).await?;
        if n > 0 {
            tracing::info!(deletions = n, "finished savepoint deletions a previous run left pending");
        }
        shared.apply_platform(platform).await?;
        Ok(shared)
    }

    fn spawn(&self, f: impl std::future::Future<Output = ()> + Send + 'static) {
        let h = tokio::spawn(f);
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).push(h);
    }

    /// Stores the platform's job versions, starts loops for new jobs and supervisors for new
    /// environments. Returns the jobs whose version changed.
    async fn apply_platform(self: &Arc<Self>, platform: Platform) -> Result<Vec<String>> {
        let mut changed = Vec::new();
        for j in &platform.jobs {
            let before = self.store.latest_spec(&j.key).await?;
            let v = self.store.put_spec(&j.key, &j.runtime.hash(), &j.runtime.to_json(), now_ms()).await?;
            if before.as_ref().map(|b| b.version) != Some(v.version) {
                changed.push(j.key.clone());
                if before.is_some() {
                    // A new desired version replaces a rollback pin.
                    self.store.put_meta(&j.key, meta::PINNED, None, now_ms()).await?;
                }
            }
        }
        {
            let mut envs = self.envs.write().await;
            for (name, e) in &platform.envs {
                if envs.get(name).is_some_and(|old| old.spec == *e) {
                    continue;
                }
                let rt = EnvRuntime::new(e.clone(), &self.opts.home, self.opts.flink_home.clone())?;
                envs.insert(name.clone(), rt.clone());
                let me = Arc::clone(self);
                let watched = rt.clone();
                self.spawn(async move { me.watch_loop(watched).await });
                if rt.cluster.is_some() {
                    let me = Arc::clone(self);
                    self.spawn(async move { me.supervise_loop(rt).await });
                }
            }
        }
        *self.notifier.write().await = crate::health::notifier(&platform, None);
        {
            let mut started = self.kube_loops.lock().unwrap_or_else(|p| p.into_inner());
            for ke in &platform.kube_envs {
                if started.insert(ke.name.clone()) {
                    let me = Arc::clone(self);
                    let name = ke.name.clone();
                    self.spawn(async move { me.kube_loop(name).await });
                }
            }
        }
        *self.platform.write().await = platform.clone();
        let mut jobs = self.jobs.write().await;
        // The jobs that already ran get a full step now; a new loop starts with one anyway.
        for rt in jobs.values() {
            rt.request_full();
        }
        for j in &platform.jobs {
            if jobs.contains_key(&j.key) {
                continue;
            }
            let rt = Arc::new(JobRuntime::new(&j.key));
            jobs.insert(j.key.clone(), rt.clone());
            let me = Arc::clone(self);
            self.spawn(async move { me.job_loop(rt).await });
        }
        self.metrics.set_jobs(jobs.len());
        Ok(changed)
    }

    /// Asks every loop to stop and waits for them (a step in progress finishes first).
    pub async fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        let tasks: Vec<_> = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
        }
        self.store.close().await;
    }

    /// Stops the local clusters serve started.
    pub async fn stop_local_clusters(&self) {
        for e in self.envs.read().await.values() {
            e.stop_local();
        }
    }

    /// One loop per Kubernetes environment: apply on change, observe the operator's status;
    /// errors (no cluster, API refusals) are logged and retried with backoff.
    async fn kube_loop(self: Arc<Self>, env_name: String) {
        let mut stop = self.shutdown.subscribe();
        let mut client: Option<::kube::Client> = None;
        let mut failures = 0u32;
        loop {
            if *stop.borrow() {
                break;
            }
            let Some(ke) = self.platform.read().await.kube_envs.iter().find(|k| k.name == env_name).cloned() else {
                break;
            };
            if client.is_none() {
                match flinkops_kube::client(self.opts.kubeconfig.as_deref(), self.opts.kube_context.as_deref()).await {
                    Ok(c) => client = Some(c),
                    Err(e) => tracing::warn!(env = %env_name, "no Kubernetes client: {e}"),
                }
            }
            let ok = match &client {
                Some(c) => match crate::kube::reconcile(&self, c, &ke).await {
                    Ok(n) => {
                        if n > 0 {
                            tracing::info!(env = %env_name, objects = n, "applied the rendered objects");
                        }
                        true
                    }
                    Err(e) => {
                        tracing::warn!(env = %env_name, "kubernetes reconcile failed: {e}");
                        false
                    }
                },
                None => false,
            };
            failures = if ok { 0 } else { (failures + 1).min(6) };
            let delay = if ok { self.tick * 5 } else { self.tick * 2u32.pow(failures) };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn supervise_loop(self: Arc<Self>, env: Arc<EnvRuntime>) {
        let mut stop = self.shutdown.subscribe();
        let mut failures = 0u32;
        loop {
            if *stop.borrow() {
                break;
            }
            let delay = match env.supervise().await {
                Ok(r) => {
                    failures = 0;
                    for p in &r.restarted {
                        self.metrics.local_restart(&env.spec.name, p);
                    }
                    if r.started_cluster || !r.restarted.is_empty() || !r.released.is_empty() {
                        tracing::info!(env = %env.spec.name, started = r.started_cluster, restarted = ?r.restarted, released = ?r.released, "supervision acted");
                        self.wake_env(&env.spec.name).await;
                    }
                    self.opts.supervise_every
                }
                Err(e) => {
                    failures += 1;
                    tracing::error!(env = %env.spec.name, "supervising the local cluster failed: {e}");
                    Duration::from_secs(2u64.saturating_pow(failures.min(5)))
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn wake_env(&self, env: &str) {
        let prefix = format!("{env}/");
        for (k, rt) in self.jobs.read().await.iter() {
            if k.starts_with(&prefix) {
                rt.request_full();
            }
        }
    }

    /// The environment's watcher: every tick one `GET /jobs/overview` (shared with the reconcile
    /// steps, [`EnvRuntime::jobs_by_name`]), and the loops of the jobs whose entries differ from
    /// what their last full step saw are woken at once — a change of any job is noticed within a
    /// tick, while the jobs whose entries did not change take light steps ([`cadence`]).
    async fn watch_loop(self: Arc<Self>, env: Arc<EnvRuntime>) {
        let mut stop = self.shutdown.subscribe();
        loop {
            if *stop.borrow() {
                break;
            }
            // Replaced (its spec changed): the new environment has its own watcher.
            if !self.envs.read().await.get(&env.spec.name).is_some_and(|e| Arc::ptr_eq(e, &env)) {
                break;
            }
            if let Some(client) = env.client().await {
                let by_name = env.jobs_by_name(&client).await.ok();
                let names: Vec<(String, String)> = self.platform.read().await.jobs.iter().filter(|j| j.env == env.spec.name).map(|j| (j.key.clone(), j.job.clone())).collect();
                let jobs = self.jobs.read().await;
                for (key, job) in &names {
                    let Some(rt) = jobs.get(key) else { continue };
                    let current = by_name.as_ref().map(|b| cadence::fingerprint(b.get(job)));
                    if rt.seen().is_some_and(|seen| seen != current) {
                        rt.wake.notify_one();
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.tick) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn job_loop(self: Arc<Self>, rt: Arc<JobRuntime>) {
        let mut stop = self.shutdown.subscribe();
        let mut errors = 0u32;
        let resync = cadence::resync(self.tick);
        loop {
            if *stop.borrow() {
                break;
            }
            let Some(mj) = self.platform.read().await.job(&rt.key).cloned() else {
                tracing::info!(job = %rt.key, "no longer in the spec; its loop ends (the Flink job is left as it is)");
                break;
            };
            let Some(env) = self.envs.read().await.get(&mj.env).cloned() else {
                break;
            };
            let requested = rt.requested.swap(false, Ordering::AcqRel);
            let last = rt.full.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let now = now_ms();
            // The overview the watcher read this tick (or a step since); never older than two
            // ticks. Only a settled job's decision looks at it.
            let current = match &last {
                Some(l) if l.unsettled.is_none() && !requested => env.recent_jobs_by_name(self.tick * 2).await.map(|b| cadence::fingerprint(b.get(&mj.job))),
                _ => None,
            };
            let kind = cadence::decide(last.as_ref(), now, current, requested);
            let delay = match kind {
                Kind::Light => {
                    self.metrics.step_light();
                    rt.last.lock().unwrap_or_else(|p| p.into_inner()).at_ms = now;
                    // Woken at the deadline when it comes before the tick.
                    let due_in = last.as_ref().map_or(0, |l| l.due_ms.saturating_sub(now)).max(1);
                    self.tick.min(Duration::from_millis(u64::try_from(due_in).unwrap_or(u64::MAX)))
                }
                Kind::Full(why) => {
                    // A step that a deadline or the watcher's change asked for reads the overview
                    // the watcher read this tick (what the decision saw); the others, likelier
                    // to act, one at most a second old. After an action every step reads anew.
                    let overview_max_age = match why {
                        Why::Due | Why::Changed => self.tick.max(crate::env::OVERVIEW_MAX_AGE),
                        _ => crate::env::OVERVIEW_MAX_AGE,
                    };
                    let Ok(permit) = self.steps.acquire().await else {
                        break;
                    };
                    let started = Instant::now();
                    let result = {
                        let _permit = permit;
                        let _g = rt.lock.lock().await;
                        match reconcile::reconcile(&self, &mj, &env, overview_max_age).await {
                            Ok(st) => {
                                let health_due = crate::health::evaluate(&self, &mj, &env, st.row.clone()).await;
                                Ok((st, health_due))
                            }
                            Err(e) => Err(e),
                        }
                    };
                    self.metrics.reconciled(&rt.key, started.elapsed().as_secs_f64());
                    self.metrics.step_full(why.as_str());
                    match result {
                        Ok((st, health_due)) => {
                            errors = 0;
                            if !st.report.actions.is_empty() {
                                tracing::info!(job = %rt.key, phase = %st.report.phase, actions = ?st.report.actions, "reconciled");
                            }
                            let memo = FullStep {
                                at_ms: st.report.at_ms,
                                seen: st.seen,
                                unsettled: cadence::unsettled(&st.outcome),
                                due_ms: cadence::due(st.report.at_ms, resync, [st.due_ms, health_due]),
                            };
                            tracing::trace!(job = %rt.key, why = why.as_str(), unsettled = ?memo.unsettled, due_in_ms = memo.due_ms - now_ms(), "full step");
                            *rt.full.lock().unwrap_or_else(|p| p.into_inner()) = Some(memo);
                            *rt.last.lock().unwrap_or_else(|p| p.into_inner()) = st.report;
                            st.requeue
                        }
                        Err(e) => {
                            errors += 1;
                            *rt.full.lock().unwrap_or_else(|p| p.into_inner()) = None;
                            self.metrics.reconcile_error(e.label());
                            tracing::warn!(job = %rt.key, "reconcile failed: {e}");
                            let mut last = rt.last.lock().unwrap_or_else(|p| p.into_inner());
                            last.at_ms = now_ms();
                            last.error = Some(e.to_string());
                            // Error policy: back off, up to a minute.
                            Duration::from_millis((500u64 << errors.min(7)).min(60_000))
                        }
                    }
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = rt.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Raises the critical "a person has to act" alert of a job (recorded; delivered by health).
    pub async fn raise_action_needed(&self, mj: &ManagedJob, summary: &str) {
        tracing::error!(job = %mj.key, "{summary}");
        let now = now_ms();
        let a = AlertState {
            job: mj.key.clone(),
            rule: crate::health::ACTION_NEEDED.into(),
            status: AlertStatus::Firing,
            severity: "critical".into(),
            since: now,
            last_notified_at: None,
            summary: summary.to_string(),
            updated_at: now,
        };
        if let Err(e) = self.store.put_alert(&a).await {
            tracing::error!(job = %mj.key, "recording the alert failed: {e}");
        }
        crate::health::notify_action_needed(self, mj, summary).await;
    }

    // ---- commands ----------------------------------------------------------------------

    async fn job_and_rt(&self, key: &str) -> Result<(ManagedJob, Arc<JobRuntime>)> {
        let mj = self.platform.read().await.job(key).cloned();
        let rt = self.jobs.read().await.get(key).cloned();
        match (mj, rt) {
            (Some(m), Some(r)) => Ok((m, r)),
            _ => {
                let known: Vec<String> = self.platform.read().await.jobs.iter().map(|j| j.key.clone()).collect();
                Err(Error::NotFound(format!("no job `{key}` is managed by this serve (jobs: {})", if known.is_empty() { "none".into() } else { known.join(", ") })))
            }
        }
    }

    async fn refuse_if_pending(&self, key: &str, command: &str) -> Result<()> {
        if let Some(i) = self.store.pending_intents(Some(key)).await?.into_iter().find(|i| i.kind.is_exclusive()) {
            return Err(Error::Conflict(format!(
                "cannot {command} `{key}`: a {} (intent #{}, started {} s ago: {}) is still in progress; wait for it to finish (`flinkops status`)",
                i.kind,
                i.id,
                (now_ms() - i.created_at) / 1000,
                i.reason
            )));
        }
        Ok(())
    }

    /// Re-reads the spec file and applies it (new versions start upgrades).
    pub async fn reload(self: &Arc<Self>) -> Result<Vec<String>> {
        let platform = model::load(&self.opts.spec)?;
        self.apply_platform(platform).await
    }

    /// `deploy` / `upgrade`: re-read the spec; the job is (re)deployed or upgraded when its
    /// version changed. Deploying an unchanged spec does nothing. A person acting also closes an
    /// open circuit breaker.
    pub async fn deploy(self: &Arc<Self>, key: &str, command: &str) -> Result<CommandResult> {
        self.job_and_rt(key).await?;
        self.refuse_if_pending(key, command).await?;
        let changed = self.reload().await?;
        let (_, rt) = self.job_and_rt(key).await?;
        let reset = self.reset_breaker(key).await?;
        let v = self.store.latest_spec(key).await?.map(|v| v.version).unwrap_or(0);
        rt.request_full();
        let is_changed = changed.iter().any(|c| c == key);
        let message = match (is_changed, reset) {
            (true, _) => format!("version {v} of `{key}` stored; serve deploys it (an upgrade goes through a savepoint)"),
            (false, true) => format!("`{key}` is unchanged (version {v}); the circuit breaker was closed, recovery resumes"),
            (false, false) => format!("`{key}` is unchanged (version {v}); nothing to do"),
        };
        Ok(CommandResult { job: key.into(), command: command.into(), changed: is_changed || reset, message, savepoint: None })
    }

    async fn reset_breaker(&self, key: &str) -> Result<bool> {
        let Some(v) = self.store.meta(key, meta::RECOVERY).await? else {
            return Ok(false);
        };
        let mut rs: RecoveryState = serde_json::from_value(v).map_err(|e| Error::Corrupt(e.to_string()))?;
        if !rs.breaker.is_open() && rs.next_at_ms.is_none() {
            return Ok(false);
        }
        let was_open = rs.breaker.is_open();
        rs.breaker.reset();
        rs.attempt = 0;
        rs.next_at_ms = None;
        self.store.put_meta(key, meta::RECOVERY, Some(&serde_json::to_value(&rs).unwrap_or_default()), now_ms()).await?;
        Ok(was_open)
    }

    /// `rollback`: go back to the version that ran before the current one (through a savepoint).
    pub async fn rollback(&self, key: &str) -> Result<CommandResult> {
        let (_, rt) = self.job_and_rt(key).await?;
        self.refuse_if_pending(key, "roll back").await?;
        let deployed: Option<VersionRef> = self.store.meta(key, meta::DEPLOYED).await?.and_then(|v| serde_json::from_value(v).ok());
        let Some(current) = deployed else {
            return Err(Error::Input(format!("`{key}` has not run yet; there is nothing to roll back to")));
        };
        let previous = self.store.spec_versions(key).await?.into_iter().rev().find(|v| v.version < current.version && v.spec_hash != current.spec_hash);
        let Some(prev) = previous else {
            return Err(Error::Input(format!("`{key}` runs version {}, the first one; there is no earlier version to roll back to", current.version)));
        };
        let target = VersionRef { version: prev.version, spec_hash: prev.spec_hash };
        self.store.put_meta(key, meta::PINNED, Some(&serde_json::to_value(&target).unwrap_or_default()), now_ms()).await?;
        rt.request_full();
        Ok(CommandResult {
            job: key.into(),
            command: "rollback".into(),
            changed: true,
            message: format!(
                "`{key}` goes back from version {} to version {} (stop with a savepoint, start from it); a changed spec replaces the pin",
                current.version, target.version
            ),
            savepoint: None,
        })
    }

    /// `suspend`: stop with a savepoint and stay stopped.
    pub async fn suspend(&self, key: &str) -> Result<CommandResult> {
        let (_, rt) = self.job_and_rt(key).await?;
        self.refuse_if_pending(key, "suspend").await?;
        let already = self.store.meta(key, meta::SUSPENDED).await? == Some(json!(true));
        self.store.put_meta(key, meta::SUSPENDED, Some(&json!(true)), now_ms()).await?;
        rt.request_full();
        let message = if already { format!("`{key}` is already suspended") } else { format!("`{key}` stops with a savepoint and stays stopped until `resume`") };
        Ok(CommandResult { job: key.into(), command: "suspend".into(), changed: !already, message, savepoint: None })
    }

    /// `resume`: start a suspended job from its suspend savepoint; also closes an open breaker.
    pub async fn resume(&self, key: &str) -> Result<CommandResult> {
        let (_, rt) = self.job_and_rt(key).await?;
        self.refuse_if_pending(key, "resume").await?;
        let was_suspended = self.store.meta(key, meta::SUSPENDED).await? == Some(json!(true));
        let reset = self.reset_breaker(key).await?;
        let mut message = String::new();
        if was_suspended {
            self.store.put_meta(key, meta::SUSPENDED, None, now_ms()).await?;
            if let Some(sp) = self.store.meta(key, "suspend_savepoint").await?.and_then(|v| v.as_str().map(str::to_string)) {
                let src = RestoreSource { path: sp.clone(), kind: RestoreKind::Savepoint };
                self.store.put_meta(key, meta::RESTORE_FROM, Some(&serde_json::to_value(&src).unwrap_or_default()), now_ms()).await?;
                self.store.put_meta(key, "suspend_savepoint", None, now_ms()).await?;
                message = format!("`{key}` resumes from its suspend savepoint {sp}");
            } else {
                message = format!("`{key}` resumes from its latest checkpoint or savepoint");
            }
        } else if reset {
            message = format!("the circuit breaker of `{key}` is closed; automatic recovery resumes");
        }
        if message.is_empty() {
            message = format!("`{key}` is not suspended and its recoveries are not stopped; nothing to do");
        }
        rt.request_full();
        Ok(CommandResult { job: key.into(), command: "resume".into(), changed: was_suspended || reset, message, savepoint: None })
    }

    /// `savepoint`: take a savepoint now (waits for it).
    pub async fn savepoint_now(&self, key: &str) -> Result<CommandResult> {
        let (mj, rt) = self.job_and_rt(key).await?;
        self.refuse_if_pending(key, "take a savepoint of").await?;
        let env = self.envs.read().await.get(&mj.env).cloned().ok_or_else(|| Error::NotFound(format!("environment {}", mj.env)))?;
        let _g = rt.lock.lock().await;
        let client = env.client().await.ok_or_else(|| Error::Input(format!("the cluster of environment `{}` is not running yet", mj.env)))?;
        env.invalidate_overview();
        let observed = reconcile::observe(&env, Some(&client), &mj.job).await.observed;
        if !observed.cluster_reachable {
            return Err(Error::Input(format!("the cluster of environment `{}` does not answer; no savepoint can be taken now", mj.env)));
        }
        let Some(active) = observed.active().filter(|j| j.status == flinkops_control::lifecycle::JobStatus::Running) else {
            return Err(Error::Input(format!("`{key}` is not running; a savepoint needs a running job")));
        };
        let sp = reconcile::take_savepoint(self, &mj, &env, &client, &active.flink_job_id, "savepoint requested by a person").await?;
        rt.request_full();
        Ok(CommandResult { job: key.into(), command: "savepoint".into(), changed: true, message: format!("savepoint of `{key}` written to {sp}"), savepoint: Some(sp) })
    }

    /// `restore`: restart the job from a checkpoint or savepoint of its catalog.
    pub async fn restore(&self, key: &str, path: &str) -> Result<CommandResult> {
        let (_, rt) = self.job_and_rt(key).await?;
        self.refuse_if_pending(key, "restore").await?;
        let catalog = self.store.snapshots(key).await?;
        let entry = catalog
            .iter()
            .find(|s| s.path == path)
            .ok_or_else(|| Error::Input(format!("`{path}` is not in the checkpoint and savepoint catalog of `{key}`; list it with `flinkops status --job {key}`")))?;
        if entry.status != SnapshotStatus::Completed {
            return Err(Error::Input(format!("`{path}` is {} and cannot be restored from", entry.status)));
        }
        if let Some(dir) = path.strip_prefix("file://")
            && let Err(problem) = check_metadata_file(std::path::Path::new(dir))
        {
            return Err(Error::Input(format!("`{path}` cannot be restored from: {problem}")));
        }
        let kind = match entry.kind {
            flinkops_control::store::SnapshotKind::Savepoint => RestoreKind::Savepoint,
            flinkops_control::store::SnapshotKind::Checkpoint => RestoreKind::Checkpoint,
        };
        let src = RestoreSource { path: path.to_string(), kind };
        self.store.put_meta(key, meta::RESTORE_FROM, Some(&serde_json::to_value(&src).unwrap_or_default()), now_ms()).await?;
        rt.request_full();
        Ok(CommandResult { job: key.into(), command: "restore".into(), changed: true, message: format!("`{key}` restarts from {path}"), savepoint: None })
    }

    /// Whether an exclusive intent of the job is pending (for the status view).
    pub async fn pending_kind(&self, key: &str) -> Result<Option<IntentKind>> {
        Ok(self.store.pending_intents(Some(key)).await?.into_iter().find(|i| i.kind.is_exclusive()).map(|i| i.kind))
    }
}
