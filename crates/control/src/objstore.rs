//! Savepoint and checkpoint files wherever they live: [`SnapshotFs`] deletes a snapshot
//! directory, tells whether a file exists and reads the first bytes of one (`_metadata`
//! headers), and lists a directory's subdirectories — on the local file system (`std::fs`) and
//! in S3, GCS and Azure (the `object_store` crate, rustls; no OpenSSL).
//!
//! Credentials come from the environment through `object_store`'s `from_env` builders: the
//! standard `AWS_*` (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_REGION`, web identity, container credentials, instance metadata), `GOOGLE_*`
//! (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_APPLICATION_CREDENTIALS`, …) and `AZURE_*`
//! (`AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY`, client secrets, …) variables.
//! `AWS_ENDPOINT_URL` (with `AWS_ALLOW_HTTP=true` for plain HTTP) points S3 at a compatible
//! server; [`RemoteConfig`] sets the same explicitly.
//!
//! Deleting is careful: a remote prefix is deleted only when [`deletable_prefix`] accepts it
//! (Flink's `savepoint-xxxxxx-xxxxxxxxxxxx` or `chk-N` as its last segment: never a bucket
//! root or a parent), and only the objects strictly under `prefix/` are deleted. A directory
//! that is already gone counts as deleted (retries and resumed intents are idempotent).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};

use crate::location::{Location, ObjectLocation, Provider, deletable_prefix};
use crate::{Error, Result};

/// How object stores are reached, besides what the environment says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteConfig {
    /// Start from the environment's `AWS_*`, `GOOGLE_*` and `AZURE_*` variables.
    pub from_env: bool,
    /// Endpoint of an S3-compatible server or an Azure emulator (`http://127.0.0.1:9000`);
    /// overrides `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    /// Allow plain HTTP (a local server). `AWS_ALLOW_HTTP=true` does the same from the environment.
    pub allow_http: bool,
    /// Further builder settings by `object_store` config key, applied to the builder whose
    /// prefix they carry (`aws_access_key_id`, `aws_region`, `google_service_account`,
    /// `azure_storage_account_key`, …). Unknown keys are an error at first use.
    pub options: Vec<(String, String)>,
    /// Attempts per request on transient errors (then the error is returned; retention retries
    /// on its next run).
    pub max_retries: usize,
    /// Bound on the retries of one request.
    pub retry_timeout: Duration,
    /// Bound on one request.
    pub request_timeout: Duration,
}

