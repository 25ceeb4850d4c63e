//! [`FlinkClient`]: one `reqwest::Client`, a base URL, per-call timeouts, retries with
//! exponential backoff and jitter for idempotent GETs, optional auth — and the request plumbing
//! every endpoint module uses (URL building, error bodies, decoding with JSON paths).
//!
//! Endpoint methods live beside their types in the other modules (`cluster`, `jobs`, …).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;

/// Default per-call timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout for jar upload and jar run (running a jar executes the job's `main`).
pub const DEFAULT_SUBMIT_TIMEOUT: Duration = Duration::from_secs(120);

/// Credentials sent with every request (for a Flink behind an authenticating proxy).
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// HTTP basic auth.
    Basic {
        /// User name.
        user: String,
        /// Password, if any.
        password: Option<String>,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::Basic { user, .. } => {
                write!(f, "Basic {{ user: {user:?}, password: <redacted> }}")
            }
        }
    }
}

/// Builder for [`FlinkClient`]; start with [`FlinkClient::builder`].
#[derive(Debug)]
pub struct FlinkClientBuilder {
    base: Url,
    timeout: Duration,
    submit_timeout: Duration,
    connect_timeout: Option<Duration>,
    retry: RetryPolicy,
    auth: Option<Auth>,
    http: Option<reqwest::Client>,
}

impl FlinkClientBuilder {
    /// Timeout of one HTTP call (default 10 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Timeout of jar upload and jar run calls (default 120 s).
    pub fn submit_timeout(mut self, t: Duration) -> Self {
        self.submit_timeout = t;
        self
    }

