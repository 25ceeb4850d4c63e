//! Cluster-level endpoints: overview (`/overview`), web config (`/config`), JobManager
//! configuration and metrics, TaskManagers (`/taskmanagers`, `/taskmanagers/:id`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::client::FlinkClient;
use crate::error::{Error, Result};
use crate::ids::TaskManagerId;
use crate::metrics::MetricValue;
use crate::serde_util::lenient_f64;

/// `GET /overview`: cluster totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ClusterOverview {
    /// Registered TaskManagers.
    pub taskmanagers: u32,
    /// Total task slots.
    pub slots_total: u32,
    /// Free task slots.
    pub slots_available: u32,
    /// Running jobs.
    pub jobs_running: u32,
    /// Finished jobs.
    pub jobs_finished: u32,
    /// Cancelled jobs.
    pub jobs_cancelled: u32,
    /// Failed jobs.
    pub jobs_failed: u32,
    /// Flink version, e.g. `2.3.0`.
    pub flink_version: String,
    /// Flink commit id.
    pub flink_commit: String,
}

/// `GET /config`: the web UI's configuration (also carries the Flink version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DashboardConfig {
    /// UI refresh interval in ms.
    pub refresh_interval: u64,
    /// Time zone name of the JobManager.
    pub timezone_name: String,
    /// Time zone offset in ms.
    pub timezone_offset: i64,
    /// Flink version.
    pub flink_version: String,
    /// Flink revision and build date.
    pub flink_revision: String,
    /// Enabled UI features.
    #[serde(default)]
    pub features: Option<DashboardFeatures>,
}

/// Feature flags in [`DashboardConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DashboardFeatures {
    /// Jar submission through the UI/REST is enabled (`web.submit.enable`).
    #[serde(default)]
    pub web_submit: bool,
    /// Cancel through the UI is enabled.
    #[serde(default)]
    pub web_cancel: Option<bool>,
    /// Rescale through the UI is enabled (adaptive scheduler; Flink ≥ 1.19).
    #[serde(default)]
    pub web_rescale: Option<bool>,
    /// This is a history server.
    #[serde(default)]
    pub web_history: bool,
}

/// One entry of `GET /jobmanager/config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigEntry {
    /// Option key.
    pub key: String,
    /// Option value as a string.
    pub value: String,
}

/// `GET /taskmanagers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskManagers {
    /// The registered TaskManagers.
    pub taskmanagers: Vec<TaskManagerInfo>,
}

/// One TaskManager in `GET /taskmanagers` (and the head of `/taskmanagers/:id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerInfo {
    /// Resource id.
    pub id: TaskManagerId,
    /// RPC address.
    pub path: String,
    /// Data (shuffle) port.
    pub data_port: i64,
    /// JMX port (-1: none).
    #[serde(default)]
    pub jmx_port: Option<i64>,
    /// ms since the last heartbeat.
    pub time_since_last_heartbeat: i64,
    /// Task slots.
    pub slots_number: u32,
    /// Free task slots.
    pub free_slots: u32,
    /// Tasks deployed (Flink ≥ 1.19).
    #[serde(default)]
    pub assigned_tasks: Option<u32>,
    /// Total resources.
    #[serde(default)]
    pub total_resource: Option<ResourceProfile>,
    /// Free resources.
    #[serde(default)]
    pub free_resource: Option<ResourceProfile>,
    /// Hardware description.
    pub hardware: Hardware,
    /// The memory model's result.
    #[serde(default)]
    pub memory_configuration: Option<TaskManagerMemoryConfiguration>,
    /// Blocked by the blocklist (Flink ≥ 1.17 when set).
    #[serde(default)]
    pub blocked: Option<bool>,
}

/// A slot/TaskManager resource profile (memory in MiB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceProfile {
    /// CPU cores.
    #[serde(deserialize_with = "lenient_f64")]
    pub cpu_cores: f64,
    /// Task heap (MiB).
    pub task_heap_memory: i64,
    /// Task off-heap (MiB).
    pub task_off_heap_memory: i64,
    /// Managed memory (MiB).
    pub managed_memory: i64,
    /// Network memory (MiB).
    pub network_memory: i64,
    /// Extended resources (GPUs…).
    #[serde(default)]
    pub extended_resources: BTreeMap<String, serde_json::Value>,
}

