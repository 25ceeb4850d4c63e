//! E-mail over SMTP (lettre, rustls): one plain-text message per notification to every
//! recipient of the channel.
//!
//! Transport security follows the smarthost and `requireTls`, as Alertmanager's e-mail
//! receiver does: port 465 is TLS from the first byte (SMTPS); otherwise `requireTls: true`
//! (the default) insists on STARTTLS and fails if the server does not offer it, and
//! `requireTls: false` uses STARTTLS when offered and plain text when not. Certificates are
//! checked against the system's trust store. With `authUsername` the password (a secret
//! reference) is sent with AUTH PLAIN/LOGIN.
//!
//! A 4xx reply, a timeout or a failed connection is retried once; a 5xx reply is not.

use flinkops_spec::types::{EmailChannel, SecretRef};
use lettre::message::{Mailbox, Mailboxes, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::http::{AttemptError, error_chain, with_retry};
use super::{Outcome, SendCtx, headline};
use crate::health::Notification;
use crate::secret::{Secret, resolve_secret};
use crate::time::human;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// TLS from the start (port 465).
    Implicit,
    /// STARTTLS or fail.
    StartTlsRequired,
    /// STARTTLS when the server offers it.
    StartTlsOpportunistic,
}

#[derive(Debug, Clone)]
pub(super) struct Email {
    host: String,
    port: u16,
    security: Security,
    from: Mailbox,
    to: Vec<Mailbox>,
    username: Option<String>,
    password: Option<SecretRef>,
}

impl Email {
    pub(super) fn new(c: &EmailChannel) -> Result<Email, String> {
        let (host, port) = smarthost(&c.smarthost)?;
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| format!("email: `from` (`{}`) is not an e-mail address ({e}); write `flinkops@example.com`", c.from))?;
        if c.to.is_empty() {
            return Err("email: `to` is empty; list at least one recipient".into());
        }
        let to = c
            .to
            .iter()
            .map(|t| t.parse::<Mailbox>().map_err(|e| format!("email: recipient `{t}` in `to` is not an e-mail address ({e})")))
            .collect::<Result<Vec<_>, _>>()?;
        let username = c.auth_username.as_ref().map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        match (&username, &c.auth_password) {
            (Some(_), None) => return Err("email: `authUsername` is set but `authPassword` is not; add `authPassword: {env: VAR}` or `{file: PATH}`".into()),
            (None, Some(_)) => return Err("email: `authPassword` is set but `authUsername` is not; add the SMTP user name".into()),
            _ => {}
        }
        let security = if port == 465 {
            Security::Implicit
        } else if c.require_tls {
            Security::StartTlsRequired
        } else {
            Security::StartTlsOpportunistic
        };
        Ok(Email { host, port, security, from, to, username, password: c.auth_password.clone() })
    }

    pub(super) async fn send(&self, ctx: &SendCtx<'_>, n: &Notification) -> Outcome {
        let password = match &self.password {
            None => None,
            Some(r) => match resolve_secret(r) {
                Ok(s) => Some(s),
                Err(e) => return Outcome::secret_error(&e, Vec::new()),
            },
        };
        let secrets: Vec<Secret> = password.iter().cloned().collect();
        let message = match self.message(n) {
            Ok(m) => m,
            Err(e) => return Outcome { ok: false, error: Some(e), attempts: 0, secrets },
        };
        let transport = match self.transport(ctx, password.as_ref()) {
            Ok(t) => t,
            Err(e) => return Outcome { ok: false, error: Some(e), attempts: 0, secrets },
        };
        let peer = format!("the SMTP server {}:{}", self.host, self.port);
        let (r, attempts) = with_retry(ctx.options.retry_delay, || {
            let (t, m, peer) = (&transport, message.clone(), &peer);
            async move {
                match t.send(m).await {
                    Ok(_) => Ok(()),
                    Err(e) => Err(AttemptError {
                        message: format!("sending e-mail through {peer} failed: {}", error_chain(&e)),
                        retryable: e.is_transient() || e.is_timeout() || !(e.is_permanent() || e.is_client() || e.is_tls()),
                    }),
                }
            }
        })
        .await;
        Outcome::from_attempts(r, attempts, secrets)
    }

    fn transport(&self, ctx: &SendCtx<'_>, password: Option<&Secret>) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let tls = || {
            TlsParameters::new(self.host.clone())
                .map_err(|e| format!("email: cannot set up TLS for `{}`: {}", self.host, error_chain(&e)))
        };
        let tls = match self.security {
            Security::Implicit => Tls::Wrapper(tls()?),
            Security::StartTlsRequired => Tls::Required(tls()?),
            Security::StartTlsOpportunistic => Tls::Opportunistic(tls()?),
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.as_str())
            .port(self.port)
            .tls(tls)
            .timeout(Some(ctx.options.timeout));
        if let (Some(user), Some(pw)) = (&self.username, password) {
            b = b.credentials(Credentials::new(user.clone(), pw.expose().to_string()));
        }
        Ok(b.build())
    }

    fn message(&self, n: &Notification) -> Result<Message, String> {
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(headline(n))
            .header(ContentType::TEXT_PLAIN)
            .message_id(None);
        let to: Mailboxes = self.to.iter().cloned().collect();
        for m in to {
            b = b.to(m);
        }
        b.body(body(n)).map_err(|e| format!("email: cannot build the message: {e}"))
    }
}

