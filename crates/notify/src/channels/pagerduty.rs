//! PagerDuty Events API v2: `POST <events_url>/v2/enqueue` with `event_action` `trigger` or
//! `resolve` and the alert's stable `dedup_key`, so the resolve closes the incident the
//! trigger opened. The routing key is the secret.

use flinkops_spec::types::{PagerDutyChannel, SecretRef, Severity};
use serde_json::json;
use url::Url;

use super::http::{post_json, with_retry};
use super::{Outcome, SendCtx};
use crate::health::{Notification, NotificationStatus};
use crate::secret::resolve_secret;
use crate::time::rfc3339;

#[derive(Debug, Clone)]
pub(super) struct PagerDuty {
    routing_key: SecretRef,
}

impl PagerDuty {
    pub(super) fn new(c: &PagerDutyChannel) -> PagerDuty {
        PagerDuty { routing_key: c.routing_key.clone() }
    }

    pub(super) async fn send(&self, ctx: &SendCtx<'_>, n: &Notification) -> Outcome {
        let key = match resolve_secret(&self.routing_key) {
            Ok(s) => s,
            Err(e) => return Outcome::secret_error(&e, Vec::new()),
        };
        let base = ctx.options.pagerduty_events_url.trim_end_matches('/');
        let url = match Url::parse(&format!("{base}/v2/enqueue")) {
            Ok(u) => u,
            Err(e) => {
                return Outcome {
                    ok: false,
                    error: Some(format!("the PagerDuty events URL `{base}` is not a URL: {e}")),
                    attempts: 0,
                    secrets: vec![key],
                };
            }
        };
        let endpoint = format!("PagerDuty ({})", super::http::describe_url(&url));
        let body = payload(key.expose(), &ctx.options.source, n);
        let (r, attempts) =
            with_retry(ctx.options.retry_delay, || post_json(ctx.client, &url, &body, None, &endpoint)).await;
        Outcome::from_attempts(r, attempts, vec![key])
    }
}

/// PagerDuty's severities are critical, error, warning, info; ours map one to one.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The event: a trigger carries the payload, a resolve only the key and action.
pub(super) fn payload(routing_key: &str, source: &str, n: &Notification) -> serde_json::Value {
    match n.status {
        NotificationStatus::Resolved => json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": n.dedup_key,
        }),
        NotificationStatus::Firing => {
            // PagerDuty truncates summaries at 1024 characters; do it ourselves, on a char
            // boundary.
            let summary: String = n.summary.chars().take(1024).collect();
            let mut ev = json!({
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": n.dedup_key,
                "payload": {
                    "summary": summary,
                    "source": source,
                    "severity": severity(n.severity),
                    "timestamp": rfc3339(n.starts_at),
                    "component": n.job,
                    "group": n.labels.get("flinkops_env").cloned().unwrap_or_default(),
                    "class": n.rule,
                    "custom_details": {
                        "description": n.description,
                        "runbook_url": n.runbook_url,
                        "labels": n.labels,
                        "reminder": n.repeat,
                    },
                },
            });
            if n.runbook_url.starts_with("http://") || n.runbook_url.starts_with("https://") {
                ev["links"] = json!([{"href": n.runbook_url, "text": "Runbook"}]);
            }
            if ev["payload"]["group"] == ""
                && let Some(p) = ev["payload"].as_object_mut()
            {
                p.remove("group");
            }
            ev
        }
    }
}
