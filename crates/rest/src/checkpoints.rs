//! Checkpoint endpoints: statistics with the `latest.restored` block
//! (`/jobs/:id/checkpoints`), configuration (`/jobs/:id/checkpoints/config`) and the details of
//! one checkpoint (`/jobs/:id/checkpoints/details/:cid`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::client::FlinkClient;
use crate::enums::CheckpointStatus;
use crate::error::Result;
use crate::ids::{JobId, VertexId};
use crate::serde_util::lenient_opt_f64;

/// `GET /jobs/:id/checkpoints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointingStatistics {
    /// Counts.
    pub counts: CheckpointCounts,
    /// Summary over completed checkpoints.
    #[serde(default)]
    pub summary: Option<CheckpointSummary>,
    /// The latest checkpoints of each kind, and the restore.
    pub latest: LatestCheckpoints,
    /// Recent checkpoints, newest first.
    #[serde(default)]
    pub history: Vec<CheckpointStatistics>,
}

/// Checkpoint counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointCounts {
    /// Restores.
    pub restored: u64,
    /// Triggered.
    pub total: u64,
    /// In progress.
    pub in_progress: u64,
    /// Completed.
    pub completed: u64,
    /// Failed.
    pub failed: u64,
}

/// min/max/avg/percentiles of one quantity; numbers may be `"NaN"` strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxAvg {
    /// Minimum.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub min: Option<f64>,
    /// Maximum.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub max: Option<f64>,
    /// Average.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub avg: Option<f64>,
    /// Median.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub p50: Option<f64>,
    /// 90th percentile.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub p90: Option<f64>,
    /// 99th percentile.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub p99: Option<f64>,
}

/// Summary over completed checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointSummary {
    /// Checkpointed (incremental) size in bytes.
    #[serde(default)]
    pub checkpointed_size: Option<MinMaxAvg>,
    /// Full state size in bytes.
    #[serde(default)]
    pub state_size: Option<MinMaxAvg>,
    /// End-to-end duration in ms.
    #[serde(default)]
    pub end_to_end_duration: Option<MinMaxAvg>,
    /// Bytes buffered during alignment.
    #[serde(default)]
    pub alignment_buffered: Option<MinMaxAvg>,
    /// Bytes processed during alignment.
    #[serde(default)]
    pub processed_data: Option<MinMaxAvg>,
    /// In-flight bytes persisted (unaligned checkpoints).
    #[serde(default)]
    pub persisted_data: Option<MinMaxAvg>,
}

/// `latest` of [`CheckpointingStatistics`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestCheckpoints {
    /// Latest completed checkpoint.
    #[serde(default)]
    pub completed: Option<CheckpointStatistics>,
    /// Latest completed savepoint.
    #[serde(default)]
    pub savepoint: Option<CheckpointStatistics>,
    /// Latest failed checkpoint.
    #[serde(default)]
    pub failed: Option<CheckpointStatistics>,
    /// The latest restore; `None` if the job never restored.
    #[serde(default)]
    pub restored: Option<RestoredCheckpoint>,
}

/// The `latest.restored` block: what the job's current run restored from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoredCheckpoint {
    /// Checkpoint id.
    pub id: u64,
    /// When it was restored (epoch ms).
    pub restore_timestamp: i64,
    /// Whether a savepoint (vs. a checkpoint) was restored.
    pub is_savepoint: bool,
    /// Its path; `None` when not externalized.
    #[serde(default)]
    pub external_path: Option<String>,
}

