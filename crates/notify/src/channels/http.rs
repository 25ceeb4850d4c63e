//! JSON over HTTP with one retry, and error texts without URLs.

use std::future::Future;
use std::time::Duration;

use reqwest::StatusCode;
use url::Url;

use crate::secret::Secret;

/// One failed attempt.
#[derive(Debug)]
pub(super) struct AttemptError {
    pub(super) message: String,
    /// A connection error, a timeout, HTTP 5xx or 429: worth one more try.
    pub(super) retryable: bool,
}

/// `error sending request: client error (Connect): tcp connect error: Connection refused`:
/// the error and its sources, without the URL (reqwest puts the URL in its own text; a Slack
/// webhook URL is a secret).
pub(super) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        src = s.source();
    }
    out
}

/// Runs `attempt` once, and once more after `delay` if it failed in a retryable way. Returns the
/// result and the number of attempts.
pub(super) async fn with_retry<F, Fut>(delay: Duration, mut attempt: F) -> (Result<(), String>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), AttemptError>>,
{
    match attempt().await {
        Ok(()) => (Ok(()), 1),
        Err(e) if e.retryable => {
            tokio::time::sleep(delay).await;
            match attempt().await {
                Ok(()) => (Ok(()), 2),
                Err(e2) if e2.message == e.message => (Err(format!("{} (tried twice)", e2.message)), 2),
                Err(e2) => (Err(format!("{} (tried twice; first attempt: {})", e2.message, e.message)), 2),
            }
        }
        Err(e) => (Err(e.message), 1),
    }
}

/// POSTs `body` as JSON to `url`; any 2xx is success. `endpoint` names the peer in errors
/// (never the secret URL itself).
pub(super) async fn post_json(
    client: &reqwest::Client,
    url: &Url,
    body: &serde_json::Value,
    bearer: Option<&Secret>,
    endpoint: &str,
) -> Result<(), AttemptError> {
    let mut req = client.post(url.clone()).json(body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t.expose());
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            let retryable = e.is_connect() || e.is_timeout() || e.is_request();
            let what = if e.is_timeout() { "timed out" } else { "failed" };
            return Err(AttemptError {
                message: format!("sending to {endpoint} {what}: {}", error_chain(&e.without_url())),
                retryable,
            });
        }
    };
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let text = resp.text().await.unwrap_or_default();
    Err(AttemptError {
        message: format!("{endpoint} answered HTTP {}{}", status.as_u16(), body_excerpt(&text)),
        retryable: status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
    })
}

/// `: <first 300 characters of the body, whitespace collapsed>` (empty for an empty body).
fn body_excerpt(text: &str) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return String::new();
    }
    let mut cut: String = collapsed.chars().take(300).collect();
    if cut.len() < collapsed.len() {
        cut.push('…');
    }
    format!(": {cut}")
}

/// `https://host:port/path` without user info, query or fragment: how a non-secret URL is
/// named in errors.
pub(super) fn describe_url(u: &Url) -> String {
    let mut d = format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""));
    if let Some(p) = u.port() {
        d.push_str(&format!(":{p}"));
    }
    d.push_str(u.path());
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_and_url_descriptions() {
        assert_eq!(body_excerpt(""), "");
        assert_eq!(body_excerpt(" invalid_token \n"), ": invalid_token");
        assert_eq!(body_excerpt(&"x".repeat(400)).chars().count(), 2 + 300 + 1);
        let u = Url::parse("https://user:pw@example.com:8443/hook/a?token=abc#f").expect("url");
        assert_eq!(describe_url(&u), "https://example.com:8443/hook/a");
    }

    #[tokio::test]
    async fn retries_once_and_only_when_retryable() {
        let mut calls = 0;
        let (r, n) = with_retry(Duration::from_millis(1), || {
            calls += 1;
            let c = calls;
            async move { if c == 1 { Err(AttemptError { message: "HTTP 503".into(), retryable: true }) } else { Ok(()) } }
        })
        .await;
        assert_eq!((r, n), (Ok(()), 2));

        let (r, n) = with_retry(Duration::from_millis(1), || async {
            Err::<(), _>(AttemptError { message: "HTTP 400".into(), retryable: false })
        })
        .await;
        assert_eq!((r, n), (Err("HTTP 400".to_string()), 1));

        let (r, n) = with_retry(Duration::from_millis(1), || async {
            Err::<(), _>(AttemptError { message: "HTTP 502".into(), retryable: true })
        })
        .await;
        assert_eq!((r, n), (Err("HTTP 502 (tried twice)".to_string()), 2));
    }
}
