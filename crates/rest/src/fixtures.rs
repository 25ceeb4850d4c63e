//! Test support: the REST bodies recorded from real Flink clusters by
//! `scripts/record-rest-fixtures.sh` under `tests/fixtures/<version>/<name>.json`, with an
//! `_index.tsv` (name, method, path, HTTP status) per version.
//!
//! Holds the coverage test: every recorded body of every version decodes into the type its
//! endpoint method returns, so a fixture without a decoder (or a decoder failing on a new
//! version) fails the build.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use url::Url;

use crate::client::{ErrorBody, decode};

/// One row of `_index.tsv`.
#[derive(Debug, Clone)]
pub(crate) struct IndexEntry {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// Recorded versions, sorted (panics when there are none: the fixtures are part of the repo).
pub(crate) fn versions() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root())
        .expect("tests/fixtures exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("_index.tsv").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    assert!(
        !v.is_empty(),
        "no recorded fixtures under {}",
        root().display()
    );
    v
}

/// The body recorded as `name` for `version`.
pub(crate) fn load(version: &str, name: &str) -> String {
    let p = root().join(version).join(format!("{name}.json"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every version's index.
pub(crate) fn load_index() -> Vec<(String, BTreeMap<String, IndexEntry>)> {
    versions()
        .into_iter()
        .map(|v| {
            let text = std::fs::read_to_string(root().join(&v).join("_index.tsv")).expect("index");
            let map = text
                .lines()
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.split('\t').collect();
                    let [name, method, path, status] = f.as_slice() else {
                        return None;
                    };
                    let status = status.parse().ok()?;
                    Some((
                        name.to_string(),
                        IndexEntry {
                            method: method.to_string(),
                            path: path.to_string(),
                            status,
                        },
                    ))
                })
                .collect();
            (v, map)
        })
        .collect()
}

fn fixture_url(version: &str, name: &str) -> Url {
    Url::parse(&format!("fixture://{version}/{name}")).expect("fixture url")
}

/// Decodes `name` of every version as `T` with the client's decoder (panics naming the JSON
/// path on failure).
pub(crate) fn decode_all<T: DeserializeOwned>(names: &[&str]) -> Vec<(String, T)> {
    let mut out = Vec::new();
    for v in versions() {
        for name in names {
            let body = load(&v, name);
            match decode::<T>(&fixture_url(&v, name), body.as_bytes()) {
                Ok(t) => out.push((v.clone(), t)),
                Err(e) => panic!("{v}/{name}: {e}"),
            }
        }
    }
    out
}

/// Like [`decode_all`], for fixtures only some versions have (e.g. features added later).
pub(crate) fn decode_present<T: DeserializeOwned>(name: &str) -> Vec<(String, T)> {
    let present: Vec<String> = versions()
        .into_iter()
        .filter(|v| root().join(v).join(format!("{name}.json")).is_file())
        .collect();
    present
        .into_iter()
        .map(|v| {
            let body = load(&v, name);
            match decode::<T>(&fixture_url(&v, name), body.as_bytes()) {
                Ok(t) => (v, t),
                Err(e) => panic!("{v}/{name}: {e}"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    type Check = fn(&Url, &[u8]) -> Result<()>;

    fn ok<T: DeserializeOwned>(url: &Url, body: &[u8]) -> Result<()> {
        decode::<T>(url, body).map(|_| ())
    }

    /// The decoder for every recorded body, by fixture name.
    fn decoder(name: &str) -> Option<Check> {
        let c: Check = match name {
            "overview" | "overview_after" => ok::<ClusterOverview>,
            "config" => ok::<DashboardConfig>,
            "jobmanager_config" => ok::<Vec<ConfigEntry>>,
            "jobmanager_metrics"
            | "jobmanager_metrics_list"
            | "taskmanager_metrics"
            | "job_metrics"
            | "job_metrics_list"
            | "vertex_metrics"
            | "vertex_metrics_list" => ok::<Vec<MetricValue>>,
            "taskmanagers" => ok::<TaskManagers>,
            "taskmanager_details" => ok::<TaskManagerDetails>,
            "jar_upload" => ok::<JarUploadResponse>,
            "jars" | "jars_after_delete" => ok::<JarList>,
            "jar_run" | "jar_run_from_savepoint" | "jar_run_failing" => ok::<JarRunResponse>,
            "jobs_overview" | "jobs_overview_running" => ok::<JobsOverview>,
            n if n.starts_with("job_exceptions") => ok::<JobExceptions>,
            n if n.starts_with("job_") => ok::<JobDetails>,
            n if n.starts_with("checkpoints_") && n != "checkpoints_config" => {
                ok::<CheckpointingStatistics>
            }
            "checkpoints_config" => ok::<CheckpointConfig>,
            "checkpoint_details" => ok::<CheckpointStatistics>,
            n if n.starts_with("subtask_metrics") => ok::<Vec<AggregatedMetric>>,
            n if n.starts_with("resource_requirements") && n != "resource_requirements_put" => {
                ok::<ResourceRequirements>
            }
            "savepoint_trigger"
            | "savepoint_trigger_bad_target"
            | "stop_trigger"
            | "stop_trigger_unknown_job" => ok::<TriggerResponse>,
            n if n.starts_with("savepoint_status") || n.starts_with("stop_status") => {
                ok::<SavepointStatus>
            }
            // Empty answers (`{}`) of PUT/PATCH/DELETE.
            "resource_requirements_put" | "cancel" | "cancel_failing" | "jar_delete" => {
                ok::<serde_json::Value>
            }
            _ => return None,
        };
        Some(c)
    }

    #[test]
    fn every_recorded_body_decodes() {
        let mut checked = 0;
        for (v, index) in load_index() {
            assert!(
                index.len() >= 50,
                "{v}: only {} bodies recorded",
                index.len()
            );
            for (name, entry) in &index {
                let body = load(&v, name);
                let url = fixture_url(&v, name);
                if name.starts_with("error_") {
                    assert!(entry.status >= 400, "{v}/{name}: status {}", entry.status);
                }
                if entry.status >= 400 {
                    let e = decode::<ErrorBody>(&url, body.as_bytes())
                        .unwrap_or_else(|e| panic!("{v}/{name}: {e}"));
                    assert!(!e.errors.is_empty(), "{v}/{name}: no errors");
                } else {
                    assert!(
                        (200..300).contains(&entry.status),
                        "{v}/{name}: {} {} -> {}",
                        entry.method,
                        entry.path,
                        entry.status
                    );
                    let check = decoder(name)
                        .unwrap_or_else(|| panic!("{v}/{name}: no decoder for this fixture"));
                    check(&url, body.as_bytes()).unwrap_or_else(|e| panic!("{v}/{name}: {e}"));
                }
                checked += 1;
            }
        }
        assert!(checked > 0);
    }

    #[test]
    fn unknown_job_is_404_with_a_clear_message() {
        for (v, index) in load_index() {
            let entry = &index["error_job_not_found"];
            assert_eq!(entry.status, 404, "{v}");
            let errors = decode::<ErrorBody>(
                &fixture_url(&v, "e"),
                load(&v, "error_job_not_found").as_bytes(),
            )
            .expect("error body")
            .errors;
            let e = Error::Http {
                url: entry.path.clone(),
                status: 404,
                errors,
            }
            .not_found_as(|| "job 00000000000000000000000000000000".into());
            assert_eq!(e.kind(), "not_found");
            assert!(
                e.to_string()
                    .starts_with("job 00000000000000000000000000000000 not found"),
                "{v}: {e}"
            );
            // The cause names the job: "Job … not found" (2.x) or "Could not find Flink job (…)" (1.x).
            assert!(
                e.root_cause()
                    .is_some_and(|c| c.contains("00000000000000000000000000000000")),
                "{v}: {:?}",
                e.root_cause()
            );
        }
    }
}
