//! A generic webhook: `POST <url>` with Alertmanager's webhook payload (version 4), so anything
//! that already receives Alertmanager webhooks receives flinkops's alerts unchanged. An optional
//! bearer token (a secret) goes into the `Authorization` header; credentials in the URL itself
//! are refused (they would end up in logs).

use flinkops_spec::types::{SecretRef, WebhookChannel};
use serde_json::json;
use url::Url;

use super::http::{describe_url, post_json, with_retry};
use super::{Outcome, SendCtx, alertmanager};
use crate::health::{Notification, NotificationStatus};
use crate::secret::resolve_secret;
use crate::time::rfc3339;

#[derive(Debug, Clone)]
pub(super) struct Webhook {
    url: Url,
    bearer_token: Option<SecretRef>,
}

impl Webhook {
    pub(super) fn new(c: &WebhookChannel) -> Result<Webhook, String> {
        let url = Url::parse(c.url.trim()).map_err(|e| format!("webhook: `url` is not a URL ({e}); write `https://host/path`"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("webhook: `url` has the scheme `{}`; use http or https", url.scheme()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("webhook: `url` carries credentials (user:password@); remove them and use `bearerToken` (a secret reference)".into());
        }
        Ok(Webhook { url, bearer_token: c.bearer_token.clone() })
    }

    pub(super) async fn send(&self, ctx: &SendCtx<'_>, n: &Notification) -> Outcome {
        let token = match &self.bearer_token {
            None => None,
            Some(r) => match resolve_secret(r) {
                Ok(s) => Some(s),
                Err(e) => return Outcome::secret_error(&e, Vec::new()),
            },
        };
        let endpoint = format!("the webhook {}", describe_url(&self.url));
        let body = payload(ctx.channel, ctx.options.external_url.as_deref(), n);
        let (r, attempts) =
            with_retry(ctx.options.retry_delay, || post_json(ctx.client, &self.url, &body, token.as_ref(), &endpoint)).await;
        Outcome::from_attempts(r, attempts, token.into_iter().collect())
    }
}

/// Alertmanager's zero time: `endsAt` of a firing alert in its webhook payload.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Alertmanager's webhook payload (version 4) with one alert.
pub(super) fn payload(receiver: &str, external_url: Option<&str>, n: &Notification) -> serde_json::Value {
    let status = n.status.as_str();
    let ends_at = match (n.status, n.ends_at) {
        (NotificationStatus::Resolved, Some(e)) => rfc3339(e),
        _ => ZERO_TIME.to_string(),
    };
    let annotations = n.annotations();
    let job_name = n.labels.get("job_name").cloned().unwrap_or_default();
    let group_labels = json!({"alertname": n.rule, "job_name": job_name});
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{}\", job_name=\"{job_name}\"}}", n.rule),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": group_labels,
        "commonLabels": n.labels,
        "commonAnnotations": annotations,
        "externalURL": external_url.unwrap_or(""),
        "alerts": [{
            "status": status,
            "labels": n.labels,
            "annotations": annotations,
            "startsAt": rfc3339(n.starts_at),
            "endsAt": ends_at,
            "generatorURL": alertmanager::generator_url(external_url, n),
            "fingerprint": alertmanager::fingerprint(&n.labels),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_urls_it_cannot_or_should_not_use() {
        let c = |url: &str| WebhookChannel { url: url.into(), bearer_token: None };
        assert!(Webhook::new(&c("https://hooks.example.com/flink")).is_ok());
        let e = Webhook::new(&c("https://user:pw@hooks.example.com/flink")).expect_err("credentials");
        assert!(e.contains("carries credentials") && !e.contains("pw"), "{e}");
        let e = Webhook::new(&c("ftp://hooks.example.com/flink")).expect_err("scheme");
        assert!(e.contains("`ftp`"), "{e}");
        let e = Webhook::new(&c("hooks.example.com/flink")).expect_err("relative");
        assert!(e.contains("not a URL"), "{e}");
    }
}
