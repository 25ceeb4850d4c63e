//! Transport behaviour against a tiny local TCP listener on 127.0.0.1:0 started by each test:
//! per-call timeout (a peer that accepts and never answers), connection refused, retries with
//! backoff for GETs on 503, no retries for writes, auth headers, and the savepoint wait loop's
//! deadline and failure handling (served with bodies recorded from a real Flink).
//!
//! This is not a mock of Flink: it only exercises the client's own timing and retry logic.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use url::Url;

use crate::fixtures;
use crate::*;

/// A request as the listener saw it: the request line and headers.
type Seen = Arc<Mutex<Vec<String>>>;

/// Starts a listener answering each request with `respond(n, head)` (n counts from 0) as
/// `(status, body)`; `None` keeps the connection open without answering.
async fn serve<F>(respond: F) -> (Url, Arc<AtomicUsize>, Seen)
where
    F: Fn(usize, &str) -> Option<(u16, String)> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let seen: Seen = Arc::default();
    let respond = Arc::new(respond);
    let (c, s) = (count.clone(), seen.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (c, s, respond) = (c.clone(), s.clone(), respond.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let n = c.fetch_add(1, Ordering::SeqCst);
                s.lock().await.push(head.clone());
                match respond(n, &head) {
                    Some((status, body)) => {
                        let resp = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = sock.write_all(resp.as_bytes()).await;
                        let _ = sock.shutdown().await;
                    }
                    None => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                }
            });
        }
    });
    let url = Url::parse(&format!("http://{addr}/")).expect("url");
    (url, count, seen)
}

fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        multiplier: 2.0,
    }
}

fn job() -> JobId {
    JobId::from_flink("46cad4895dbd708852ee30bbe397b006")
}

