//! The imperative shell around `flinkops_control::lifecycle::plan`: one reconcile step of one
//! managed job observes Flink, reads the facts from the store, asks the pure planner what to do
//! and performs the actions — each destructive one recorded as intent in the store first.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use flinkops_control::lifecycle::plan::{flink_job_name, parse_flink_job_name};
use flinkops_control::lifecycle::{self, Action, Desired, Facts, JobStatus, LiveJob, Observed, PendingIntent, Phase, RestoreKind, RestoreSource, UpgradeIntent, VersionRef};
use flinkops_control::recovery::{self, Backoff, CircuitBreaker};
use flinkops_control::retention::{self, RetentionPolicy};
use flinkops_control::store::{IntentKind, IntentState, NewIntent, ObservedJob, Snapshot, SnapshotKind, SnapshotStatus, Store, now_ms};
use flinkops_local::submit::{self, SubmitOptions};
use flinkops_rest::{FlinkClient, JobId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::env::EnvRuntime;
use crate::model::{ManagedJob, Program, RuntimeSpec};
use crate::state::Shared;
use crate::{Error, Result};

/// Durable per-job keys in the store (`job_meta`).
pub mod meta {
    /// `true` while a person has suspended the job.
    pub const SUSPENDED: &str = "suspended";
    /// A [`super::VersionRef`] the job is pinned to (a rollback); cleared by a changed spec.
    pub const PINNED: &str = "pinned";
    /// The [`super::VersionRef`] that last ran (the rollback and recovery target).
    pub const DEPLOYED: &str = "deployed";
    /// A [`super::RestoreSource`] a person asked to restore from.
    pub const RESTORE_FROM: &str = "restore_from";
    /// The [`super::RecoveryState`].
    pub const RECOVERY: &str = "recovery";
    /// The newest Flink job id of the managed job (where its retained checkpoints are).
    pub const LAST_FLINK_JOB: &str = "last_flink_job";
    /// When the last periodic savepoint was taken (epoch ms).
    pub const LAST_PERIODIC_SAVEPOINT: &str = "last_periodic_savepoint";
}

/// Automatic recovery's memory: attempts, backoff and the circuit breaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryState {
    pub attempt: u32,
    pub next_at_ms: Option<i64>,
    pub breaker: CircuitBreaker,
    /// The Flink job id of the last recovery (its first completed checkpoint resets the count).
    pub recovered_job: Option<String>,
}

impl Default for RecoveryState {
    fn default() -> Self {
        RecoveryState { attempt: 0, next_at_ms: None, breaker: CircuitBreaker::new(BREAKER_THRESHOLD, BREAKER_WINDOW_MS), recovered_job: None }
    }
}

/// Recoveries in this window that never reached a completed checkpoint open the breaker.
pub const BREAKER_THRESHOLD: usize = 5;
pub const BREAKER_WINDOW_MS: i64 = 30 * 60_000;
/// Backoff between recoveries.
pub const BACKOFF: Backoff = Backoff { initial_ms: 2_000, max_ms: 120_000, multiplier: 2.0, jitter: 0.2 };

/// How long savepoint and stop operations may take.
const SAVEPOINT_DEADLINE: Duration = Duration::from_secs(300);

/// What one reconcile step saw and did, for the status API.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StepReport {
    pub at_ms: i64,
    pub phase: String,
    pub actions: Vec<String>,
    pub waiting: Option<String>,
    pub error: Option<String>,
}

/// A job's durable values (`job_meta`), read in one query at the start of a step. Writes go
/// through to the store, and a value that did not change is not written again.
pub struct Meta {
    job: String,
    values: BTreeMap<String, serde_json::Value>,
}

impl Meta {
    pub async fn load(shared: &Shared, job: &str) -> Result<Meta> {
        Ok(Meta { job: job.to_string(), values: shared.store.all_meta(job).await? })
    }

    pub fn get<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Option<T>> {
        match self.values.get(key) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|e| Error::Corrupt(format!("stored setting {}/{key}: {e}", self.job))),
        }
    }

    pub async fn put<T: Serialize>(&mut self, shared: &Shared, key: &str, value: Option<&T>) -> Result<()> {
        let v = value.map(|v| serde_json::to_value(v).unwrap_or(serde_json::Value::Null));
        if self.values.get(key) == v.as_ref() {
            return Ok(());
        }
        shared.store.put_meta(&self.job, key, v.as_ref(), now_ms()).await?;
        match v {
            Some(v) => self.values.insert(key.to_string(), v),
            None => self.values.remove(key),
        };
        Ok(())
    }
}

/// The checkpoint paths Flink reported for one of the job's Flink jobs.
#[derive(Debug, Clone, Default)]
struct CheckpointPaths {
    last_completed: Option<String>,
    restored: Option<String>,
}

/// One observation: what the planner sees, plus the checkpoint paths read on the way (by Flink
/// job id), so that recording the observation asks Flink nothing again.
pub struct Observation {
    pub observed: Observed,
    checkpoints: HashMap<String, CheckpointPaths>,
    /// The fingerprint of the job's overview entries (None: the cluster did not answer).
    pub seen: Option<crate::cadence::Fingerprint>,
}

/// Reads what is on the cluster for `job` (Flink jobs named `<job>@<hash>`), newest first. The
/// job list comes from the environment's shared overview ([`EnvRuntime::jobs_by_name`]).
pub async fn observe(env: &EnvRuntime, client: Option<&FlinkClient>, job: &str) -> Observation {
    observe_within(env, client, job, crate::env::OVERVIEW_MAX_AGE).await
}