impl Default for RemoteConfig {
    fn default() -> RemoteConfig {
        RemoteConfig {
            from_env: true,
            endpoint: None,
            allow_http: false,
            options: Vec::new(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What deleting a snapshot directory removed. Zero objects: it was already gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted {
    pub objects: u64,
    pub bytes: u64,
}

/// Size and modification time of one file or object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    pub size: u64,
    /// Epoch milliseconds, when the store reports it.
    pub modified_ms: Option<i64>,
}

/// Savepoint and checkpoint files on the local file system and in object stores. Object store
/// clients are built on first use per bucket and reused.
#[derive(Debug)]
pub struct SnapshotFs {
    config: RemoteConfig,
    stores: Mutex<HashMap<StoreKey, Arc<dyn ObjectStore>>>,
}

/// One client per provider, bucket (container) and Azure account host.
type StoreKey = (Provider, String, Option<String>);

impl Default for SnapshotFs {
    fn default() -> SnapshotFs {
        SnapshotFs::from_env()
    }
}

impl SnapshotFs {
    /// Credentials and endpoint from the environment.
    pub fn from_env() -> SnapshotFs {
        SnapshotFs::new(RemoteConfig::default())
    }

    pub fn new(config: RemoteConfig) -> SnapshotFs {
        SnapshotFs { config, stores: Mutex::new(HashMap::new()) }
    }

    pub fn config(&self) -> &RemoteConfig {
        &self.config
    }

    /// Deletes a savepoint or checkpoint directory and everything in it.
    ///
    /// Local: only an existing directory that has a `_metadata` file or Flink's `savepoint-…`
    /// / `chk-N` name. Remote: only a prefix [`deletable_prefix`] accepts (checked before any
    /// request). Missing: `Ok` with zero objects.
    pub async fn delete_snapshot_dir(&self, dir: &Location) -> Result<Deleted> {
        match dir {
            Location::Local(path) => {
                let path = path.clone();
                blocking(move || delete_local_snapshot_dir(&path)).await
            }
            Location::Remote { url, .. } => {
                let obj = dir.object().map_err(|e| refuse_delete(url, &e.to_string()))?;
                deletable_prefix(&obj.key).map_err(|why| refuse_delete(url, &why))?;
                let (store, prefix) = self.store_for(&obj, url)?;
                // Listing is by whole segments (`a/chk-1` does not list `a/chk-10/x`); the
                // filter below says so again, whatever a server does with the prefix.
                let under = format!("{}/", prefix.as_ref());
                let objects: Vec<object_store::ObjectMeta> = store
                    .list(Some(&prefix))
                    .try_filter(|m| std::future::ready(m.location.as_ref().starts_with(&under)))
                    .try_collect()
                    .await
                    .map_err(remote_err("listing", url))?;
                let bytes = objects.iter().map(|m| m.size).sum();
                let paths: Vec<object_store::Result<ObjectPath>> = objects.into_iter().map(|m| Ok(m.location)).collect();
                let n = paths.len() as u64;
                let mut results = store.delete_stream(futures_util::stream::iter(paths).boxed());
                while let Some(r) = results.next().await {
                    match r {
                        Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(remote_err("deleting", url)(e)),
                    }
                }
                Ok(Deleted { objects: n, bytes })
            }
        }
    }

    /// Size and modification time of a file; None when it does not exist.
    pub async fn stat(&self, file: &Location) -> Result<Option<FileInfo>> {
        match file {
            Location::Local(path) => {
                let path = path.clone();
                blocking(move || match std::fs::metadata(&path) {
                    Ok(m) if m.is_file() => Ok(Some(FileInfo { size: m.len(), modified_ms: m.modified().ok().and_then(epoch_ms) })),
                    Ok(_) => Ok(None),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::io("reading", &path)(e)),
                })
                .await
            }
            Location::Remote { url, .. } => {
                let (store, path) = self.remote(file, url)?;
                match store.head(&path).await {
                    Ok(m) => Ok(Some(FileInfo { size: m.size, modified_ms: Some(m.last_modified.timestamp_millis()) })),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(remote_err("reading", url)(e)),
                }
            }
        }
    }

    /// Whether a file exists (`<dir>/_metadata`: the snapshot completed).
    pub async fn exists(&self, file: &Location) -> Result<bool> {
        Ok(self.stat(file).await?.is_some())
    }

    /// The first `len` bytes of a file (fewer when it is shorter); None when it does not exist.
    pub async fn read_prefix(&self, file: &Location, len: usize) -> Result<Option<Vec<u8>>> {
        match file {
            Location::Local(path) => {
                let path = path.clone();
                blocking(move || {
                    use std::io::Read;
                    let f = match std::fs::File::open(&path) {
                        Ok(f) => f,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                        Err(e) => return Err(Error::io("reading", &path)(e)),
                    };
                    let mut head = Vec::with_capacity(len);
                    f.take(len as u64).read_to_end(&mut head).map_err(Error::io("reading", &path))?;
                    Ok(Some(head))
                })
                .await
            }
            Location::Remote { url, .. } => {
                let (store, path) = self.remote(file, url)?;
                // The size first: a range past the end is an error on some stores.
                let size = match store.head(&path).await {
                    Ok(m) => m.size,
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(remote_err("reading", url)(e)),
                };
                let end = size.min(len as u64);
                if end == 0 {
                    return Ok(Some(Vec::new()));
                }
                match store.get_range(&path, 0..end).await {
                    Ok(b) => Ok(Some(b.to_vec())),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(remote_err("reading", url)(e)),
                }
            }
        }
    }

    /// Names of the subdirectories of `dir` (object stores: the common prefixes one level
    /// down), sorted. A missing directory has none.
    pub async fn list_dirs(&self, dir: &Location) -> Result<Vec<String>> {
        let mut names = match dir {
            Location::Local(path) => {
                let path = path.clone();
                blocking(move || {
                    let entries = match std::fs::read_dir(&path) {
                        Ok(e) => e,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                        Err(e) => return Err(Error::io("listing", &path)(e)),
                    };
                    let mut out = Vec::new();
                    for entry in entries {
                        let entry = entry.map_err(Error::io("listing", &path))?;
                        if entry.file_type().map_err(Error::io("listing", &path))?.is_dir()
                            && let Some(name) = entry.file_name().to_str()
                        {
                            out.push(name.to_string());
                        }
                    }
                    Ok(out)
                })
                .await?
            }
            Location::Remote { url, .. } => {
                let (store, prefix) = self.remote(dir, url)?;
                let prefix = (!prefix.as_ref().is_empty()).then_some(prefix);
                let listing = store.list_with_delimiter(prefix.as_ref()).await.map_err(remote_err("listing", url))?;
                listing.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect()
            }
        };
        names.sort();
        Ok(names)
    }

    /// The object store client and object path of a remote location (for callers that need
    /// the raw API, such as tests that check what is left in a bucket).
    pub fn object_store(&self, location: &Location) -> Result<(Arc<dyn ObjectStore>, ObjectPath)> {
        match location {
            Location::Remote { url, .. } => self.remote(location, url),
            Location::Local(_) => Err(location.object().err().unwrap_or_else(|| Error::Location { action: "reach", location: location.uri(), why: "it is local".into() })),
        }
    }

    fn remote(&self, location: &Location, url: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath)> {
        let obj = location.object()?;
        self.store_for(&obj, url)
    }

    fn store_for(&self, obj: &ObjectLocation, url: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath)> {
        let path = ObjectPath::from_url_path(&obj.key).map_err(|e| Error::Location { action: "reach", location: url.into(), why: e.to_string() })?;
        let key = (obj.provider, obj.bucket.clone(), obj.host.clone());
        let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = stores.get(&key) {
            return Ok((Arc::clone(s), path));
        }
        let store = self.build(obj).map_err(|e| Error::Location { action: "reach", location: url.into(), why: e.to_string() })?;
        stores.insert(key, Arc::clone(&store));
        Ok((store, path))
    }

    fn build(&self, obj: &ObjectLocation) -> object_store::Result<Arc<dyn ObjectStore>> {
        let c = &self.config;
        let retry = RetryConfig { backoff: BackoffConfig::default(), max_retries: c.max_retries, retry_timeout: c.retry_timeout };
        let mut client = ClientOptions::new().with_timeout(c.request_timeout).with_connect_timeout(Duration::from_secs(10));
        if c.allow_http {
            client = client.with_allow_http(true);
        }
        let opts = |prefix: &'static str| -> Vec<(String, String)> {
            c.options.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).filter(|(k, _)| k.starts_with(prefix)).collect()
        };
        Ok(match obj.provider {
            Provider::S3 => {
                let mut b = if c.from_env { AmazonS3Builder::from_env() } else { AmazonS3Builder::new() };
                for (k, v) in opts("aws_") {
                    b = b.with_config(k.parse()?, v);
                }
                b = b.with_bucket_name(&obj.bucket).with_retry(retry);
                if let Some(e) = &c.endpoint {
                    b = b.with_endpoint(e);
                }
                if c.allow_http {
                    b = b.with_allow_http(true);
                }
                Arc::new(b.with_client_options(client).build()?)
            }
            Provider::Gcs => {
                let mut b = if c.from_env { GoogleCloudStorageBuilder::from_env() } else { GoogleCloudStorageBuilder::new() };
                for (k, v) in opts("google_") {
                    b = b.with_config(k.parse()?, v);
                }
                Arc::new(b.with_bucket_name(&obj.bucket).with_retry(retry).with_client_options(client).build()?)
            }
            Provider::Azure => {
                let mut b = if c.from_env { MicrosoftAzureBuilder::from_env() } else { MicrosoftAzureBuilder::new() };
                for (k, v) in opts("azure_") {
                    b = b.with_config(k.parse()?, v);
                }
                b = match &obj.host {
                    // `container@acct.dfs.core.windows.net` (and wasb's `.blob.`): object_store
                    // reads the account (and fabric endpoints) from the abfss form.
                    Some(host) => b.with_url(format!("abfss://{}@{host}/", obj.bucket)),
                    None => b.with_container_name(&obj.bucket),
                };
                if let Some(e) = &c.endpoint {
                    b = b.with_endpoint(e.clone());
                }
                if c.allow_http {
                    b = b.with_allow_http(true);
                }
                Arc::new(b.with_retry(retry).with_client_options(client).build()?)
            }
        })
    }
}

