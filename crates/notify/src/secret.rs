//! Secrets of the alert channels: resolved from the environment or a file, held in a type that
//! never prints them, and scrubbed from every error text.

use flinkops_spec::types::SecretRef;

/// A secret value (webhook URL, routing key, password, token). `Debug` and `Display` print
/// `***`; the value is only reachable through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself: only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Why a secret reference could not be resolved. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the secret reference names none of `env`, `file`, `kubernetesSecret`; set exactly one")]
    Empty,
    #[error("the secret reference names more than one of `env`, `file`, `kubernetesSecret`; set exactly one")]
    Ambiguous,
    #[error(
        "the secret is a Kubernetes Secret ({name}/{key}), which `flinkops serve` cannot read: it runs outside the cluster; use `env: VAR` or `file: PATH` for the channels serve sends to (Alertmanager in the cluster can still use the Kubernetes Secret)"
    )]
    KubernetesSecret { name: String, key: String },
    #[error("the environment variable `{0}` holding the secret is not set (or not valid UTF-8); export it to the `flinkops serve` process")]
    EnvMissing(String),
    #[error("the environment variable `{0}` holding the secret is empty")]
    EnvEmpty(String),
    #[error("cannot read the secret file `{path}`: {reason}; check the path and that the serve process may read it")]
    FileUnreadable { path: String, reason: String },
    #[error("the secret file `{0}` is empty")]
    FileEmpty(String),
}

/// Reads a secret from the environment (`env`) or a file (`file`; one trailing newline is
/// dropped). A `kubernetesSecret` reference is an error: serve runs outside the cluster.
pub fn resolve_secret(r: &SecretRef) -> Result<Secret, SecretError> {
    let set = usize::from(r.env.is_some()) + usize::from(r.file.is_some()) + usize::from(r.kubernetes_secret.is_some());
    if set == 0 {
        return Err(SecretError::Empty);
    }
    if set > 1 {
        return Err(SecretError::Ambiguous);
    }
    if let Some(k) = &r.kubernetes_secret {
        return Err(SecretError::KubernetesSecret { name: k.name.clone(), key: k.key.clone() });
    }
    if let Some(var) = &r.env {
        let v = std::env::var(var).map_err(|_| SecretError::EnvMissing(var.clone()))?;
        if v.trim().is_empty() {
            return Err(SecretError::EnvEmpty(var.clone()));
        }
        return Ok(Secret(v.trim().to_string()));
    }
    let path = r.file.clone().unwrap_or_default();
    let v = std::fs::read_to_string(&path).map_err(|e| SecretError::FileUnreadable { path: path.clone(), reason: e.to_string() })?;
    let v = v.strip_suffix('\n').map(|v| v.strip_suffix('\r').unwrap_or(v)).unwrap_or(&v);
    if v.trim().is_empty() {
        return Err(SecretError::FileEmpty(path));
    }
    Ok(Secret(v.trim().to_string()))
}

/// `text` with every occurrence of each secret (and of its URL-encoded form, and of a URL
/// secret's path) replaced by `***`. Applied to every error text that leaves a channel.
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        let v = s.expose();
        if v.len() < 4 {
            // Too short to search for without mangling the message; such a secret is not
            // put into messages by this crate in the first place.
            continue;
        }
        let mut needles = vec![v.to_string(), url_encode(v)];
        // A URL secret (Slack webhook): its path and query alone are just as secret.
        if let Ok(u) = url::Url::parse(v)
            && u.path().len() > 1
        {
            needles.push(u.path().to_string());
            if let Some(q) = u.query() {
                needles.push(q.to_string());
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        for n in needles.iter().filter(|n| n.len() >= 4) {
            out = out.replace(n.as_str(), "***");
        }
    }
    out
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flinkops_spec::types::SecretKeyRef;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("xoxb-very-secret");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(***)");
        assert_eq!(s.expose(), "xoxb-very-secret");
    }

    #[test]
    fn resolves_env_and_file() {
        // PATH is set in every test process (edition 2024 makes set_var unsafe, and unsafe is
        // forbidden here).
        let path = std::env::var("PATH").expect("PATH is set");
        let s = resolve_secret(&SecretRef { env: Some("PATH".into()), ..SecretRef::default() }).expect("env secret");
        assert_eq!(s.expose(), path.trim());

        let dir = tempfile::tempdir().expect("temp dir");
        let f = dir.path().join("key");
        std::fs::write(&f, "R0UT1NGKEY\n").expect("write");
        let s = resolve_secret(&SecretRef { file: Some(f.display().to_string()), ..SecretRef::default() }).expect("file secret");
        assert_eq!(s.expose(), "R0UT1NGKEY");
    }

    #[test]
    fn unresolvable_references_say_why() {
        let e = resolve_secret(&SecretRef { env: Some("FLINKOPS_NOTIFY_TEST_UNSET_VARIABLE".into()), ..SecretRef::default() })
            .expect_err("unset");
        assert_eq!(e, SecretError::EnvMissing("FLINKOPS_NOTIFY_TEST_UNSET_VARIABLE".into()));
        assert!(e.to_string().contains("export it"));

        let e = resolve_secret(&SecretRef {
            kubernetes_secret: Some(SecretKeyRef { name: "alerting".into(), key: "slack".into() }),
            ..SecretRef::default()
        })
        .expect_err("k8s");
        let msg = e.to_string();
        assert!(msg.contains("alerting/slack") && msg.contains("outside the cluster") && msg.contains("`env: VAR`"), "{msg}");

        let e = resolve_secret(&SecretRef { file: Some("/nonexistent/flinkops/secret".into()), ..SecretRef::default() }).expect_err("no file");
        assert!(e.to_string().starts_with("cannot read the secret file `/nonexistent/flinkops/secret`"), "{e}");

        let dir = tempfile::tempdir().expect("temp dir");
        let f = dir.path().join("empty");
        std::fs::write(&f, "\n").expect("write");
        let e = resolve_secret(&SecretRef { file: Some(f.display().to_string()), ..SecretRef::default() }).expect_err("empty");
        assert!(matches!(e, SecretError::FileEmpty(_)));

        assert_eq!(resolve_secret(&SecretRef::default()), Err(SecretError::Empty));
        assert_eq!(
            resolve_secret(&SecretRef { env: Some("A".into()), file: Some("b".into()), ..SecretRef::default() }),
            Err(SecretError::Ambiguous)
        );
    }

    #[test]
    fn redaction_removes_values_encodings_and_url_paths() {
        let hook = Secret::new("https://hooks.slack.com/services/T000/B000/XXXXSECRET");
        let key = Secret::new("p@ss word/1");
        let text = "POST https://hooks.slack.com/services/T000/B000/XXXXSECRET failed; \
                    path /services/T000/B000/XXXXSECRET; form p%40ss+word%2F1; raw p@ss word/1";
        let out = redact(text, &[&hook, &key]);
        assert_eq!(out, "POST *** failed; path ***; form ***; raw ***");
    }
}