/// [`observe`] from an overview up to `max_age` old ([`EnvRuntime::jobs_by_name_within`]).
pub async fn observe_within(env: &EnvRuntime, client: Option<&FlinkClient>, job: &str, max_age: Duration) -> Observation {
    let unreachable = Observation { observed: Observed { cluster_reachable: false, jobs: vec![] }, checkpoints: HashMap::new(), seen: None };
    let Some(client) = client else {
        return unreachable;
    };
    let by_name = match env.jobs_by_name_within(client, max_age).await {
        Ok(o) => o,
        Err(e) => {
            tracing::debug!(%job, "cluster not reachable: {e}");
            return unreachable;
        }
    };
    let seen = Some(crate::cadence::fingerprint(by_name.get(job)));
    let mut ours: Vec<_> = by_name.get(job).map(|v| v.iter().collect()).unwrap_or_default();
    ours.sort_by_key(|j| std::cmp::Reverse(j.start_time));
    let now = now_ms();
    let mut jobs = Vec::new();
    let mut checkpoints = HashMap::new();
    for (i, j) in ours.iter().enumerate() {
        let status = JobStatus::from_flink(j.state.as_str());
        let mut live = LiveJob {
            flink_job_id: j.jid.as_str().to_string(),
            spec_hash: parse_flink_job_name(&j.name).map(|(_, h)| h.to_string()),
            status,
            completed_checkpoints: 0,
            last_checkpoint_age_ms: None,
            savepoint: None,
        };
        // Checkpoint statistics of the newest few (the active one and the one an upgrade stopped).
        if i < 3
            && let Ok(cp) = client.checkpoints(&j.jid).await
        {
            live.completed_checkpoints = cp.counts.completed;
            live.last_checkpoint_age_ms = cp.latest.completed.as_ref().map(|c| now - c.latest_ack_timestamp.max(c.trigger_timestamp));
            live.savepoint = cp.latest.savepoint.as_ref().and_then(|s| s.external_path.clone());
            checkpoints.insert(
                live.flink_job_id.clone(),
                CheckpointPaths {
                    last_completed: cp.latest.completed.as_ref().and_then(|c| c.external_path.clone()),
                    restored: cp.latest.restored.as_ref().and_then(|r| r.external_path.clone()),
                },
            );
        }
        jobs.push(live);
    }
    Observation { observed: Observed { cluster_reachable: true, jobs }, checkpoints, seen }
}

/// What a step read from the store about the job's versions, once.
struct Versions(Vec<flinkops_control::store::SpecVersion>);

impl Versions {
    /// The version (number and hash) with this hash prefix, if stored.
    fn of_hash(&self, hash: &str) -> Option<VersionRef> {
        self.0.iter().rev().find(|v| lifecycle::plan::same_spec(Some(hash), &v.spec_hash)).map(|v| VersionRef { version: v.version, spec_hash: v.spec_hash.clone() })
    }
}

/// What one full reconcile step did, and what it leaves for the decisions until the next one
/// ([`crate::cadence`]).
pub struct Stepped {
    /// When to reconcile again at the latest.
    pub requeue: Duration,
    pub report: StepReport,
    /// The job's observed row as stored (health evaluation goes on from it).
    pub row: ObservedJob,
    /// The fingerprint of the job's overview entries the step ended with.
    pub seen: Option<crate::cadence::Fingerprint>,
    pub outcome: crate::cadence::Outcome,
    /// When the planner's own deadlines need a full step (checkpoints would be stale, a periodic
    /// savepoint is due).
    pub due_ms: Option<i64>,
}

