//! Slack incoming webhooks: `POST <webhook URL>` with `{channel, text, blocks}`. The webhook URL
//! is the secret (anyone holding it can post), so errors name only its host.

use flinkops_spec::types::{SecretRef, SlackChannel};
use serde_json::json;
use url::Url;

use super::http::{post_json, with_retry};
use super::{Outcome, SendCtx, headline};
use crate::health::{Notification, NotificationStatus};
use crate::secret::resolve_secret;
use crate::time::human;

#[derive(Debug, Clone)]
pub(super) struct Slack {
    webhook_url: SecretRef,
    channel: String,
}

impl Slack {
    pub(super) fn new(c: &SlackChannel) -> Result<Slack, String> {
        if c.channel.trim().is_empty() {
            return Err("slack: `channel` is empty; name the channel (`#flink-alerts`)".into());
        }
        Ok(Slack { webhook_url: c.webhook_url.clone(), channel: c.channel.clone() })
    }

    pub(super) async fn send(&self, ctx: &SendCtx<'_>, n: &Notification) -> Outcome {
        let secret = match resolve_secret(&self.webhook_url) {
            Ok(s) => s,
            Err(e) => return Outcome::secret_error(&e, Vec::new()),
        };
        let url = match Url::parse(secret.expose()) {
            Ok(u) if matches!(u.scheme(), "https" | "http") => u,
            _ => {
                return Outcome {
                    ok: false,
                    error: Some("the Slack webhook URL (from its secret) is not an http(s) URL; check the secret's value".into()),
                    attempts: 0,
                    secrets: vec![secret],
                };
            }
        };
        let endpoint = format!("the Slack webhook at {}", url.host_str().unwrap_or("?"));
        let body = payload(&self.channel, n);
        let (r, attempts) =
            with_retry(ctx.options.retry_delay, || post_json(ctx.client, &url, &body, None, &endpoint)).await;
        Outcome::from_attempts(r, attempts, vec![secret])
    }
}

/// Slack's mrkdwn escapes: `&`, `<`, `>`.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn link(url: &str, text: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        format!("<{}|{}>", url.replace('|', "%7C").replace('>', "%3E"), esc(text))
    } else {
        format!("{}: {}", esc(text), esc(url))
    }
}

/// The message: `text` (the notification line shown by clients that do not render blocks)
/// and blocks with the summary, description and a context line.
pub(super) fn payload(channel: &str, n: &Notification) -> serde_json::Value {
    let icon = match (n.status, n.severity) {
        (NotificationStatus::Resolved, _) => ":white_check_mark:",
        (_, flinkops_spec::types::Severity::Critical) => ":red_circle:",
        (_, flinkops_spec::types::Severity::Warning) => ":warning:",
        (_, flinkops_spec::types::Severity::Info) => ":information_source:",
    };
    let text = format!("{icon} {}", esc(&headline(n)));
    let mut context = vec![format!("job `{}`", esc(&n.job)), format!("since {}", human(n.starts_at))];
    if let Some(e) = n.ends_at {
        context.push(format!("resolved {}", human(e)));
    }
    context.push(link(&n.runbook_url, "Runbook"));
    json!({
        "channel": channel,
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("{icon} *{}*\n{}", esc(&headline_title(n)), esc(&n.summary))}},
            {"type": "section", "text": {"type": "mrkdwn", "text": esc(&n.description)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context.join(" · ")}]},
        ],
    })
}

fn headline_title(n: &Notification) -> String {
    let status = match n.status {
        NotificationStatus::Firing if n.repeat => "FIRING (reminder)",
        NotificationStatus::Firing => "FIRING",
        NotificationStatus::Resolved => "RESOLVED",
    };
    format!("[{status}] {} ({})", n.rule, n.severity.as_str())
}
