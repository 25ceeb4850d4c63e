//! Savepoints and stop-with-savepoint as "trigger, then wait with a deadline":
//! `POST /jobs/:id/savepoints`, `POST /jobs/:id/stop`, `GET /jobs/:id/savepoints/:triggerid`.
//!
//! [`FlinkClient::savepoint`] and [`FlinkClient::stop_with_savepoint`] trigger and poll (with a
//! growing interval) until Flink reports `COMPLETED`, returning the savepoint path or
//! [`Error::OperationFailed`] with Flink's root cause, or [`Error::Timeout`] at the deadline.
//! The `trigger_*` and [`FlinkClient::wait_savepoint`] halves are public for callers that record
//! the trigger id durably before waiting.

use std::fmt;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{CallKind, FlinkClient};
use crate::enums::{OperationStatus, SavepointFormat};
use crate::error::{Error, Result, root_cause};
use crate::ids::{JobId, TriggerId};
use crate::retry::PollSchedule;

/// The path (URI) of a completed savepoint, e.g. `file:/…/savepoint-46cad4-0112d9612959`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SavepointPath(String);

impl SavepointPath {
    /// The path as Flink reported it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a path (e.g. one read back from a store).
    pub fn new(path: impl Into<String>) -> Self {
        Self(path.into())
    }
}

impl fmt::Display for SavepointPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Body of `POST /jobs/:id/savepoints`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SavepointRequest {
    /// Target directory; `None` uses the cluster's `state.savepoints.dir`.
    #[serde(rename = "target-directory", skip_serializing_if = "Option::is_none")]
    pub target_directory: Option<String>,
    /// Cancel the job after the savepoint (prefer stop-with-savepoint).
    #[serde(rename = "cancel-job")]
    pub cancel_job: bool,
    /// Savepoint format; `None` uses Flink's default (canonical).
    #[serde(rename = "formatType", skip_serializing_if = "Option::is_none")]
    pub format: Option<SavepointFormat>,
    /// Client-chosen trigger id, which makes the trigger idempotent.
    #[serde(rename = "triggerId", skip_serializing_if = "Option::is_none")]
    pub trigger_id: Option<TriggerId>,
}

/// Body of `POST /jobs/:id/stop`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StopRequest {
    /// Target directory; `None` uses the cluster's `state.savepoints.dir`.
    #[serde(rename = "targetDirectory", skip_serializing_if = "Option::is_none")]
    pub target_directory: Option<String>,
    /// Emit MAX_WATERMARK and flush event-time timers before stopping (ends windows).
    pub drain: bool,
    /// Savepoint format; `None` uses Flink's default (canonical).
    #[serde(rename = "formatType", skip_serializing_if = "Option::is_none")]
    pub format: Option<SavepointFormat>,
    /// Client-chosen trigger id, which makes the trigger idempotent.
    #[serde(rename = "triggerId", skip_serializing_if = "Option::is_none")]
    pub trigger_id: Option<TriggerId>,
}

/// Answer of a trigger call: `{"request-id": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerResponse {
    /// The trigger id to poll.
    #[serde(rename = "request-id")]
    pub request_id: TriggerId,
}

/// `GET /jobs/:id/savepoints/:triggerid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavepointStatus {
    /// Queue status.
    pub status: QueueStatus,
    /// The result, once completed.
    #[serde(default)]
    pub operation: Option<SavepointOperation>,
}

/// `{"id": "IN_PROGRESS" | "COMPLETED"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStatus {
    /// The status.
    pub id: OperationStatus,
}

/// The result of a completed savepoint operation: a location or a failure cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavepointOperation {
    /// Path of the savepoint, on success.
    #[serde(default)]
    pub location: Option<String>,
    /// The failure, on failure.
    #[serde(default, rename = "failure-cause")]
    pub failure_cause: Option<FailureCause>,
}

/// A serialized Java exception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureCause {
    /// Exception class.
    #[serde(default)]
    pub class: Option<String>,
    /// Java stack trace.
    #[serde(default, rename = "stack-trace")]
    pub stack_trace: Option<String>,
}

impl FailureCause {
    /// The root cause line (last top-level `Caused by:`), else the class name.
    pub fn root_cause(&self) -> String {
        self.stack_trace
            .as_deref()
            .and_then(root_cause)
            .or_else(|| self.class.clone())
            .unwrap_or_else(|| "unknown failure".to_owned())
    }
}

/// What a [`SavepointStatus`] means.
#[derive(Debug, Clone, PartialEq)]
pub enum SavepointOutcome {
    /// Still running.
    InProgress,
    /// Completed with this savepoint.
    Completed(SavepointPath),
    /// Completed with a failure.
    Failed(FailureCause),
    /// A status this client does not understand (newer Flink), or `COMPLETED` without result.
    Unknown(String),
}

