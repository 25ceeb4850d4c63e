//! Alert channels: routing a [`Notification`] to the spec's `alerting.channels` and sending it.
//!
//! [`Notifier::new`] never fails: a channel that cannot work (no kind, a bad address, a
//! `kubernetesSecret` reference, …) is listed by [`Notifier::problems`] and fails each delivery
//! with the same message, while the other channels keep working. Secrets are read at each
//! delivery (a rotated file is picked up), so a missing one is a failed delivery, not a crash.
//!
//! Every HTTP request has a timeout; a connection error, a timeout, HTTP 5xx or 429 is retried
//! once. Error texts go through [`crate::secret::redact`] and never carry a request URL.

mod alertmanager;
mod email;
mod http;
mod pagerduty;
mod slack;
mod webhook;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use flinkops_control::store::Delivery;
use flinkops_spec::types::{Alerting, Channel, JobAlerts, SecretRef, Severity, Spec};
use serde::{Deserialize, Serialize};

use crate::health::Notification;
use crate::secret::{Secret, SecretError, redact, resolve_secret};

pub use alertmanager::fingerprint;

/// The kind of a channel (stored as `Delivery::kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Slack,
    #[serde(rename = "pagerduty")]
    PagerDuty,
    Email,
    Webhook,
    Alertmanager,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Slack => "slack",
            ChannelKind::PagerDuty => "pagerduty",
            ChannelKind::Email => "email",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Alertmanager => "alertmanager",
        }
    }
}

impl std::fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the notifier sends.
#[derive(Debug, Clone)]
pub struct NotifierOptions {
    /// Per request (HTTP) or per SMTP command (default 10 s).
    pub timeout: Duration,
    /// Pause before the one retry (default 1 s).
    pub retry_delay: Duration,
    /// PagerDuty Events API base (default `https://events.pagerduty.com`; events go to
    /// `<base>/v2/enqueue`).
    pub pagerduty_events_url: String,
    /// PagerDuty `payload.source` (default `flinkops`).
    pub source: String,
    /// serve's own URL (dashboard): Alertmanager's `generatorURL` and the webhook's
    /// `externalURL`.
    pub external_url: Option<String>,
    /// A firing alert forwarded to Alertmanager gets `endsAt` = now + this (default 5 h, above
    /// the 4 h repeat interval: each repeat extends it). If serve stops, Alertmanager resolves
    /// the alert by itself after this long.
    pub alertmanager_ttl: Duration,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        NotifierOptions {
            timeout: Duration::from_secs(10),
            retry_delay: Duration::from_secs(1),
            pagerduty_events_url: "https://events.pagerduty.com".into(),
            source: "flinkops".into(),
            external_url: None,
            alertmanager_ttl: Duration::from_secs(5 * 3600),
        }
    }
}

/// The outcome of sending one notification to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryResult {
    pub channel: String,
    pub kind: ChannelKind,
    pub ok: bool,
    /// What went wrong (secrets redacted). For an Alertmanager channel with several targets,
    /// `ok` is true when at least one accepted the alert and this lists the ones that did not.
    pub error: Option<String>,
    /// Requests made (1, or 2 after a retry; per target summed for Alertmanager).
    pub attempts: u32,
    /// When the delivery ended (epoch ms).
    pub at: i64,
}

impl DeliveryResult {
    /// As the store keeps it (`Store::record_delivery`).
    pub fn to_delivery(&self, n: &Notification) -> Delivery {
        Delivery {
            id: 0,
            job: n.job.clone(),
            rule: n.rule.clone(),
            channel: self.channel.clone(),
            kind: self.kind.as_str().to_string(),
            status: n.status.as_str().to_string(),
            ok: self.ok,
            error: self.error.clone(),
            attempts: i64::from(self.attempts),
            at: self.at,
        }
    }
}

/// A channel (or route) that cannot work as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigProblem {
    /// The channel's name (or the job's, for a route naming an unknown channel).
    pub channel: String,
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "alert channel `{}`: {}", self.channel, self.message)
    }
}

/// One configured channel, checked once.
#[derive(Debug, Clone)]
enum Target {
    Slack(slack::Slack),
    PagerDuty(pagerduty::PagerDuty),
    Email(email::Email),
    Webhook(webhook::Webhook),
    Alertmanager(alertmanager::Alertmanager),
}

#[derive(Debug, Clone)]
struct Configured {
    kind: ChannelKind,
    severities: Vec<Severity>,
    target: Result<Target, String>,
    /// Secret references of this channel (checked by `problems`).
    secrets: Vec<SecretRef>,
}

struct Inner {
    channels: BTreeMap<String, Configured>,
    /// Channels without a usable kind (zero or several set), with why.
    unusable: BTreeMap<String, String>,
    /// Job → channels it names (jobs absent here, or naming none, go to every channel).
    routes: BTreeMap<String, Vec<String>>,
    client: Result<reqwest::Client, String>,
    options: NotifierOptions,
}

