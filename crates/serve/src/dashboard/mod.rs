//! The web dashboard, served by `flinkops serve` on the API's listener: a fleet page (`/`), a page
//! per job (`/jobs/{env}/{job}`) and an alerts page (`/alerts`).
//!
//! - The pages are one static HTML shell with a script and a stylesheet, compiled into the binary
//!   (`crates/serve/assets/dashboard/`, `include_str!`): no CDN, nothing fetched at run time.
//!   Charts are SVG drawn by that script (no chart library).
//! - The script reads JSON: the existing API (`/api/v1/jobs/{env}/{job}`, `…/live`,
//!   `/api/v1/alerts`) and the read-only endpoints here: `/api/v1/dashboard/fleet` (every job
//!   with its latest live numbers, from a fixed number of store queries whatever the fleet size)
//!   and `/api/v1/dashboard/jobs/{env}/{job}` (metric history and the config's lint findings).
//! - Actions (savepoint now, restore from here) call the existing POST endpoints with the bearer
//!   token the page asks for (kept in the tab's sessionStorage).
//! - [`sampler`]: one background task samples Flink (one request at a time) for throughput, busy
//!   and backpressured time per vertex, restarts, uptime and checkpoint age; it keeps the newest
//!   sample per job in memory (for the fleet page) and appends history to the store's bounded
//!   metric history (for the job page's charts).

pub mod fleet;
pub mod sampler;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flinkops_control::store::Store;
use serde_json::{Value, json};

use crate::Shared;

pub use fleet::{Fleet, FleetEnv, FleetJob, JobRef, fleet_from_store};
pub use sampler::{Sampler, metric_names};

const INDEX_HTML: &str = include_str!("../../assets/dashboard/index.html");
const APP_JS: &str = include_str!("../../assets/dashboard/app.js");
const APP_CSS: &str = include_str!("../../assets/dashboard/app.css");
const FAVICON: &str = include_str!("../../assets/dashboard/favicon.svg");

/// The dashboard's state: serve's and the sampler's.
pub struct Dash {
    pub shared: Arc<Shared>,
    pub sampler: Arc<Sampler>,
}

/// The dashboard's pages, assets and read-only JSON; starts the sampler (when a Tokio runtime
/// runs). Merged into [`crate::api::router`].
pub fn router<S: Clone + Send + Sync + 'static>(shared: Arc<Shared>) -> Router<S> {
    let sampler = Arc::new(Sampler::default());
    if tokio::runtime::Handle::try_current().is_ok() {
        sampler::spawn(Arc::downgrade(&shared), sampler.clone());
    }
    let dash = Arc::new(Dash { shared, sampler });
    Router::new()
        .route("/", get(page))
        .route("/jobs/{env}/{job}", get(page))
        .route("/alerts", get(page))
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route(
            "/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON) }),
        )
        .route("/api/v1/dashboard/fleet", get(fleet_json))
        .route("/api/v1/dashboard/jobs/{env}/{job}", get(job_json))
        .with_state(dash)
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
        .into_response()
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn error(status: StatusCode, kind: &str, message: String) -> Response {
    (
        status,
        Json(json!({"error": {"kind": kind, "message": message}})),
    )
        .into_response()
}

/// Every environment and job with the newest sampled numbers.
async fn fleet_json(State(d): State<Arc<Dash>>) -> Response {
    let platform = d.shared.platform.read().await.clone();
    let jobs = fleet::job_refs(&platform);
    let mut envs = Vec::new();
    let runtimes: Vec<_> = d.shared.envs.read().await.values().cloned().collect();
    for e in runtimes {
        envs.push((
            e.spec.name.clone(),
            e.spec.target.clone(),
            e.spec.flink_version.clone(),
            e.rest_url().await,
        ));
    }
    for ke in &platform.kube_envs {
        envs.push((ke.name.clone(), "kubernetes".into(), String::new(), None));
    }
    let samples = d.sampler.snapshot();
    match fleet_from_store(
        &d.shared.store,
        &platform.platform,
        &envs,
        &jobs,
        &samples,
        flinkops_control::store::now_ms(),
    )
    .await
    {
        Ok(f) => Json(f).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store",
            format!("the store did not answer: {e}"),
        ),
    }
}