impl SavepointStatus {
    /// Interprets the status.
    pub fn outcome(&self) -> SavepointOutcome {
        match (&self.status.id, &self.operation) {
            (OperationStatus::InProgress, _) => SavepointOutcome::InProgress,
            (
                OperationStatus::Completed,
                Some(SavepointOperation {
                    failure_cause: Some(f),
                    ..
                }),
            ) => SavepointOutcome::Failed(f.clone()),
            (
                OperationStatus::Completed,
                Some(SavepointOperation {
                    location: Some(l), ..
                }),
            ) => SavepointOutcome::Completed(SavepointPath(l.clone())),
            (OperationStatus::Completed, _) => {
                SavepointOutcome::Unknown("COMPLETED without location".into())
            }
            (OperationStatus::Unknown(s), _) => SavepointOutcome::Unknown(s.clone()),
        }
    }
}

impl FlinkClient {
    /// `POST /jobs/:id/savepoints`: triggers a savepoint into `target_dir` (or the cluster's
    /// default directory) and returns the trigger id.
    pub async fn trigger_savepoint(
        &self,
        job: &JobId,
        target_dir: Option<&str>,
        format: Option<SavepointFormat>,
    ) -> Result<TriggerId> {
        let req = SavepointRequest {
            target_directory: target_dir.map(str::to_owned),
            format,
            ..SavepointRequest::default()
        };
        self.trigger_savepoint_with(job, &req).await
    }