/// One checkpoint, in `history`, `latest` and `/checkpoints/details/:cid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointStatistics {
    /// `completed`, `failed` or `in_progress`.
    #[serde(default, rename = "className")]
    pub class_name: Option<String>,
    /// Checkpoint id.
    pub id: u64,
    /// Status.
    pub status: CheckpointStatus,
    /// Whether this is a savepoint.
    pub is_savepoint: bool,
    /// Savepoint format, for savepoints.
    #[serde(default, rename = "savepointFormat")]
    pub savepoint_format: Option<String>,
    /// Trigger time (epoch ms).
    pub trigger_timestamp: i64,
    /// Latest acknowledgement (epoch ms).
    pub latest_ack_timestamp: i64,
    /// Checkpointed size in bytes.
    #[serde(default)]
    pub checkpointed_size: Option<i64>,
    /// Full state size in bytes.
    pub state_size: i64,
    /// Duration in ms.
    pub end_to_end_duration: i64,
    /// Bytes buffered during alignment.
    #[serde(default)]
    pub alignment_buffered: Option<i64>,
    /// Bytes processed during alignment.
    #[serde(default)]
    pub processed_data: Option<i64>,
    /// In-flight bytes persisted.
    #[serde(default)]
    pub persisted_data: Option<i64>,
    /// Subtasks.
    pub num_subtasks: u32,
    /// Acknowledged subtasks.
    pub num_acknowledged_subtasks: u32,
    /// `CHECKPOINT`, `SAVEPOINT`, `SYNC_SAVEPOINT`, `UNALIGNED_CHECKPOINT`, …
    #[serde(default)]
    pub checkpoint_type: Option<String>,
    /// Per-vertex statistics (filled in `/checkpoints/details/:cid`).
    #[serde(default)]
    pub tasks: BTreeMap<VertexId, TaskCheckpointStatistics>,
    /// Path of a completed checkpoint.
    #[serde(default)]
    pub external_path: Option<String>,
    /// Whether a completed checkpoint was discarded since.
    #[serde(default)]
    pub discarded: Option<bool>,
    /// Failure time of a failed checkpoint.
    #[serde(default)]
    pub failure_timestamp: Option<i64>,
    /// Failure message of a failed checkpoint.
    #[serde(default)]
    pub failure_message: Option<String>,
}

/// Per-vertex part of a [`CheckpointStatistics`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCheckpointStatistics {
    /// Checkpoint id.
    pub id: u64,
    /// Status.
    pub status: CheckpointStatus,
    /// Latest acknowledgement (epoch ms).
    pub latest_ack_timestamp: i64,
    /// Checkpointed size in bytes.
    #[serde(default)]
    pub checkpointed_size: Option<i64>,
    /// Full state size in bytes.
    pub state_size: i64,
    /// Duration in ms.
    pub end_to_end_duration: i64,
    /// Subtasks.
    pub num_subtasks: u32,
    /// Acknowledged subtasks.
    pub num_acknowledged_subtasks: u32,
}

/// `GET /jobs/:id/checkpoints/config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointConfig {
    /// `exactly_once` or `at_least_once`.
    pub mode: String,
    /// Interval in ms.
    pub interval: i64,
    /// Timeout in ms.
    pub timeout: i64,
    /// Minimum pause in ms.
    pub min_pause: i64,
    /// Max concurrent checkpoints.
    pub max_concurrent: i64,
    /// Retention of checkpoints.
    pub externalization: Externalization,
    /// State backend (class simple name, e.g. `HashMapStateBackend`).
    #[serde(default)]
    pub state_backend: Option<String>,
    /// Checkpoint storage (class simple name).
    #[serde(default)]
    pub checkpoint_storage: Option<String>,
    /// Unaligned checkpoints enabled.
    #[serde(default)]
    pub unaligned_checkpoints: Option<bool>,
    /// Tolerated failed checkpoints.
    #[serde(default)]
    pub tolerable_failed_checkpoints: Option<i64>,
    /// Aligned checkpoint timeout in ms.
    #[serde(default)]
    pub aligned_checkpoint_timeout: Option<i64>,
    /// Checkpoints after tasks finish.
    #[serde(default)]
    pub checkpoints_after_tasks_finish: Option<bool>,
    /// Changelog state backend enabled.
    #[serde(default)]
    pub state_changelog_enabled: Option<bool>,
    /// Changelog materialization interval in ms.
    #[serde(default)]
    pub changelog_periodic_materialization_interval: Option<i64>,
    /// Changelog storage.
    #[serde(default)]
    pub changelog_storage: Option<String>,
}