/// A TaskManager's hardware (memory in bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hardware {
    /// CPU cores seen by the JVM.
    pub cpu_cores: u32,
    /// Physical memory of the host (bytes).
    pub physical_memory: i64,
    /// JVM heap size (bytes; Flink calls it "free memory").
    pub free_memory: i64,
    /// Managed memory (bytes).
    pub managed_memory: i64,
}

/// The TaskManager memory model's result (bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerMemoryConfiguration {
    /// Framework heap.
    pub framework_heap: i64,
    /// Task heap.
    pub task_heap: i64,
    /// Framework off-heap.
    pub framework_off_heap: i64,
    /// Task off-heap.
    pub task_off_heap: i64,
    /// Network memory.
    pub network_memory: i64,
    /// Managed memory.
    pub managed_memory: i64,
    /// JVM metaspace.
    pub jvm_metaspace: i64,
    /// JVM overhead.
    pub jvm_overhead: i64,
    /// Total Flink memory.
    pub total_flink_memory: i64,
    /// Total process memory.
    pub total_process_memory: i64,
}

/// `GET /taskmanagers/:id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerDetails {
    /// The same fields as in the list.
    #[serde(flatten)]
    pub info: TaskManagerInfo,
    /// Slots allocated to jobs (Flink ≥ 1.17).
    #[serde(default)]
    pub allocated_slots: Option<Vec<serde_json::Value>>,
    /// JVM and shuffle memory metrics.
    pub metrics: TaskManagerMetrics,
}

/// The `metrics` block of [`TaskManagerDetails`] (bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerMetrics {
    /// Heap used.
    pub heap_used: i64,
    /// Heap committed.
    pub heap_committed: i64,
    /// Heap max.
    pub heap_max: i64,
    /// Non-heap used.
    pub non_heap_used: i64,
    /// Non-heap committed.
    pub non_heap_committed: i64,
    /// Non-heap max.
    pub non_heap_max: i64,
    /// Direct buffers.
    pub direct_count: i64,
    /// Direct memory used.
    pub direct_used: i64,
    /// Direct memory max.
    pub direct_max: i64,
    /// Network memory segments available.
    #[serde(default)]
    pub netty_shuffle_memory_segments_available: Option<i64>,
    /// Network memory segments used.
    #[serde(default)]
    pub netty_shuffle_memory_segments_used: Option<i64>,
    /// Network memory segments total.
    #[serde(default)]
    pub netty_shuffle_memory_segments_total: Option<i64>,
    /// Network memory available.
    #[serde(default)]
    pub netty_shuffle_memory_available: Option<i64>,
    /// Network memory used.
    #[serde(default)]
    pub netty_shuffle_memory_used: Option<i64>,
    /// Network memory total.
    #[serde(default)]
    pub netty_shuffle_memory_total: Option<i64>,
    /// Garbage collectors.
    #[serde(default)]
    pub garbage_collectors: Vec<GarbageCollector>,
}

/// One garbage collector in [`TaskManagerMetrics`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GarbageCollector {
    /// Collector name.
    pub name: String,
    /// Collections.
    pub count: i64,
    /// Total time (ms).
    pub time: i64,
}

impl FlinkClient {
    /// `GET /overview`.
    pub async fn overview(&self) -> Result<ClusterOverview> {
        self.get(self.url(&["overview"])).await
    }

    /// `GET /config`.
    pub async fn dashboard_config(&self) -> Result<DashboardConfig> {
        self.get(self.url(&["config"])).await
    }

    /// `GET /jobmanager/config`: the effective cluster configuration.
    pub async fn jobmanager_config(&self) -> Result<Vec<ConfigEntry>> {
        self.get(self.url(&["jobmanager", "config"])).await
    }

    /// `GET /jobmanager/metrics?get=…`; with no names, lists available metric ids.
    pub async fn jobmanager_metrics(&self, names: &[&str]) -> Result<Vec<MetricValue>> {
        self.get(self.url_with_query(&["jobmanager", "metrics"], &[("get", names)]))
            .await
    }

    /// `GET /taskmanagers`.
    pub async fn taskmanagers(&self) -> Result<TaskManagers> {
        self.get(self.url(&["taskmanagers"])).await
    }

    /// `GET /taskmanagers/:id`. An unknown id is [`crate::Error::NotFound`] (Flink itself
    /// answers 500 with `UnknownTaskExecutorException`).
    pub async fn taskmanager(&self, id: &TaskManagerId) -> Result<TaskManagerDetails> {
        let url = self.url(&["taskmanagers", id.as_str()]);
        self.get(url)
            .await
            .map_err(|e| unknown_taskmanager_as_not_found(e, id))
    }

