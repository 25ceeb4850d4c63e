//! The dashboard's sampler: every [`INTERVAL`], for each environment the shared
//! `/jobs/overview` (`EnvRuntime::jobs_by_name`, the one the reconcile steps read), then for
//! each managed job that runs there its vertices' rates, busy and backpressured time, its
//! restarts and its newest completed checkpoint. One Flink request at a time, so the load it
//! puts on Flink is bounded whatever the fleet size (a round over 1,000 jobs simply takes longer).
//!
//! The newest sample of each job stays in memory ([`Samples`], read by the fleet page); the
//! history goes to the store's bounded metric history ([`metric_names`], [`KEEP`] samples per
//! metric), read by the job page's charts and kept across restarts of serve: written in one
//! transaction per round (per [`BATCH`] samples on large fleets), not one per sample.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use flinkops_control::store::{MetricPoint, Store, now_ms};
use flinkops_rest::{Aggregation, FlinkClient, JobId};
use serde::{Deserialize, Serialize};

use crate::Shared;

/// How often a round starts (after the previous one ended).
pub const INTERVAL: Duration = Duration::from_secs(5);
/// Samples kept per job metric (an hour at [`INTERVAL`]).
pub const KEEP: i64 = 720;
/// At most this many samples per write transaction (about 30 jobs' worth): a round over a
/// large fleet holds the store's write lock in short slices (2,000 held it about 0.5 s in a
/// debug build, which reconcile steps writing their rows waited for), not for the whole round.
pub const BATCH: usize = 250;

/// The names under which samples are stored in the metric history.
pub mod metric_names {
    pub const RECORDS_IN: &str = "records_in_per_second";
    pub const RECORDS_OUT: &str = "records_out_per_second";
    pub const RESTARTS: &str = "restarts";
    pub const BUSY_MAX: &str = "busy_max_ms_per_second";
    /// The job-level series the job page charts.
    pub const JOB: &[&str] = &[RECORDS_IN, RECORDS_OUT, RESTARTS, BUSY_MAX];
    pub fn vertex_busy(vertex: &str) -> String {
        format!("vertex.{vertex}.busy_ms_per_second")
    }
    pub fn vertex_backpressured(vertex: &str) -> String {
        format!("vertex.{vertex}.backpressured_ms_per_second")
    }
}

/// The newest sample of one job.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobSample {
    pub at: i64,
    /// The Flink job it is about (samples of an earlier Flink job are not shown).
    pub flink_job_id: String,
    pub flink_state: String,
    pub started_at: Option<i64>,
    pub parallelism: u32,
    pub records_in_per_s: Option<f64>,
    pub records_out_per_s: Option<f64>,
    pub busy_max: Option<f64>,
    pub restarts: Option<f64>,
    pub last_checkpoint_at: Option<i64>,
    /// (vertex id, name), in Flink's order.
    pub vertices: Vec<(String, String)>,
    /// (vertex id, busy, backpressured), stored as history.
    #[serde(skip)]
    pub vertex_load: Vec<(String, Option<f64>, Option<f64>)>,
}

/// Whether an environment's Flink answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvSample {
    pub at: i64,
    pub reachable: bool,
    pub error: Option<String>,
}

/// Every newest sample.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Samples {
    pub jobs: BTreeMap<String, JobSample>,
    pub envs: BTreeMap<String, EnvSample>,
}

/// The sampler's memory.
#[derive(Debug, Default)]
pub struct Sampler {
    samples: Mutex<Samples>,
}

