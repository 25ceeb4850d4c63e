//! Forwarding to Alertmanager: `POST <target>/api/v2/alerts` with one alert — `labels`,
//! `annotations`, `startsAt`, `endsAt`, `generatorURL` — to every target, as Prometheus does.
//!
//! The labels are those of the Prometheus rule of the same name (`alertname`, `severity`,
//! `job_name`, …), so Alertmanager groups, deduplicates and routes serve's alerts and
//! Prometheus's alike (the rendered `alertmanager.yaml` applies to both). A firing alert carries
//! `endsAt` = now + the notifier's TTL (each reminder extends it; if serve stops, Alertmanager
//! resolves it by itself); a resolve is the same alert with `endsAt` = when it resolved, which
//! Alertmanager treats as resolved at once.

use std::collections::BTreeMap;

use flinkops_spec::types::AlertmanagerChannel;
use serde_json::json;
use url::Url;

use super::http::{describe_url, post_json, with_retry};
use super::{Outcome, SendCtx};
use crate::health::{Notification, NotificationStatus};
use crate::time::rfc3339;

#[derive(Debug, Clone)]
pub(super) struct Alertmanager {
    /// `…/api/v2/alerts` of each target.
    endpoints: Vec<Url>,
}

impl Alertmanager {
    pub(super) fn new(c: &AlertmanagerChannel) -> Result<Alertmanager, String> {
        if c.targets.is_empty() {
            return Err("alertmanager: `targets` is empty; list at least one `host:port`".into());
        }
        let endpoints = c.targets.iter().map(|t| endpoint(t)).collect::<Result<Vec<_>, _>>()?;
        Ok(Alertmanager { endpoints })
    }

    pub(super) async fn send(&self, ctx: &SendCtx<'_>, n: &Notification) -> Outcome {
        let now = flinkops_control::store::now_ms();
        let ttl = i64::try_from(ctx.options.alertmanager_ttl.as_millis()).unwrap_or(i64::MAX);
        let body = payload(n, now, ttl, ctx.options.external_url.as_deref());
        let mut attempts = 0;
        let mut accepted = 0;
        let mut errors = Vec::new();
        // Each target on its own: one Alertmanager down must not keep the alert from the others.
        for url in &self.endpoints {
            let endpoint = format!("Alertmanager {}", describe_url(url));
            let (r, a) = with_retry(ctx.options.retry_delay, || post_json(ctx.client, url, &body, None, &endpoint)).await;
            attempts += a;
            match r {
                Ok(()) => accepted += 1,
                Err(e) => errors.push(e),
            }
        }
        let error = (!errors.is_empty()).then(|| {
            if accepted > 0 {
                format!("{} of {} Alertmanager targets accepted the alert; {}", accepted, self.endpoints.len(), errors.join("; "))
            } else {
                errors.join("; ")
            }
        });
        Outcome { ok: accepted > 0, error, attempts, secrets: Vec::new() }
    }
}

/// `host:port` → `http://host:port/api/v2/alerts`; a target with a scheme
/// (`https://am.example.com/prefix`) keeps it and its path prefix.
fn endpoint(target: &str) -> Result<Url, String> {
    let t = target.trim();
    let bad = |why: &str| format!("alertmanager: target `{t}` {why}; write `host:port` (or `https://host:port/prefix`)");
    if t.is_empty() {
        return Err(bad("is empty"));
    }
    let base = if t.contains("://") { t.to_string() } else { format!("http://{t}") };
    let mut url = Url::parse(&base).map_err(|e| bad(&format!("is not an address ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("does not use http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("carries credentials"));
    }
    let path = format!("{}/api/v2/alerts", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Where the alert came from: serve's alert list when serve knows its own URL.
pub(super) fn generator_url(external_url: Option<&str>, _n: &Notification) -> String {
    match external_url.map(|u| u.trim_end_matches('/')) {
        Some(u) if !u.is_empty() => format!("{u}/api/v1/alerts"),
        _ => String::new(),
    }
}

/// The body of `POST /api/v2/alerts`: a list with the one alert.
pub(super) fn payload(n: &Notification, now: i64, ttl_ms: i64, external_url: Option<&str>) -> serde_json::Value {
    let ends_at = match n.status {
        NotificationStatus::Resolved => n.ends_at.unwrap_or(now).min(now),
        NotificationStatus::Firing => now.saturating_add(ttl_ms),
    };
    let mut alert = json!({
        "labels": n.labels,
        "annotations": n.annotations(),
        "startsAt": rfc3339(n.starts_at),
        "endsAt": rfc3339(ends_at),
    });
    let generator = generator_url(external_url, n);
    // Alertmanager checks `generatorURL` as a URI: leave it out rather than send "".
    if !generator.is_empty() {
        alert["generatorURL"] = json!(generator);
    }
    json!([alert])
}

/// Alertmanager's fingerprint of a label set (Prometheus `model.LabelSet.Fingerprint`):
/// FNV-1a 64 over the label names in byte order, each name and value followed by the byte
/// 0xff, as 16 lower-case hex digits. The same labels give the same fingerprint as the alert
/// Alertmanager shows in `GET /api/v2/alerts`.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    let mut h = OFFSET;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
    };
    // BTreeMap<String, _> iterates in byte order, as Go's sort of the names.
    for (k, v) in labels {
        add(k.as_bytes());
        add(&[0xff]);
        add(v.as_bytes());
        add(&[0xff]);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_become_v2_alert_endpoints() {
        assert_eq!(endpoint("127.0.0.1:9093").map(|u| u.to_string()), Ok("http://127.0.0.1:9093/api/v2/alerts".into()));
        assert_eq!(
            endpoint("https://am.example.com/prefix/").map(|u| u.to_string()),
            Ok("https://am.example.com/prefix/api/v2/alerts".into())
        );
        assert_eq!(endpoint("[::1]:9093").map(|u| u.to_string()), Ok("http://[::1]:9093/api/v2/alerts".into()));
        for bad in ["", "ftp://am:21", "https://u:p@am:9093", "http://"] {
            let e = endpoint(bad).expect_err(bad);
            assert!(e.starts_with("alertmanager: target `"), "{e}");
        }
        assert!(Alertmanager::new(&AlertmanagerChannel { targets: vec![] }).is_err());
    }

    #[test]
    fn fingerprint_of_the_empty_set_is_the_fnv_offset() {
        // Prometheus's `emptyLabelSignature` is FNV-1a's offset basis.
        assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector); with a
        // separator byte after it, the hash moves on from there.
        let one = BTreeMap::from([("a".to_string(), String::new())]);
        let mut h: u64 = 0xaf63dc4c8601ec8c;
        for b in [0xffu8, 0xff] {
            h ^= u64::from(b);
            h = h.wrapping_mul(1_099_511_628_211);
        }
        assert_eq!(fingerprint(&one), format!("{h:016x}"));
    }
}
