//! Kubernetes environments: the Flink Kubernetes Operator reconciles Flink there (upgrades
//! through savepoints, restarts, its own autoscaler), so serve does not fight it. serve applies
//! the environment's rendered objects (the same as `flinkops render`/`apply`: server-side apply,
//! field manager `flinkops`) whenever their rendering changes — each apply an intent first — and
//! observes every job through the status the operator writes on its `FlinkDeployment` /
//! `FlinkSessionJob` (`status.jobStatus`, `status.lifecycleState`, `status.error`) and, when the
//! environment has a `restUrl` template, through the job's own JobManager REST API: Flink's job
//! state and its latest completed and restored checkpoints, fresher than the operator's status.

use std::collections::BTreeMap;

use flinkops_control::store::{IntentKind, IntentState, NewIntent, ObservedJob, Store, now_ms};
use kube::api::{Api, DynamicObject};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::state::Shared;
use crate::{Error, Result};

/// A `target: kubernetes` environment as serve manages it.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeEnv {
    pub name: String,
    /// The rendered files under `kubernetes/` (path → YAML).
    pub files: BTreeMap<String, String>,
    /// Content hash of `files`: applied again only when it changes.
    pub hash: String,
    /// The job resources: job key (`env/job`) → (kind, namespace, name).
    pub jobs: BTreeMap<String, (String, String, String)>,
    /// The JobManager REST URL template (`{name}`, `{namespace}`), from the spec's `restUrl`.
    pub rest_url: Option<String>,
    /// Job key → the FlinkDeployment whose JobManager runs it (itself, or a session job's
    /// `deploymentName`).
    pub clusters: BTreeMap<String, String>,
}

impl KubeEnv {
    /// From an environment's rendered bundle; `job_names` are the spec's jobs of it.
    pub fn new(name: &str, bundle: &BTreeMap<String, String>, job_names: &[String], rest_url: Option<&str>) -> Result<KubeEnv> {
        let files: BTreeMap<String, String> = bundle.iter().filter(|(p, _)| p.starts_with("kubernetes/")).map(|(p, t)| (p.clone(), t.clone())).collect();
        let mut h = Sha256::new();
        for (p, t) in &files {
            h.update(p.as_bytes());
            h.update([0]);
            h.update(t.as_bytes());
            h.update([0]);
        }
        let objects = flinkops_kube::objects(&files).map_err(|e| Error::Input(format!("environment `{name}`: {e}")))?;
        let mut jobs = BTreeMap::new();
        let mut clusters = BTreeMap::new();
        for o in &objects {
            let kind = o.resource.kind.as_str();
            if (kind == "FlinkDeployment" || kind == "FlinkSessionJob") && job_names.iter().any(|j| j == o.name()) {
                let key = crate::model::job_key(name, o.name());
                let cluster = if kind == "FlinkSessionJob" { o.object.data["spec"]["deploymentName"].as_str().unwrap_or(o.name()) } else { o.name() };
                clusters.insert(key.clone(), cluster.to_string());
                jobs.insert(key, (kind.to_string(), o.namespace().unwrap_or("default").to_string(), o.name().to_string()));
            }
        }
        Ok(KubeEnv { name: name.to_string(), files, hash: hex::encode(h.finalize()), jobs, rest_url: rest_url.map(str::to_string), clusters })
    }

    fn meta_key(&self) -> String {
        format!("{}/kubernetes", self.name)
    }
}

/// The store's meta key holding the hash last applied.
const APPLIED_HASH: &str = "applied_hash";

/// One step for a Kubernetes environment: apply when the rendering changed, then observe.
/// Returns the number of objects applied (0 when nothing changed).
pub async fn reconcile(shared: &Shared, client: &kube::Client, env: &KubeEnv) -> Result<usize> {
    let key = env.meta_key();
    let applied: Option<String> = shared.store.meta(&key, APPLIED_HASH).await?.and_then(|v| v.as_str().map(str::to_string));
    let mut n = 0;
    if applied.as_deref() != Some(env.hash.as_str()) {
        let objects = flinkops_kube::objects(&env.files).map_err(|e| Error::Input(format!("environment `{}`: {e}", env.name)))?;
        let keys: Vec<String> = objects.iter().map(|o| o.key()).collect();
        let i = shared
            .store
            .begin_intent(&NewIntent {
                job: key.clone(),
                kind: IntentKind::Deploy,
                reason: format!("apply the rendered objects of environment `{}` (rendering {})", env.name, &env.hash[..12]),
                payload: json!({"hash": env.hash, "objects": keys}),
                created_at: now_ms(),
            })
            .await?;
        let report = flinkops_kube::apply(client, &objects, false, |a| tracing::info!(env = %env.name, object = %a.key, "applied")).await;
        if let Some(f) = &report.failed {
            let msg = format!("applying {} failed: {}", f.key, f.message);
            shared.store.finish_intent(i.id, IntentState::Failed, Some(&msg), now_ms()).await?;
            shared.metrics.action("kubernetes_apply", "failed");
            return Err(Error::Input(format!("environment `{}`: {msg}; {} applied before it, {} not attempted", env.name, report.applied.len(), report.skipped.len())));
        }
        shared.store.put_meta(&key, APPLIED_HASH, Some(&json!(env.hash)), now_ms()).await?;
        shared.store.finish_intent(i.id, IntentState::Done, None, now_ms()).await?;
        shared.metrics.action("kubernetes_apply", "ok");
        n = report.applied.len();
    }
    for (job, (kind, ns, name)) in &env.jobs {
        let (group, plural) = ("flink.apache.org", if kind == "FlinkDeployment" { "flinkdeployments" } else { "flinksessionjobs" });
        let ar = kube::api::ApiResource::from_gvk_with_plural(&kube::api::GroupVersionKind::gvk(group, "v1beta1", kind), plural);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        let live = api.get_opt(name).await.map_err(|e| Error::Input(format!("reading {kind} {ns}/{name}: {e}")))?;
        let status = live.as_ref().and_then(|o| o.data.get("status")).cloned().unwrap_or(Value::Null);
        let mut o = observed_from_status(job, &status, live.is_some(), now_ms());
        if let (Some(template), Some(flink_job)) = (&env.rest_url, o.flink_job_id.clone()) {
            let cluster = env.clusters.get(job).map_or(name.as_str(), String::as_str);
            let url = rest_url_for(template, cluster, ns);
            match observe_rest(&url, &flink_job).await {
                Ok(r) => apply_rest(&mut o, &r),
                // Not reachable from here (serve outside the cluster, the JobManager restarting):
                // the operator's status is what there is.
                Err(e) => tracing::debug!(job = %job, %url, "JobManager REST not observed: {e}"),
            }
        }
        shared.store.put_observed(&o).await?;
    }
    Ok(n)
}

