//! Channel tests against real peers: e-mail through a real SMTP server (aiosmtpd), alerts into
//! a real Alertmanager, and Slack, PagerDuty and the webhook against a local HTTP server that
//! records every request (those services cannot run here; the payloads asserted are the shapes
//! their public APIs document). Every process a test starts is killed by pid when it ends.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use flinkops_spec::types::{
    Alerting, AlertmanagerChannel, Channel, EmailChannel, JobAlerts, PagerDutyChannel, SecretRef, Severity, SlackChannel,
    WebhookChannel,
};
use serde_json::{Value, json};

use super::*;
use crate::health::NotificationStatus;

// ---------------------------------------------------------------------------------------------
// Fixtures

const STARTS_AT: i64 = 1_764_676_800_000; // 2025-12-02T12:00:00Z

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("alertname".to_string(), "FlinkJobNotRunning".to_string()),
        ("severity".to_string(), "critical".to_string()),
        ("job_name".to_string(), "orders_enrich".to_string()),
        ("flinkops_env".to_string(), "staging".to_string()),
    ])
}

fn notification(status: NotificationStatus) -> Notification {
    Notification {
        job: "orders-enrich".into(),
        rule: "FlinkJobNotRunning".into(),
        severity: Severity::Critical,
        status,
        repeat: false,
        summary: "Flink job orders-enrich is FAILED, not RUNNING".into(),
        description: "The job has no running attempt.".into(),
        runbook_url: "https://runbooks.example.com/FlinkJobNotRunning.md".into(),
        dedup_key: "flinkops/orders-enrich/FlinkJobNotRunning".into(),
        starts_at: STARTS_AT,
        ends_at: (status == NotificationStatus::Resolved).then_some(STARTS_AT + 90_000),
        labels: labels(),
    }
}

fn options() -> NotifierOptions {
    NotifierOptions {
        timeout: Duration::from_secs(3),
        retry_delay: Duration::from_millis(20),
        external_url: Some("http://127.0.0.1:7070".into()),
        ..NotifierOptions::default()
    }
}

fn notifier(channels: Vec<(&str, Channel)>, opts: NotifierOptions) -> Notifier {
    let alerting = Alerting { channels: channels.into_iter().map(|(n, c)| (n.to_string(), c)).collect(), runbook_base_url: None };
    Notifier::new(&alerting, &BTreeMap::new(), opts)
}

