//! serve's REST API (axum) and its OpenAPI document (utoipa). Reads are open; every mutating
//! endpoint needs `Authorization: Bearer <token>` (compared in constant time). Errors are JSON:
//! `{"error": {"kind": "...", "message": "..."}}` with a status that says who has to act.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use flinkops_control::store::{AlertStatus, Store};
use flinkops_rest::{Aggregation, JobId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::{OpenApi, ToSchema};

use crate::reconcile::meta;
use crate::state::{CommandResult, Shared};
use crate::{Error, Result};

/// An API error as JSON.
pub struct ApiError(Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = (status, Json(json!({"error": {"kind": self.0.label(), "message": self.0.to_string()}}))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        r
    }
}

type ApiResult<T> = std::result::Result<Json<T>, ApiError>;

/// One environment in the status view.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnvView {
    pub name: String,
    /// `local` or `standalone`.
    pub target: String,
    pub flink_version: String,
    /// Flink's REST URL (also its Web UI).
    pub rest_url: Option<String>,
    pub reachable: bool,
    pub taskmanagers: Option<u32>,
    pub slots_total: Option<u32>,
    pub slots_available: Option<u32>,
}

/// One job in the status view.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    /// `env/job`.
    pub key: String,
    pub env: String,
    pub job: String,
    /// The lifecycle phase (deploying, running, upgrading, rolling_back, recovering, suspended, failed…).
    pub phase: String,
    /// Flink's job state as last observed (RUNNING, FAILED, ABSENT, UNREACHABLE…).
    pub state: String,
    /// healthy, degraded, unhealthy or unknown.
    pub health: String,
    pub flink_job_id: Option<String>,
    /// The spec version that runs.
    pub running_version: Option<i64>,
    /// The spec version serve wants to run.
    pub desired_version: Option<i64>,
    pub parallelism: u32,
    pub last_checkpoint: Option<String>,
    pub last_savepoint: Option<String>,
    pub restored_from: Option<String>,
    pub suspended: bool,
    /// The kind of the pending exclusive action, if any.
    pub pending: Option<String>,
    /// Names of firing alerts.
    pub alerts_firing: Vec<String>,
    /// When the job's observed row last changed or was confirmed (epoch ms; rewritten at least
    /// every 30 s while serve runs).
    pub updated_at: Option<i64>,
    /// When serve's last reconcile step of the job started (epoch ms; None before the first).
    pub reconciled_at: Option<i64>,
    /// The last reconcile step: actions, what it waits for, its error.
    pub last_actions: Vec<String>,
    pub waiting: Option<String>,
    pub error: Option<String>,
}

/// Every environment and job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusView {
    pub platform: String,
    pub spec: String,
    pub started_at_ms: i64,
    pub environments: Vec<EnvView>,
    pub jobs: Vec<JobView>,
}

/// One job with its history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobDetail {
    pub job: JobView,
    /// Spec versions, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub versions: Vec<Value>,
    /// The checkpoint and savepoint catalog, newest first.
    #[schema(value_type = Vec<Object>)]
    pub snapshots: Vec<Value>,
    /// The intent/audit log, newest first.
    #[schema(value_type = Vec<Object>)]
    pub intents: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub deliveries: Vec<Value>,
    /// Autoscaler decisions, newest first.
    #[schema(value_type = Vec<Object>)]
    pub scalings: Vec<Value>,
    /// The Flink configuration the job runs with (job level).
    pub config: BTreeMap<String, String>,
}

/// `POST …/restore` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RestoreRequest {
    /// A completed checkpoint or savepoint of the job's catalog.
    pub path: String,
}

/// `GET …/metrics` query.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct MetricQuery {
    /// The metric's name (e.g. `records_in_per_second`).
    pub name: String,
}

async fn env_views(shared: &Shared) -> Vec<EnvView> {
    let envs: Vec<_> = shared.envs.read().await.values().cloned().collect();
    let mut out = Vec::new();
    for e in envs {
        let client = e.client().await;
        let overview = match &client {
            Some(c) => c.overview().await.ok(),
            None => None,
        };
        out.push(EnvView {
            name: e.spec.name.clone(),
            target: e.spec.target.clone(),
            flink_version: e.spec.flink_version.clone(),
            rest_url: e.rest_url().await,
            reachable: overview.is_some(),
            taskmanagers: overview.as_ref().map(|o| o.taskmanagers),
            slots_total: overview.as_ref().map(|o| o.slots_total),
            slots_available: overview.as_ref().map(|o| o.slots_available),
        });
    }
    out
}