/// One (full) reconcile step: observe (from an overview up to `overview_max_age` old), plan,
/// act, record.
pub async fn reconcile(shared: &Shared, mj: &ManagedJob, env: &EnvRuntime, overview_max_age: Duration) -> Result<Stepped> {
    let key = mj.key.as_str();
    let now = now_ms();
    let mut report = StepReport { at_ms: now, ..Default::default() };
    let versions = Versions(shared.store.spec_versions(key).await?);
    let Some(latest) = versions.0.last() else {
        return Err(Error::NotFound(format!("no spec version stored for {key}")));
    };
    let mut meta = Meta::load(shared, key).await?;
    let pinned: Option<VersionRef> = meta.get(meta::PINNED)?;
    let version = pinned.unwrap_or(VersionRef { version: latest.version, spec_hash: latest.spec_hash.clone() });
    let suspended = meta.get::<bool>(meta::SUSPENDED)?.unwrap_or(false);
    let desired = Desired { job: key.to_string(), version: version.clone(), suspended };

    let client = env.client().await;
    let observation = observe_within(env, client.as_ref(), &mj.job, overview_max_age).await;
    let mut observed = observation.observed.clone();
    let mut recovery_state: RecoveryState = meta.get(meta::RECOVERY)?.unwrap_or_default();
    let mut deployed: Option<VersionRef> = meta.get(meta::DEPLOYED)?;

    // What runs tells which version last ran, and whether a recovery has paid off.
    if let Some(active) = observed.active().filter(|j| j.status == JobStatus::Running) {
        meta.put(shared, meta::LAST_FLINK_JOB, Some(&active.flink_job_id)).await?;
        if let Some(h) = &active.spec_hash
            && let Some(v) = versions.of_hash(h)
            && deployed.as_ref() != Some(&v)
        {
            meta.put(shared, meta::DEPLOYED, Some(&v)).await?;
            deployed = Some(v);
        }
        if active.completed_checkpoints >= 1 && (recovery_state.attempt > 0 || recovery_state.breaker.recent_failures(now) > 0) && !recovery_state.breaker.is_open() {
            recovery_state.attempt = 0;
            recovery_state.next_at_ms = None;
            recovery_state.breaker.record_success();
            meta.put(shared, meta::RECOVERY, Some(&recovery_state)).await?;
        }
    } else if let Some(newest) = observed.jobs.first() {
        meta.put(shared, meta::LAST_FLINK_JOB, Some(&newest.flink_job_id)).await?;
    }

    let pending = pending_intent(shared, key).await?;
    // A crash right after stop-with-savepoint returned leaves the savepoint unrecorded, and
    // Flink's statistics of the stopped job do not always name it: find it on disk (Flink names
    // it `savepoint-<first 6 hex of the job id>-…`) so the upgrade goes on from it.
    if let Some(PendingIntent::Upgrade { intent: u, .. }) = &pending
        && u.savepoint.is_none()
        && let Some(dir) = env.savepoint_dir()
        && let Some(j) =
            observed.jobs.iter_mut().find(|j| j.flink_job_id == u.old_flink_job && j.savepoint.is_none() && matches!(j.status, JobStatus::Finished | JobStatus::Stopped))
    {
        j.savepoint = stopped_savepoint_on_disk(&dir, &u.old_flink_job);
        if let Some(sp) = &j.savepoint {
            tracing::info!(job = %key, savepoint = %sp, "found the unrecorded savepoint of the stopped job on disk");
        }
    }
    let snapshots = shared.store.snapshots(key).await?;
    let last_flink_job: Option<String> = meta.get(meta::LAST_FLINK_JOB)?;
    let selection = match (env.checkpoint_dir(), &last_flink_job) {
        (Some(dir), Some(id)) => recovery::select_for_job(&dir, id, &snapshots)?,
        _ => recovery::select_source(&[], &snapshots, &[]),
    };
    let had_pending = pending.is_some();
    let facts = Facts {
        now_ms: now,
        pending,
        deployed: deployed.clone(),
        recovery_source: selection.source.clone(),
        breaker_open: recovery_state.breaker.is_open(),
        next_recovery_at_ms: recovery_state.next_at_ms,
        checkpoint_stale_after_ms: mj.checkpoint_stale_after_ms,
        upgrade_health_timeout_ms: mj.upgrade_health_timeout_ms,
        stopped_by_flinkops: stopped_by_flinkops(shared, key, &observed).await?,
    };

    // A person asked to restore from a given checkpoint or savepoint.
    let requested: Option<RestoreSource> = meta.get(meta::RESTORE_FROM)?;
    let by_person = requested.is_some() && facts.pending.is_none() && observed.cluster_reachable;
    let actions = match requested {
        Some(source) if by_person => {
            meta.put::<RestoreSource>(shared, meta::RESTORE_FROM, None).await?;
            let target = deployed.clone().unwrap_or(version.clone());
            vec![Action::Recover { version: target, source, cancel_first: observed.active().map(|j| j.flink_job_id.clone()) }]
        }
        _ => lifecycle::plan(&desired, &observed, &facts),
    };

    let mut requeue = shared.tick;
    for action in actions {
        let name = action_name(&action);
        if !matches!(action, Action::Wait { .. }) {
            report.actions.push(name.clone());
        }
        match execute(shared, mj, env, client.as_ref(), by_person, &mut meta, &mut recovery_state, &selection, action).await? {
            Step::Continue => {}
            Step::WaitUntil(d) => {
                requeue = requeue.min(d);
            }
            Step::Waiting(why) => report.waiting = Some(why),
        }
        if name != "wait" {
            shared.metrics.action(&name, "ok");
        }
    }

    // Periodic savepoints and retention, when nothing else is going on.
    let mut snapshots_changed = false;
    if report.actions.is_empty() && !suspended {
        snapshots_changed = periodic_savepoint(shared, mj, env, client.as_ref(), &observed, &mut meta).await?;
    }
    // The autoscaler, on a running job with nothing else going on.
    if report.actions.is_empty()
        && !snapshots_changed
        && !suspended
        && !had_pending
        && mj.autoscaler.is_some()
        && let (Some(c), Some(active)) = (client.as_ref(), observed.active().filter(|j| j.status == JobStatus::Running))
    {
        match crate::autoscale::step(shared, mj, env, c, &active.flink_job_id, &versions.0, &mut meta).await {
            Ok(true) => report.actions.push("rescale".into()),
            Ok(false) => {}
            // Metrics that cannot be read now are read at the next step; the job is untouched.
            Err(e @ Error::Flink(_)) => tracing::warn!(job = %key, "autoscaler: {e}"),
            Err(e) => return Err(e),
        }
    }

    // Record what was observed: what was seen before, unless an action changed it.
    let acted = !report.actions.is_empty() || snapshots_changed;
    let after = if acted {
        env.invalidate_overview();
        observe(env, client.as_ref(), &mj.job).await
    } else {
        observation
    };
    let still_pending = if acted || had_pending { pending_intent(shared, key).await? } else { None };
    let phase = phase_of(still_pending.as_ref(), &after.observed, suspended, &recovery_state);
    report.phase = phase.as_str().to_string();
    let snapshots = if acted { shared.store.snapshots(key).await? } else { snapshots };
    let row = store_observed(shared, mj, &versions, &snapshots, &after, phase).await?;
    if !report.actions.is_empty() {
        requeue = Duration::from_millis(500);
    }
    let active_running = after.observed.active().filter(|j| j.status == JobStatus::Running);
    let outcome = crate::cadence::Outcome {
        phase,
        acted,
        pending: had_pending || still_pending.is_some(),
        waiting: report.waiting.is_some() || requeue < shared.tick,
        reachable: after.observed.cluster_reachable,
        autoscaler: mj.autoscaler.is_some(),
        running: active_running.is_some(),
        awaiting_checkpoint: mj.checkpoint_interval_ms.is_some() && active_running.is_some_and(|j| j.completed_checkpoints == 0),
        recovering: recovery_state.attempt > 0,
    };
    // The plan recovers a running job whose newest checkpoint is older than the limit.
    let stale_at = match (mj.checkpoint_stale_after_ms, active_running.and_then(|j| j.last_checkpoint_age_ms)) {
        (Some(limit), Some(age)) => Some(now.saturating_add(limit - age).saturating_add(1)),
        _ => None,
    };
    let savepoint_at = match (&mj.savepoints, suspended) {
        (Some(p), false) => p.interval_ms.and_then(|i| meta.get::<i64>(meta::LAST_PERIODIC_SAVEPOINT).ok().flatten().map(|t| t.saturating_add(i))),
        _ => None,
    };
    let due_ms = [stale_at, savepoint_at].into_iter().flatten().min();
    Ok(Stepped { requeue, report, row, seen: after.seen, outcome, due_ms })
}