impl Sampler {
    pub fn snapshot(&self) -> Samples {
        self.samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The vertices of a job's newest sample.
    pub fn vertices(&self, key: &str) -> Vec<(String, String)> {
        self.samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .jobs
            .get(key)
            .map(|s| s.vertices.clone())
            .unwrap_or_default()
    }

    fn set_env(&self, name: &str, reachable: bool, error: Option<String>) {
        self.samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .envs
            .insert(
                name.to_string(),
                EnvSample {
                    at: now_ms(),
                    reachable,
                    error,
                },
            );
    }

    fn set_job(&self, key: &str, s: Option<JobSample>) {
        let mut g = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        match s {
            Some(s) => g.jobs.insert(key.to_string(), s),
            None => g.jobs.remove(key),
        };
    }

    /// One round over every environment and job.
    pub async fn round(&self, shared: &Shared) {
        let platform = shared.platform.read().await.clone();
        let envs: Vec<_> = shared.envs.read().await.values().cloned().collect();
        // The Flink job each managed job runs, from one query.
        let running: BTreeMap<String, Option<String>> = match shared.store.all_observed().await {
            Ok(rows) => rows.into_iter().map(|o| (o.job, o.flink_job_id)).collect(),
            Err(e) => {
                tracing::warn!("dashboard: cannot read the observed jobs: {e}");
                return;
            }
        };
        let mut points: Vec<(String, String, MetricPoint)> = Vec::new();
        for e in envs {
            let name = e.spec.name.clone();
            let Some(client) = e.client().await else {
                self.set_env(&name, false, Some("the cluster has not started yet".into()));
                continue;
            };
            let by_name = match e.jobs_by_name_within(&client, shared.tick.max(crate::env::OVERVIEW_MAX_AGE)).await {
                Ok(o) => o,
                Err(err) => {
                    self.set_env(
                        &name,
                        false,
                        Some(format!(
                            "Flink at {} does not answer: {err}",
                            client.base_url()
                        )),
                    );
                    continue;
                }
            };
            self.set_env(&name, true, None);
            for j in platform.jobs.iter().filter(|j| j.env == name) {
                let id = running.get(&j.key).cloned().flatten();
                let Some(ov) = id.as_deref().and_then(|id| {
                    by_name
                        .get(&j.job)
                        .and_then(|v| v.iter().find(|x| x.jid.as_str() == id))
                }) else {
                    self.set_job(&j.key, None);
                    continue;
                };
                if ov.state.as_str() != "RUNNING" {
                    self.set_job(&j.key, None);
                    continue;
                }
                match sample_job(&client, &ov.jid).await {
                    Ok(mut s) => {
                        s.started_at = Some(ov.start_time);
                        points.extend(history_points(&j.key, &s));
                        self.set_job(&j.key, Some(s));
                        if points.len() >= BATCH {
                            record(shared, &mut points).await;
                        }
                    }
                    Err(err) => tracing::debug!(job = %j.key, "dashboard sample failed: {err}"),
                }
            }
        }
        record(shared, &mut points).await;
    }
}

/// Starts the sampler; it ends when serve's state is dropped.
pub fn spawn(shared: Weak<Shared>, sampler: Arc<Sampler>) {
    tokio::spawn(async move {
        // Let serve start its clusters and jobs first.
        tokio::time::sleep(Duration::from_secs(1)).await;
        loop {
            let Some(s) = shared.upgrade() else { break };
            sampler.round(&s).await;
            drop(s);
            tokio::time::sleep(INTERVAL).await;
        }
    });
}

async fn sample_job(client: &FlinkClient, jid: &JobId) -> flinkops_rest::Result<JobSample> {
    let details = client.job(jid).await?;
    // Sources: vertices with no inputs; sinks: vertices no other vertex reads.
    let (sources, sinks): (Vec<String>, Vec<String>) = match &details.plan {
        Some(plan) if !plan.nodes.is_empty() => {
            let read: std::collections::BTreeSet<&str> = plan
                .nodes
                .iter()
                .flat_map(|n| n.inputs.iter().map(|i| i.id.as_str()))
                .collect();
            (
                plan.nodes
                    .iter()
                    .filter(|n| n.inputs.is_empty())
                    .map(|n| n.id.as_str().to_string())
                    .collect(),
                plan.nodes
                    .iter()
                    .filter(|n| !read.contains(n.id.as_str()))
                    .map(|n| n.id.as_str().to_string())
                    .collect(),
            )
        }
        _ => (
            details
                .vertices
                .first()
                .map(|v| v.id.as_str().to_string())
                .into_iter()
                .collect(),
            details
                .vertices
                .last()
                .map(|v| v.id.as_str().to_string())
                .into_iter()
                .collect(),
        ),
    };
    let names = [
        "busyTimeMsPerSecond",
        "backPressuredTimeMsPerSecond",
        "numRecordsInPerSecond",
        "numRecordsOutPerSecond",
    ];
    let mut s = JobSample {
        at: now_ms(),
        flink_job_id: jid.as_str().to_string(),
        flink_state: details.state.as_str().to_string(),
        ..JobSample::default()
    };
    let (mut rin, mut rout) = (None::<f64>, None::<f64>);
    let mut per_vertex = Vec::new();
    for v in &details.vertices {
        let m = client
            .subtask_metrics(jid, &v.id, &names, &[Aggregation::Max, Aggregation::Sum])
            .await?;
        let get = |n: &str| m.iter().find(|x| x.id == n);
        let busy = get("busyTimeMsPerSecond")
            .and_then(|x| x.max)
            .filter(|x| x.is_finite());
        let bp = get("backPressuredTimeMsPerSecond")
            .and_then(|x| x.max)
            .filter(|x| x.is_finite());
        let vid = v.id.as_str().to_string();
        if sources.contains(&vid)
            && let Some(x) = get("numRecordsOutPerSecond")
                .and_then(|x| x.sum)
                .filter(|x| x.is_finite())
        {
            rin = Some(rin.unwrap_or(0.0) + x);
        }
        if sinks.contains(&vid)
            && let Some(x) = get("numRecordsInPerSecond")
                .and_then(|x| x.sum)
                .filter(|x| x.is_finite())
        {
            rout = Some(rout.unwrap_or(0.0) + x);
        }
        s.busy_max = match (s.busy_max, busy) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        s.parallelism = s.parallelism.max(v.parallelism);
        per_vertex.push((vid.clone(), busy, bp));
        s.vertices.push((vid, v.name.clone()));
    }
    s.records_in_per_s = rin;
    s.records_out_per_s = rout;
    s.restarts = client
        .job_metrics(jid, &["numRestarts"])
        .await
        .ok()
        .and_then(|m| m.into_iter().find(|x| x.id == "numRestarts"))
        .and_then(|x| x.value)
        .and_then(|v| v.parse::<f64>().ok());
    s.last_checkpoint_at = client
        .checkpoints(jid)
        .await
        .ok()
        .and_then(|c| c.latest.completed)
        .map(|c| c.latest_ack_timestamp);
    s.vertex_load = per_vertex;
    Ok(s)
}

/// A sample's points for the store's metric history.
fn history_points(key: &str, s: &JobSample) -> Vec<(String, String, MetricPoint)> {
    let mut points: Vec<(String, f64)> = Vec::new();
    let job = [
        (metric_names::RECORDS_IN, s.records_in_per_s),
        (metric_names::RECORDS_OUT, s.records_out_per_s),
        (metric_names::RESTARTS, s.restarts),
        (metric_names::BUSY_MAX, s.busy_max),
    ];
    for (name, v) in job {
        if let Some(v) = v {
            points.push((name.to_string(), v));
        }
    }
    for (vid, busy, bp) in &s.vertex_load {
        if let Some(b) = busy {
            points.push((metric_names::vertex_busy(vid), *b));
        }
        if let Some(b) = bp {
            points.push((metric_names::vertex_backpressured(vid), *b));
        }
    }
    points
        .into_iter()
        .map(|(name, value)| (key.to_string(), name, MetricPoint { ts: s.at, value }))
        .collect()
}

/// Appends the collected points to the store's metric history in one transaction and empties
/// the buffer (points that cannot be stored are dropped with a warning: the next round brings
/// new ones).
async fn record(shared: &Shared, points: &mut Vec<(String, String, MetricPoint)>) {
    let started = std::time::Instant::now();
    match shared.store.record_metrics(points, KEEP).await {
        Ok(()) => tracing::debug!(samples = points.len(), ms = started.elapsed().as_millis() as u64, "dashboard: stored the samples"),
        Err(e) => tracing::warn!(samples = points.len(), "dashboard: cannot store the samples: {e}"),
    }
    points.clear();
}