/// What the store says about every job, in three queries whatever the fleet size (the status
/// view and the dashboard's fleet page both start from it).
pub struct JobFacts {
    /// Observed rows by job key.
    pub observed: BTreeMap<String, flinkops_control::store::ObservedJob>,
    /// The kind of each job's pending exclusive intent.
    pub pending: BTreeMap<String, String>,
    /// Names of each job's firing alerts.
    pub firing: BTreeMap<String, Vec<String>>,
}

impl JobFacts {
    pub async fn load<S: flinkops_control::store::Store>(store: &S) -> flinkops_control::Result<JobFacts> {
        let observed = store.all_observed().await?.into_iter().map(|o| (o.job.clone(), o)).collect();
        let pending = store.pending_intents(None).await?.into_iter().filter(|i| i.kind.is_exclusive()).map(|i| (i.job, i.kind.to_string())).collect();
        let mut firing: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for a in store.all_alerts().await? {
            if a.status == AlertStatus::Firing {
                firing.entry(a.job).or_default().push(a.rule);
            }
        }
        Ok(JobFacts { observed, pending, firing })
    }
}

/// The status of every job, from the store (a fixed number of queries, whatever the fleet size).
pub async fn job_views(shared: &Shared) -> Result<Vec<JobView>> {
    let platform = shared.platform.read().await.clone();
    let JobFacts { observed, pending, mut firing } = JobFacts::load(&shared.store).await?;
    let runtimes = shared.jobs.read().await.clone();
    let mut out = Vec::with_capacity(platform.jobs.len());
    for j in &platform.jobs {
        let o = observed.get(&j.key);
        let last = runtimes.get(&j.key).map(|rt| rt.last.lock().unwrap_or_else(|p| p.into_inner()).clone()).unwrap_or_default();
        let suspended = o.is_some_and(|o| o.phase == "suspended") || last.phase == "suspended";
        out.push(JobView {
            key: j.key.clone(),
            env: j.env.clone(),
            job: j.job.clone(),
            phase: o.map(|o| o.phase.clone()).unwrap_or_else(|| "deploying".into()),
            state: o.map(|o| o.state.clone()).unwrap_or_else(|| "UNKNOWN".into()),
            health: o.map(|o| o.health.clone()).unwrap_or_else(|| "unknown".into()),
            flink_job_id: o.and_then(|o| o.flink_job_id.clone()),
            running_version: o.and_then(|o| o.spec_version),
            desired_version: None,
            parallelism: j.runtime.parallelism,
            last_checkpoint: o.and_then(|o| o.last_checkpoint.clone()),
            last_savepoint: o.and_then(|o| o.last_savepoint.clone()),
            restored_from: o.and_then(|o| o.restored_from.clone()),
            suspended,
            pending: pending.get(&j.key).cloned(),
            alerts_firing: firing.remove(&j.key).unwrap_or_default(),
            updated_at: o.map(|o| o.updated_at),
            reconciled_at: (last.at_ms > 0).then_some(last.at_ms),
            last_actions: last.actions,
            waiting: last.waiting,
            error: last.error,
        });
    }
    // Jobs of Kubernetes environments: as the operator's status says.
    for ke in &platform.kube_envs {
        for (key, (_, _, name)) in &ke.jobs {
            let o = observed.get(key);
            out.push(JobView {
                key: key.clone(),
                env: ke.name.clone(),
                job: name.clone(),
                phase: o.map(|o| o.phase.clone()).unwrap_or_else(|| "deploying".into()),
                state: o.map(|o| o.state.clone()).unwrap_or_else(|| "UNKNOWN".into()),
                health: o.map(|o| o.health.clone()).unwrap_or_else(|| "unknown".into()),
                flink_job_id: o.and_then(|o| o.flink_job_id.clone()),
                running_version: None,
                desired_version: None,
                parallelism: 0,
                last_checkpoint: o.and_then(|o| o.last_checkpoint.clone()),
                last_savepoint: o.and_then(|o| o.last_savepoint.clone()),
                restored_from: None,
                suspended: o.is_some_and(|o| o.phase == "suspended"),
                pending: pending.get(&format!("{}/kubernetes", ke.name)).cloned(),
                alerts_firing: firing.remove(key).unwrap_or_default(),
                updated_at: o.map(|o| o.updated_at),
                reconciled_at: None,
                last_actions: vec![],
                waiting: None,
                error: None,
            });
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/status", tag = "read", responses((status = 200, description = "Every environment and job", body = StatusView)))]
async fn status(State(s): State<Arc<Shared>>) -> ApiResult<StatusView> {
    let platform = s.platform.read().await.clone();
    Ok(Json(StatusView {
        platform: platform.platform.clone(),
        spec: platform.spec_path.display().to_string(),
        started_at_ms: s.started_at_ms,
        environments: env_views(&s).await,
        jobs: job_views(&s).await?,
    }))
}

fn key_of(env: &str, job: &str) -> String {
    crate::model::job_key(env, job)
}

async fn known(s: &Shared, key: &str) -> Result<crate::model::ManagedJob> {
    s.platform.read().await.job(key).cloned().ok_or_else(|| Error::NotFound(format!("no job `{key}` is managed by this serve")))
}

fn values<T: Serialize>(v: Vec<T>) -> Vec<Value> {
    v.into_iter().map(|x| serde_json::to_value(x).unwrap_or(Value::Null)).collect()
}

#[utoipa::path(get, path = "/api/v1/jobs/{env}/{job}", tag = "read",
    params(("env" = String, Path), ("job" = String, Path)),
    responses((status = 200, body = JobDetail), (status = 404, description = "Unknown job")))]
async fn job_detail(State(s): State<Arc<Shared>>, Path((env, job)): Path<(String, String)>) -> ApiResult<JobDetail> {
    let key = key_of(&env, &job);
    let mj = known(&s, &key).await?;
    let view = job_views(&s).await?.into_iter().find(|v| v.key == key).ok_or_else(|| Error::NotFound(key.clone()))?;
    let mut view = view;
    view.desired_version = s.store.latest_spec(&key).await.map_err(Error::from)?.map(|v| v.version);
    if let Some(p) = s.store.meta(&key, meta::PINNED).await.map_err(Error::from)?.and_then(|v| v.get("version").and_then(Value::as_i64)) {
        view.desired_version = Some(p);
    }
    view.suspended = s.store.meta(&key, meta::SUSPENDED).await.map_err(Error::from)? == Some(json!(true));
    let versions: Vec<Value> =
        s.store.spec_versions(&key).await.map_err(Error::from)?.into_iter().map(|v| json!({"version": v.version, "spec_hash": v.spec_hash, "created_at": v.created_at})).collect();
    Ok(Json(JobDetail {
        job: view,
        versions,
        snapshots: values(s.store.snapshots(&key).await.map_err(Error::from)?),
        intents: values(s.store.intents(&key, 200).await.map_err(Error::from)?),
        alerts: values(s.store.alerts(&key).await.map_err(Error::from)?),
        deliveries: values(s.store.deliveries(Some(&key), 100).await.map_err(Error::from)?),
        scalings: values(s.store.scalings(&key, 20).await.map_err(Error::from)?),
        config: mj.runtime.config.clone(),
    }))
}

#[utoipa::path(get, path = "/api/v1/jobs/{env}/{job}/metrics", tag = "read",
    params(("env" = String, Path), ("job" = String, Path), MetricQuery),
    responses((status = 200, description = "The metric's history, oldest first: [{ts, value}]")))]
