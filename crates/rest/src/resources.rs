//! Resource requirements of a job under the adaptive scheduler
//! (`GET`/`PUT /jobs/:id/resource-requirements`): per-vertex parallelism bounds. A `PUT`
//! rescales a running job in place, without a resubmit.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{CallKind, FlinkClient};
use crate::error::Result;
use crate::ids::{JobId, VertexId};

/// Per-vertex requirements, keyed by vertex id.
pub type ResourceRequirements = BTreeMap<VertexId, VertexResourceRequirements>;

/// The requirements of one vertex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VertexResourceRequirements {
    /// Parallelism bounds.
    pub parallelism: ParallelismBounds,
}

/// Parallelism bounds: the adaptive scheduler runs the vertex with at least `lower_bound` and
/// at most `upper_bound` subtasks, as resources allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParallelismBounds {
    /// Minimum parallelism.
    pub lower_bound: u32,
    /// Maximum parallelism.
    pub upper_bound: u32,
}

impl VertexResourceRequirements {
    /// Requirements with the given bounds.
    pub fn new(lower_bound: u32, upper_bound: u32) -> Self {
        Self {
            parallelism: ParallelismBounds {
                lower_bound,
                upper_bound,
            },
        }
    }
}

impl FlinkClient {
    /// `GET /jobs/:id/resource-requirements`.
    pub async fn resource_requirements(&self, job: &JobId) -> Result<ResourceRequirements> {
        self.get(self.url(&["jobs", job.as_str(), "resource-requirements"]))
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))
    }

    /// `PUT /jobs/:id/resource-requirements`: sets new bounds (adaptive scheduler only; other
    /// schedulers answer with an error). Returns when Flink accepted them; the rescale follows
    /// asynchronously (watch [`FlinkClient::job`]'s vertex parallelism).
    pub async fn set_resource_requirements(
        &self,
        job: &JobId,
        req: &ResourceRequirements,
    ) -> Result<()> {
        let url = self.url(&["jobs", job.as_str(), "resource-requirements"]);
        let _: serde_json::Value = self
            .send_json(Method::PUT, url, Some(req), CallKind::Normal)
            .await
            .map_err(|e| e.not_found_as(|| format!("job {job}")))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::decode_all;

    #[test]
    fn requirements_decode() {
        for (v, r) in decode_all::<ResourceRequirements>(&[
            "resource_requirements",
            "resource_requirements_before",
        ]) {
            assert_eq!(r.len(), 2, "{v}");
            assert!(r.values().all(|x| x.parallelism.upper_bound == 1), "{v}");
        }
        for (v, r) in decode_all::<ResourceRequirements>(&["resource_requirements_after"]) {
            assert!(
                r.values().all(|x| x.parallelism
                    == ParallelismBounds {
                        lower_bound: 1,
                        upper_bound: 2
                    }),
                "{v}"
            );
        }
        decode_all::<serde_json::Value>(&["resource_requirements_put"]);
    }

    #[test]
    fn requirements_encode_like_flink() {
        let mut r = ResourceRequirements::new();
        r.insert(
            VertexId::from_flink("bc764cd8ddf7a0cff126f51c16239658"),
            VertexResourceRequirements::new(1, 4),
        );
        assert_eq!(
            serde_json::to_value(&r).expect("encode"),
            serde_json::json!({"bc764cd8ddf7a0cff126f51c16239658": {"parallelism": {"lowerBound": 1, "upperBound": 4}}})
        );
    }
}
