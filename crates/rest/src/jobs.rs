//! Job endpoints: overview of all jobs (`/jobs/overview`), job details with vertices and plan
//! (`/jobs/:id`), exceptions (`/jobs/:id/exceptions`), cancel (`PATCH /jobs/:id?mode=cancel`),
//! and waits on job state (`wait_until_running`, `wait_until_terminal`).

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{CallKind, FlinkClient};
use crate::enums::{ExecutionState, JobState};
use crate::error::{Error, Result};
use crate::ids::{JobId, VertexId};
use crate::retry::PollSchedule;
use crate::serde_util::{json_or_json_string, lenient_opt_f64};

/// `GET /jobs/overview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobsOverview {
    /// All jobs the dispatcher knows (running and archived).
    pub jobs: Vec<JobOverview>,
}

/// One job in [`JobsOverview`]. Times are epoch milliseconds; `end_time` is -1 while running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobOverview {
    /// Job id.
    pub jid: JobId,
    /// Job name.
    pub name: String,
    /// State.
    pub state: JobState,
    /// Start time.
    pub start_time: i64,
    /// End time (-1 while not terminal).
    pub end_time: i64,
    /// Duration in ms.
    pub duration: i64,
    /// Last state change.
    pub last_modification: i64,
    /// Task counts by lower-case state name (`running`, `total`, …).
    #[serde(default)]
    pub tasks: BTreeMap<String, u32>,
    /// `STREAMING` or `BATCH` (Flink ≥ 1.20).
    #[serde(default, rename = "jobType")]
    pub job_type: Option<String>,
    /// `Default`, `Adaptive`, `AdaptiveBatch` (Flink ≥ 2.0).
    #[serde(default, rename = "schedulerType")]
    pub scheduler_type: Option<String>,
    /// Operators still to be created (incremental job graph; Flink ≥ 2.0).
    #[serde(default)]
    pub pending_operators: Option<u32>,
}

/// `GET /jobs/:id`: job details with vertices and plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobDetails {
    /// Job id.
    pub jid: JobId,
    /// Job name.
    pub name: String,
    /// Whether the job can be stopped gracefully (sources support it).
    #[serde(rename = "isStoppable", default)]
    pub is_stoppable: bool,
    /// State.
    pub state: JobState,
    /// `STREAMING` or `BATCH` (Flink ≥ 1.20).
    #[serde(default)]
    pub job_type: Option<String>,
    /// Scheduler (Flink ≥ 2.0).
    #[serde(default, rename = "schedulerType")]
    pub scheduler_type: Option<String>,
    /// Start time (epoch ms).
    pub start_time: i64,
    /// End time (-1 while not terminal).
    pub end_time: i64,
    /// Duration in ms.
    pub duration: i64,
    /// Job max parallelism (-1: per vertex).
    #[serde(rename = "maxParallelism", default)]
    pub max_parallelism: Option<i64>,
    /// Server time of the answer.
    pub now: i64,
    /// Time each state was entered (0: never), by state name.
    #[serde(default)]
    pub timestamps: BTreeMap<String, i64>,
    /// The job's vertices (chained tasks).
    pub vertices: Vec<JobVertex>,
    /// Vertex counts by execution state.
    #[serde(default)]
    pub status_counts: BTreeMap<String, u32>,
    /// The job plan (Flink sends it as an object or, in newer versions, a JSON string).
    #[serde(default, deserialize_with = "json_or_json_string")]
    pub plan: Option<JobPlan>,
    /// Operators still to be created (Flink ≥ 2.0).
    #[serde(default)]
    pub pending_operators: Option<u32>,
}

impl JobDetails {
    /// The vertex with this id.
    pub fn vertex(&self, id: &VertexId) -> Option<&JobVertex> {
        self.vertices.iter().find(|v| &v.id == id)
    }
}