    /// TCP connect timeout (default: the per-call timeout). Ignored with [`Self::http_client`].
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = Some(t);
        self
    }

    /// Retry policy for idempotent GETs (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, r: RetryPolicy) -> Self {
        self.retry = r;
        self
    }

    /// Credentials sent with every request.
    pub fn auth(mut self, a: Auth) -> Self {
        self.auth = Some(a);
        self
    }

    /// Use this `reqwest::Client` (shares its connection pool) instead of building one.
    pub fn http_client(mut self, c: reqwest::Client) -> Self {
        self.http = Some(c);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<FlinkClient> {
        if self.base.cannot_be_a_base() {
            return Err(Error::InvalidBaseUrl {
                url: self.base.to_string(),
                reason: "it cannot have path segments".into(),
            });
        }
        if !matches!(self.base.scheme(), "http" | "https") {
            return Err(Error::InvalidBaseUrl {
                url: self.base.to_string(),
                reason: format!("scheme `{}` is not http or https", self.base.scheme()),
            });
        }
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout.unwrap_or(self.timeout))
                .user_agent(concat!("flinkops-rest/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(Error::Client)?,
        };
        Ok(FlinkClient {
            inner: Arc::new(Inner {
                http,
                base: self.base,
                timeout: self.timeout,
                submit_timeout: self.submit_timeout,
                retry: self.retry,
                auth: self.auth,
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
    submit_timeout: Duration,
    retry: RetryPolicy,
    auth: Option<Auth>,
}

/// Typed async client of one Flink cluster's REST API. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct FlinkClient {
    inner: Arc<Inner>,
}

/// Flink's error body: `{"errors": ["…"]}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) errors: Vec<String>,
}

/// Which timeout applies to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    Normal,
    Submit,
}

impl FlinkClient {
    /// A client with default options for the REST endpoint at `base`
    /// (e.g. `http://127.0.0.1:8081/`; a path prefix such as `https://proxy/flink/` is kept).
    pub fn new(base: Url) -> Result<Self> {
        Self::builder(base).build()
    }

    /// A builder for a client with non-default options.
    pub fn builder(base: Url) -> FlinkClientBuilder {
        FlinkClientBuilder {
            base,
            timeout: DEFAULT_TIMEOUT,
            submit_timeout: DEFAULT_SUBMIT_TIMEOUT,
            connect_timeout: None,
            retry: RetryPolicy::default(),
            auth: None,
            http: None,
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The retry policy for GETs.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The URL of `segments` below the base (each segment percent-encoded).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut u = self.inner.base.clone();
        u.set_query(None);
        u.set_fragment(None);
        if let Ok(mut p) = u.path_segments_mut() {
            p.pop_if_empty();
            p.extend(segments);
        }
        u
    }

    /// Like [`Self::url`] with a query string of `key=v1,v2` pairs (values percent-encoded,
    /// commas kept as list separators, the way Flink's `get=`/`agg=` parameters expect them).
    pub(crate) fn url_with_query(&self, segments: &[&str], query: &[(&str, &[&str])]) -> Url {
        let mut u = self.url(segments);
        let q: Vec<String> = query
            .iter()
            .filter(|(_, vals)| !vals.is_empty())
            .map(|(k, vals)| {
                let vals: Vec<String> = vals
                    .iter()
                    .map(|v| url::form_urlencoded::byte_serialize(v.as_bytes()).collect())
                    .collect();
                format!("{k}={}", vals.join(","))
            })
            .collect();
        if !q.is_empty() {
            u.set_query(Some(&q.join("&")));
        }
        u
    }

    fn request(&self, method: Method, url: &Url, kind: CallKind) -> RequestBuilder {
        let timeout = match kind {
            CallKind::Normal => self.inner.timeout,
            CallKind::Submit => self.inner.submit_timeout,
        };
        let mut rb = self
            .inner
            .http
            .request(method, url.clone())
            .timeout(timeout);
        match &self.inner.auth {
            Some(Auth::Bearer(t)) => rb = rb.bearer_auth(t),
            Some(Auth::Basic { user, password }) => rb = rb.basic_auth(user, password.as_deref()),
            None => {}
        }
        rb
    }

    /// Sends once; returns the body of a success answer, or the matching error.
    async fn execute(&self, rb: RequestBuilder, url: &Url) -> Result<Vec<u8>> {
        let unreachable = |source| Error::Unreachable {
            url: url.to_string(),
            source,
        };
        let resp = rb.send().await.map_err(unreachable)?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(unreachable)?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        Err(http_error(url, status, &body))
    }

    /// GET and decode, retried per the policy on retryable errors.
    pub(crate) async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T> {
        let body = self.get_bytes(&url).await?;
        decode(&url, &body)
    }

    /// GET returning the raw body, retried per the policy on retryable errors.
    pub(crate) async fn get_bytes(&self, url: &Url) -> Result<Vec<u8>> {
        let policy = &self.inner.retry;
        let mut attempt: u32 = 0;
        loop {
            let rb = self.request(Method::GET, url, CallKind::Normal);
            match self.execute(rb, url).await {
                Ok(b) => return Ok(b),
                Err(e) if e.is_retryable() && attempt < policy.max_retries => {
                    let wait = policy.backoff(attempt);
                    tracing::debug!(url = %url, attempt, ?wait, error = %e, "retrying GET");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A non-idempotent call with an optional JSON body; never retried.
    pub(crate) async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        kind: CallKind,
    ) -> Result<T> {
        let mut rb = self.request(method, &url, kind);
        if let Some(b) = body {
            let bytes = serde_json::to_vec(b).map_err(|source| Error::Encode {
                url: url.to_string(),
                source,
            })?;
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let out = self.execute(rb, &url).await?;
        decode(&url, &out)
    }

    /// A multipart upload; never retried.
    pub(crate) async fn send_multipart<T: DeserializeOwned>(
        &self,
        url: Url,
        form: reqwest::multipart::Form,
    ) -> Result<T> {
        let rb = self
            .request(Method::POST, &url, CallKind::Submit)
            .multipart(form);
        let out = self.execute(rb, &url).await?;
        decode(&url, &out)
    }
}

/// Builds the error for a non-success answer from Flink's `{"errors": […]}` body.
fn http_error(url: &Url, status: StatusCode, body: &[u8]) -> Error {
    let errors = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) if !b.errors.is_empty() => b.errors,
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                vec![]
            } else {
                let max = 4096;
                let mut end = text.len().min(max);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                vec![text[..end].to_owned()]
            }
        }
    };
    Error::Http {
        url: url.to_string(),
        status: status.as_u16(),
        errors,
    }
}

/// Decodes a JSON body, naming the JSON path of the first undecodable value. An empty body
/// decodes as `{}` (Flink answers some calls with no body).
pub(crate) fn decode<T: DeserializeOwned>(url: &Url, body: &[u8]) -> Result<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::Decode {
            url: url.to_string(),
            path,
            source: e.into_inner(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> FlinkClient {
        FlinkClient::new(Url::parse(base).expect("url")).expect("client")
    }

    #[test]
    fn urls_keep_prefix_and_encode_segments() {
        let c = client("http://h:8081/flink/");
        assert_eq!(
            c.url(&["jobs", "overview"]).as_str(),
            "http://h:8081/flink/jobs/overview"
        );
        let c = client("http://h:8081");
        assert_eq!(
            c.url(&["jars", "a b/c.jar", "run"]).as_str(),
            "http://h:8081/jars/a%20b%2Fc.jar/run"
        );
        let u = c.url_with_query(
            &["jobmanager", "metrics"],
            &[("get", &["a.b", "0.x y"]), ("agg", &[])],
        );
        assert_eq!(u.as_str(), "http://h:8081/jobmanager/metrics?get=a.b,0.x+y");
    }

    #[test]
    fn rejects_unusable_base_urls() {
        let e = FlinkClient::new(Url::parse("mailto:a@b").expect("url")).expect_err("bad");
        assert_eq!(e.kind(), "invalid_base_url");
        let e = FlinkClient::new(Url::parse("ftp://h/").expect("url")).expect_err("bad");
        assert!(e.to_string().contains("ftp"), "{e}");
    }

    #[test]
    fn auth_debug_redacts() {
        let a = Auth::Basic {
            user: "u".into(),
            password: Some("secret".into()),
        };
        assert!(!format!("{a:?}").contains("secret"));
        assert!(!format!("{:?}", Auth::Bearer("tok".into())).contains("tok"));
    }

    #[test]
    fn decode_error_names_json_path() {
        #[derive(Debug, Deserialize)]
        struct V {
            #[allow(dead_code)]
            parallelism: u32,
        }
        #[derive(Debug, Deserialize)]
        struct J {
            #[allow(dead_code)]
            vertices: Vec<V>,
        }
        let url = Url::parse("http://h/jobs/x").expect("url");
        let e = decode::<J>(
            &url,
            br#"{"vertices":[{"parallelism":1},{"parallelism":"two"}]}"#,
        )
        .expect_err("bad");
        match &e {
            Error::Decode { path, url, .. } => {
                assert_eq!(path, "vertices[1].parallelism");
                assert_eq!(url, "http://h/jobs/x");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(e.to_string().contains("vertices[1].parallelism"), "{e}");
    }

    #[test]
    fn http_error_reads_flink_errors_or_raw_body() {
        let url = Url::parse("http://h/x").expect("url");
        let e = http_error(
            &url,
            StatusCode::NOT_FOUND,
            br#"{"errors":["Not found: /x"]}"#,
        );
        assert_eq!(e.flink_errors(), ["Not found: /x".to_owned()]);
        let e = http_error(&url, StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(e.flink_errors(), ["<html>bad gateway</html>".to_owned()]);
        assert!(e.is_retryable());
        let e = http_error(&url, StatusCode::SERVICE_UNAVAILABLE, b"");
        assert!(e.flink_errors().is_empty());
    }
}
