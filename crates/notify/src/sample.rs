//! Reads one [`JobHealthSample`] of a Flink job from Flink's REST API (the thin shell in front
//! of the pure rules in [`crate::health`]).
//!
//! Every number comes from Flink under its own name:
//!
//! | sample field | Flink REST |
//! | --- | --- |
//! | `state`, `uptime_ms` | `GET /jobs/:id` (`state`, `now − timestamps.RUNNING`) |
//! | `num_restarts` | `GET /jobs/:id/metrics?get=numRestarts` |
//! | `completed_checkpoints`, `failed_checkpoints`, `last_completed_checkpoint_at`, `last_checkpoint_duration_ms` | `GET /jobs/:id/checkpoints` (`counts.completed`, `counts.failed`, `latest.completed.latest_ack_timestamp`, `latest.completed.end_to_end_duration`) |
//! | `checkpoint_interval_ms` | `GET /jobs/:id/checkpoints/config` (`interval`) |
//! | `max_busy_ms_per_s`, `max_backpressured_ms_per_s` | `GET /jobs/:id/vertices/:vid/subtasks/metrics?get=busyTimeMsPerSecond,backPressuredTimeMsPerSecond&agg=max`, the highest over running vertices |
//!
//! Only the job itself must be readable: a job Flink does not know, or a cluster that does not
//! answer, is a [`SampleError`] (serve turns it into a sample without state with
//! [`SampleError::unknown_sample`], so `FlinkJobNotRunning` speaks). Anything else that cannot
//! be read leaves its field `None` (the rules that need it stay as they are) and is listed in
//! [`Sampled::missing`].

use flinkops_rest::{Aggregation, FlinkClient, JobDetails, JobId, JobState};
use serde::Serialize;

use crate::health::JobHealthSample;

/// The metrics read per vertex (aggregated with `max` over its subtasks).
pub const BUSY_METRIC: &str = "busyTimeMsPerSecond";
pub const BACKPRESSURE_METRIC: &str = "backPressuredTimeMsPerSecond";
/// The job-level restart counter.
pub const RESTARTS_METRIC: &str = "numRestarts";

/// A sample and what could not be read for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sampled {
    pub sample: JobHealthSample,
    /// Flink's name of the job (`pipeline.name`).
    pub flink_name: String,
    /// One line per part of the sample that could not be read, with why (empty when all was).
    pub missing: Vec<String>,
}

/// Why a job could not be sampled at all.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(
        "Flink job {job} was not found at {rest_url}: Flink does not know this id (a typo, a job of another cluster, or one archived and dropped); list the cluster's jobs with `flinkops job list --rest {rest_url}`"
    )]
    JobNotFound { job: JobId, rest_url: String },
    #[error("cannot read Flink job {job} from {rest_url}: {source}")]
    Flink {
        job: JobId,
        rest_url: String,
        #[source]
        source: flinkops_rest::Error,
    },
}

impl SampleError {
    /// Whether Flink said it does not know the job (as opposed to not answering).
    pub fn is_not_found(&self) -> bool {
        matches!(self, SampleError::JobNotFound { .. })
    }

    /// The sample to evaluate when the job could not be read: no state, everything unknown
    /// (`FlinkJobNotRunning` holds; the other rules keep their state).
    pub fn unknown_sample(&self, name: &str, now: i64) -> JobHealthSample {
        JobHealthSample::new(name, now)
    }
}