/// When nothing runs and the newest Flink job FINISHED: whether an upgrade or a rescale by
/// savepoint of flinkops stopped it (then it did not complete by itself and is recovered).
/// Reads the intent log only in that rare case.
async fn stopped_by_flinkops(shared: &Shared, key: &str, observed: &Observed) -> Result<Option<String>> {
    let Some(newest) = observed.jobs.first().filter(|j| j.status == JobStatus::Finished && observed.active().is_none()) else {
        return Ok(None);
    };
    let intents = shared.store.intents(key, 50).await?;
    let ours = intents.iter().any(|i| {
        matches!(i.kind, IntentKind::Upgrade | IntentKind::RescaleBySavepoint) && i.payload.get("old_flink_job").and_then(|v| v.as_str()) == Some(newest.flink_job_id.as_str())
    });
    Ok(ours.then(|| newest.flink_job_id.clone()))
}

/// The newest complete savepoint of `flink_job` under a local savepoint directory (`file://…`).
fn stopped_savepoint_on_disk(dir: &str, flink_job: &str) -> Option<String> {
    let root = dir.strip_prefix("file://").or_else(|| dir.strip_prefix("file:"))?;
    let prefix = format!("savepoint-{}-", flink_job.get(..6)?);
    let mut found: Vec<(std::time::SystemTime, std::path::PathBuf)> = std::fs::read_dir(root)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .filter(|p| p.join("_metadata").is_file())
        .filter_map(|p| Some((p.join("_metadata").metadata().ok()?.modified().ok()?, p)))
        .collect();
    found.sort();
    found.pop().map(|(_, p)| format!("file:{}", p.display()))
}

/// The job's pending exclusive intent, as the planner wants it.
async fn pending_intent(shared: &Shared, key: &str) -> Result<Option<PendingIntent>> {
    let pending = shared.store.pending_intents(Some(key)).await?;
    let Some(i) = pending.into_iter().find(|i| i.kind.is_exclusive()) else {
        return Ok(None);
    };
    Ok(Some(match i.kind {
        // A rescale by savepoint walks an upgrade's steps with the same version on both sides.
        IntentKind::Upgrade | IntentKind::RescaleBySavepoint => PendingIntent::Upgrade { id: i.id, intent: UpgradeIntent::from_json(&i.payload)? },
        kind => PendingIntent::Other { id: i.id, kind },
    }))
}

enum Step {
    Continue,
    WaitUntil(Duration),
    Waiting(String),
}

fn action_name(a: &Action) -> String {
    match a {
        Action::Wait { .. } => "wait",
        Action::Deploy { .. } => "deploy",
        Action::BeginUpgrade(_) => "begin_upgrade",
        Action::StopWithSavepoint { .. } => "stop_with_savepoint",
        Action::Submit { rollback: false, .. } => "submit",
        Action::Submit { rollback: true, .. } => "submit_rollback",
        Action::AwaitHealthy { .. } => "await_healthy",
        Action::StartRollback { .. } => "start_rollback",
        Action::Cancel { .. } => "cancel",
        Action::Recover { .. } => "recover",
        Action::Suspend { .. } => "suspend",
        Action::FinishIntent { .. } => "finish_intent",
        Action::Alert { .. } => "alert",
    }
    .to_string()
}

fn job_id(id: &str) -> Result<JobId> {
    id.parse::<JobId>().map_err(|e| Error::Corrupt(format!("`{id}` is not a Flink job id: {e}")))
}

fn need_client(client: Option<&FlinkClient>) -> Result<&FlinkClient> {
    client.ok_or_else(|| Error::Input("the environment's cluster is not known yet".into()))
}