async fn job_metric(State(s): State<Arc<Shared>>, Path((env, job)): Path<(String, String)>, Query(q): Query<MetricQuery>) -> ApiResult<Value> {
    let key = key_of(&env, &job);
    known(&s, &key).await?;
    let h = s.store.metric_history(&key, &q.name).await.map_err(Error::from)?;
    Ok(Json(json!({"job": key, "metric": q.name, "points": h})))
}

/// Live data from Flink: the job graph with parallelism and per-vertex metrics, checkpoints.
#[utoipa::path(get, path = "/api/v1/jobs/{env}/{job}/live", tag = "read",
    params(("env" = String, Path), ("job" = String, Path)),
    responses((status = 200, description = "Vertices with busy/backpressured time and rates, checkpoint statistics, Flink's Web UI URL"), (status = 502, description = "Flink does not answer")))]
async fn job_live(State(s): State<Arc<Shared>>, Path((env, job)): Path<(String, String)>) -> ApiResult<Value> {
    let key = key_of(&env, &job);
    let mj = known(&s, &key).await?;
    let e = s.envs.read().await.get(&mj.env).cloned().ok_or_else(|| Error::NotFound(format!("environment {}", mj.env)))?;
    let client = e.client().await.ok_or_else(|| Error::Input(format!("the cluster of `{}` has not started yet", mj.env)))?;
    let observed = s.store.observed(&key).await.map_err(Error::from)?;
    let Some(id) = observed.and_then(|o| o.flink_job_id) else {
        return Err(Error::NotFound(format!("`{key}` has no Flink job yet")).into());
    };
    let jid: JobId = id.parse().map_err(|e| Error::Corrupt(format!("stored job id `{id}`: {e}")))?;
    let details = client.job(&jid).await.map_err(Error::from)?;
    let mut vertices = Vec::new();
    let names = ["busyTimeMsPerSecond", "backPressuredTimeMsPerSecond", "numRecordsInPerSecond", "numRecordsOutPerSecond"];
    for v in &details.vertices {
        let m = client.subtask_metrics(&jid, &v.id, &names, &[Aggregation::Max, Aggregation::Avg, Aggregation::Sum]).await.unwrap_or_default();
        let get = |n: &str| m.iter().find(|x| x.id == n);
        vertices.push(json!({
            "id": v.id.as_str(), "name": v.name, "parallelism": v.parallelism, "max_parallelism": v.max_parallelism, "status": v.status.as_str(),
            "busy_ms_per_s_max": get("busyTimeMsPerSecond").and_then(|x| x.max),
            "backpressured_ms_per_s_max": get("backPressuredTimeMsPerSecond").and_then(|x| x.max),
            "records_in_per_s": get("numRecordsInPerSecond").and_then(|x| x.sum),
            "records_out_per_s": get("numRecordsOutPerSecond").and_then(|x| x.sum),
        }));
    }
    let cps = client.checkpoints(&jid).await.ok();
    Ok(Json(json!({
        "job": key,
        "flink_job_id": id,
        "state": details.state.as_str(),
        "start_time": details.start_time,
        "flink_web_ui": format!("{}/#/job/running/{id}/overview", e.rest_url().await.unwrap_or_default()),
        "vertices": vertices,
        "plan": details.plan,
        "checkpoints": cps.map(|c| json!({
            "counts": c.counts,
            "latest_completed": c.latest.completed.map(|x| json!({"id": x.id, "path": x.external_path, "duration_ms": x.end_to_end_duration, "size": x.checkpointed_size.unwrap_or(x.state_size), "at": x.latest_ack_timestamp})),
            "history": c.history.iter().take(30).map(|x| json!({"id": x.id, "status": format!("{:?}", x.status), "duration_ms": x.end_to_end_duration, "size": x.checkpointed_size.unwrap_or(x.state_size), "at": x.trigger_timestamp, "savepoint": x.is_savepoint})).collect::<Vec<_>>(),
        })),
    })))
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "read", responses((status = 200, description = "Every alert (firing, pending, resolved) and the newest channel deliveries")))]
async fn alerts(State(s): State<Arc<Shared>>) -> ApiResult<Value> {
    let alerts = s.store.all_alerts().await.map_err(Error::from)?;
    let deliveries = s.store.deliveries(None, 200).await.map_err(Error::from)?;
    Ok(Json(json!({"alerts": alerts, "deliveries": deliveries})))
}