/// Samples job `id` through `client` at `now` (epoch ms, the caller's clock, also the sample's
/// `at`). `name` is the flinkops job name the sample is for (the spec's key); None uses Flink's
/// job name. The sample expects the job to run (`expected_running`); serve clears that for a
/// job it suspends.
pub async fn sample_job(client: &FlinkClient, id: &JobId, name: Option<&str>, now: i64) -> Result<Sampled, SampleError> {
    let rest_url = client.base_url().as_str().trim_end_matches('/').to_string();
    let details = client.job(id).await.map_err(|e| {
        if e.is_not_found() {
            SampleError::JobNotFound { job: id.clone(), rest_url: rest_url.clone() }
        } else {
            SampleError::Flink { job: id.clone(), rest_url: rest_url.clone(), source: e }
        }
    })?;
    let mut s = JobHealthSample::new(name.unwrap_or(&details.name), now);
    let mut missing = Vec::new();
    s.state = Some(details.state.as_str().to_string());
    s.uptime_ms = uptime(&details);
    let running = details.state == JobState::Running;

    let (restarts, checkpoints, config) =
        tokio::join!(client.job_metrics(id, &[RESTARTS_METRIC]), client.checkpoints(id), client.checkpoint_config(id));
    match restarts {
        Ok(values) => match values.iter().find(|m| m.id == RESTARTS_METRIC).and_then(|m| m.as_f64()).filter(|v| v.is_finite()) {
            Some(v) => s.num_restarts = Some(v as i64),
            None => missing.push(format!("{RESTARTS_METRIC}: Flink did not report it for this job")),
        },
        Err(e) => missing.push(format!("{RESTARTS_METRIC}: {e}")),
    }
    match checkpoints {
        Ok(c) => {
            s.completed_checkpoints = i64::try_from(c.counts.completed).ok();
            s.failed_checkpoints = i64::try_from(c.counts.failed).ok();
            if let Some(latest) = &c.latest.completed {
                s.last_completed_checkpoint_at = Some(latest.latest_ack_timestamp).filter(|t| *t > 0);
                s.last_checkpoint_duration_ms = Some(latest.end_to_end_duration).filter(|d| *d >= 0);
            }
        }
        // Flink answers 404 ("Checkpointing has not been enabled") for a job without
        // checkpointing; the job itself was just found.
        Err(e) if e.is_not_found() => {}
        Err(e) => missing.push(format!("checkpoint statistics: {e}")),
    }
    match config {
        // Flink reports a disabled periodic checkpointing as Long.MAX_VALUE.
        Ok(c) => s.checkpoint_interval_ms = Some(c.interval).filter(|i| *i > 0 && *i < i64::MAX / 2),
        Err(e) if e.is_not_found() => {}
        Err(e) => missing.push(format!("checkpoint configuration: {e}")),
    }
    if running {
        let (busy, backpressure) = vertex_maxima(client, id, &details, &mut missing).await;
        s.max_busy_ms_per_s = busy;
        s.max_backpressured_ms_per_s = backpressure;
    }
    Ok(Sampled { sample: s, flink_name: details.name.clone(), missing })
}

/// How long the job has been RUNNING (Flink's own clock: its `now` minus the time it entered
/// RUNNING). None unless it runs.
fn uptime(d: &JobDetails) -> Option<i64> {
    if d.state != JobState::Running {
        return None;
    }
    let since = d.timestamps.get("RUNNING").copied().filter(|t| *t > 0)?;
    Some(d.now.saturating_sub(since).max(0))
}

/// The highest busy and back-pressured time per second over the subtasks of every running
/// vertex. `NaN` values (a gauge without a value yet) are skipped; None when no vertex had one.
async fn vertex_maxima(client: &FlinkClient, id: &JobId, d: &JobDetails, missing: &mut Vec<String>) -> (Option<f64>, Option<f64>) {
    let mut busy: Option<f64> = None;
    let mut bp: Option<f64> = None;
    let max = |acc: Option<f64>, v: Option<f64>| match (acc, v.filter(|x| x.is_finite())) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    for v in d.vertices.iter().filter(|v| v.status.as_str().eq_ignore_ascii_case("RUNNING")) {
        match client.subtask_metrics(id, &v.id, &[BUSY_METRIC, BACKPRESSURE_METRIC], &[Aggregation::Max]).await {
            Ok(ms) => {
                busy = max(busy, ms.iter().find(|m| m.id == BUSY_METRIC).and_then(|m| m.max));
                bp = max(bp, ms.iter().find(|m| m.id == BACKPRESSURE_METRIC).and_then(|m| m.max));
            }
            Err(e) => missing.push(format!("metrics of vertex {} ({}): {e}", v.id, v.name)),
        }
    }
    if busy.is_none() {
        missing.push(format!(
            "{BUSY_METRIC}: no running vertex reported it yet (Flink's web monitor fetches metrics every few seconds after a start)"
        ));
    }
    if bp.is_none() {
        missing.push(format!("{BACKPRESSURE_METRIC}: no running vertex reported it yet"));
    }
    (busy, bp)
}

#[cfg(test)]
mod tests {
    //! The sampler against Flink 2.3.0's answers recorded from a real cluster
    //! (`crates/rest/tests/fixtures/2.3.0`, `scripts/record-rest-fixtures.sh`), replayed by a
    //! local HTTP server. The live check is the `health::` integration test.

    use std::path::PathBuf;

    use axum::http::{StatusCode, Uri};
    use serde_json::Value;

    use super::*;