/// `host:port` (also `[::1]:25`). The port is required, as in Alertmanager's `smarthost`.
fn smarthost(s: &str) -> Result<(String, u16), String> {
    let s = s.trim();
    let bad = |why: &str| format!("email: `smarthost` `{s}` {why}; write `host:port` (587 for STARTTLS, 465 for TLS)");
    let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("has no port"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() || host.contains(':') && !s.starts_with('[') {
        return Err(bad("has no usable host"));
    }
    let port: u16 = port.parse().map_err(|_| bad("has no valid port"))?;
    if port == 0 {
        return Err(bad("has port 0"));
    }
    Ok((host.to_string(), port))
}

/// The plain-text body: what, since when, where to read about it.
pub(super) fn body(n: &Notification) -> String {
    let mut out = format!("{}\n\n{}\n\n", n.summary, n.description);
    out.push_str(&format!("Job:       {}\n", n.job));
    out.push_str(&format!("Rule:      {} ({})\n", n.rule, n.severity.as_str()));
    out.push_str(&format!("Status:    {}{}\n", n.status, if n.repeat { " (reminder)" } else { "" }));
    out.push_str(&format!("Since:     {}\n", human(n.starts_at)));
    if let Some(e) = n.ends_at {
        out.push_str(&format!("Resolved:  {}\n", human(e)));
    }
    out.push_str(&format!("Runbook:   {}\n", n.runbook_url));
    out.push_str("\nLabels:\n");
    for (k, v) in &n.labels {
        out.push_str(&format!("  {k}={v}\n"));
    }
    out.push_str(&format!("\n-- \nflinkops (dedup key {})\n", n.dedup_key));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(smarthost: &str) -> EmailChannel {
        EmailChannel {
            to: vec!["oncall@example.com".into()],
            from: "flinkops@example.com".into(),
            smarthost: smarthost.into(),
            auth_username: None,
            auth_password: None,
            require_tls: true,
        }
    }

    #[test]
    fn smarthosts_and_security() {
        assert_eq!(smarthost("smtp.example.com:587"), Ok(("smtp.example.com".into(), 587)));
        assert_eq!(smarthost("[::1]:25"), Ok(("::1".into(), 25)));
        for bad in ["smtp.example.com", ":25", "smtp:0", "smtp:x", "::1:25"] {
            assert!(smarthost(bad).is_err(), "{bad}");
        }
        assert_eq!(Email::new(&channel("smtp:465")).map(|e| e.security), Ok(Security::Implicit));
        assert_eq!(Email::new(&channel("smtp:587")).map(|e| e.security), Ok(Security::StartTlsRequired));
        let mut c = channel("smtp:25");
        c.require_tls = false;
        assert_eq!(Email::new(&c).map(|e| e.security), Ok(Security::StartTlsOpportunistic));
    }

    #[test]
    fn bad_addresses_and_half_configured_auth_are_refused() {
        let mut c = channel("smtp:587");
        c.to = vec!["not an address".into()];
        assert!(Email::new(&c).is_err_and(|e| e.contains("`not an address`")));
        let mut c = channel("smtp:587");
        c.to.clear();
        assert!(Email::new(&c).is_err_and(|e| e.contains("`to` is empty")));
        let mut c = channel("smtp:587");
        c.auth_username = Some("alerts".into());
        assert!(Email::new(&c).is_err_and(|e| e.contains("`authPassword` is not")));
        let mut c = channel("smtp:587");
        c.auth_password = Some(SecretRef { env: Some("X".into()), ..SecretRef::default() });
        assert!(Email::new(&c).is_err_and(|e| e.contains("`authUsername` is not")));
    }
}