/// One vertex of [`JobDetails`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct JobVertex {
    /// Vertex id.
    pub id: VertexId,
    /// Name (chained operator names).
    pub name: String,
    /// Slot sharing group (Flink ≥ 1.20).
    #[serde(default, rename = "slotSharingGroupId")]
    pub slot_sharing_group_id: Option<String>,
    /// Max parallelism.
    #[serde(default, rename = "maxParallelism")]
    pub max_parallelism: Option<i64>,
    /// Current parallelism.
    pub parallelism: u32,
    /// State.
    pub status: ExecutionState,
    /// Start time (epoch ms, -1: not started).
    pub start_time: i64,
    /// End time (-1 while running).
    pub end_time: i64,
    /// Duration in ms.
    pub duration: i64,
    /// Subtask counts by execution state.
    #[serde(default)]
    pub tasks: BTreeMap<String, u32>,
    /// I/O totals.
    #[serde(default)]
    pub metrics: Option<VertexIoMetrics>,
}

/// The `metrics` block of a [`JobVertex`]: totals over its subtasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VertexIoMetrics {
    /// Bytes read.
    #[serde(default)]
    pub read_bytes: Option<i64>,
    /// Bytes written.
    #[serde(default)]
    pub write_bytes: Option<i64>,
    /// Records read.
    #[serde(default)]
    pub read_records: Option<i64>,
    /// Records written.
    #[serde(default)]
    pub write_records: Option<i64>,
    /// Accumulated back-pressured time (ms).
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub accumulated_backpressured_time: Option<f64>,
    /// Accumulated idle time (ms).
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub accumulated_idle_time: Option<f64>,
    /// Accumulated busy time (ms; `NaN` when unknown).
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub accumulated_busy_time: Option<f64>,
}

/// The job plan (the JSON plan of the job graph).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPlan {
    /// Job id.
    pub jid: JobId,
    /// Job name.
    pub name: String,
    /// `STREAMING` or `BATCH`.
    #[serde(default, rename = "type")]
    pub job_type: Option<String>,
    /// Plan nodes (= vertices).
    pub nodes: Vec<PlanNode>,
}

/// One node of a [`JobPlan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanNode {
    /// Vertex id.
    pub id: VertexId,
    /// Parallelism when the plan was made.
    pub parallelism: u32,
    /// Operator.
    #[serde(default)]
    pub operator: Option<String>,
    /// Operator strategy.
    #[serde(default)]
    pub operator_strategy: Option<String>,
    /// Description (HTML-ish, `<br/>` separated).
    #[serde(default)]
    pub description: Option<String>,
    /// Inputs; absent for sources.
    #[serde(default)]
    pub inputs: Vec<PlanInput>,
}

/// An input edge of a [`PlanNode`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanInput {
    /// Input index.
    pub num: u32,
    /// Upstream vertex id.
    pub id: VertexId,
    /// Ship strategy, e.g. `HASH`, `REBALANCE`, `FORWARD`.
    #[serde(default)]
    pub ship_strategy: Option<String>,
    /// Exchange mode, e.g. `pipelined_bounded`.
    #[serde(default)]
    pub exchange: Option<String>,
}

/// `GET /jobs/:id/exceptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobExceptions {
    /// The newest root exception (removed in Flink 2.0; use `exception_history`).
    #[serde(default, rename = "root-exception")]
    pub root_exception: Option<String>,
    /// Its timestamp (removed in Flink 2.0).
    #[serde(default)]
    pub timestamp: Option<i64>,
    /// Exception history, newest first.
    #[serde(rename = "exceptionHistory")]
    pub exception_history: ExceptionHistory,
}

/// The history part of [`JobExceptions`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionHistory {
    /// Entries, newest first.
    pub entries: Vec<ExceptionEntry>,
    /// Whether older entries were dropped.
    #[serde(default)]
    pub truncated: bool,
}

/// One failure in the [`ExceptionHistory`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionEntry {
    /// Exception class.
    pub exception_name: String,
    /// Java stack trace.
    pub stacktrace: String,
    /// When it happened (epoch ms).
    pub timestamp: i64,
    /// The failing task, if a task failed.
    #[serde(default)]
    pub task_name: Option<String>,
    /// Where it ran (Flink ≥ 1.18 `endpoint`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Legacy location field.
    #[serde(default)]
    pub location: Option<String>,
    /// The TaskManager it ran on.
    #[serde(default)]
    pub task_manager_id: Option<String>,
    /// Labels from failure enrichers.
    #[serde(default)]
    pub failure_labels: BTreeMap<String, String>,
    /// Exceptions that happened concurrently (same restart).
    #[serde(default)]
    pub concurrent_exceptions: Vec<ExceptionEntry>,
}