/// Submits `version` of the job (from a savepoint or checkpoint when given).
pub async fn submit_version(shared: &Shared, mj: &ManagedJob, env: &EnvRuntime, client: &FlinkClient, version: &VersionRef, from: Option<&str>) -> Result<String> {
    let sv = shared.store.spec_version(&mj.key, version.version).await?.ok_or_else(|| Error::NotFound(format!("version {} of {}", version.version, mj.key)))?;
    let rt = RuntimeSpec::from_json(&sv.spec)?;
    let name = flink_job_name(&mj.job, &sv.spec_hash);
    let mut conf: BTreeMap<String, String> = rt.config.clone();
    conf.insert("pipeline.name".into(), name.clone());
    let overrides = crate::autoscale::parallelism_overrides(shared, mj).await?.unwrap_or_default();
    if let Some(o) = crate::autoscale::overrides_by_id(&overrides) {
        conf.insert("pipeline.jobvertex-parallelism-overrides".into(), o);
    }
    let opts = SubmitOptions { parallelism: Some(rt.parallelism), from_savepoint: from.map(str::to_string), allow_non_restored_state: false, flink_configuration: conf.clone() };
    let home = env.home().clone();
    let id = match &rt.program {
        Program::Sql { script } => {
            // SET statements shape the job the runner builds. The spec's job configuration
            // comes first (the script's own SETs may refine it); the job name comes last, so
            // that it wins: observation finds the job by it.
            let set = |k: &str, v: &str| format!("SET '{}' = '{}';\n", k.replace('\'', "''"), v.replace('\'', "''"));
            let mut text = String::new();
            for (k, v) in conf.iter().filter(|(k, _)| k.as_str() != "pipeline.name") {
                text.push_str(&set(k, v));
            }
            text.push_str(script);
            text.push_str("\n;\n");
            text.push_str(&set("pipeline.name", &name));
            let dist = tokio::task::block_in_place(|| env.dist())?;
            let java = env.java().await?;
            submit::submit(client, &home, Some(&dist), Some(&java), submit::Program::Sql { script: text, parallelism_by_name: overrides.by_name.clone() }, &opts).await?
        }
        Program::Jar { path, entry_class, args } => {
            let p = std::path::PathBuf::from(path);
            submit::submit(client, &home, None, None, submit::Program::Jar { path: &p, entry_class: entry_class.clone(), args: args.clone() }, &opts).await?
        }
    };
    tracing::info!(job = %mj.key, flink_job = %id, version = version.version, from = ?from, "submitted");
    Ok(id.as_str().to_string())
}

async fn record_savepoint(shared: &Shared, mj: &ManagedJob, flink_job: &str, path: &str, protected: bool) -> Result<()> {
    shared
        .store
        .record_snapshot(&Snapshot {
            id: 0,
            path: path.to_string(),
            kind: SnapshotKind::Savepoint,
            job: mj.key.clone(),
            flink_job_id: Some(flink_job.to_string()),
            created_at: now_ms(),
            status: SnapshotStatus::Completed,
            size_bytes: local_size(path),
            protected,
        })
        .await?;
    Ok(())
}

fn local_size(path: &str) -> Option<i64> {
    let dir = path.strip_prefix("file:").map(|p| p.trim_start_matches("//"))?;
    let dir = if dir.starts_with('/') { dir.to_string() } else { format!("/{dir}") };
    let mut total = 0i64;
    for e in std::fs::read_dir(&dir).ok()?.flatten() {
        total += e.metadata().map(|m| i64::try_from(m.len()).unwrap_or(0)).unwrap_or(0);
    }
    Some(total)
}