/// Checks the bearer token (constant time, over digests so the length does not leak).
fn authorize(s: &Shared, headers: &HeaderMap) -> Result<()> {
    let Some(expected) = &s.token else {
        return Err(Error::Unauthorized("this serve has no API token configured; start it with --token-file FILE or FLINKOPS_TOKEN".into()));
    };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    let Some(given) = given else {
        return Err(Error::Unauthorized("this action needs `Authorization: Bearer <token>` (the CLI sends FLINKOPS_TOKEN or --token-file)".into()));
    };
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    if bool::from(a.ct_eq(&b)) { Ok(()) } else { Err(Error::Unauthorized("the bearer token is not valid for this serve".into())) }
}

#[utoipa::path(post, path = "/api/v1/jobs/{env}/{job}/{command}", tag = "act",
    params(("env" = String, Path), ("job" = String, Path), ("command" = String, Path, description = "deploy | upgrade | rollback | suspend | resume | savepoint")),
    security(("bearer" = [])),
    responses((status = 200, body = CommandResult), (status = 401, description = "Missing or wrong token"), (status = 404, description = "Unknown job"), (status = 409, description = "Another action is in progress")))]
async fn command(State(s): State<Arc<Shared>>, headers: HeaderMap, Path((env, job, command)): Path<(String, String, String)>) -> ApiResult<CommandResult> {
    authorize(&s, &headers)?;
    let key = key_of(&env, &job);
    let r = match command.as_str() {
        "deploy" | "upgrade" => s.deploy(&key, &command).await?,
        "rollback" => s.rollback(&key).await?,
        "suspend" => s.suspend(&key).await?,
        "resume" => s.resume(&key).await?,
        "savepoint" => s.savepoint_now(&key).await?,
        other => return Err(Error::NotFound(format!("unknown command `{other}`; use deploy, upgrade, rollback, suspend, resume, savepoint or restore")).into()),
    };
    Ok(Json(r))
}