/// Sends notifications to the channels they are routed to. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Channel names and kinds only: configurations may hold URLs people treat as secret.
        let kinds: BTreeMap<&str, &str> = self.inner.channels.iter().map(|(n, c)| (n.as_str(), c.kind.as_str())).collect();
        f.debug_struct("Notifier").field("channels", &kinds).field("routes", &self.inner.routes).finish()
    }
}

fn kinds_of(c: &Channel) -> Vec<ChannelKind> {
    let mut k = Vec::new();
    if c.slack.is_some() {
        k.push(ChannelKind::Slack);
    }
    if c.pagerduty.is_some() {
        k.push(ChannelKind::PagerDuty);
    }
    if c.email.is_some() {
        k.push(ChannelKind::Email);
    }
    if c.webhook.is_some() {
        k.push(ChannelKind::Webhook);
    }
    if c.alertmanager.is_some() {
        k.push(ChannelKind::Alertmanager);
    }
    k
}

impl Notifier {
    /// A notifier for the spec's `alerting` section and the jobs' `alerts` routes (job name →
    /// its `alerts`; a job missing here, or naming no channel, goes to every channel).
    pub fn new(alerting: &Alerting, job_routes: &BTreeMap<String, JobAlerts>, options: NotifierOptions) -> Notifier {
        let mut channels = BTreeMap::new();
        let mut unusable = BTreeMap::new();
        for (name, c) in &alerting.channels {
            let kinds = kinds_of(c);
            let (target, secrets): (Result<Target, String>, Vec<SecretRef>) = match kinds.as_slice() {
                [] => {
                    unusable.insert(name.clone(), "it sets no kind; set exactly one of `slack`, `pagerduty`, `email`, `webhook`, `alertmanager`".to_string());
                    continue;
                }
                [_, _, ..] => {
                    let list: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                    unusable.insert(name.clone(), format!("it sets several kinds ({}); set exactly one", list.join(", ")));
                    continue;
                }
                [_] => {
                    if let Some(s) = &c.slack {
                        (slack::Slack::new(s).map(Target::Slack), vec![s.webhook_url.clone()])
                    } else if let Some(p) = &c.pagerduty {
                        (Ok(Target::PagerDuty(pagerduty::PagerDuty::new(p))), vec![p.routing_key.clone()])
                    } else if let Some(e) = &c.email {
                        (email::Email::new(e).map(Target::Email), e.auth_password.iter().cloned().collect())
                    } else if let Some(w) = &c.webhook {
                        (webhook::Webhook::new(w).map(Target::Webhook), w.bearer_token.iter().cloned().collect())
                    } else if let Some(a) = &c.alertmanager {
                        (alertmanager::Alertmanager::new(a).map(Target::Alertmanager), Vec::new())
                    } else {
                        continue;
                    }
                }
            };
            channels.insert(name.clone(), Configured { kind: kinds[0], severities: c.severities.clone(), target, secrets });
        }
        let routes = job_routes.iter().map(|(j, a)| (j.clone(), a.channels.clone())).collect();
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(concat!("flinkops/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot create the HTTP client: {}", http::error_chain(&e.without_url())));
        Notifier { inner: Arc::new(Inner { channels, unusable, routes, client, options }) }
    }

    /// A notifier for a whole spec: its `alerting` section and every job's `alerts`.
    pub fn from_spec(spec: &Spec, options: NotifierOptions) -> Notifier {
        let routes = spec.jobs.iter().filter_map(|(n, j)| j.alerts.clone().map(|a| (n.clone(), a))).collect();
        Notifier::new(&spec.alerting, &routes, options)
    }