    /// `GET /taskmanagers/:id/metrics?get=…`.
    pub async fn taskmanager_metrics(
        &self,
        id: &TaskManagerId,
        names: &[&str],
    ) -> Result<Vec<MetricValue>> {
        self.get(self.url_with_query(&["taskmanagers", id.as_str(), "metrics"], &[("get", names)]))
            .await
            .map_err(|e| unknown_taskmanager_as_not_found(e, id))
    }
}

/// Maps Flink's 500 `UnknownTaskExecutorException` (and a 404) to [`Error::NotFound`].
fn unknown_taskmanager_as_not_found(e: Error, id: &TaskManagerId) -> Error {
    let unknown = e
        .flink_errors()
        .iter()
        .any(|m| m.contains("UnknownTaskExecutorException"));
    match e {
        Error::Http { url, errors, .. } if unknown => Error::NotFound {
            what: format!("TaskManager {id}"),
            url,
            errors,
        },
        other => other.not_found_as(|| format!("TaskManager {id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{decode_all, versions};

    #[test]
    fn overview_and_config_decode() {
        for (v, o) in decode_all::<ClusterOverview>(&["overview", "overview_after"]) {
            assert_eq!(o.flink_version, v, "{v}");
            assert!(o.taskmanagers >= 1 && o.slots_total >= 2, "{v}");
        }
        for (v, c) in decode_all::<DashboardConfig>(&["config"]) {
            assert_eq!(c.flink_version, v);
            assert!(c.features.is_some_and(|f| f.web_submit), "{v}");
        }
        for (v, o) in decode_all::<ClusterOverview>(&["overview_after"]) {
            assert!(o.jobs_finished + o.jobs_cancelled >= 2, "{v}: {o:?}");
        }
    }

    #[test]
    fn jobmanager_config_and_metrics_decode() {
        for (v, c) in decode_all::<Vec<ConfigEntry>>(&["jobmanager_config"]) {
            assert!(c.iter().any(|e| e.key == "rest.port"), "{v}");
        }
        for (v, m) in decode_all::<Vec<MetricValue>>(&["jobmanager_metrics"]) {
            assert!(
                m.iter()
                    .any(|e| e.id == "taskSlotsTotal" && e.value.as_deref() == Some("2")),
                "{v}"
            );
        }
        decode_all::<Vec<MetricValue>>(&["jobmanager_metrics_list"]);
    }

    #[test]
    fn taskmanagers_decode() {
        for (v, t) in decode_all::<TaskManagers>(&["taskmanagers"]) {
            let tm = t
                .taskmanagers
                .first()
                .unwrap_or_else(|| panic!("{v}: no TaskManager"));
            assert_eq!(tm.slots_number, 2, "{v}");
            assert!(!tm.id.as_str().is_empty());
            assert!(
                tm.memory_configuration
                    .as_ref()
                    .is_some_and(|m| m.total_process_memory > 0),
                "{v}"
            );
        }
        for (v, d) in decode_all::<TaskManagerDetails>(&["taskmanager_details"]) {
            assert!(d.metrics.heap_max > 0, "{v}");
            assert!(!d.metrics.garbage_collectors.is_empty(), "{v}");
        }
        for (v, m) in decode_all::<Vec<MetricValue>>(&["taskmanager_metrics"]) {
            assert!(
                m.iter().any(|e| e.id == "Status.JVM.Memory.Heap.Used"),
                "{v}"
            );
        }
        assert!(!versions().is_empty());
    }

    #[test]
    fn unknown_taskmanager_is_not_found() {
        let id = TaskManagerId::from_flink("no-such-taskmanager");
        for v in versions() {
            let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
                "tests/fixtures/{v}/error_taskmanager_not_found.json"
            ));
            if !p.is_file() {
                continue; // recorded by newer runs of the script only
            }
            let body = crate::fixtures::load(&v, "error_taskmanager_not_found");
            let errors = serde_json::from_str::<crate::client::ErrorBody>(&body)
                .expect("decodes")
                .errors;
            let e = unknown_taskmanager_as_not_found(
                Error::Http {
                    url: "u".into(),
                    status: 500,
                    errors,
                },
                &id,
            );
            assert!(e.is_not_found(), "{v}: {e}");
            assert!(
                e.to_string()
                    .starts_with("TaskManager no-such-taskmanager not found"),
                "{v}: {e}"
            );
        }
    }
}