/// A job's metric history (oldest first), its vertices' busy/backpressured history and the lint
/// findings of its effective Flink configuration.
async fn job_json(
    State(d): State<Arc<Dash>>,
    Path((env, job)): Path<(String, String)>,
) -> Response {
    let key = crate::model::job_key(&env, &job);
    let Some(mj) = d.shared.platform.read().await.job(&key).cloned() else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no job `{key}` is managed by this serve"),
        );
    };
    let mut series = BTreeMap::new();
    for name in metric_names::JOB {
        match d.shared.store.metric_history(&key, name).await {
            Ok(h) => {
                series.insert(name.to_string(), h);
            }
            Err(e) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store",
                    format!("the store did not answer: {e}"),
                );
            }
        }
    }
    let mut vertices = Vec::new();
    for (vid, vname) in d.sampler.vertices(&key) {
        let busy = d
            .shared
            .store
            .metric_history(&key, &metric_names::vertex_busy(&vid))
            .await
            .unwrap_or_default();
        let bp = d
            .shared
            .store
            .metric_history(&key, &metric_names::vertex_backpressured(&vid))
            .await
            .unwrap_or_default();
        vertices.push(json!({"id": vid, "name": vname, "busy": busy, "backpressured": bp}));
    }
    let sample = d.sampler.snapshot().jobs.remove(&key);
    Json(json!({
        "job": key,
        "sample_interval_ms": sampler::INTERVAL.as_millis() as u64,
        "series": series,
        "vertices": vertices,
        "latest": sample,
        "lint": lint(&mj.runtime.flink_version, &mj.runtime.config),
    }))
    .into_response()
}

/// The lint findings of a job's effective configuration (against its Flink version's catalog).
pub fn lint(version: &str, config: &BTreeMap<String, String>) -> Value {
    use flinkops_config::catalog::Catalog;
    use flinkops_config::lint::{self, FlinkVersion, LintContext};
    let Some(v) = FlinkVersion::parse(version) else {
        return json!({"error": format!("`{version}` is not a Flink version")});
    };
    let flink = match Catalog::for_version(version) {
        Ok(c) => c,
        Err(e) => return json!({"error": e.to_string()}),
    };
    let previous = if v.major >= 2 {
        Catalog::for_version("1.20").ok()
    } else {
        None
    };
    let items: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let doc = match flinkops_config::model::parse_dynamic(&items) {
        Ok(d) => d,
        Err(e) => return json!({"error": e.to_string()}),
    };
    let ctx = LintContext {
        version: v,
        flink,
        previous,
        operator: None,
    };
    let findings = lint::lint(&[doc], &ctx);
    json!({"version": v.to_string(), "findings": findings})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lint_reports_findings_of_the_jobs_config() {
        let cfg: BTreeMap<String, String> = [
            ("state.backend".to_string(), "hashmap".to_string()),
            ("parallelism.default".to_string(), "2".to_string()),
        ]
        .into();
        let v = lint("2.3", &cfg);
        let codes: Vec<&str> = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert!(codes.contains(&"deprecated-key"), "{v}");
        assert_eq!(v["version"], "2.3");
        assert!(
            lint("nine", &cfg)["error"]
                .as_str()
                .is_some_and(|e| e.contains("not a Flink version"))
        );
    }

    #[test]
    fn assets_are_compiled_in() {
        assert!(INDEX_HTML.contains("/assets/app.js") && INDEX_HTML.contains("/assets/app.css"));
        assert!(APP_JS.contains("window.flinkopsRenderFleet"));
        assert!(
            !INDEX_HTML.contains("https://")
                && !APP_JS.contains("https://")
                && !APP_CSS.contains("https://"),
            "no CDN, nothing fetched from outside"
        );
    }
}