    /// `POST /jobs/:id/savepoints` with every option (client-chosen trigger id, cancel-job).
    pub async fn trigger_savepoint_with(
        &self,
        job: &JobId,
        req: &SavepointRequest,
    ) -> Result<TriggerId> {
        let url = self.url(&["jobs", job.as_str(), "savepoints"]);
        let r: TriggerResponse = self
            .send_json(Method::POST, url, Some(req), CallKind::Normal)
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))?;
        Ok(r.request_id)
    }

    /// `POST /jobs/:id/stop`: triggers stop-with-savepoint and returns the trigger id.
    pub async fn trigger_stop(
        &self,
        job: &JobId,
        target_dir: Option<&str>,
        drain: bool,
        format: Option<SavepointFormat>,
    ) -> Result<TriggerId> {
        let req = StopRequest {
            target_directory: target_dir.map(str::to_owned),
            drain,
            format,
            trigger_id: None,
        };
        self.trigger_stop_with(job, &req).await
    }

    /// `POST /jobs/:id/stop` with every option.
    pub async fn trigger_stop_with(&self, job: &JobId, req: &StopRequest) -> Result<TriggerId> {
        let url = self.url(&["jobs", job.as_str(), "stop"]);
        let r: TriggerResponse = self
            .send_json(Method::POST, url, Some(req), CallKind::Normal)
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))?;
        Ok(r.request_id)
    }

    /// `GET /jobs/:id/savepoints/:triggerid`: the status of a savepoint or stop-with-savepoint.
    pub async fn savepoint_status(
        &self,
        job: &JobId,
        trigger: &TriggerId,
    ) -> Result<SavepointStatus> {
        self.get(self.url(&["jobs", job.as_str(), "savepoints", trigger.as_str()]))
            .await
            .map_err(|e| e.not_found_as(|| format!("savepoint operation {trigger} of job {job}")))
    }

    /// Polls [`Self::savepoint_status`] with a growing interval until the operation completes
    /// or `deadline` (from now) passes.
    pub async fn wait_savepoint(
        &self,
        job: &JobId,
        trigger: &TriggerId,
        deadline: Duration,
    ) -> Result<SavepointPath> {
        self.wait_operation(
            job,
            trigger,
            deadline,
            &format!("savepoint {trigger} of job {job}"),
        )
        .await
    }

    /// Takes a savepoint and waits for it: trigger, then poll until completed, failed, or
    /// `deadline` (from now).
    pub async fn savepoint(
        &self,
        job: &JobId,
        target_dir: Option<&str>,
        deadline: Duration,
    ) -> Result<SavepointPath> {
        let start = tokio::time::Instant::now();
        let trigger = self.trigger_savepoint(job, target_dir, None).await?;
        let left = deadline.saturating_sub(start.elapsed());
        self.wait_operation(job, &trigger, left, &format!("savepoint of job {job}"))
            .await
    }

    /// Stops the job with a savepoint and waits for the savepoint: trigger, then poll until
    /// completed, failed, or `deadline` (from now). `drain` ends event time first.
    pub async fn stop_with_savepoint(
        &self,
        job: &JobId,
        target_dir: Option<&str>,
        drain: bool,
        deadline: Duration,
    ) -> Result<SavepointPath> {
        let start = tokio::time::Instant::now();
        let trigger = self.trigger_stop(job, target_dir, drain, None).await?;
        let left = deadline.saturating_sub(start.elapsed());
        self.wait_operation(
            job,
            &trigger,
            left,
            &format!("stop-with-savepoint of job {job}"),
        )
        .await
    }

    /// The error for a failed operation: an unknown job (Flink accepts `stop` for any job id
    /// and fails the operation later) is [`Error::NotFound`], anything else
    /// [`Error::OperationFailed`].
    fn operation_failure(
        &self,
        job: &JobId,
        trigger: &TriggerId,
        what: &str,
        f: FailureCause,
    ) -> Error {
        let trace = f.stack_trace.as_deref().unwrap_or("");
        if trace.contains("FlinkJobNotFoundException") {
            let url = self.url(&["jobs", job.as_str(), "savepoints", trigger.as_str()]);
            return Error::NotFound {
                what: format!("job {job}"),
                url: url.to_string(),
                errors: vec![trace.to_owned()],
            };
        }
        Error::OperationFailed {
            what: what.to_owned(),
            cause: f.root_cause(),
            stack_trace: f.stack_trace,
        }
    }

    async fn wait_operation(
        &self,
        job: &JobId,
        trigger: &TriggerId,
        deadline: Duration,
        what: &str,
    ) -> Result<SavepointPath> {
        let start = tokio::time::Instant::now();
        let end = start + deadline;
        let timeout = || Error::Timeout {
            what: what.to_owned(),
            after: start.elapsed(),
        };
        let mut schedule = PollSchedule::new();
        loop {
            let status = tokio::time::timeout_at(end, self.savepoint_status(job, trigger))
                .await
                .map_err(|_| timeout())??;
            match status.outcome() {
                SavepointOutcome::Completed(p) => return Ok(p),
                SavepointOutcome::Failed(f) => {
                    return Err(self.operation_failure(job, trigger, what, f));
                }
                SavepointOutcome::Unknown(s) if s.starts_with("COMPLETED") => {
                    let url = self.url(&["jobs", job.as_str(), "savepoints", trigger.as_str()]);
                    return Err(Error::UnexpectedResponse {
                        url: url.to_string(),
                        reason: s,
                    });
                }
                SavepointOutcome::InProgress | SavepointOutcome::Unknown(_) => {}
            }
            let wait = schedule.next_interval();
            if tokio::time::Instant::now() + wait >= end {
                tokio::time::sleep_until(end).await;
                return Err(timeout());
            }
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::decode_all;

    #[test]
    fn trigger_responses_decode() {
        let names = [
            "savepoint_trigger",
            "savepoint_trigger_bad_target",
            "stop_trigger",
        ];
        for (v, t) in decode_all::<TriggerResponse>(&names) {
            assert!(t.request_id.as_str().parse::<TriggerId>().is_ok(), "{v}");
        }
    }

    #[test]
    fn completed_statuses_have_paths() {
        for (v, s) in
            decode_all::<SavepointStatus>(&["savepoint_status_completed", "stop_status_completed"])
        {
            match s.outcome() {
                SavepointOutcome::Completed(p) => {
                    assert!(p.as_str().contains("savepoint-"), "{v}: {p}")
                }
                other => panic!("{v}: {other:?}"),
            }
        }
        for (v, s) in decode_all::<SavepointStatus>(&["savepoint_status_first"]) {
            assert!(
                matches!(
                    s.outcome(),
                    SavepointOutcome::InProgress | SavepointOutcome::Completed(_)
                ),
                "{v}: {s:?}"
            );
        }
    }

    #[test]
    fn failed_status_has_root_cause() {
        for (v, s) in decode_all::<SavepointStatus>(&["savepoint_status_failed"]) {
            match s.outcome() {
                SavepointOutcome::Failed(f) => {
                    let c = f.root_cause();
                    assert!(c.contains("flinkops-not-writable"), "{v}: {c}");
                }
                other => panic!("{v}: {other:?}"),
            }
        }
    }

    #[test]
    fn stop_of_unknown_job_fails_with_job_not_found() {
        for (v, s) in decode_all::<SavepointStatus>(&["stop_status_unknown_job"]) {
            match s.outcome() {
                SavepointOutcome::Failed(f) => {
                    let trace = f.stack_trace.as_deref().unwrap_or_default();
                    assert!(trace.contains("FlinkJobNotFoundException"), "{v}");
                }
                other => panic!("{v}: {other:?}"),
            }
        }
    }

    #[test]
    fn request_bodies_use_flink_field_names() {
        let r = SavepointRequest {
            target_directory: Some("file:///sp".into()),
            format: Some(SavepointFormat::Native),
            trigger_id: Some(TriggerId::from_flink("00000000000000000000000000000001")),
            ..Default::default()
        };
        let j = serde_json::to_value(&r).expect("encode");
        assert_eq!(
            j,
            serde_json::json!({"target-directory": "file:///sp", "cancel-job": false, "formatType": "NATIVE",
                "triggerId": "00000000000000000000000000000001"})
        );
        let s = StopRequest {
            drain: true,
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&s).expect("encode"),
            serde_json::json!({"drain": true})
        );
    }
}
