//! Metric endpoints: job metrics (`/jobs/:id/metrics`), vertex metrics
//! (`/jobs/:id/vertices/:vid/metrics`) and subtask metrics aggregated over subtasks
//! (`/jobs/:id/vertices/:vid/subtasks/metrics?get=…&agg=…`).
//!
//! Without metric names each endpoint lists the available metric ids (values absent).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::client::FlinkClient;
use crate::error::Result;
use crate::ids::{JobId, VertexId};
use crate::serde_util::lenient_opt_f64;

/// One metric: `{"id": "...", "value": "..."}`; `value` is absent when listing ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricValue {
    /// Metric id, e.g. `numRestarts` or `0.busyTimeMsPerSecond` (subtask index prefix).
    pub id: String,
    /// The value as Flink formats it (`"0.0"`, `"NaN"`, `"1234"`).
    #[serde(default)]
    pub value: Option<String>,
}

impl MetricValue {
    /// The value as a number (`NaN` for `"NaN"`), if it parses.
    pub fn as_f64(&self) -> Option<f64> {
        let v = self.value.as_deref()?.trim();
        match v {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => v.parse().ok(),
        }
    }
}

/// One metric aggregated over subtasks; each aggregate is present if requested.
/// Flink sends numbers, or `"NaN"` strings when a gauge has no value yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregatedMetric {
    /// Metric id (without subtask prefix).
    pub id: String,
    /// Minimum over subtasks.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub min: Option<f64>,
    /// Maximum over subtasks.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub max: Option<f64>,
    /// Average over subtasks.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub avg: Option<f64>,
    /// Sum over subtasks.
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub sum: Option<f64>,
    /// Skew (Flink ≥ 1.20).
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub skew: Option<f64>,
}

/// An aggregation for [`FlinkClient::subtask_metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregation {
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Average.
    Avg,
    /// Sum.
    Sum,
    /// Skew (Flink ≥ 1.20; older versions reject it).
    Skew,
}

impl Aggregation {
    /// min, max, avg, sum — supported by every Flink version.
    pub const ALL_PORTABLE: [Aggregation; 4] = [
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::Avg,
        Aggregation::Sum,
    ];

    /// The query-parameter spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::Avg => "avg",
            Aggregation::Sum => "sum",
            Aggregation::Skew => "skew",
        }
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FlinkClient {
    /// `GET /jobs/:id/metrics?get=…` (job-scoped metrics such as `numRestarts`).
    pub async fn job_metrics(&self, job: &JobId, names: &[&str]) -> Result<Vec<MetricValue>> {
        self.get(self.url_with_query(&["jobs", job.as_str(), "metrics"], &[("get", names)]))
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))
    }

    /// `GET /jobs/:id/vertices/:vid/metrics?get=…`; ids carry the subtask index
    /// (`0.numRecordsOutPerSecond`).
    pub async fn vertex_metrics(
        &self,
        job: &JobId,
        vertex: &VertexId,
        names: &[&str],
    ) -> Result<Vec<MetricValue>> {
        let url = self.url_with_query(
            &["jobs", job.as_str(), "vertices", vertex.as_str(), "metrics"],
            &[("get", names)],
        );
        self.get(url)
            .await
            .map_err(|e| e.not_found_as(|| format!("vertex {vertex} of job {job}")))
    }

    /// `GET /jobs/:id/vertices/:vid/subtasks/metrics?get=…&agg=…`: metrics aggregated over all
    /// subtasks of a vertex. An empty `aggs` lets Flink return every aggregate.
    pub async fn subtask_metrics(
        &self,
        job: &JobId,
        vertex: &VertexId,
        names: &[&str],
        aggs: &[Aggregation],
    ) -> Result<Vec<AggregatedMetric>> {
        let aggs: Vec<&str> = aggs.iter().map(|a| a.as_str()).collect();
        let url = self.url_with_query(
            &[
                "jobs",
                job.as_str(),
                "vertices",
                vertex.as_str(),
                "subtasks",
                "metrics",
            ],
            &[("get", names), ("agg", &aggs)],
        );
        self.get(url)
            .await
            .map_err(|e| e.not_found_as(|| format!("vertex {vertex} of job {job}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{decode_all, decode_present};

    #[test]
    fn metric_values_decode() {
        for (v, m) in decode_all::<Vec<MetricValue>>(&["job_metrics"]) {
            let restarts = m
                .iter()
                .find(|e| e.id == "numRestarts")
                .unwrap_or_else(|| panic!("{v}"));
            assert_eq!(restarts.as_f64(), Some(0.0), "{v}");
        }
        for (v, m) in decode_all::<Vec<MetricValue>>(&["job_metrics_list", "vertex_metrics_list"]) {
            assert!(!m.is_empty(), "{v}");
            assert!(m.iter().all(|e| !e.id.is_empty()), "{v}");
        }
        for (v, m) in decode_all::<Vec<MetricValue>>(&["vertex_metrics"]) {
            assert!(
                m.iter()
                    .any(|e| e.id == "0.numRecordsOutPerSecond" && e.as_f64().is_some()),
                "{v}"
            );
        }
    }

    #[test]
    fn aggregated_metrics_decode() {
        for (v, m) in decode_all::<Vec<AggregatedMetric>>(&[
            "subtask_metrics_agg",
            "subtask_metrics_agg_rescaled",
        ]) {
            assert_eq!(m.len(), 4, "{v}");
            for a in &m {
                assert!(
                    a.min.is_some() && a.max.is_some() && a.avg.is_some() && a.sum.is_some(),
                    "{v}: {a:?}"
                );
            }
        }
    }

    #[test]
    fn skew_aggregation_from_1_20() {
        for (v, m) in decode_present::<Vec<AggregatedMetric>>("subtask_metrics_skew") {
            assert!(
                m.iter().all(|a| a.skew.is_some() && a.min.is_none()),
                "{v}: {m:?}"
            );
        }
    }

    #[test]
    fn metric_value_parsing() {
        let m = |v: &str| MetricValue {
            id: "x".into(),
            value: Some(v.into()),
        };
        assert!(m("NaN").as_f64().is_some_and(f64::is_nan));
        assert_eq!(m("12.5").as_f64(), Some(12.5));
        assert_eq!(m("abc").as_f64(), None);
        assert_eq!(
            MetricValue {
                id: "x".into(),
                value: None
            }
            .as_f64(),
            None
        );
    }
}