    /// Everything that would make a delivery fail before it is attempted: channels without a
    /// usable kind or with a bad setting, secrets that cannot be read now, routes naming
    /// channels that do not exist. Serve logs these at start.
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut out = Vec::new();
        for (name, why) in &self.inner.unusable {
            out.push(ConfigProblem { channel: name.clone(), message: why.clone() });
        }
        for (name, c) in &self.inner.channels {
            if let Err(e) = &c.target {
                out.push(ConfigProblem { channel: name.clone(), message: e.clone() });
            }
            for r in &c.secrets {
                if let Err(e) = resolve_secret(r) {
                    out.push(ConfigProblem { channel: name.clone(), message: e.to_string() });
                }
            }
        }
        for (job, chans) in &self.inner.routes {
            for c in chans {
                if !self.inner.channels.contains_key(c) && !self.inner.unusable.contains_key(c) {
                    out.push(ConfigProblem {
                        channel: c.clone(),
                        message: format!("job `{job}` routes its alerts to `{c}`, which is not a channel under `alerting.channels`"),
                    });
                }
            }
        }
        if let Err(e) = &self.inner.client {
            out.push(ConfigProblem { channel: "*".into(), message: e.clone() });
        }
        out
    }

    /// The channels a notification goes to: those the job names in `alerts.channels` (every
    /// channel when it names none) whose `severities` include the notification's (empty: all).
    pub fn route(&self, n: &Notification) -> Vec<String> {
        let named = self.inner.routes.get(&n.job).filter(|c| !c.is_empty());
        let candidates: Vec<&String> = match named {
            Some(list) => list.iter().collect(),
            None => self.inner.channels.keys().chain(self.inner.unusable.keys()).collect(),
        };
        let mut out: Vec<String> = candidates
            .into_iter()
            .filter(|c| match self.inner.channels.get(*c) {
                Some(ch) => ch.severities.is_empty() || ch.severities.contains(&n.severity),
                // A named channel that cannot work is still routed: its delivery fails
                // visibly instead of the alert vanishing.
                None => true,
            })
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Sends `n` to every channel it is routed to, concurrently; one result per channel, in
    /// channel-name order.
    pub async fn deliver(&self, n: &Notification) -> Vec<DeliveryResult> {
        let names = self.route(n);
        let mut set = tokio::task::JoinSet::new();
        for (i, name) in names.iter().enumerate() {
            let me = self.clone();
            let n = n.clone();
            let name = name.clone();
            set.spawn(async move { (i, me.deliver_to(&name, &n).await) });
        }
        let mut results: Vec<(usize, DeliveryResult)> = Vec::with_capacity(names.len());
        while let Some(r) = set.join_next().await {
            match r {
                Ok(r) => results.push(r),
                Err(e) => tracing::error!("an alert delivery task failed: {e}"),
            }
        }
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// Sends `n` to one channel, whatever the routing says.
    pub async fn deliver_to(&self, channel: &str, n: &Notification) -> DeliveryResult {
        let fail = |kind, error: String| DeliveryResult {
            channel: channel.to_string(),
            kind,
            ok: false,
            error: Some(error),
            attempts: 0,
            at: flinkops_control::store::now_ms(),
        };
        let Some(c) = self.inner.channels.get(channel) else {
            let why = self
                .inner
                .unusable
                .get(channel)
                .cloned()
                .unwrap_or_else(|| "it is not a channel under `alerting.channels`".to_string());
            // No kind to report: webhook is the most generic.
            let r = fail(ChannelKind::Webhook, format!("alert channel `{channel}`: {why}"));
            tracing::warn!(channel, job = %n.job, rule = %n.rule, "alert not delivered: {}", r.error.as_deref().unwrap_or(""));
            return r;
        };
        let target = match &c.target {
            Ok(t) => t,
            Err(e) => return fail(c.kind, format!("alert channel `{channel}`: {e}")),
        };
        let client = match &self.inner.client {
            Ok(cl) => cl,
            Err(e) => return fail(c.kind, e.clone()),
        };
        let ctx = SendCtx { client, options: &self.inner.options, channel };
        let outcome = match target {
            Target::Slack(s) => s.send(&ctx, n).await,
            Target::PagerDuty(p) => p.send(&ctx, n).await,
            Target::Email(e) => e.send(&ctx, n).await,
            Target::Webhook(w) => w.send(&ctx, n).await,
            Target::Alertmanager(a) => a.send(&ctx, n).await,
        };
        let error = outcome.error.map(|e| redact(&e, &outcome.secrets.iter().collect::<Vec<_>>()));
        let r = DeliveryResult {
            channel: channel.to_string(),
            kind: c.kind,
            ok: outcome.ok,
            error,
            attempts: outcome.attempts,
            at: flinkops_control::store::now_ms(),
        };
        if r.ok {
            tracing::info!(channel, kind = %r.kind, job = %n.job, rule = %n.rule, status = %n.status, attempts = r.attempts, "alert delivered");
        } else {
            tracing::warn!(channel, kind = %r.kind, job = %n.job, rule = %n.rule, status = %n.status, attempts = r.attempts,
                "alert not delivered: {}", r.error.as_deref().unwrap_or(""));
        }
        r
    }
}

/// What a channel's `send` needs.
struct SendCtx<'a> {
    client: &'a reqwest::Client,
    options: &'a NotifierOptions,
    channel: &'a str,
}

/// What a channel's `send` reports (before redaction).
struct Outcome {
    ok: bool,
    error: Option<String>,
    attempts: u32,
    /// The secrets used, to scrub from `error`.
    secrets: Vec<Secret>,
}

impl Outcome {
    fn secret_error(e: &SecretError, secrets: Vec<Secret>) -> Outcome {
        Outcome { ok: false, error: Some(e.to_string()), attempts: 0, secrets }
    }

    fn from_attempts(r: Result<(), String>, attempts: u32, secrets: Vec<Secret>) -> Outcome {
        Outcome { ok: r.is_ok(), error: r.err(), attempts, secrets }
    }
}

/// `[FIRING] FlinkJobNotRunning (critical): <summary>` and friends.
fn headline(n: &Notification) -> String {
    let tag = match n.status {
        crate::health::NotificationStatus::Resolved => "RESOLVED",
        crate::health::NotificationStatus::Firing => "FIRING",
    };
    let reminder = if n.repeat { ", reminder" } else { "" };
    format!("[{tag}] {} ({}{reminder}): {}", n.rule, n.severity.as_str(), n.summary)
}

#[cfg(test)]
mod tests;