/// The JobManager REST URL of a deployment from the environment's `restUrl` template.
pub fn rest_url_for(template: &str, deployment: &str, namespace: &str) -> String {
    template.replace("{name}", deployment).replace("{namespace}", namespace)
}

/// What a job's JobManager REST API says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RestView {
    /// Flink's job state (`RUNNING`, `RESTARTING`, …).
    pub state: String,
    pub last_checkpoint: Option<String>,
    pub restored_from: Option<String>,
}

async fn observe_rest(url: &str, flink_job: &str) -> Result<RestView> {
    let parsed = url::Url::parse(url).map_err(|e| Error::Input(format!("`{url}` is not a URL: {e}")))?;
    let client = flinkops_rest::FlinkClient::builder(parsed).timeout(std::time::Duration::from_secs(5)).connect_timeout(std::time::Duration::from_secs(2)).build()?;
    let id: flinkops_rest::JobId = flink_job.parse().map_err(|e| Error::Input(format!("`{flink_job}` is not a Flink job id: {e}")))?;
    let job = client.job(&id).await?;
    let cps = client.checkpoints(&id).await?;
    let completed = cps.latest.completed.as_ref();
    Ok(RestView {
        state: job.state.to_string(),
        last_checkpoint: completed.and_then(|c| c.external_path.clone()),
        restored_from: cps.latest.restored.as_ref().and_then(|r| r.external_path.clone()),
    })
}

/// Flink's own view wins over the operator's where both speak (pure): the job state, the latest
/// checkpoint, what the job restored from; a running job that does not run in Flink's eyes is
/// not healthy.
pub fn apply_rest(o: &mut ObservedJob, r: &RestView) {
    o.state = r.state.clone();
    if r.last_checkpoint.is_some() {
        o.last_checkpoint = r.last_checkpoint.clone();
    }
    if r.restored_from.is_some() {
        o.restored_from = r.restored_from.clone();
    }
    if o.phase == "running" && r.state != "RUNNING" {
        o.health = "unhealthy".into();
    }
}

/// What the operator's status says of a job (pure).
pub fn observed_from_status(job: &str, status: &Value, exists: bool, now: i64) -> ObservedJob {
    let js = &status["jobStatus"];
    let state = js["state"].as_str().map(str::to_string).unwrap_or_else(|| if exists { "UNKNOWN".into() } else { "ABSENT".into() });
    let lifecycle = status["lifecycleState"].as_str().unwrap_or("");
    let phase = match lifecycle {
        "UPGRADING" => "upgrading",
        "ROLLING_BACK" => "rolling_back",
        "SUSPENDED" => "suspended",
        "FAILED" | "ROLLED_BACK" => "failed",
        "STABLE" | "DEPLOYED" if state == "RUNNING" => "running",
        "" if !exists => "deploying",
        _ if state == "FAILED" => "failed",
        _ => "deploying",
    };
    let health = match (phase, status["error"].as_str().is_some_and(|e| !e.is_empty())) {
        ("running", false) => "healthy",
        ("running", true) => "degraded",
        ("suspended", _) => "healthy",
        _ => "unhealthy",
    };
    let sp = js["savepointInfo"]["lastSavepoint"]["location"].as_str().or(js["upgradeSavepointPath"].as_str()).map(str::to_string);
    ObservedJob {
        job: job.to_string(),
        flink_job_id: js["jobId"].as_str().map(str::to_string),
        state,
        phase: phase.to_string(),
        spec_version: None,
        last_checkpoint: js["checkpointInfo"]["lastCheckpoint"]["location"].as_str().map(str::to_string),
        last_savepoint: sp,
        restored_from: None,
        health: health.to_string(),
        updated_at: now,
    }
}

#[cfg(test)]
mod tests;