#[allow(clippy::too_many_arguments)]
async fn execute(
    shared: &Shared,
    mj: &ManagedJob,
    env: &EnvRuntime,
    client: Option<&FlinkClient>,
    by_person: bool,
    meta: &mut Meta,
    recovery_state: &mut RecoveryState,
    selection: &recovery::Selection,
    action: Action,
) -> Result<Step> {
    let key = mj.key.as_str();
    let store = &shared.store;
    let intent = |kind: IntentKind, reason: String, payload: serde_json::Value| NewIntent { job: key.to_string(), kind, reason, payload, created_at: now_ms() };
    match action {
        Action::Wait { why, until_ms } => {
            let d = until_ms.map(|u| Duration::from_millis(u64::try_from((u - now_ms()).max(100)).unwrap_or(100)));
            return Ok(match d {
                Some(d) => Step::WaitUntil(d),
                None => Step::Waiting(why),
            });
        }
        Action::Deploy { version } => {
            let client = need_client(client)?;
            let i = store.begin_intent(&intent(IntentKind::Deploy, "first deployment of the job".into(), json!({"version": version}))).await?;
            match submit_version(shared, mj, env, client, &version, None).await {
                Ok(id) => {
                    store.update_intent_payload(i.id, &json!({"version": version, "flink_job_id": id})).await?;
                    // From now on the job counts as deployed: if it is not seen running, the
                    // planner recovers it (or alerts) instead of deploying it again.
                    meta.put(shared, meta::DEPLOYED, Some(&version)).await?;
                    meta.put(shared, meta::LAST_FLINK_JOB, Some(&id)).await?;
                    store.finish_intent(i.id, IntentState::Done, None, now_ms()).await?;
                }
                Err(e) => {
                    store.finish_intent(i.id, IntentState::Failed, Some(&e.to_string()), now_ms()).await?;
                    return Err(e);
                }
            }
        }
        Action::BeginUpgrade(u) => {
            // Recorded before the job is touched: a crash from here on resumes from the store.
            store.begin_intent(&intent(IntentKind::Upgrade, format!("spec changed: version {} → {}", u.from.version, u.to.version), u.to_json())).await?;
            crate::failpoint::hit("upgrade.begun");
        }
        Action::StopWithSavepoint { flink_job_id } => {
            let client = need_client(client)?;
            let Some(PendingIntent::Upgrade { id, mut intent }) = pending_intent(shared, key).await? else {
                return Err(Error::Corrupt(format!("{key}: stop-with-savepoint without a pending upgrade")));
            };
            let sp = client.stop_with_savepoint(&job_id(&flink_job_id)?, env.savepoint_dir().as_deref(), false, SAVEPOINT_DEADLINE).await;
            match sp {
                Ok(sp) => {
                    crate::failpoint::hit("upgrade.stopped");
                    intent.savepoint = Some(sp.as_str().to_string());
                    store.update_intent_payload(id, &intent.to_json()).await?;
                    record_savepoint(shared, mj, &flink_job_id, sp.as_str(), false).await?;
                    shared.metrics.savepoint("upgrade", "ok");
                }
                Err(e) => {
                    // The job keeps running; the upgrade ends here and nothing changed.
                    store.finish_intent(id, IntentState::Failed, Some(&format!("stop-with-savepoint failed: {e}")), now_ms()).await?;
                    shared.metrics.savepoint("upgrade", "failed");
                    return Err(e.into());
                }
            }
        }
        Action::Submit { version, from_savepoint, rollback } => {
            let client = need_client(client)?;
            let Some(PendingIntent::Upgrade { id, mut intent }) = pending_intent(shared, key).await? else {
                return Err(Error::Corrupt(format!("{key}: submit without a pending upgrade")));
            };
            if intent.savepoint.is_none() {
                // The old job stopped with this savepoint but a crash kept it from being
                // recorded: record it now (catalog and intent) before submitting from it.
                record_savepoint(shared, mj, &intent.old_flink_job, &from_savepoint, false).await?;
                intent.savepoint = Some(from_savepoint.clone());
            }
            if rollback {
                intent.rollback_attempts += 1;
            } else {
                intent.submit_attempts += 1;
            }
            store.update_intent_payload(id, &intent.to_json()).await?;
            if let Some(change) = &intent.parallelism {
                // A rescale by savepoint: this submission (and every later one) runs at the new
                // parallelism, or at the old one when rolling back — decided by the intent alone,
                // so a crash anywhere resubmits the same.
                let p = if rollback { &change.before } else { &change.after };
                meta.put(shared, crate::autoscale::META_OVERRIDES, Some(p)).await?;
            }
            match submit_version(shared, mj, env, client, &version, Some(&from_savepoint)).await {
                Ok(new_id) => {
                    crate::failpoint::hit("upgrade.submitted");
                    if !rollback {
                        intent.new_flink_job = Some(new_id.clone());
                        intent.deadline_ms = Some(now_ms() + intent.health_timeout_ms);
                        store.update_intent_payload(id, &intent.to_json()).await?;
                    }
                    meta.put(shared, meta::LAST_FLINK_JOB, Some(&new_id)).await?;
                }
                Err(e) => {
                    tracing::warn!(job = %key, "submitting version {} failed: {e}", version.version);
                    if !rollback {
                        shared.metrics.action("submit", "failed");
                    }
                    // Not an error of the loop: the next plan rolls back (or retries the rollback).
                }
            }
        }
        Action::AwaitHealthy { flink_job_id, deadline_ms } => {
            if let Some(PendingIntent::Upgrade { id, mut intent }) = pending_intent(shared, key).await?
                && (intent.new_flink_job.is_none() || intent.deadline_ms.is_none())
            {
                intent.new_flink_job = Some(flink_job_id);
                intent.deadline_ms = Some(deadline_ms);
                store.update_intent_payload(id, &intent.to_json()).await?;
            }
            return Ok(Step::Waiting("waiting for the new version to run and complete a checkpoint".into()));
        }
        Action::StartRollback { reason } => {
            let Some(PendingIntent::Upgrade { id, mut intent }) = pending_intent(shared, key).await? else {
                return Err(Error::Corrupt(format!("{key}: rollback without a pending upgrade")));
            };
            tracing::warn!(job = %key, "rolling back: {reason}");
            intent.rolling_back = true;
            intent.rollback_reason = Some(reason);
            store.update_intent_payload(id, &intent.to_json()).await?;
            crate::failpoint::hit("upgrade.rolling_back");
        }
        Action::Cancel { flink_job_id } => {
            let client = need_client(client)?;
            client.cancel(&job_id(&flink_job_id)?).await?;
            let _ = client.wait_until_terminal(&job_id(&flink_job_id)?, Duration::from_secs(60)).await;
        }
        Action::Recover { version, source, cancel_first } => {
            let client = need_client(client)?;
            let reason = match source.kind {
                RestoreKind::Checkpoint => {
                    format!("restore from retained checkpoint {}", source.path)
                }
                RestoreKind::Savepoint => format!("restore from savepoint {}", source.path),
            };
            let rejected: Vec<serde_json::Value> = selection.rejected.iter().map(|r| json!({"path": r.path, "problem": r.problem.to_string()})).collect();
            let reason = if by_person { format!("requested by a person: {reason}") } else { reason };
            let i = store
                .begin_intent(&intent(IntentKind::Recover, reason, json!({"source": source, "version": version, "cancel_first": cancel_first, "rejected": rejected, "attempt": recovery_state.attempt + 1, "requested": by_person})))
                .await?;
            let now = now_ms();
            // Automatic recoveries count towards backoff and the circuit breaker; a restore a
            // person asked for does not.
            let opened = if by_person {
                false
            } else {
                shared.metrics.recovery();
                recovery_state.attempt += 1;
                recovery_state.next_at_ms = Some(now + BACKOFF.random_delay_ms(recovery_state.attempt - 1));
                recovery_state.breaker.record_failure(now)
            };
            let result = async {
                if let Some(id) = &cancel_first {
                    let jid = job_id(id)?;
                    if let Err(e) = client.cancel(&jid).await {
                        tracing::warn!(job = %key, "cancelling the stuck job {id} failed: {e}");
                    }
                    let _ = client.wait_until_terminal(&jid, Duration::from_secs(60)).await;
                }
                submit_version(shared, mj, env, client, &version, Some(&source.path)).await
            }
            .await;
            match result {
                Ok(new_id) => {
                    recovery_state.recovered_job = Some(new_id.clone());
                    meta.put(shared, meta::LAST_FLINK_JOB, Some(&new_id)).await?;
                    store.finish_intent(i.id, IntentState::Done, None, now_ms()).await?;
                }
                Err(e) => {
                    store.finish_intent(i.id, IntentState::Failed, Some(&e.to_string()), now_ms()).await?;
                    meta.put(shared, meta::RECOVERY, Some(&*recovery_state)).await?;
                    return Err(e);
                }
            }
            meta.put(shared, meta::RECOVERY, Some(&*recovery_state)).await?;
            if opened {
                shared
                    .raise_action_needed(
                        mj,
                        &format!(
                            "{} recoveries of {key} within {} min did not bring it back; recoveries stop until someone acts (`flinkops resume {} --env {}`)",
                            recovery_state.breaker.recent_failures(now),
                            BREAKER_WINDOW_MS / 60_000,
                            mj.job,
                            mj.env
                        ),
                    )
                    .await;
            }
        }
        Action::Suspend { flink_job_id } => {
            let client = need_client(client)?;
            let i = store.begin_intent(&intent(IntentKind::Suspend, "suspended by a person".into(), json!({"flink_job_id": flink_job_id}))).await?;
            match client.stop_with_savepoint(&job_id(&flink_job_id)?, env.savepoint_dir().as_deref(), false, SAVEPOINT_DEADLINE).await {
                Ok(sp) => {
                    record_savepoint(shared, mj, &flink_job_id, sp.as_str(), false).await?;
                    store.update_intent_payload(i.id, &json!({"flink_job_id": flink_job_id, "savepoint": sp.as_str()})).await?;
                    store.finish_intent(i.id, IntentState::Done, None, now_ms()).await?;
                    // Resuming restores from exactly this savepoint.
                    meta.put(shared, meta::RESTORE_FROM, None::<&RestoreSource>).await?;
                    meta.put(shared, "suspend_savepoint", Some(&json!(sp.as_str()))).await?;
                }
                Err(e) => {
                    store.finish_intent(i.id, IntentState::Failed, Some(&e.to_string()), now_ms()).await?;
                    return Err(e.into());
                }
            }
        }
        Action::FinishIntent { id, state, reason } => {
            let error = (state != IntentState::Done).then_some(reason.as_str());
            let done = store.finish_intent(id, state, error, now_ms()).await?;
            tracing::info!(job = %key, intent = id, kind = %done.kind, %state, "{reason}");
            if done.kind == IntentKind::Upgrade {
                let u = UpgradeIntent::from_json(&done.payload)?;
                let ran = match state {
                    IntentState::Done => Some(u.to.clone()),
                    IntentState::RolledBack => Some(u.from.clone()),
                    _ => None,
                };
                if let Some(v) = ran {
                    meta.put(shared, meta::DEPLOYED, Some(&v)).await?;
                }
                if state == IntentState::RolledBack {
                    // Stay on the previous version until the spec changes again.
                    meta.put(shared, meta::PINNED, Some(&u.from)).await?;
                    shared.raise_action_needed(mj, &format!("upgrade of {key} to version {} was rolled back: {reason}", u.to.version)).await;
                }
                shared.metrics.action("upgrade", state.as_str());
            }
            if done.kind == IntentKind::RescaleBySavepoint {
                shared.metrics.action("rescale", state.as_str());
                if state != IntentState::Done {
                    tracing::warn!(job = %key, "rescale by savepoint ended {state}: {reason}");
                }
            }
        }
        Action::Alert { summary } => {
            shared.raise_action_needed(mj, &summary).await;
            return Ok(Step::Waiting(summary));
        }
    }
    Ok(Step::Continue)
}