/// A secret in a file of `dir`.
fn file_secret(dir: &Path, name: &str, value: &str) -> SecretRef {
    let p = dir.join(name);
    std::fs::write(&p, format!("{value}\n")).expect("write secret");
    SecretRef { file: Some(p.display().to_string()), ..SecretRef::default() }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Waits until something accepts TCP connections on `port` (or panics after `timeout`).
fn wait_for_port(port: u16, timeout: Duration, child: &mut Child, what: &str) {
    let deadline = Instant::now() + timeout;
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before listening on 127.0.0.1:{port}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen on 127.0.0.1:{port} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A process this test started: killed (by its pid) and reaped when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// A local HTTP server that records requests and answers from a script.

#[derive(Debug, Clone)]
struct Recorded {
    path: String,
    headers: BTreeMap<String, String>,
    body: Value,
}

#[derive(Clone, Default)]
struct Script {
    /// Answers to give in order (status, body, delay); afterwards 200 `ok`.
    answers: Arc<Mutex<VecDeque<(u16, String, Duration)>>>,
    seen: Arc<Mutex<Vec<Recorded>>>,
}

struct Recorder {
    addr: SocketAddr,
    script: Script,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(State(s): State<Script>, uri: Uri, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let body = serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let headers = headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    s.seen.lock().expect("lock").push(Recorded { path: uri.path().to_string(), headers, body });
    let answer = s.answers.lock().expect("lock").pop_front();
    let (status, text, delay) = answer.unwrap_or((200, "ok".into(), Duration::ZERO));
    tokio::time::sleep(delay).await;
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), text)
}

impl Recorder {
    async fn start(answers: Vec<(u16, &str, Duration)>) -> Recorder {
        let script = Script {
            answers: Arc::new(Mutex::new(answers.into_iter().map(|(s, b, d)| (s, b.to_string(), d)).collect())),
            ..Script::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let app = axum::Router::new().fallback(record).with_state(script.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder { addr, script, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<Recorded> {
        self.script.seen.lock().expect("lock").clone()
    }
}

// ---------------------------------------------------------------------------------------------
// Slack, PagerDuty, webhook: payload shapes of the public APIs

#[tokio::test]
async fn slack_posts_an_incoming_webhook_message() {
    let srv = Recorder::start(vec![]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let hook = file_secret(dir.path(), "slack", &srv.url("/services/T000/B000/XXXXSECRET"));
    let n = notifier(
        vec![("team-slack", Channel { slack: Some(SlackChannel { webhook_url: hook, channel: "#flink-alerts".into() }), ..Channel::default() })],
        options(),
    );
    let r = n.deliver(&notification(NotificationStatus::Firing)).await;
    assert_eq!(r.len(), 1);
    assert!(r[0].ok && r[0].attempts == 1 && r[0].kind == ChannelKind::Slack, "{r:?}");

    let seen = srv.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.path, "/services/T000/B000/XXXXSECRET");
    assert_eq!(req.headers.get("content-type").map(String::as_str), Some("application/json"));
    let b = &req.body;
    assert_eq!(b["channel"], "#flink-alerts");
    assert_eq!(b["text"], ":red_circle: [FIRING] FlinkJobNotRunning (critical): Flink job orders-enrich is FAILED, not RUNNING");
    // Block Kit: two mrkdwn sections and a context block.
    let blocks = b["blocks"].as_array().expect("blocks");
    let types: Vec<&str> = blocks.iter().filter_map(|x| x["type"].as_str()).collect();
    assert_eq!(types, ["section", "section", "context"]);
    assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
    assert!(blocks[0]["text"]["text"].as_str().is_some_and(|t| t.contains("*[FIRING] FlinkJobNotRunning (critical)*")), "{b}");
    let ctx = blocks[2]["elements"][0]["text"].as_str().expect("context text");
    assert!(ctx.contains("job `orders-enrich`") && ctx.contains("<https://runbooks.example.com/FlinkJobNotRunning.md|Runbook>"), "{ctx}");
}

#[tokio::test]
async fn pagerduty_triggers_and_resolves_with_the_same_dedup_key() {
    let srv = Recorder::start(vec![
        (202, r#"{"status":"success","message":"Event processed","dedup_key":"flinkops/orders-enrich/FlinkJobNotRunning"}"#, Duration::ZERO),
        (202, r#"{"status":"success","message":"Event processed"}"#, Duration::ZERO),
    ])
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let key = file_secret(dir.path(), "pd", "R0UTINGKEY0123456789abcdef012345");
    let n = notifier(
        vec![("pager", Channel { pagerduty: Some(PagerDutyChannel { routing_key: key }), ..Channel::default() })],
        NotifierOptions { pagerduty_events_url: srv.url(""), ..options() },
    );
    let fire = n.deliver_to("pager", &notification(NotificationStatus::Firing)).await;
    let resolve = n.deliver_to("pager", &notification(NotificationStatus::Resolved)).await;
    assert!(fire.ok && resolve.ok, "{fire:?} {resolve:?}");

    let seen = srv.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| r.path == "/v2/enqueue"), "{seen:?}");
    let (t, r) = (&seen[0].body, &seen[1].body);
    assert_eq!(t["routing_key"], "R0UTINGKEY0123456789abcdef012345");
    assert_eq!(t["event_action"], "trigger");
    assert_eq!(t["dedup_key"], "flinkops/orders-enrich/FlinkJobNotRunning");
    let p = &t["payload"];
    assert_eq!(p["summary"], "Flink job orders-enrich is FAILED, not RUNNING");
    assert_eq!(p["source"], "flinkops");
    assert_eq!(p["severity"], "critical");
    assert_eq!(p["timestamp"], "2025-12-02T12:00:00.000Z");
    assert_eq!(p["component"], "orders-enrich");
    assert_eq!(p["group"], "staging");
    assert_eq!(p["class"], "FlinkJobNotRunning");
    assert_eq!(p["custom_details"]["runbook_url"], "https://runbooks.example.com/FlinkJobNotRunning.md");
    assert_eq!(t["links"], json!([{"href": "https://runbooks.example.com/FlinkJobNotRunning.md", "text": "Runbook"}]));
    // The resolve: only key, action and the same dedup key.
    assert_eq!(
        *r,
        json!({"routing_key": "R0UTINGKEY0123456789abcdef012345", "event_action": "resolve", "dedup_key": "flinkops/orders-enrich/FlinkJobNotRunning"})
    );
}

#[tokio::test]
async fn webhook_sends_alertmanagers_payload_with_the_bearer_token() {
    let srv = Recorder::start(vec![]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let token = file_secret(dir.path(), "token", "s3cr3t-t0ken");
    let n = notifier(
        vec![("hook", Channel { webhook: Some(WebhookChannel { url: srv.url("/alerts/flink"), bearer_token: Some(token) }), ..Channel::default() })],
        options(),
    );
    assert!(n.deliver_to("hook", &notification(NotificationStatus::Firing)).await.ok);
    assert!(n.deliver_to("hook", &notification(NotificationStatus::Resolved)).await.ok);
    let seen = srv.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path, "/alerts/flink");
    assert_eq!(seen[0].headers.get("authorization").map(String::as_str), Some("Bearer s3cr3t-t0ken"));
    let (f, r) = (&seen[0].body, &seen[1].body);
    assert_eq!(f["version"], "4");
    assert_eq!(f["status"], "firing");
    assert_eq!(f["receiver"], "hook");
    assert_eq!(f["externalURL"], "http://127.0.0.1:7070");
    assert_eq!(f["groupLabels"], json!({"alertname": "FlinkJobNotRunning", "job_name": "orders_enrich"}));
    assert_eq!(f["commonLabels"], json!(labels()));
    let a = &f["alerts"][0];
    assert_eq!(a["status"], "firing");
    assert_eq!(a["labels"], json!(labels()));
    assert_eq!(a["annotations"]["summary"], "Flink job orders-enrich is FAILED, not RUNNING");
    assert_eq!(a["startsAt"], "2025-12-02T12:00:00.000Z");
    assert_eq!(a["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(a["generatorURL"], "http://127.0.0.1:7070/api/v1/alerts");
    assert_eq!(a["fingerprint"], fingerprint(&labels()));
    assert_eq!(r["status"], "resolved");
    assert_eq!(r["alerts"][0]["endsAt"], "2025-12-02T12:01:30.000Z");
}

// ---------------------------------------------------------------------------------------------
// Retries and secrets

fn webhook_channel(url: String) -> Vec<(&'static str, Channel)> {
    vec![("hook", Channel { webhook: Some(WebhookChannel { url, bearer_token: None }), ..Channel::default() })]
}

#[tokio::test]
async fn retries_once_on_5xx_429_and_timeouts_but_not_on_4xx() {
    let n_fire = notification(NotificationStatus::Firing);
    for (answers, ok, attempts, error_has) in [
        (vec![(503, "busy", Duration::ZERO)], true, 2, None),
        (vec![(429, "slow down", Duration::ZERO)], true, 2, None),
        (vec![(400, "bad payload", Duration::ZERO)], false, 1, Some("answered HTTP 400: bad payload")),
        (vec![(500, "down", Duration::ZERO), (502, "still down", Duration::ZERO)], false, 2, Some("HTTP 502: still down (tried twice; first attempt:")),
        (vec![(200, "late", Duration::from_millis(1500))], true, 2, None),
        (vec![(200, "late", Duration::from_millis(1500)), (200, "late", Duration::from_millis(1500))], false, 2, Some("timed out")),
    ] {
        let srv = Recorder::start(answers.clone()).await;
        let n = notifier(webhook_channel(srv.url("/hook")), NotifierOptions { timeout: Duration::from_millis(500), ..options() });
        let r = n.deliver_to("hook", &n_fire).await;
        assert_eq!((r.ok, r.attempts), (ok, attempts), "{answers:?}: {r:?}");
        assert_eq!(srv.seen().len() as u32, attempts, "{answers:?}");
        match error_has {
            Some(t) => assert!(r.error.as_deref().is_some_and(|e| e.contains(t)), "{answers:?}: {r:?}"),
            None => assert_eq!(r.error, None),
        }
    }
    // Nothing listening: a connection error, retried once.
    let n = notifier(webhook_channel(format!("http://127.0.0.1:{}/hook", free_port())), options());
    let r = n.deliver_to("hook", &n_fire).await;
    assert!(!r.ok && r.attempts == 2, "{r:?}");
    let e = r.error.unwrap_or_default();
    assert!(e.starts_with("sending to the webhook http://127.0.0.1:") && e.contains("(tried twice)"), "{e}");
}

#[tokio::test]
async fn secrets_never_appear_in_errors_or_debug_output() {
    // A server that echoes what it got into its error answer, as some do.
    let srv = Recorder::start(vec![]).await;
    let echo = |s: &str| (500, s.to_string(), Duration::ZERO);
    let hook_secret = srv.url("/services/T000/B000/XXXXSECRET");
    let pd_key = "R0UTINGKEYsecretsecretsecret0001";
    let token = "webhook-token-secret-0002";
    srv.script.answers.lock().expect("lock").extend([
        echo("no such hook: /services/T000/B000/XXXXSECRET"),
        echo("no such hook: /services/T000/B000/XXXXSECRET"),
        echo(&format!("invalid routing key R0UTINGKEYsecretsecretsecret0001 in {{\"routing_key\":\"{pd_key}\"}}")),
        echo(&format!("invalid routing key {pd_key}")),
        echo(&format!("bad token Bearer {token}")),
        echo(&format!("bad token {token}")),
    ]);
    let dir = tempfile::tempdir().expect("temp dir");
    let channels = vec![
        ("a-slack", Channel { slack: Some(SlackChannel { webhook_url: file_secret(dir.path(), "s", &hook_secret), channel: "#x".into() }), ..Channel::default() }),
        ("b-pager", Channel { pagerduty: Some(PagerDutyChannel { routing_key: file_secret(dir.path(), "p", pd_key) }), ..Channel::default() }),
        (
            "c-hook",
            Channel {
                webhook: Some(WebhookChannel { url: srv.url("/hook"), bearer_token: Some(file_secret(dir.path(), "t", token)) }),
                ..Channel::default()
            },
        ),
    ];
    let n = notifier(channels, NotifierOptions { pagerduty_events_url: srv.url(""), ..options() });
    let f = notification(NotificationStatus::Firing);
    // One channel at a time, so the scripted answers go where they are meant to.
    let mut results = Vec::new();
    for c in ["a-slack", "b-pager", "c-hook"] {
        results.push(n.deliver_to(c, &f).await);
    }
    assert_eq!(srv.seen().len(), 6, "each channel tried twice");
    let secrets = ["XXXXSECRET", "/services/T000/B000", pd_key, token];
    for r in &results {
        assert!(!r.ok, "{r:?}");
        let e = r.error.clone().unwrap_or_default();
        assert!(e.contains("HTTP 500") && e.contains("***"), "the echo is there, redacted: {e}");
        let text = format!("{e} {r:?} {:?}", serde_json::to_string(r).unwrap_or_default());
        for s in secrets {
            assert!(!text.contains(s), "secret `{s}` leaked: {text}");
        }
    }
    // The Slack host is named, the secret path is not.
    assert!(results[0].error.as_deref().is_some_and(|e| e.contains("the Slack webhook at 127.0.0.1")), "{results:?}");

    // Unreachable: reqwest's own error text would carry the URL; ours must not.
    let dead = format!("http://127.0.0.1:{}/services/T111/B111/YYYYSECRET", free_port());
    let n2 = notifier(
        vec![("s", Channel { slack: Some(SlackChannel { webhook_url: file_secret(dir.path(), "s2", &dead), channel: "#x".into() }), ..Channel::default() })],
        options(),
    );
    let r = n2.deliver_to("s", &f).await;
    let text = format!("{r:?} {:?}", n2);
    assert!(!r.ok && !text.contains("YYYYSECRET") && !text.contains("T111"), "{text}");

    // Debug of the notifier and of its configuration problems: names and kinds, no values.
    let dbg = format!("{n:?} {:?}", n.problems());
    for s in secrets {
        assert!(!dbg.contains(s), "secret `{s}` in Debug: {dbg}");
    }
    assert!(dbg.contains("a-slack") && dbg.contains("pagerduty"), "{dbg}");
}

// ---------------------------------------------------------------------------------------------
// Routing and configuration problems

#[tokio::test]
async fn routes_by_severity_and_by_the_jobs_channels() {
    let srv = Recorder::start(vec![]).await;
    let ch = |path: &str, severities: Vec<Severity>| Channel {
        severities,
        webhook: Some(WebhookChannel { url: srv.url(path), bearer_token: None }),
        ..Channel::default()
    };
    let alerting = Alerting {
        channels: BTreeMap::from([
            ("pager".to_string(), ch("/pager", vec![Severity::Critical])),
            ("chat".to_string(), ch("/chat", vec![Severity::Critical, Severity::Warning])),
            ("all".to_string(), ch("/all", vec![])),
        ]),
        runbook_base_url: None,
    };
    let routes = BTreeMap::from([("quiet-job".to_string(), JobAlerts { channels: vec!["chat".into(), "ghost".into()] })]);
    let n = Notifier::new(&alerting, &routes, options());

    let mut warn = notification(NotificationStatus::Firing);
    warn.severity = Severity::Warning;
    assert_eq!(n.route(&warn), ["all", "chat"]);
    let crit = notification(NotificationStatus::Firing);
    assert_eq!(n.route(&crit), ["all", "chat", "pager"]);
    let mut quiet = crit.clone();
    quiet.job = "quiet-job".into();
    // A named channel that does not exist is still routed: its delivery fails visibly.
    assert_eq!(n.route(&quiet), ["chat", "ghost"]);

    let r = n.deliver(&warn).await;
    assert_eq!(r.iter().map(|d| (d.channel.as_str(), d.ok)).collect::<Vec<_>>(), [("all", true), ("chat", true)]);
    let mut paths: Vec<String> = srv.seen().into_iter().map(|r| r.path).collect();
    paths.sort();
    assert_eq!(paths, ["/all", "/chat"]);

    let r = n.deliver(&quiet).await;
    assert_eq!(r.len(), 2);
    assert!(r[0].ok && !r[1].ok, "{r:?}");
    assert!(r[1].error.as_deref().is_some_and(|e| e.contains("`ghost`") && e.contains("not a channel")), "{r:?}");
    let problems = n.problems();
    assert!(problems.iter().any(|p| p.channel == "ghost" && p.message.contains("job `quiet-job`")), "{problems:?}");
}

#[test]
fn configuration_problems_are_listed_once_per_cause() {
    let dir = tempfile::tempdir().expect("temp dir");
    let alerting = Alerting {
        channels: BTreeMap::from([
            ("none".to_string(), Channel::default()),
            (
                "two".to_string(),
                Channel {
                    webhook: Some(WebhookChannel { url: "https://example.com".into(), bearer_token: None }),
                    alertmanager: Some(AlertmanagerChannel { targets: vec!["am:9093".into()] }),
                    ..Channel::default()
                },
            ),
            (
                "mail".to_string(),
                Channel {
                    email: Some(EmailChannel {
                        to: vec!["oncall@example.com".into()],
                        from: "flinkops@example.com".into(),
                        smarthost: "smtp.example.com:587".into(),
                        auth_username: Some("alerts".into()),
                        auth_password: Some(SecretRef { file: Some(dir.path().join("missing").display().to_string()), ..SecretRef::default() }),
                        require_tls: true,
                    }),
                    ..Channel::default()
                },
            ),
            ("am".to_string(), Channel { alertmanager: Some(AlertmanagerChannel { targets: vec!["ftp://am".into()] }), ..Channel::default() }),
        ]),
        runbook_base_url: None,
    };
    let p = Notifier::new(&alerting, &BTreeMap::new(), options()).problems();
    let by = |c: &str| p.iter().filter(|x| x.channel == c).map(|x| x.message.clone()).collect::<Vec<_>>();
    assert!(by("none")[0].contains("sets no kind"), "{p:?}");
    assert!(by("two")[0].contains("several kinds (webhook, alertmanager)"), "{p:?}");
    assert!(by("mail")[0].starts_with("cannot read the secret file"), "{p:?}");
    assert!(by("am")[0].contains("does not use http or https"), "{p:?}");
    assert_eq!(p.len(), 4, "{p:?}");
}

// ---------------------------------------------------------------------------------------------
// E-mail through a real SMTP server (aiosmtpd)

/// Debian's python3 with aiosmtpd (`python3-aiosmtpd`); a pyenv `python3` earlier on PATH
/// usually lacks it.
fn aiosmtpd_python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py).args(["-c", "import aiosmtpd"]).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    })
}

/// `python3 -m aiosmtpd` on a free port, storing messages in a maildir.
fn start_smtp(maildir: &Path, extra: &[&str]) -> Option<(Proc, u16)> {
    let Some(py) = aiosmtpd_python() else {
        eprintln!("SKIPPED: python3 with aiosmtpd is not installed (Debian: apt-get install python3-aiosmtpd)");
        return None;
    };
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(py)
        .args(["-m", "aiosmtpd", "-n", "-l", &listen])
        .args(extra)
        .args(["-c", "aiosmtpd.handlers.Mailbox", &maildir.display().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    let mut p = Proc(child);
    wait_for_port(port, Duration::from_secs(20), &mut p.0, "aiosmtpd");
    Some((p, port))
}

fn email_channel(port: u16, require_tls: bool) -> Channel {
    Channel {
        email: Some(EmailChannel {
            to: vec!["oncall@example.com".into(), "Data Team <data@example.org>".into()],
            from: "flinkops <flinkops@example.com>".into(),
            smarthost: format!("127.0.0.1:{port}"),
            auth_username: None,
            auth_password: None,
            require_tls,
        }),
        ..Channel::default()
    }
}

/// The messages in a maildir's `new/`, oldest first.
fn maildir_messages(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("new")).into_iter().flatten().flatten().map(|e| e.path()).collect();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
}

/// A received message's unfolded headers (name lower-cased) and decoded body.
fn parse_message(raw: &str) -> (BTreeMap<String, String>, String) {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    let headers: BTreeMap<String, String> = unfolded
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = match headers.get("content-transfer-encoding").map(|s| s.to_ascii_lowercase()) {
        Some(e) if e == "quoted-printable" => decode_qp(body),
        _ => body.to_string(),
    };
    (headers, body)
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn email_arrives_at_a_real_smtp_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let maildir = dir.path().join("mail");
    let Some((_smtp, port)) = start_smtp(&maildir, &[]) else { return };
    // requireTls: false — this server offers no STARTTLS (opportunistic: plain text here).
    let n = notifier(vec![("mail", email_channel(port, false))], options());
    let r = n.deliver(&notification(NotificationStatus::Firing)).await;
    assert!(r.len() == 1 && r[0].ok && r[0].attempts == 1 && r[0].kind == ChannelKind::Email, "{r:?}");
    let r = n.deliver(&notification(NotificationStatus::Resolved)).await;
    assert!(r[0].ok, "{r:?}");

    let msgs = maildir_messages(&maildir);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    let (h, body) = parse_message(&msgs[0]);
    assert_eq!(h.get("subject").map(String::as_str), Some("[FIRING] FlinkJobNotRunning (critical): Flink job orders-enrich is FAILED, not RUNNING"));
    assert_eq!(h.get("from").map(String::as_str), Some("flinkops <flinkops@example.com>"));
    assert!(h.get("to").is_some_and(|t| t.contains("oncall@example.com") && t.contains("\"Data Team\" <data@example.org>")), "{h:?}");
    // The envelope, as the server saw it.
    assert_eq!(h.get("x-mailfrom").map(String::as_str), Some("flinkops@example.com"));
    assert_eq!(h.get("x-rcptto").map(String::as_str), Some("oncall@example.com, data@example.org"));
    assert!(h.get("content-type").is_some_and(|c| c.starts_with("text/plain")), "{h:?}");
    assert!(body.starts_with("Flink job orders-enrich is FAILED, not RUNNING\n\nThe job has no running attempt.\n"), "{body}");
    for line in [
        "Job:       orders-enrich",
        "Status:    firing",
        "Since:     2025-12-02 12:00:00 UTC",
        "Runbook:   https://runbooks.example.com/FlinkJobNotRunning.md",
        "  job_name=orders_enrich",
    ] {
        assert!(body.lines().any(|l| l == line), "missing `{line}` in:\n{body}");
    }
    let (h, body) = parse_message(&msgs[1]);
    assert!(h.get("subject").is_some_and(|s| s.starts_with("[RESOLVED] FlinkJobNotRunning")), "{h:?}");
    assert!(body.lines().any(|l| l == "Resolved:  2025-12-02 12:01:30 UTC"), "{body}");
}

#[tokio::test]
async fn email_requiring_starttls_is_not_sent_in_plain_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let maildir = dir.path().join("mail");
    let Some((_smtp, port)) = start_smtp(&maildir, &[]) else { return };
    let n = notifier(vec![("mail", email_channel(port, true))], options());
    let r = n.deliver_to("mail", &notification(NotificationStatus::Firing)).await;
    assert!(!r.ok, "{r:?}");
    let e = r.error.unwrap_or_default();
    assert!(e.starts_with(&format!("sending e-mail through the SMTP server 127.0.0.1:{port} failed")) && e.contains("STARTTLS"), "{e}");
    assert_eq!(r.attempts, 1, "a server without STARTTLS is not retried");
    assert!(maildir_messages(&maildir).is_empty());
}

#[tokio::test]
async fn email_over_starttls_checks_the_servers_certificate() {
    // A server that offers STARTTLS with a self-signed certificate: the system's trust store
    // does not know it, so nothing is sent (a MITM would look the same).
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: openssl cannot make a test certificate");
        return;
    }
    let maildir = dir.path().join("mail");
    let (c, k) = (cert.display().to_string(), key.display().to_string());
    let Some((_smtp, port)) = start_smtp(&maildir, &["--tlscert", &c, "--tlskey", &k]) else { return };
    let n = notifier(vec![("mail", email_channel(port, true))], options());
    let r = n.deliver_to("mail", &notification(NotificationStatus::Firing)).await;
    assert!(!r.ok, "{r:?}");
    let e = r.error.unwrap_or_default();
    assert!(e.to_ascii_lowercase().contains("certificate"), "{e}");
    assert!(maildir_messages(&maildir).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Alertmanager (real process)

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

struct RealAlertmanager {
    _proc: Proc,
    port: u16,
    _dir: tempfile::TempDir,
}

fn start_alertmanager() -> Option<RealAlertmanager> {
    let bin = [ALERTMANAGER, "/usr/bin/alertmanager"].into_iter().find(|b| Path::new(b).is_file());
    let Some(bin) = bin else {
        eprintln!("SKIPPED: Alertmanager is not installed (Debian: apt-get install prometheus-alertmanager)");
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = dir.path().join("alertmanager.yml");
    std::fs::write(&cfg, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n").expect("write config");
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // No cluster (gossip) listener.
        .arg("--cluster.listen-address=")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start alertmanager");
    let mut p = Proc(child);
    wait_for_port(port, Duration::from_secs(30), &mut p.0, "alertmanager");
    Some(RealAlertmanager { _proc: p, port, _dir: dir })
}

async fn am_alerts(client: &reqwest::Client, port: u16) -> Vec<Value> {
    let url = format!("http://127.0.0.1:{port}/api/v2/alerts");
    let v: Value = client.get(&url).send().await.expect("GET alerts").json().await.expect("alerts JSON");
    v.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn alertmanager_receives_the_alert_and_its_resolve() {
    let Some(am) = start_alertmanager() else { return };
    let client = reqwest::Client::new();
    // Ready once its API answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("http://127.0.0.1:{}/-/ready", am.port)).send().await.map(|r| r.status().is_success()).ok() != Some(true) {
        assert!(Instant::now() < deadline, "alertmanager not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A dead target beside the real one: the alert still gets through, the failure is named.
    let dead = format!("127.0.0.1:{}", free_port());
    let n = notifier(
        vec![(
            "am",
            Channel { alertmanager: Some(AlertmanagerChannel { targets: vec![dead.clone(), format!("127.0.0.1:{}", am.port)] }), ..Channel::default() },
        )],
        options(),
    );
    let mut fire = notification(NotificationStatus::Firing);
    fire.starts_at = flinkops_control::store::now_ms() - 60_000;
    let r = n.deliver_to("am", &fire).await;
    assert!(r.ok && r.kind == ChannelKind::Alertmanager, "{r:?}");
    assert_eq!(r.attempts, 3, "the dead target is tried twice, the live one once: {r:?}");
    assert!(r.error.as_deref().is_some_and(|e| e.starts_with("1 of 2 Alertmanager targets accepted the alert") && e.contains(&dead)), "{r:?}");

    let alerts = am_alerts(&client, am.port).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["labels"], json!(labels()));
    assert_eq!(a["annotations"]["summary"], "Flink job orders-enrich is FAILED, not RUNNING");
    assert_eq!(a["annotations"]["runbook_url"], "https://runbooks.example.com/FlinkJobNotRunning.md");
    assert_eq!(a["generatorURL"], "http://127.0.0.1:7070/api/v1/alerts");
    assert_eq!(a["status"]["state"], "active");
    // Our fingerprint is Alertmanager's.
    assert_eq!(a["fingerprint"], fingerprint(&labels()));
    // startsAt as sent (Alertmanager prints it in its own RFC 3339 form).
    assert!(a["startsAt"].as_str().is_some_and(|s| s.starts_with(&crate::time::rfc3339(fire.starts_at)[..19])), "{a}");

    // The resolve: endsAt = now; Alertmanager drops it from the active alerts.
    let mut resolved = notification(NotificationStatus::Resolved);
    resolved.starts_at = fire.starts_at;
    resolved.ends_at = Some(flinkops_control::store::now_ms());
    let n = notifier(
        vec![("am", Channel { alertmanager: Some(AlertmanagerChannel { targets: vec![format!("127.0.0.1:{}", am.port)] }), ..Channel::default() })],
        options(),
    );
    let r = n.deliver_to("am", &resolved).await;
    assert!(r.ok && r.attempts == 1 && r.error.is_none(), "{r:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alerts = am_alerts(&client, am.port).await;
        if alerts.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the resolved alert is still listed: {alerts:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
