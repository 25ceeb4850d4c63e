//! Jar endpoints: upload (multipart `jarfile`), list, run and delete
//! (`/jars/upload`, `/jars`, `POST /jars/:id/run`, `DELETE /jars/:id`).

use std::collections::BTreeMap;
use std::path::Path;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{CallKind, FlinkClient};
use crate::enums::RecoveryClaimMode;
use crate::error::{Error, Result};
use crate::ids::{JarId, JobId};

/// Answer of `POST /jars/upload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarUploadResponse {
    /// Server-side path of the stored jar; its file name is the [`JarId`].
    pub filename: String,
    /// `success`.
    pub status: String,
}

/// `GET /jars`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JarList {
    /// The REST address of the cluster.
    #[serde(default)]
    pub address: Option<String>,
    /// Uploaded jars.
    pub files: Vec<JarFile>,
}

/// One uploaded jar in [`JarList`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JarFile {
    /// Jar id.
    pub id: JarId,
    /// Original file name.
    pub name: String,
    /// Upload time (epoch ms).
    pub uploaded: i64,
    /// Entry classes found in the manifest.
    #[serde(default)]
    pub entry: Vec<JarEntry>,
}

/// An entry class of a [`JarFile`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarEntry {
    /// Class name.
    pub name: String,
    /// Description, if any.
    #[serde(default)]
    pub description: Option<String>,
}

/// Body of `POST /jars/:id/run`. Unset fields are omitted, so a request that sets only fields
/// an older Flink knows works there too.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunJarRequest {
    /// Main class; `None` uses the manifest's `Main-Class`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_class: Option<String>,
    /// Program arguments (`programArgsList`).
    #[serde(rename = "programArgsList", skip_serializing_if = "Vec::is_empty")]
    pub program_args: Vec<String>,
    /// Job parallelism.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    /// Savepoint or retained checkpoint to restore from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub savepoint_path: Option<String>,
    /// Skip state that maps to no operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_non_restored_state: Option<bool>,
    /// Claim mode of the restored snapshot. Sent as `restoreMode`, the key every version
    /// from 1.18 to 2.x accepts (`claimMode` exists only from 1.20 on).
    #[serde(rename = "restoreMode", skip_serializing_if = "Option::is_none")]
    pub claim_mode: Option<RecoveryClaimMode>,
    /// Fixed job id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<JobId>,
    /// Job configuration overrides (`flinkConfiguration`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub flink_configuration: BTreeMap<String, String>,
}

/// Answer of `POST /jars/:id/run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarRunResponse {
    /// The submitted job.
    pub jobid: JobId,
    /// The application id (Flink ≥ 2.3).
    #[serde(default, rename = "applicationId")]
    pub application_id: Option<String>,
}

/// Whether Flink's error says the jar does not exist (Flink answers 500 on run and 400 on
/// delete, not 404: "Jar file … does not exist", "File … does not exist in …").
fn is_missing_jar(e: &Error) -> bool {
    e.flink_errors().iter().any(|m| {
        let line = m
            .lines()
            .find(|l| l.contains("does not exist"))
            .unwrap_or("");
        line.contains("Jar file ") || line.contains("File ")
    })
}