/// Takes a periodic savepoint when one is due, then enforces retention.
/// Returns whether the savepoint catalog changed.
async fn periodic_savepoint(shared: &Shared, mj: &ManagedJob, env: &EnvRuntime, client: Option<&FlinkClient>, observed: &Observed, meta: &mut Meta) -> Result<bool> {
    let Some(policy) = &mj.savepoints else {
        return Ok(false);
    };
    let Some(interval) = policy.interval_ms else {
        return Ok(false);
    };
    let (Some(client), Some(active)) = (client, observed.active()) else {
        return Ok(false);
    };
    // RUNNING is reported while tasks still deploy; a completed checkpoint of this Flink job
    // shows they all run (a savepoint triggered before fails with "not all required tasks are
    // currently running").
    if active.status != JobStatus::Running || (mj.checkpoint_stale_after_ms.is_some() && active.completed_checkpoints == 0) {
        return Ok(false);
    }
    let now = now_ms();
    let last: Option<i64> = meta.get(meta::LAST_PERIODIC_SAVEPOINT)?;
    if last.is_some_and(|t| now - t < interval) {
        return Ok(false);
    }
    if last.is_none() {
        // The first interval starts now (not at once after a deployment).
        meta.put(shared, meta::LAST_PERIODIC_SAVEPOINT, Some(&now)).await?;
        return Ok(false);
    }
    match take_savepoint(shared, mj, env, client, &active.flink_job_id, "periodic savepoint").await {
        Ok(_) => meta.put(shared, meta::LAST_PERIODIC_SAVEPOINT, Some(&now_ms())).await.map(|()| true),
        // Recorded as a failed intent and counted; tried again after a tenth of the interval
        // (at least 5 s), without failing the reconcile step.
        Err(e @ Error::Flink(_)) => {
            tracing::warn!(job = %mj.key, "periodic savepoint failed, will retry: {e}");
            let retry_at = now_ms() - interval + (interval / 10).max(5_000);
            meta.put(shared, meta::LAST_PERIODIC_SAVEPOINT, Some(&retry_at)).await.map(|()| true)
        }
        Err(e) => Err(e),
    }
}