impl ExceptionEntry {
    /// The root cause line of the stack trace (see [`crate::root_cause`]).
    pub fn root_cause(&self) -> Option<String> {
        crate::error::root_cause(&self.stacktrace)
    }
}

impl FlinkClient {
    /// `GET /jobs/overview`.
    pub async fn jobs_overview(&self) -> Result<JobsOverview> {
        self.get(self.url(&["jobs", "overview"])).await
    }

    /// `GET /jobs/:id`. An unknown job is [`crate::Error::NotFound`].
    pub async fn job(&self, job: &JobId) -> Result<JobDetails> {
        self.get(self.url(&["jobs", job.as_str()]))
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))
    }

    /// `GET /jobs/:id/exceptions`.
    pub async fn job_exceptions(&self, job: &JobId) -> Result<JobExceptions> {
        self.get(self.url(&["jobs", job.as_str(), "exceptions"]))
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))
    }

    /// `PATCH /jobs/:id?mode=cancel`: requests cancellation and returns once Flink accepted it
    /// (poll [`Self::job`] for `CANCELED`).
    pub async fn cancel(&self, job: &JobId) -> Result<()> {
        let mut url = self.url(&["jobs", job.as_str()]);
        url.set_query(Some("mode=cancel"));
        let _: serde_json::Value = self
            .send_json::<(), _>(Method::PATCH, url, None, CallKind::Normal)
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))?;
        Ok(())
    }

    /// Polls [`Self::job`] with a growing interval until `done` holds for the details, or
    /// `deadline` (from now) passes ([`Error::Timeout`] naming `what`). Transient errors are
    /// retried by each GET; other errors end the wait.
    pub async fn wait_for_job<F>(
        &self,
        job: &JobId,
        deadline: Duration,
        what: &str,
        mut done: F,
    ) -> Result<JobDetails>
    where
        F: FnMut(&JobDetails) -> bool,
    {
        let start = tokio::time::Instant::now();
        let end = start + deadline;
        let timeout = || Error::Timeout {
            what: what.to_owned(),
            after: start.elapsed(),
        };
        let mut schedule = PollSchedule::new();
        loop {
            let details = tokio::time::timeout_at(end, self.job(job))
                .await
                .map_err(|_| timeout())??;
            if done(&details) {
                return Ok(details);
            }
            let wait = schedule.next_interval();
            if tokio::time::Instant::now() + wait >= end {
                tokio::time::sleep_until(end).await;
                return Err(timeout());
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Waits until the job and all its vertices are `RUNNING`. A job that reaches a globally
    /// terminal state first is [`Error::OperationFailed`] with the newest exception's root cause.
    pub async fn wait_until_running(&self, job: &JobId, deadline: Duration) -> Result<JobDetails> {
        let what = format!("job {job} to run");
        let d = self
            .wait_for_job(job, deadline, &what, |d| {
                d.state.is_globally_terminal() || is_fully_running(d)
            })
            .await?;
        if is_fully_running(&d) {
            return Ok(d);
        }
        let cause = match self.job_exceptions(job).await {
            Ok(ex) => ex
                .exception_history
                .entries
                .first()
                .and_then(ExceptionEntry::root_cause),
            Err(_) => None,
        };
        Err(Error::OperationFailed {
            what: format!("waiting for job {job} to run"),
            cause: match cause {
                Some(c) => format!("the job is {}: {c}", d.state),
                None => format!("the job is {}", d.state),
            },
            stack_trace: None,
        })
    }

    /// Waits until the job is in a globally terminal state (`FINISHED`, `CANCELED`, `FAILED`).
    pub async fn wait_until_terminal(&self, job: &JobId, deadline: Duration) -> Result<JobDetails> {
        let what = format!("job {job} to end");
        self.wait_for_job(job, deadline, &what, |d| d.state.is_globally_terminal())
            .await
    }
}

/// The job is `RUNNING` and so is every vertex.
fn is_fully_running(d: &JobDetails) -> bool {
    d.state == JobState::Running
        && d.vertices
            .iter()
            .all(|v| v.status == ExecutionState::Running)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{decode_all, load_index};

    #[test]
    fn jobs_overview_decodes() {
        for (v, o) in decode_all::<JobsOverview>(&["jobs_overview"]) {
            assert!(o.jobs.len() >= 3, "{v}");
            assert!(o.jobs.iter().any(|j| j.state == JobState::Finished), "{v}");
            assert!(o.jobs.iter().any(|j| j.state == JobState::Canceled), "{v}");
            assert!(
                o.jobs
                    .iter()
                    .all(|j| j.name == "flinkops-fixture" && j.jid.as_str().len() == 32),
                "{v}"
            );
        }
        for (v, o) in decode_all::<JobsOverview>(&["jobs_overview_running"]) {
            assert!(
                o.jobs
                    .iter()
                    .any(|j| j.state == JobState::Running && j.end_time == -1),
                "{v}"
            );
        }
    }

    #[test]
    fn job_details_decode_with_vertices_and_plan() {
        let names = [
            "job_running",
            "job_finished",
            "job_restored",
            "job_rescaled",
            "job_cancelled",
            "job_failing",
        ];
        for (v, j) in decode_all::<JobDetails>(&names) {
            assert_eq!(j.vertices.len(), 2, "{v}");
            assert!(
                j.vertices
                    .iter()
                    .all(|x| !x.name.is_empty() && x.parallelism >= 1),
                "{v}"
            );
            let plan = j.plan.as_ref().unwrap_or_else(|| panic!("{v}: no plan"));
            assert_eq!(plan.nodes.len(), 2, "{v}");
            assert!(plan.nodes.iter().any(|n| !n.inputs.is_empty()), "{v}");
            assert!(j.vertex(&plan.nodes[0].id).is_some(), "{v}");
        }
        for (v, j) in decode_all::<JobDetails>(&["job_running"]) {
            assert_eq!(j.state, JobState::Running, "{v}");
            assert!(
                j.vertices
                    .iter()
                    .all(|x| x.status == ExecutionState::Running),
                "{v}"
            );
        }
        for (v, j) in decode_all::<JobDetails>(&["job_finished"]) {
            assert_eq!(j.state, JobState::Finished, "{v}");
        }
        for (v, j) in decode_all::<JobDetails>(&["job_rescaled"]) {
            assert!(j.vertices.iter().all(|x| x.parallelism == 2), "{v}");
        }
        for (v, j) in decode_all::<JobDetails>(&["job_cancelled"]) {
            assert_eq!(j.state, JobState::Canceled, "{v}");
            assert!(j.end_time > j.start_time, "{v}");
        }
    }

    #[test]
    fn exceptions_decode() {
        for (v, e) in
            decode_all::<JobExceptions>(&["job_exceptions_running", "job_exceptions_cancelled"])
        {
            assert!(e.exception_history.entries.is_empty(), "{v}");
        }
        for (v, e) in decode_all::<JobExceptions>(&["job_exceptions_failing"]) {
            let first = e
                .exception_history
                .entries
                .first()
                .unwrap_or_else(|| panic!("{v}: no entries"));
            assert!(
                first.exception_name.contains("NumberFormatException"),
                "{v}: {first:?}"
            );
            let cause = first.root_cause().unwrap_or_default();
            assert!(cause.contains("NumberFormatException"), "{v}: {cause}");
        }
    }

    #[test]
    fn cancel_answer_decodes() {
        for (v, idx) in load_index() {
            for name in ["cancel", "cancel_failing"] {
                assert_eq!(idx.get(name).map(|e| e.status), Some(202), "{v} {name}");
            }
        }
        decode_all::<serde_json::Value>(&["cancel", "cancel_failing"]);
    }
}