#[tokio::test]
async fn silent_peer_hits_the_per_call_timeout() {
    let (url, count, _) = serve(|_, _| None).await;
    let c = FlinkClient::builder(url.clone())
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let t0 = Instant::now();
    let e = c.overview().await.expect_err("must time out");
    let took = t0.elapsed();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert!(e.to_string().contains(url.as_str()), "{e}");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn silent_peer_is_retried_for_gets() {
    let (url, count, _) = serve(|_, _| None).await;
    let c = FlinkClient::builder(url)
        .timeout(Duration::from_millis(150))
        .retry(fast_retry(2))
        .build()
        .expect("client");
    let e = c.jobs_overview().await.expect_err("must time out");
    assert_eq!(e.kind(), "unreachable");
    assert_eq!(count.load(Ordering::SeqCst), 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn connection_refused_names_url_and_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let url = Url::parse(&format!("http://{addr}/")).expect("url");
    let c = FlinkClient::builder(url)
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let e = c.overview().await.expect_err("refused");
    let msg = e.to_string();
    assert!(msg.contains(&format!("http://{addr}/overview")), "{msg}");
    assert!(
        msg.to_lowercase().contains("refused") || msg.contains("connect"),
        "{msg}"
    );
}

#[tokio::test]
async fn get_retries_503_then_succeeds() {
    let body = fixtures::load("2.3.0", "overview");
    let (url, count, _) = serve(move |n, _| {
        if n < 2 {
            Some((503, String::new()))
        } else {
            Some((200, body.clone()))
        }
    })
    .await;
    let c = FlinkClient::builder(url)
        .retry(fast_retry(3))
        .build()
        .expect("client");
    let t0 = Instant::now();
    let o = c.overview().await.expect("third attempt succeeds");
    assert_eq!(o.flink_version, "2.3.0");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // Two backoffs of at least half their nominal 20 ms and 40 ms.
    assert!(
        t0.elapsed() >= Duration::from_millis(30),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn get_gives_up_after_max_retries() {
    let (url, count, _) = serve(|_, _| {
        Some((
            503,
            r#"{"errors":["Service temporarily unavailable"]}"#.into(),
        ))
    })
    .await;
    let c = FlinkClient::builder(url)
        .retry(fast_retry(2))
        .build()
        .expect("client");
    let e = c.overview().await.expect_err("503");
    assert_eq!(e.status(), Some(503));
    assert_eq!(
        e.flink_errors(),
        ["Service temporarily unavailable".to_owned()]
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn writes_and_non_retryable_statuses_are_not_retried() {
    let (url, count, _) = serve(|_, _| Some((503, String::new()))).await;
    let c = FlinkClient::builder(url)
        .retry(fast_retry(3))
        .build()
        .expect("client");
    c.cancel(&job()).await.expect_err("503");
    assert_eq!(count.load(Ordering::SeqCst), 1, "PATCH is never retried");

    let body = fixtures::load("2.3.0", "error_job_not_found");
    let (url, count, _) = serve(move |_, _| Some((404, body.clone()))).await;
    let c = FlinkClient::builder(url)
        .retry(fast_retry(3))
        .build()
        .expect("client");
    let e = c.job(&job()).await.expect_err("404");
    assert_eq!(count.load(Ordering::SeqCst), 1, "404 is not retryable");
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("job 46cad4895dbd708852ee30bbe397b006 not found"),
        "{e}"
    );
}

#[tokio::test]
async fn auth_header_is_sent() {
    let body = fixtures::load("2.3.0", "overview");
    let (url, _, seen) = serve(move |_, _| Some((200, body.clone()))).await;
    let c = FlinkClient::builder(url)
        .auth(Auth::Bearer("t0k3n".into()))
        .build()
        .expect("client");
    c.overview().await.expect("ok");
    let heads = seen.lock().await;
    let head = heads.first().expect("one request").to_lowercase();
    assert!(head.contains("authorization: bearer t0k3n"), "{head}");
    assert!(head.starts_with("get /overview "), "{head}");
}

#[tokio::test]
async fn decode_error_reports_url_and_path() {
    // A recorded body served for the wrong endpoint: `/overview` answered with job details.
    let body = fixtures::load("2.3.0", "job_running");
    let (url, _, _) = serve(move |_, _| Some((200, body.clone()))).await;
    let c = FlinkClient::new(url).expect("client");
    let e = c.taskmanagers().await.expect_err("wrong shape");
    match &e {
        Error::Decode { url, path, .. } => {
            assert!(url.ends_with("/taskmanagers"), "{url}");
            assert_eq!(path, ".", "missing top-level field is reported at the root");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn savepoint_waits_until_completed() {
    let trigger = fixtures::load("2.3.0", "savepoint_trigger");
    let done = fixtures::load("2.3.0", "savepoint_status_completed");
    let (url, count, seen) = serve(move |n, head| {
        if head.starts_with("POST ") {
            Some((202, trigger.clone()))
        } else if n < 3 {
            Some((
                200,
                r#"{"status":{"id":"IN_PROGRESS"},"operation":null}"#.into(),
            ))
        } else {
            Some((200, done.clone()))
        }
    })
    .await;
    let c = FlinkClient::new(url).expect("client");
    let p = c
        .savepoint(&job(), Some("file:///sp"), Duration::from_secs(10))
        .await
        .expect("completes");
    assert!(p.as_str().contains("savepoint-"), "{p}");
    assert_eq!(count.load(Ordering::SeqCst), 4);
    let heads = seen.lock().await;
    assert!(
        heads[0].starts_with("POST /jobs/46cad4895dbd708852ee30bbe397b006/savepoints "),
        "{}",
        heads[0]
    );
}

#[tokio::test]
async fn savepoint_failure_carries_flink_root_cause() {
    let trigger = fixtures::load("2.3.0", "stop_trigger");
    let failed = fixtures::load("2.3.0", "savepoint_status_failed");
    let (url, _, _) = serve(move |_, head| {
        if head.starts_with("POST ") {
            Some((202, trigger.clone()))
        } else {
            Some((200, failed.clone()))
        }
    })
    .await;
    let c = FlinkClient::new(url).expect("client");
    let e = c
        .stop_with_savepoint(&job(), None, true, Duration::from_secs(10))
        .await
        .expect_err("fails");
    match &e {
        Error::OperationFailed {
            what,
            cause,
            stack_trace,
        } => {
            assert!(what.starts_with("stop-with-savepoint of job"), "{what}");
            assert!(cause.contains("flinkops-not-writable"), "{cause}");
            assert!(stack_trace.as_deref().is_some_and(|s| s.contains("\tat ")));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn savepoint_wait_respects_the_deadline() {
    let (url, _, _) = serve(|_, head| {
        if head.starts_with("POST ") {
            Some((
                202,
                r#"{"request-id":"54694b3c790f27a5b14741dab2b2c578"}"#.into(),
            ))
        } else {
            Some((200, r#"{"status":{"id":"IN_PROGRESS"}}"#.into()))
        }
    })
    .await;
    let c = FlinkClient::new(url).expect("client");
    let t0 = Instant::now();
    let e = c
        .savepoint(&job(), None, Duration::from_millis(600))
        .await
        .expect_err("times out");
    let took = t0.elapsed();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(
        e.to_string()
            .contains("savepoint of job 46cad4895dbd708852ee30bbe397b006"),
        "{e}"
    );
}

#[tokio::test]
async fn savepoint_deadline_also_bounds_a_hanging_status_call() {
    let (url, _, _) = serve(|_, head| {
        if head.starts_with("POST ") {
            Some((
                202,
                r#"{"request-id":"54694b3c790f27a5b14741dab2b2c578"}"#.into(),
            ))
        } else {
            None
        }
    })
    .await;
    let c = FlinkClient::new(url).expect("client");
    let t0 = Instant::now();
    let e = c
        .savepoint(&job(), None, Duration::from_millis(400))
        .await
        .expect_err("times out");
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn wait_until_running_returns_running_details() {
    let running = fixtures::load("2.3.0", "job_running");
    let (url, _, _) = serve(move |_, _| Some((200, running.clone()))).await;
    let c = FlinkClient::new(url).expect("client");
    let d = c
        .wait_until_running(&job(), Duration::from_secs(5))
        .await
        .expect("running");
    assert_eq!(d.state, JobState::Running);
}

#[tokio::test]
async fn wait_until_running_fails_fast_on_a_terminal_job_with_its_root_cause() {
    let cancelled = fixtures::load("2.3.0", "job_cancelled");
    let exceptions = fixtures::load("2.3.0", "job_exceptions_failing");
    let (url, count, _) = serve(move |_, head| {
        if head.contains("/exceptions ") {
            Some((200, exceptions.clone()))
        } else {
            Some((200, cancelled.clone()))
        }
    })
    .await;
    let c = FlinkClient::new(url).expect("client");
    let e = c
        .wait_until_running(&job(), Duration::from_secs(30))
        .await
        .expect_err("terminal");
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "one job poll, one exceptions call"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("the job is CANCELED: java.lang.NumberFormatException"),
        "{msg}"
    );
}

#[tokio::test]
async fn stop_of_unknown_job_is_not_found() {
    let trigger = fixtures::load("2.3.0", "stop_trigger_unknown_job");
    let status = fixtures::load("2.3.0", "stop_status_unknown_job");
    let (url, _, _) = serve(move |_, head| {
        if head.starts_with("POST ") {
            Some((202, trigger.clone()))
        } else {
            Some((200, status.clone()))
        }
    })
    .await;
    let c = FlinkClient::new(url).expect("client");
    let e = c
        .stop_with_savepoint(&job(), None, false, Duration::from_secs(10))
        .await
        .expect_err("unknown job");
    assert!(e.is_not_found(), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("job 46cad4895dbd708852ee30bbe397b006 not found"),
        "{e}"
    );
    assert!(
        e.root_cause()
            .is_some_and(|c| c.contains("FlinkJobNotFoundException")),
        "{:?}",
        e.root_cause()
    );
}