#[utoipa::path(post, path = "/api/v1/jobs/{env}/{job}/restore", tag = "act",
    params(("env" = String, Path), ("job" = String, Path)), request_body = RestoreRequest,
    security(("bearer" = [])),
    responses((status = 200, body = CommandResult), (status = 400, description = "Not a restorable entry of the catalog"), (status = 401, description = "Missing or wrong token"), (status = 409, description = "Another action is in progress")))]
async fn restore(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((env, job)): Path<(String, String)>,
    body: std::result::Result<Json<RestoreRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<CommandResult> {
    authorize(&s, &headers)?;
    let Json(body) = body.map_err(|e| Error::Input(format!("the body must be JSON like {{\"path\": \"file:///…/savepoint-…\"}}: {e}")))?;
    Ok(Json(s.restore(&key_of(&env, &job), &body.path).await?))
}

#[utoipa::path(post, path = "/api/v1/reload", tag = "act", security(("bearer" = [])),
    responses((status = 200, description = "The spec was read again; `changed` lists jobs with a new version"), (status = 400, description = "The spec has errors (nothing was applied)")))]
async fn reload(State(s): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult<Value> {
    authorize(&s, &headers)?;
    let changed = s.reload().await?;
    Ok(Json(json!({"changed": changed})))
}

async fn metrics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let firing = s.store.all_alerts().await.unwrap_or_default();
    for sev in ["critical", "warning", "info"] {
        let n = firing.iter().filter(|a| a.status == AlertStatus::Firing && a.severity == sev).count();
        s.metrics.set_alerts_firing(sev, i64::try_from(n).unwrap_or(0));
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], s.metrics.render())
}

async fn healthz() -> &'static str {
    "ok"
}

struct BearerAddon;
impl utoipa::Modify for BearerAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "flinkops serve", description = "The flinkops control plane: status of every environment and job, history, live Flink data, and actions (bearer token)."),
    paths(status, job_detail, job_metric, job_live, alerts, command, restore, reload),
    components(schemas(StatusView, EnvView, JobView, JobDetail, RestoreRequest, CommandResult)),
    modifiers(&BearerAddon),
    tags((name = "read", description = "Open reads"), (name = "act", description = "Actions; need the bearer token"))
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError(Error::NotFound("no such endpoint; see /api/v1/openapi.json".into()))
}

/// The API router (the dashboard adds its pages to it).
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/status", get(status))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/reload", post(reload))
        .route("/api/v1/jobs/{env}/{job}", get(job_detail))
        .route("/api/v1/jobs/{env}/{job}/metrics", get(job_metric))
        .route("/api/v1/jobs/{env}/{job}/live", get(job_live))
        .route("/api/v1/jobs/{env}/{job}/restore", post(restore))
        .route("/api/v1/jobs/{env}/{job}/{command}", post(command))
        .merge(crate::dashboard::router(shared.clone()))
        .fallback(not_found)
        .with_state(shared)
}