/// Triggers a savepoint of the running job, records it (intent, catalog) and enforces retention.
pub async fn take_savepoint(shared: &Shared, mj: &ManagedJob, env: &EnvRuntime, client: &FlinkClient, flink_job_id: &str, reason: &str) -> Result<String> {
    let store = &shared.store;
    let i = store
        .begin_intent(&NewIntent { job: mj.key.clone(), kind: IntentKind::Savepoint, reason: reason.into(), payload: json!({"flink_job_id": flink_job_id}), created_at: now_ms() })
        .await?;
    match client.savepoint(&job_id(flink_job_id)?, env.savepoint_dir().as_deref(), SAVEPOINT_DEADLINE).await {
        Ok(sp) => {
            record_savepoint(shared, mj, flink_job_id, sp.as_str(), false).await?;
            store.update_intent_payload(i.id, &json!({"flink_job_id": flink_job_id, "savepoint": sp.as_str()})).await?;
            store.finish_intent(i.id, IntentState::Done, None, now_ms()).await?;
            shared.metrics.savepoint("periodic", "ok");
            if let Some(p) = &mj.savepoints {
                let policy = RetentionPolicy { max_count: p.max_count, max_age_ms: p.max_age_ms };
                let r = retention::enforce(store, &mj.key, &policy, now_ms()).await?;
                for (path, err) in &r.failed {
                    tracing::warn!(job = %mj.key, %path, "retention could not delete a savepoint: {err}");
                }
                shared.metrics.retention(r.deleted.len() as u64, r.failed.len() as u64);
            }
            Ok(sp.as_str().to_string())
        }
        Err(e) => {
            store.finish_intent(i.id, IntentState::Failed, Some(&e.to_string()), now_ms()).await?;
            shared.metrics.savepoint("periodic", "failed");
            Err(e.into())
        }
    }
}

fn phase_of(pending: Option<&PendingIntent>, observed: &Observed, suspended: bool, rs: &RecoveryState) -> Phase {
    if let Some(p) = pending {
        return match p {
            PendingIntent::Upgrade { intent, .. } if intent.rolling_back => Phase::RollingBack,
            PendingIntent::Upgrade { .. } => Phase::Upgrading,
            PendingIntent::Other { kind: IntentKind::Recover, .. } => Phase::Recovering,
            PendingIntent::Other { kind: IntentKind::Suspend, .. } => Phase::Savepointing,
            PendingIntent::Other { .. } => Phase::Deploying,
        };
    }
    if rs.breaker.is_open() {
        return Phase::Failed;
    }
    match observed.active() {
        Some(j) if j.status == JobStatus::Running => Phase::Running,
        Some(_) if rs.attempt > 0 => Phase::Recovering,
        Some(_) => Phase::Deploying,
        None if suspended => Phase::Suspended,
        None if observed.jobs.first().is_some_and(|j| j.status == JobStatus::Finished) => Phase::Finished,
        None if !observed.cluster_reachable => Phase::Recovering,
        None if rs.attempt > 0 => Phase::Recovering,
        None if observed.jobs.is_empty() => Phase::Deploying,
        None => Phase::Failed,
    }
}

/// An unchanged observed row is written again after this long (its `updated_at` says when serve
/// last confirmed it, at least every 30 s); a changed one at once. Shorter than the resync
/// ([`crate::cadence::RESYNC_MIN`]), so that every resync of a settled job confirms it.
const OBSERVED_REFRESH_MS: i64 = 25_000;

/// Writes the job's observed row when it changed (or is older than [`OBSERVED_REFRESH_MS`]) and
/// returns it.
async fn store_observed(shared: &Shared, mj: &ManagedJob, versions: &Versions, snapshots: &[Snapshot], obs: &Observation, phase: Phase) -> Result<ObservedJob> {
    let key = mj.key.as_str();
    let prev = shared.store.observed(key).await?;
    let observed = &obs.observed;
    let active = observed.active().or(observed.jobs.first());
    let spec_version = active.and_then(|j| j.spec_hash.as_deref()).and_then(|h| versions.of_hash(h)).map(|v| v.version);
    let last_savepoint = snapshots.iter().find(|s| s.kind == SnapshotKind::Savepoint && s.status == SnapshotStatus::Completed).map(|s| s.path.clone());
    let state = match (observed.cluster_reachable, active) {
        (false, _) => "UNREACHABLE".to_string(),
        (true, None) => "ABSENT".to_string(),
        (true, Some(j)) => match j.status {
            JobStatus::Running => "RUNNING",
            JobStatus::Starting => "STARTING",
            JobStatus::Stopping => "STOPPING",
            JobStatus::Failed => "FAILED",
            JobStatus::Stopped => "STOPPED",
            JobStatus::Finished => "FINISHED",
        }
        .to_string(),
    };
    let (mut last_checkpoint, mut restored_from) = (prev.as_ref().and_then(|p| p.last_checkpoint.clone()), prev.as_ref().and_then(|p| p.restored_from.clone()));
    if let Some(paths) = active.and_then(|j| obs.checkpoints.get(&j.flink_job_id)) {
        last_checkpoint = paths.last_completed.clone().or(last_checkpoint);
        restored_from = paths.restored.clone();
    }
    let health = prev.as_ref().map(|p| p.health.clone()).unwrap_or_else(|| "unknown".into());
    let o = ObservedJob {
        job: key.to_string(),
        flink_job_id: active.map(|j| j.flink_job_id.clone()),
        state,
        phase: phase.as_str().to_string(),
        spec_version,
        last_checkpoint,
        last_savepoint,
        restored_from,
        health,
        updated_at: now_ms(),
    };
    if let Some(p) = prev
        && o.updated_at - p.updated_at < OBSERVED_REFRESH_MS
        && (ObservedJob { updated_at: p.updated_at, ..o.clone() }) == p
    {
        return Ok(p);
    }
    shared.store.put_observed(&o).await?;
    Ok(o)
}