impl FlinkClient {
    /// `POST /jars/upload`: uploads the jar at `path` and returns its id.
    pub async fn upload_jar(&self, path: &Path) -> Result<JarId> {
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let bytes = tokio::fs::read(path).await.map_err(io)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "job.jar".to_owned());
        self.upload_jar_bytes(&name, bytes).await
    }

    /// `POST /jars/upload` from memory; `file_name` becomes part of the jar id.
    pub async fn upload_jar_bytes(&self, file_name: &str, bytes: Vec<u8>) -> Result<JarId> {
        let url = self.url(&["jars", "upload"]);
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("application/x-java-archive")
            .map_err(Error::Client)?;
        let form = reqwest::multipart::Form::new().part("jarfile", part);
        let r: JarUploadResponse = self.send_multipart(url.clone(), form).await?;
        JarId::from_upload_filename(&r.filename).ok_or_else(|| Error::UnexpectedResponse {
            url: url.to_string(),
            reason: format!("upload answer has no file name: {:?}", r.filename),
        })
    }

    /// `GET /jars`.
    pub async fn jars(&self) -> Result<JarList> {
        self.get(self.url(&["jars"])).await
    }

    /// `POST /jars/:id/run`: runs the jar's `main` on the cluster and returns the job id.
    /// A failing `main` is an [`Error::Http`] whose [`Error::root_cause`] names the cause.
    pub async fn run_jar(&self, jar: &JarId, req: &RunJarRequest) -> Result<JobId> {
        Ok(self.run_jar_full(jar, req).await?.jobid)
    }

    /// Like [`Self::run_jar`], returning the whole answer.
    pub async fn run_jar_full(&self, jar: &JarId, req: &RunJarRequest) -> Result<JarRunResponse> {
        let url = self.url(&["jars", jar.as_str(), "run"]);
        self.send_json(Method::POST, url, Some(req), CallKind::Submit)
            .await
            .map_err(|e| {
                if is_missing_jar(&e) {
                    let errors = e.flink_errors().to_vec();
                    let url = self.url(&["jars", jar.as_str(), "run"]).to_string();
                    Error::NotFound {
                        what: format!("jar {jar}"),
                        url,
                        errors,
                    }
                } else {
                    e
                }
            })
    }

    /// `DELETE /jars/:id`.
    pub async fn delete_jar(&self, jar: &JarId) -> Result<()> {
        let url = self.url(&["jars", jar.as_str()]);
        let _: serde_json::Value = self
            .send_json::<(), _>(Method::DELETE, url, None, CallKind::Normal)
            .await
            .map_err(|e| {
                if is_missing_jar(&e) || e.is_not_found() {
                    let errors = e.flink_errors().to_vec();
                    Error::NotFound {
                        what: format!("jar {jar}"),
                        url: self.url(&["jars", jar.as_str()]).to_string(),
                        errors,
                    }
                } else {
                    e
                }
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ErrorBody;
    use crate::fixtures::{decode_all, load, versions};

    #[test]
    fn upload_list_run_decode() {
        for (v, u) in decode_all::<JarUploadResponse>(&["jar_upload"]) {
            let id = JarId::from_upload_filename(&u.filename).unwrap_or_else(|| panic!("{v}"));
            assert!(id.as_str().ends_with("_flinkops-fixture.jar"), "{v}: {id}");
            assert_eq!(u.status, "success");
        }
        for (v, l) in decode_all::<JarList>(&["jars"]) {
            let f = l.files.first().unwrap_or_else(|| panic!("{v}: no jar"));
            assert_eq!(f.name, "flinkops-fixture.jar", "{v}");
            assert_eq!(
                f.entry.first().map(|e| e.name.as_str()),
                Some("flinkops.fixture.FixtureJob"),
                "{v}"
            );
        }
        for (v, l) in decode_all::<JarList>(&["jars_after_delete"]) {
            assert!(l.files.is_empty(), "{v}");
        }
        for (v, r) in
            decode_all::<JarRunResponse>(&["jar_run", "jar_run_from_savepoint", "jar_run_failing"])
        {
            assert!(r.jobid.as_str().parse::<JobId>().is_ok(), "{v}");
        }
        decode_all::<serde_json::Value>(&["jar_delete"]);
    }

    #[test]
    fn missing_jar_is_recognised() {
        for v in versions() {
            for name in ["error_jar_not_found", "error_jar_delete_not_found"] {
                let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("tests/fixtures/{v}/{name}.json"));
                if !p.is_file() {
                    continue; // recorded by newer runs of the script only
                }
                let errors = serde_json::from_str::<ErrorBody>(&load(&v, name))
                    .expect("decodes")
                    .errors;
                let e = Error::Http {
                    url: "u".into(),
                    status: 500,
                    errors,
                };
                assert!(is_missing_jar(&e), "{v}/{name}");
            }
            let errors = serde_json::from_str::<ErrorBody>(&load(&v, "error_jar_run_failed"))
                .expect("decodes")
                .errors;
            assert!(
                !is_missing_jar(&Error::Http {
                    url: "u".into(),
                    status: 400,
                    errors
                }),
                "{v}"
            );
        }
    }

    #[test]
    fn run_request_omits_unset_fields() {
        assert_eq!(
            serde_json::to_value(RunJarRequest::default()).expect("encode"),
            serde_json::json!({})
        );
        let r = RunJarRequest {
            entry_class: Some("a.B".into()),
            program_args: vec!["--x".into(), "1".into()],
            parallelism: Some(2),
            savepoint_path: Some("file:/sp".into()),
            allow_non_restored_state: Some(true),
            claim_mode: Some(RecoveryClaimMode::NoClaim),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&r).expect("encode"),
            serde_json::json!({"entryClass": "a.B", "programArgsList": ["--x", "1"], "parallelism": 2,
                "savepointPath": "file:/sp", "allowNonRestoredState": true, "restoreMode": "NO_CLAIM"})
        );
    }
}