/// Checkpoint retention in [`CheckpointConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Externalization {
    /// Retained on cancellation/failure.
    pub enabled: bool,
    /// Deleted on cancellation.
    pub delete_on_cancellation: bool,
}

impl FlinkClient {
    /// `GET /jobs/:id/checkpoints`, including `latest.restored`.
    pub async fn checkpoints(&self, job: &JobId) -> Result<CheckpointingStatistics> {
        self.get(self.url(&["jobs", job.as_str(), "checkpoints"]))
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))
    }

    /// `GET /jobs/:id/checkpoints/config`.
    pub async fn checkpoint_config(&self, job: &JobId) -> Result<CheckpointConfig> {
        self.get(self.url(&["jobs", job.as_str(), "checkpoints", "config"]))
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))
    }

    /// `GET /jobs/:id/checkpoints/details/:cid`. An unknown id is [`crate::Error::NotFound`].
    pub async fn checkpoint_details(
        &self,
        job: &JobId,
        checkpoint: u64,
    ) -> Result<CheckpointStatistics> {
        let cid = checkpoint.to_string();
        self.get(self.url(&["jobs", job.as_str(), "checkpoints", "details", &cid]))
            .await
            .map_err(|e| e.not_found_as(|| format!("checkpoint {checkpoint} of job {job}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::decode_all;

    #[test]
    fn statistics_decode_with_completed_checkpoints() {
        let names = [
            "checkpoints_running",
            "checkpoints_restored",
            "checkpoints_rescaled",
            "checkpoints_cancelled",
        ];
        for (v, s) in decode_all::<CheckpointingStatistics>(&names) {
            assert!(s.counts.completed >= 1, "{v}");
            let c = s
                .latest
                .completed
                .as_ref()
                .unwrap_or_else(|| panic!("{v}: no completed"));
            assert_eq!(c.status, CheckpointStatus::Completed, "{v}");
            assert!(
                c.external_path
                    .as_deref()
                    .is_some_and(|p| p.contains("chk-")),
                "{v}"
            );
            assert!(!s.history.is_empty(), "{v}");
        }
        for (v, s) in decode_all::<CheckpointingStatistics>(&["checkpoints_running"]) {
            assert!(s.latest.restored.is_none(), "{v}");
        }
    }

    #[test]
    fn restored_block_from_savepoint_and_after_rescale() {
        for (v, s) in decode_all::<CheckpointingStatistics>(&["checkpoints_restored"]) {
            let r = s
                .latest
                .restored
                .unwrap_or_else(|| panic!("{v}: no restored"));
            assert!(r.is_savepoint, "{v}");
            assert!(
                r.external_path
                    .as_deref()
                    .is_some_and(|p| p.contains("savepoint-")),
                "{v}"
            );
            assert!(r.restore_timestamp > 0, "{v}");
        }
        for (v, s) in decode_all::<CheckpointingStatistics>(&["checkpoints_rescaled"]) {
            let r = s
                .latest
                .restored
                .unwrap_or_else(|| panic!("{v}: no restored"));
            assert!(r.restore_timestamp > 0, "{v}");
            assert!(r.external_path.is_some(), "{v}");
        }
    }

    #[test]
    fn details_and_config_decode() {
        for (v, d) in decode_all::<CheckpointStatistics>(&["checkpoint_details"]) {
            assert_eq!(d.status, CheckpointStatus::Completed, "{v}");
            assert_eq!(d.tasks.len(), 2, "{v}");
            assert!(
                d.tasks
                    .values()
                    .all(|t| t.num_acknowledged_subtasks == t.num_subtasks),
                "{v}"
            );
        }
        for (v, c) in decode_all::<CheckpointConfig>(&["checkpoints_config"]) {
            assert_eq!(c.interval, 1000, "{v}");
            assert_eq!(c.mode, "exactly_once", "{v}");
        }
    }
}