    const JOB: &str = "1a0181b3f17e47b21f89aaca830d78ec";
    const SOURCE_VERTEX: &str = "bc764cd8ddf7a0cff126f51c16239658";

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rest/tests/fixtures/2.3.0")
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
    }

    /// Flink as recorded: the running job, its checkpoints and metrics; the subtask metrics of
    /// the source vertex only (the other vertex answers 404); any other job 404.
    async fn replay(uri: Uri) -> (StatusCode, String) {
        let p = uri.path();
        let name = if p == format!("/jobs/{JOB}") {
            "job_running"
        } else if p == format!("/jobs/{JOB}/checkpoints") {
            "checkpoints_running"
        } else if p == format!("/jobs/{JOB}/checkpoints/config") {
            "checkpoints_config"
        } else if p == format!("/jobs/{JOB}/metrics") {
            "job_metrics"
        } else if p == format!("/jobs/{JOB}/vertices/{SOURCE_VERTEX}/subtasks/metrics") {
            "subtask_metrics_agg"
        } else {
            return (StatusCode::NOT_FOUND, fixture("error_job_not_found"));
        };
        (StatusCode::OK, fixture(name))
    }

    async fn flink() -> (FlinkClient, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, axum::Router::new().fallback(replay)).await;
        });
        let client = FlinkClient::new(format!("http://{addr}").parse().expect("url")).expect("client");
        (client, task)
    }

    #[tokio::test]
    async fn a_recorded_running_job_becomes_a_sample() {
        let (client, task) = flink().await;
        let id: JobId = JOB.parse().expect("job id");
        let s = sample_job(&client, &id, Some("orders"), 1_795_463_964_000).await.expect("sample");
        task.abort();

        let job: Value = serde_json::from_str(&fixture("job_running")).expect("json");
        let cps: Value = serde_json::from_str(&fixture("checkpoints_running")).expect("json");
        let x = &s.sample;
        assert_eq!((x.job.as_str(), s.flink_name.as_str(), x.at), ("orders", "flinkops-fixture", 1_795_463_964_000));
        assert_eq!(x.state.as_deref(), Some("RUNNING"));
        assert_eq!(x.uptime_ms, Some(job["now"].as_i64().expect("now") - job["timestamps"]["RUNNING"].as_i64().expect("ts")));
        assert_eq!(x.num_restarts, Some(0));
        assert_eq!(x.completed_checkpoints, cps["counts"]["completed"].as_i64());
        assert_eq!(x.failed_checkpoints, Some(0));
        assert_eq!(x.last_completed_checkpoint_at, cps["latest"]["completed"]["latest_ack_timestamp"].as_i64());
        assert_eq!(x.last_checkpoint_duration_ms, cps["latest"]["completed"]["end_to_end_duration"].as_i64());
        assert_eq!(x.checkpoint_interval_ms, Some(1000));
        // The source's busy time is NaN in the recording (no value yet): skipped, not 0.
        assert_eq!((x.max_busy_ms_per_s, x.max_backpressured_ms_per_s), (None, Some(0.0)));
        assert!(x.expected_running);
        assert_eq!(s.missing.len(), 2, "{:?}", s.missing);
        assert!(s.missing[0].starts_with("metrics of vertex 20ba6b65f97481d5570070de90e4e791"), "{:?}", s.missing);
        assert!(s.missing[1].starts_with("busyTimeMsPerSecond: no running vertex reported it yet"), "{:?}", s.missing);
    }

    #[tokio::test]
    async fn an_unknown_job_is_not_found_and_names_the_id() {
        let (client, task) = flink().await;
        let id: JobId = "00000000000000000000000000000000".parse().expect("job id");
        let e = sample_job(&client, &id, None, 0).await.expect_err("unknown job");
        task.abort();
        assert!(e.is_not_found(), "{e:?}");
        let msg = e.to_string();
        assert!(msg.starts_with("Flink job 00000000000000000000000000000000 was not found at http://127.0.0.1:"), "{msg}");
        let unknown = e.unknown_sample("orders", 5);
        assert_eq!((unknown.state, unknown.at, unknown.job.as_str()), (None, 5, "orders"));

        // Nothing listening: a Flink error, not "not found".
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
        let dead = FlinkClient::builder(format!("http://127.0.0.1:{port}").parse().expect("url"))
            .retry(flinkops_rest::RetryPolicy::none())
            .build()
            .expect("client");
        let e = sample_job(&dead, &id, None, 0).await.expect_err("unreachable");
        assert!(!e.is_not_found() && e.to_string().starts_with("cannot read Flink job 00000000000000000000000000000000 from http://127.0.0.1:"), "{e}");
    }
}