/// Deletes a local savepoint or checkpoint directory (see [`SnapshotFs::delete_snapshot_dir`]).
pub fn delete_local_snapshot_dir(dir: &Path) -> Result<Deleted> {
    let location = format!("file://{}", dir.display());
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Deleted::default()),
        Err(e) => return Err(Error::io("reading", dir)(e)),
    };
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let looks_like_one = dir.join("_metadata").is_file() || name.starts_with("savepoint-") || name.starts_with("chk-");
    if !meta.is_dir() || !looks_like_one {
        return Err(refuse_delete(&location, "it is not a savepoint or checkpoint directory"));
    }
    let mut counted = Deleted::default();
    count_files(dir, &mut counted).map_err(Error::io("reading", dir))?;
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(counted),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(counted),
        Err(e) => Err(Error::io("deleting", dir)(e)),
    }
}

fn count_files(dir: &Path, into: &mut Deleted) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.path().symlink_metadata()?;
        if meta.is_dir() {
            count_files(&entry.path(), into)?;
        } else {
            into.objects += 1;
            into.bytes += meta.len();
        }
    }
    Ok(())
}

fn refuse_delete(location: &str, why: &str) -> Error {
    Error::Location { action: "delete", location: location.into(), why: why.into() }
}

/// Object store errors: those a person must fix (credentials, permissions, an unsupported
/// operation or configuration) are `Location` errors; the rest (network, server) are retryable
/// I/O errors.
fn remote_err(action: &'static str, url: &str) -> impl FnOnce(object_store::Error) -> Error {
    let url = url.to_string();
    move |e| match e {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. }
        | object_store::Error::NotSupported { .. }
        | object_store::Error::NotImplemented { .. }
        | object_store::Error::UnknownConfigurationKey { .. }
        | object_store::Error::InvalidPath { .. } => Error::Location { action: "reach", location: url, why: format!("{action}: {e}") },
        other => Error::Io { action, path: PathBuf::from(url), source: std::io::Error::other(other) },
    }
}

fn epoch_ms(t: std::time::SystemTime) -> Option<i64> {
    t.duration_since(std::time::UNIX_EPOCH).ok().and_then(|d| i64::try_from(d.as_millis()).ok())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(Error::Io { action: "running", path: PathBuf::from("a blocking file-system task"), source: std::io::Error::other(e) }),
    }
}

#[cfg(test)]
mod tests;
