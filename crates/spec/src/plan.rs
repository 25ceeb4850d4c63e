//! From a parsed spec to a checked plan per environment: semantic validation (references,
//! conflicts, what each target supports) and the Flink configuration each environment and job
//! gets — every key with the spec position that caused it — linted for the environment's Flink
//! version with the config crate's linter. Pure.

use std::collections::BTreeMap;

use flinkops_config::catalog::Catalog;
use flinkops_config::lint::{self, FlinkVersion, LintContext};
use flinkops_config::model::{self, Format};
use flinkops_config::units;

use crate::diag::{Diagnostics, Level, SourceMap, did_you_mean};
use crate::read::{Parsed, child};
use crate::rules;
use crate::types::*;

/// The newest Flink the operator's CRD (1.15) accepts.
pub const OPERATOR_MAX_FLINK: FlinkVersion = FlinkVersion { major: 2, minor: 2 };

/// One Flink setting and the spec path that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub origin: String,
}

/// An ordered Flink configuration with origins.
pub type Conf = BTreeMap<String, Setting>;

/// A job as it runs in one environment.
#[derive(Debug, Clone)]
pub struct JobPlan<'s> {
    pub name: &'s str,
    pub job: &'s Job,
    /// Job-level settings (pipeline name, periodic savepoints, autoscaler, job overrides).
    pub conf: Conf,
    pub parallelism: u32,
    /// Contents of the SQL script, for SQL jobs.
    pub sql: Option<String>,
}

/// One environment, checked.
#[derive(Debug, Clone)]
pub struct EnvPlan<'s> {
    pub platform: &'s str,
    pub name: &'s str,
    pub env: &'s Environment,
    pub version: FlinkVersion,
    /// Environment-level Flink configuration (derived + profile + overrides).
    pub conf: Conf,
    pub jobs: Vec<JobPlan<'s>>,
    pub alerting: &'s Alerting,
    pub ha: bool,
}

impl EnvPlan<'_> {
    /// The CRD's `flinkVersion` (`v2_2`).
    pub fn crd_version(&self) -> String {
        format!("v{}_{}", self.version.major, self.version.minor)
    }
    pub fn image(&self) -> String {
        self.env.image.clone().unwrap_or_else(|| format!("flink:{}", self.env.flink_version))
    }
    pub fn namespace(&self) -> &str {
        self.env.namespace.as_deref().unwrap_or(self.name)
    }
}

/// SQL scripts by job name (read by the caller: the library does no I/O here).
pub type SqlScripts = BTreeMap<String, String>;

fn env_path(e: &str) -> String {
    child("environments", e)
}
fn job_path(j: &str) -> String {
    child("jobs", j)
}

/// True for a lowercase RFC 1123 label of at most `max` characters.
pub fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Checks the whole spec (every environment); returns all diagnostics.
pub fn validate(parsed: &Parsed, sql: &SqlScripts) -> Vec<crate::Diagnostic> {
    let mut d = Diagnostics::default();
    check_spec(parsed, &mut d);
    for name in parsed.spec.environments.keys() {
        let _ = plan_env(parsed, name, sql, &mut d);
    }
    d.sorted()
}

/// Plans one environment; errors (of the spec as a whole and of this environment) in `Err`.
pub fn plan<'s>(parsed: &'s Parsed, env: &str, sql: &SqlScripts) -> Result<(EnvPlan<'s>, Vec<crate::Diagnostic>), Vec<crate::Diagnostic>> {
    let mut d = Diagnostics::default();
    let map = &parsed.map;
    check_spec(parsed, &mut d);
    if !parsed.spec.environments.contains_key(env) {
        let help = did_you_mean(env, parsed.spec.environments.keys().map(String::as_str))
            .unwrap_or_else(|| format!("environments in this spec: {}", parsed.spec.environments.keys().cloned().collect::<Vec<_>>().join(", ")));
        d.error(map, "environments", format!("no environment `{env}` in the spec"), Some(help));
        return Err(d.sorted());
    }
    let p = plan_env(parsed, env, sql, &mut d);
    match p {
        Some(p) if !d.has_errors() => Ok((p, d.sorted())),
        _ => Err(d.sorted()),
    }
}

fn check_spec(parsed: &Parsed, d: &mut Diagnostics) {
    let s = &parsed.spec;
    let m = &parsed.map;
    if !is_dns_label(&s.platform, 63) {
        d.push_value(m, Level::Error, "platform", format!("platform name `{}` is not a lowercase DNS label", s.platform), Some("use lowercase letters, digits and `-` (at most 63)".into()));
    }
    if s.environments.is_empty() {
        d.error(m, "environments", "the spec has no environments", Some("add one, e.g. `dev: {target: local, flinkVersion: \"2.3\"}`".to_string()));
    }
    for name in s.environments.keys() {
        if !is_dns_label(name, 40) {
            d.error(m, &env_path(name), format!("environment name `{name}` is not a lowercase DNS label of at most 40 characters"), Some("rename it (it becomes a Kubernetes label value and a Prometheus label)".to_string()));
        }
    }
    for (name, job) in &s.jobs {
        let jp = job_path(name);
        if !is_dns_label(name, 45) {
            d.error(m, &jp, format!("job name `{name}` is not a lowercase DNS label of at most 45 characters"), Some("Flink's Kubernetes cluster id (the FlinkDeployment name) must be one; rename the job".to_string()));
        }
        match (&job.jar, &job.sql) {
            (None, None) => d.error(m, &jp, format!("job `{name}` has neither `jar` nor `sql`"), Some("add `jar: URI` or `sql: path/to/script.sql`".to_string())),
            (Some(_), Some(_)) => d.error(m, &child(&jp, "sql"), format!("job `{name}` has both `jar` and `sql`"), Some("keep one of them".to_string())),
            _ => {}
        }
        if job.sql.is_some() && job.entry_class.is_some() {
            d.error(m, &child(&jp, "entryClass"), "`entryClass` is for jar jobs; a SQL job runs through the environment's `sqlRunner`", Some("remove `entryClass`".to_string()));
        }
        if job.parallelism == Some(0) {
            d.error(m, &child(&jp, "parallelism"), "parallelism must be at least 1", None);
        }
        for (i, e) in job.environments.iter().enumerate() {
            if !s.environments.contains_key(e) {
                let help = did_you_mean(e, s.environments.keys().map(String::as_str))
                    .unwrap_or_else(|| format!("environments: {}", s.environments.keys().cloned().collect::<Vec<_>>().join(", ")));
                d.push_value(m, Level::Error, &format!("{}[{i}]", child(&jp, "environments")), format!("job `{name}` names an unknown environment `{e}`"), Some(help));
            }
        }
        if let Some(a) = &job.alerts {
            for (i, c) in a.channels.iter().enumerate() {
                if !s.alerting.channels.contains_key(c) {
                    let help = did_you_mean(c, s.alerting.channels.keys().map(String::as_str))
                        .unwrap_or_else(|| "define it under `alerting.channels`".to_string());
                    d.push_value(m, Level::Error, &format!("{}.alerts.channels[{i}]", jp), format!("job `{name}` routes alerts to an unknown channel `{c}`"), Some(help));
                }
            }
        }
        if let Some(a) = &job.autoscaler {
            let ap = child(&jp, "autoscaler");
            if let Some(t) = a.target_utilization
                && !(t > 0.0 && t <= 1.0) {
                    d.push_value(m, Level::Error, &child(&ap, "targetUtilization"), format!("target utilization {t} is outside (0, 1]"), Some("a fraction of busy time, e.g. 0.7".into()));
                }
            if let (Some(lo), Some(hi)) = (a.min_parallelism, a.max_parallelism)
                && lo > hi {
                    d.error(m, &child(&ap, "minParallelism"), format!("minParallelism {lo} is above maxParallelism {hi}"), Some("swap them".to_string()));
                }
            for (f, v) in [("metricsWindow", &a.metrics_window), ("stabilizationInterval", &a.stabilization_interval), ("scaleDownInterval", &a.scale_down_interval)] {
                check_duration(m, d, &child(&ap, f), v.as_deref());
            }
        }
        check_duration(m, d, &child(&jp, "upgradeHealthTimeout"), job.upgrade_health_timeout.as_deref());
        if let Some(sp) = &job.savepoints {
            let spp = child(&jp, "savepoints");
            check_duration(m, d, &child(&spp, "interval"), sp.interval.as_deref());
            check_duration(m, d, &child(&spp, "maxAge"), sp.max_age.as_deref());
        }
    }
    for (name, c) in &s.alerting.channels {
        let cp = child("alerting.channels", name);
        let kinds = [c.slack.is_some(), c.pagerduty.is_some(), c.email.is_some(), c.webhook.is_some(), c.alertmanager.is_some()];
        let n = kinds.iter().filter(|k| **k).count();
        if n != 1 {
            d.error(m, &cp, format!("channel `{name}` must have exactly one of slack, pagerduty, email, webhook, alertmanager (it has {n})"), Some("split it into one channel per kind".to_string()));
        }
        let mut secrets: Vec<(String, &SecretRef)> = Vec::new();
        if let Some(x) = &c.slack {
            secrets.push((format!("{cp}.slack.webhookUrl"), &x.webhook_url));
        }
        if let Some(x) = &c.pagerduty {
            secrets.push((format!("{cp}.pagerduty.routingKey"), &x.routing_key));
        }
        if let Some(x) = &c.webhook {
            if let Some(t) = &x.bearer_token {
                secrets.push((format!("{cp}.webhook.bearerToken"), t));
            }
            let after_scheme = x.url.split_once("://").map(|(_, r)| r).unwrap_or(&x.url);
            let authority = after_scheme.split('/').next().unwrap_or("");
            if authority.contains('@') {
                d.push_value(m, Level::Error, &format!("{cp}.webhook.url"), "the webhook URL carries credentials (user:password@); the spec only takes references to secrets", Some("remove them from the URL and use `bearerToken: {kubernetesSecret: {name, key}}`".into()));
            }
            if !(x.url.starts_with("http://") || x.url.starts_with("https://")) {
                d.push_value(m, Level::Error, &format!("{cp}.webhook.url"), format!("`{}` is not an http(s) URL", x.url), None);
            }
        }
        if let Some(x) = &c.email {
            if let Some(p) = &x.auth_password {
                secrets.push((format!("{cp}.email.authPassword"), p));
            }
            if x.to.is_empty() {
                d.error(m, &format!("{cp}.email.to"), "an e-mail channel needs at least one recipient", None);
            }
        }
        if let Some(x) = &c.alertmanager
            && x.targets.is_empty() {
                d.error(m, &format!("{cp}.alertmanager.targets"), "an alertmanager channel needs at least one `host:port` target", None);
            }
        for (path, r) in secrets {
            let n = [r.env.is_some(), r.file.is_some(), r.kubernetes_secret.is_some()].iter().filter(|b| **b).count();
            if n != 1 {
                d.error(m, &path, format!("a secret reference needs exactly one of env, file, kubernetesSecret (it has {n})"), Some("e.g. `{kubernetesSecret: {name: alertmanager-secrets, key: slack-url}}`".to_string()));
            } else if let Some(v) = &r.env {
                d.error(
                    m,
                    &format!("{path}.env"),
                    format!("Alertmanager cannot read the environment variable `{v}`: it reads secrets only from files"),
                    Some("use `file: /etc/alertmanager/secrets/...` or `kubernetesSecret: {name, key}` (mounted into Alertmanager)".to_string()),
                );
            }
        }
    }
}

fn check_duration(m: &SourceMap, d: &mut Diagnostics, path: &str, v: Option<&str>) {
    if let Some(v) = v
        && let Err(e) = units::parse_duration(v) {
            d.push_value(m, Level::Error, path, format!("`{v}` is not a duration: {e}"), Some("write e.g. `60s`, `5 min`, `1h`".into()));
        }
}

/// Prometheus duration (`30s`, `5m`, `1h30m`).
pub fn is_prom_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"].into_iter().find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

struct ConfBuilder<'m> {
    conf: Conf,
    map: &'m SourceMap,
}

impl ConfBuilder<'_> {
    fn set(&mut self, key: &str, value: impl Into<String>, origin: &str) {
        self.conf.insert(key.to_string(), Setting { value: value.into(), origin: origin.to_string() });
    }
    /// Applies overrides; a key that a typed field set to a different value is a conflict.
    fn overrides(&mut self, over: &BTreeMap<String, String>, base: &str, typed: &Conf, d: &mut Diagnostics) {
        for (k, v) in over {
            let path = child(base, k);
            if let Some(t) = typed.get(k) {
                if t.value != *v {
                    let at = self.map.value_pos(&t.origin);
                    d.error(
                        self.map,
                        &path,
                        format!("`{k}: {v}` contradicts `{}` (line {}), which sets `{k}` to `{}`", t.origin, at.line, t.value),
                        Some(format!("change `{}` instead, or remove this override", t.origin)),
                    );
                    continue;
                }
                d.push(self.map, Level::Warning, &path, format!("`{k}` is already set to `{v}` by `{}`", t.origin), Some("remove the override".into()));
            }
            self.set(k, v.clone(), &path);
        }
    }
}

fn key_for(cat: Option<&Catalog>, new: &'static str, old: &'static str) -> &'static str {
    match cat {
        Some(c) if c.get(new).is_some() => new,
        Some(_) => old,
        None => new,
    }
}

/// Settings of a tuning profile (real Flink 2.x keys).
pub fn profile_settings(p: Profile) -> &'static [(&'static str, &'static str)] {
    match p {
        Profile::Balanced => &[],
        Profile::LowLatency => &[("execution.buffer-timeout.interval", "10 ms")],
        Profile::HighThroughput => &[("execution.buffer-timeout.interval", "200 ms"), ("taskmanager.memory.network.fraction", "0.15")],
        Profile::MemoryIntensive => &[("taskmanager.memory.managed.fraction", "0.6")],
    }
}

fn plan_env<'s>(parsed: &'s Parsed, name: &str, sql: &SqlScripts, d: &mut Diagnostics) -> Option<EnvPlan<'s>> {
    let spec = &parsed.spec;
    let m = &parsed.map;
    let (name, env) = spec.environments.get_key_value(name)?;
    let name = name.as_str();
    let ep = env_path(name);
    let p = |f: &str| child(&ep, f);

    // Target-specific fields.
    match env.target {
        Target::Kubernetes => {
            match &env.namespace {
                None => d.error(m, &ep, format!("environment `{name}` targets kubernetes but has no `namespace`"), Some("add `namespace: flink-<env>`".to_string())),
                Some(ns) if !is_dns_label(ns, 63) => d.push_value(m, Level::Error, &p("namespace"), format!("namespace `{ns}` is not a lowercase DNS label"), None),
                _ => {}
            }
            if let Some(t) = &env.rest_url {
                let filled = t.replace("{name}", "job").replace("{namespace}", "ns");
                let scheme_ok = filled.starts_with("http://") || filled.starts_with("https://");
                if !scheme_ok || filled.contains('{') || filled.contains('}') || filled[filled.find("://").map_or(0, |i| i + 3)..].split(['/', ':']).next().is_none_or(str::is_empty) {
                    d.push_value(
                        m,
                        Level::Error,
                        &p("restUrl"),
                        format!("`{t}` is not a JobManager REST URL template (http(s)://host[:port], with `{{name}}` and `{{namespace}}` as the only placeholders)"),
                        Some("write e.g. `http://{name}-rest.{namespace}.svc:8081`, or remove it to observe jobs through the operator's status only".to_string()),
                    );
                }
            }
            if env.metrics.port.parse::<u16>().is_err() {
                d.push_value(m, Level::Error, &p("metrics.port"), format!("`{}` is not a port number; on Kubernetes every pod has its own IP, so use one port", env.metrics.port), Some("write `9249`".into()));
            }
        }
        Target::Standalone => {
            if env.rest_url.is_none() {
                d.error(m, &ep, format!("environment `{name}` targets standalone but has no `restUrl`"), Some("add `restUrl: http://host:8081`".to_string()));
            }
            if env.namespace.is_some() {
                d.error(m, &p("namespace"), "`namespace` is for kubernetes environments", Some("remove it".to_string()));
            }
            if env.metrics.targets.is_empty() {
                d.error(m, &p("metrics"), "a standalone environment needs `metrics.targets` (the `host:port` of each JobManager/TaskManager Prometheus reporter)", Some("add `metrics: {targets: [\"jm-host:9249\", \"tm-host:9250\"]}`".to_string()));
            }
        }
        Target::Local => {
            for f in ["namespace", "restUrl"] {
                if m.has(&p(f)) {
                    d.error(m, &p(f), format!("`{f}` has no meaning for a local environment"), Some("remove it".to_string()));
                }
            }
        }
    }
    if env.target != Target::Kubernetes {
        for f in ["image", "sqlRunner", "operator", "storage.ha"] {
            if m.has(&p(f)) {
                d.push(m, Level::Warning, &p(f), format!("`{f}` only applies to kubernetes environments; it is ignored here"), Some("remove it".into()));
            }
        }
        if env.mode == DeploymentMode::Application && m.has(&p("mode")) {
            d.push(m, Level::Warning, &p("mode"), "standalone and local clusters are session clusters; `mode: application` is ignored", None);
        }
    }

    // Version.
    let version = FlinkVersion::parse(&env.flink_version);
    let catalog = match version {
        None => {
            d.push_value(m, Level::Error, &p("flinkVersion"), format!("`{}` is not a Flink version", env.flink_version), Some("write `major.minor` or `major.minor.patch`, e.g. \"2.2\"".into()));
            None
        }
        Some(v) => match Catalog::for_version(&v.to_string()) {
            Ok(c) => Some(c),
            Err(_) => {
                d.push_value(m, Level::Error, &p("flinkVersion"), format!("Flink {v} is not supported by flinkops"), Some(format!("supported: {}", Catalog::known_versions().join(", "))));
                None
            }
        },
    };
    if let (Some(v), Target::Kubernetes) = (version, env.target)
        && v > OPERATOR_MAX_FLINK {
            d.push_value(
                m,
                Level::Error,
                &p("flinkVersion"),
                format!("the Flink Kubernetes Operator 1.15 supports Flink up to {OPERATOR_MAX_FLINK} (`flinkVersion: v2_2`); Flink {v} cannot be deployed by it"),
                Some(format!("use flinkVersion \"{OPERATOR_MAX_FLINK}\" on kubernetes (Flink {v} runs on `local` and `standalone` targets)")),
            );
        }

    // Resources.
    for (f, v) in [("jobManager.memory", &env.job_manager.memory), ("taskManager.memory", &env.task_manager.memory)] {
        if let Err(e) = units::parse_memory_size(v) {
            d.push_value(m, Level::Error, &p(f), format!("`{v}` is not a memory size: {e}"), Some("write e.g. `2g` or `2048m`".into()));
        }
    }
    for (f, v) in [("jobManager.cpu", env.job_manager.cpu), ("taskManager.cpu", env.task_manager.cpu)] {
        if v <= 0.0 {
            d.push_value(m, Level::Error, &p(f), format!("cpu must be above 0 (got {v})"), None);
        }
    }
    for (f, v) in [("jobManager.replicas", env.job_manager.replicas), ("taskManager.replicas", env.task_manager.replicas), ("taskManager.slots", env.task_manager.slots)] {
        if v == 0 {
            d.push_value(m, Level::Error, &p(f), format!("`{f}` must be at least 1"), None);
        }
    }
    if let Some(max) = env.task_manager.max_replicas {
        if max < env.task_manager.replicas {
            d.push_value(m, Level::Error, &p("taskManager.maxReplicas"), format!("maxReplicas {max} is below replicas {}", env.task_manager.replicas), Some("set maxReplicas to at least replicas, or remove it".into()));
        } else if env.target != Target::Local {
            d.push_value(
                m,
                Level::Warning,
                &p("taskManager.maxReplicas"),
                "maxReplicas only applies to `local` targets (serve starts TaskManagers there); it is ignored here",
                Some("on Kubernetes the operator sizes TaskManagers from the job's parallelism; on standalone clusters whoever runs them does".into()),
            );
        }
    }
    if env.parallelism == Some(0) {
        d.push_value(m, Level::Error, &p("parallelism"), "parallelism must be at least 1", None);
    }
    let ha = env.target == Target::Kubernetes && env.storage.ha.is_some();
    if env.target == Target::Kubernetes && env.job_manager.replicas > 1 && !ha {
        d.error(m, &p("jobManager.replicas"), format!("{} JobManagers need high availability, which needs `storage.ha`", env.job_manager.replicas), Some("add `storage: {ha: s3://bucket/ha}` or use one JobManager".to_string()));
    }

    // Checkpointing.
    if let Some(c) = &env.checkpointing {
        let cp = p("checkpointing");
        for (f, v) in [("interval", Some(&c.interval)), ("timeout", c.timeout.as_ref()), ("minPause", c.min_pause.as_ref())] {
            check_duration(m, d, &child(&cp, f), v.map(String::as_str));
        }
        if c.unaligned && c.mode == CheckpointMode::AtLeastOnce {
            d.error(m, &child(&cp, "unaligned"), "unaligned checkpoints need `mode: exactly-once`", Some("remove `unaligned` or switch the mode".to_string()));
        }
        if let (Ok(i), Some(Ok(t))) = (units::parse_duration(&c.interval), c.timeout.as_deref().map(units::parse_duration))
            && t < i {
                d.push(m, Level::Warning, &child(&cp, "timeout"), "the checkpoint timeout is shorter than the interval", None);
            }
        if c.alert_after_missed == 0 {
            d.push_value(m, Level::Error, &child(&cp, "alertAfterMissed"), "alertAfterMissed must be at least 1", None);
        }
        if env.target == Target::Kubernetes && env.storage.checkpoints.is_none() {
            d.error(m, &cp, "checkpointing on kubernetes needs `storage.checkpoints` (pods lose local disks)", Some("add `storage: {checkpoints: s3://bucket/checkpoints}`".to_string()));
        }
    }

    // Alert overrides.
    for (rule, o) in &env.alerts {
        let ap = child(&p("alerts"), rule);
        if !rules::RULE_NAMES.contains(&rule.as_str()) {
            let help = did_you_mean(rule, rules::RULE_NAMES.iter().copied()).unwrap_or_else(|| format!("rules: {}", rules::RULE_NAMES.join(", ")));
            d.error(m, &ap, format!("no alert rule `{rule}`"), Some(help));
        }
        if let Some(f) = &o.for_
            && !is_prom_duration(f) {
                d.push_value(m, Level::Error, &child(&ap, "for"), format!("`{f}` is not a Prometheus duration"), Some("write e.g. `30s`, `5m`, `1h`".into()));
            }
    }
    for (f, v) in [("metrics.scrapeInterval", &env.metrics.scrape_interval), ("metrics.evaluationInterval", &env.metrics.evaluation_interval)] {
        if !is_prom_duration(v) {
            d.push_value(m, Level::Error, &p(f), format!("`{v}` is not a Prometheus duration"), Some("write e.g. `15s`".into()));
        }
    }

    // Environment configuration.
    let mut b = ConfBuilder { conf: Conf::new(), map: m };
    b.set("taskmanager.numberOfTaskSlots", env.task_manager.slots.to_string(), &p("taskManager.slots"));
    if let Some(par) = env.parallelism {
        b.set("parallelism.default", par.to_string(), &p("parallelism"));
    }
    match env.state_backend {
        StateBackend::Rocksdb => {
            b.set("state.backend.type", "rocksdb", &p("stateBackend"));
            b.set(key_for(catalog, "execution.checkpointing.incremental", "state.backend.incremental"), "true", &p("stateBackend"));
        }
        StateBackend::Hashmap => b.set("state.backend.type", "hashmap", &p("stateBackend")),
    }
    if let Some(c) = &env.checkpointing {
        let cp = p("checkpointing");
        b.set("execution.checkpointing.interval", c.interval.clone(), &child(&cp, "interval"));
        let mode = match c.mode {
            CheckpointMode::ExactlyOnce => "EXACTLY_ONCE",
            CheckpointMode::AtLeastOnce => "AT_LEAST_ONCE",
        };
        b.set("execution.checkpointing.mode", mode, &child(&cp, "mode"));
        if let Some(t) = &c.timeout {
            b.set("execution.checkpointing.timeout", t.clone(), &child(&cp, "timeout"));
        }
        if let Some(t) = &c.min_pause {
            b.set("execution.checkpointing.min-pause", t.clone(), &child(&cp, "minPause"));
        }
        if c.unaligned {
            let k = key_for(catalog, "execution.checkpointing.unaligned.enabled", "execution.checkpointing.unaligned");
            b.set(k, "true", &child(&cp, "unaligned"));
        }
        let k = key_for(catalog, "execution.checkpointing.externalized-checkpoint-retention", "execution.checkpointing.externalized-checkpoint-retention");
        b.set(k, "RETAIN_ON_CANCELLATION", &cp);
    }
    if let Some(dir) = &env.storage.checkpoints {
        b.set(key_for(catalog, "execution.checkpointing.dir", "state.checkpoints.dir"), dir.clone(), &p("storage.checkpoints"));
    }
    if let Some(dir) = &env.storage.savepoints {
        b.set(key_for(catalog, "execution.checkpointing.savepoint-dir", "state.savepoints.dir"), dir.clone(), &p("storage.savepoints"));
    }
    if ha
        && let Some(dir) = &env.storage.ha {
            b.set("high-availability.type", "kubernetes", &p("storage.ha"));
            b.set("high-availability.storageDir", dir.clone(), &p("storage.ha"));
        }
    b.set("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory", &p("metrics"));
    b.set("metrics.reporter.prom.port", env.metrics.port.clone(), &p("metrics.port"));
    let typed = b.conf.clone();
    for (k, v) in profile_settings(env.profile) {
        b.set(k, *v, &p("profile"));
    }
    b.overrides(&env.flink_configuration, &p("flinkConfiguration"), &typed, d);
    let env_conf = b.conf;

    // Jobs of this environment.
    let mut jobs = Vec::new();
    for (jname, job) in &spec.jobs {
        if !(job.environments.is_empty() || job.environments.iter().any(|e| e == name)) {
            continue;
        }
        let jp = job_path(jname);
        let jpp = |f: &str| child(&jp, f);
        let mut jb = ConfBuilder { conf: Conf::new(), map: m };
        jb.set("pipeline.name", jname.clone(), &jp);
        if let Some(sp) = &job.savepoints {
            // On local and standalone targets `flinkops serve` takes them and enforces retention.
            if env.target == Target::Kubernetes {
                if env.storage.savepoints.is_none() {
                    d.error(m, &jpp("savepoints"), format!("periodic savepoints need `storage.savepoints` in environment `{name}`"), Some(format!("add `storage: {{savepoints: ...}}` to `{ep}`")));
                }
                if let Some(i) = &sp.interval {
                    jb.set("kubernetes.operator.periodic.savepoint.interval", i.clone(), &jpp("savepoints.interval"));
                }
                if let Some(c) = sp.max_count {
                    jb.set("kubernetes.operator.savepoint.history.max.count", c.to_string(), &jpp("savepoints.maxCount"));
                }
                if let Some(a) = &sp.max_age {
                    jb.set("kubernetes.operator.savepoint.history.max.age", a.clone(), &jpp("savepoints.maxAge"));
                }
            }
        }
        // On local and standalone targets `flinkops serve` runs its own autoscaler from the same
        // section (in place, through the adaptive scheduler).
        if let Some(a) = &job.autoscaler
            && env.target == Target::Kubernetes
        {
            let ap = jpp("autoscaler");
            jb.set("job.autoscaler.enabled", a.enabled.to_string(), &child(&ap, "enabled"));
            if let Some(t) = a.target_utilization {
                jb.set("job.autoscaler.utilization.target", flinkops_config::units::java_double_to_string(t), &child(&ap, "targetUtilization"));
            }
            if let Some(v) = a.min_parallelism {
                jb.set("job.autoscaler.vertex.min-parallelism", v.to_string(), &child(&ap, "minParallelism"));
            }
            if let Some(v) = a.max_parallelism {
                jb.set("job.autoscaler.vertex.max-parallelism", v.to_string(), &child(&ap, "maxParallelism"));
            }
            for (k, v, f) in [
                ("job.autoscaler.metrics.window", &a.metrics_window, "metricsWindow"),
                ("job.autoscaler.stabilization.interval", &a.stabilization_interval, "stabilizationInterval"),
                ("job.autoscaler.scale-down.interval", &a.scale_down_interval, "scaleDownInterval"),
            ] {
                if let Some(v) = v {
                    jb.set(k, v.clone(), &child(&ap, f));
                }
            }
        }
        let jtyped = jb.conf.clone();
        jb.overrides(&job.flink_configuration, &jpp("flinkConfiguration"), &jtyped, d);
        if env.target == Target::Kubernetes {
            match job.upgrade_mode {
                UpgradeMode::LastState if !ha => d.error(m, &jpp("upgradeMode"), format!("`last-state` upgrades need Kubernetes HA, which environment `{name}` does not have"), Some(format!("add `storage.ha` to `{ep}` or use `upgradeMode: savepoint`"))),
                UpgradeMode::Savepoint if env.storage.savepoints.is_none() => d.error(m, &jpp("upgradeMode"), format!("`savepoint` upgrades need `storage.savepoints` in environment `{name}`"), Some(format!("add `storage: {{savepoints: ...}}` to `{ep}` or use `upgradeMode: stateless`"))),
                _ => {}
            }
            if job.upgrade_mode != UpgradeMode::Stateless && env.storage.checkpoints.is_none() {
                d.error(m, &jpp("upgradeMode"), format!("`{}` upgrades need `storage.checkpoints` in environment `{name}` (the operator refuses the deployment without a checkpoint directory)", job.upgrade_mode.crd()), Some(format!("add `storage: {{checkpoints: ...}}` to `{ep}` or use `upgradeMode: stateless`")));
            }
            if job.sql.is_some() && env.sql_runner.is_none() {
                d.error(m, &jpp("sql"), format!("SQL job `{jname}` needs a SQL runner jar in environment `{name}`'s image"), Some(format!("add `sqlRunner: {{jar: local:///opt/flink/usrlib/sql-runner.jar}}` to `{ep}`")));
            }
        }
        let parallelism = job.parallelism.or(env.parallelism).unwrap_or(1);
        let capacity = u64::from(env.task_manager.replicas) * u64::from(env.task_manager.slots);
        if (env.mode == DeploymentMode::Session || env.target != Target::Kubernetes) && u64::from(parallelism) > capacity {
            d.push(m, Level::Warning, &jp, format!("job `{jname}` wants parallelism {parallelism} but environment `{name}` has {capacity} slots"), Some("raise taskManager.replicas/slots or lower the parallelism".into()));
        }
        let sql_text = match &job.sql {
            Some(_) => match sql.get(jname.as_str()) {
                Some(t) => Some(t.clone()),
                None => {
                    d.error(m, &jpp("sql"), format!("the SQL script of job `{jname}` was not loaded"), Some("check that the file exists next to the spec".to_string()));
                    None
                }
            },
            None => None,
        };
        jobs.push(JobPlan { name: jname, job, conf: jb.conf, parallelism, sql: sql_text });
    }

    // Lint the configuration each Flink cluster will get.
    if let (Some(v), Some(cat)) = (version, catalog) {
        let format = if env.target == Target::Kubernetes { Format::FlinkDeployment } else { Format::Platform };
        let mut docs = Vec::new();
        let mut to_doc = |conf: &Conf, resource: String| {
            let items = conf.iter().map(|(k, s)| (k.clone(), s.value.clone(), m.value_pos(&s.origin)));
            let mut doc = model::from_map(&m.file, format, items);
            doc.resource = Some(resource);
            docs.push(doc);
        };
        to_doc(&env_conf, format!("environment {name}"));
        for j in &jobs {
            let mut merged = env_conf.clone();
            merged.extend(j.conf.clone());
            to_doc(&merged, format!("environment {name}, job {}", j.name));
        }
        let previous = if v.major >= 2 { Catalog::for_version("1.20").ok() } else { None };
        let operator = (env.target == Target::Kubernetes).then(Catalog::try_operator).and_then(Result::ok);
        let ctx = LintContext { version: v, flink: cat, previous, operator };
        let mut seen = std::collections::BTreeSet::new();
        for f in lint::lint(&docs, &ctx) {
            let level = match f.severity {
                lint::Severity::Error => Level::Error,
                lint::Severity::Warning => Level::Warning,
                lint::Severity::Info => continue,
            };
            // A finding on an environment key repeats once per job document: keep one.
            if !seen.insert((f.line, f.column, f.code.clone(), f.key.clone())) {
                continue;
            }
            let key = f.key.clone().unwrap_or_default();
            d.at(&m.file, model::Pos::new(f.line, f.column), level, &key, format!("[{}] {} (Flink {v}, environment `{name}`)", f.code, f.message), f.suggestion.clone());
        }
    }

    Some(EnvPlan { platform: &spec.platform, name, env, version: version.unwrap_or(FlinkVersion { major: 0, minor: 0 }), conf: env_conf, jobs, alerting: &spec.alerting, ha })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations() {
        for ok in ["30s", "5m", "1h30m", "100ms"] {
            assert!(is_prom_duration(ok), "{ok}");
        }
        for bad in ["", "5", "5 min", "m", "1.5h"] {
            assert!(!is_prom_duration(bad), "{bad}");
        }
    }

    fn diagnostics(env_yaml: &str) -> Vec<crate::Diagnostic> {
        let text = format!("platform: p\nenvironments:\n  e:\n{env_yaml}");
        let parsed = crate::read::parse("f.yaml", &text).expect("parses");
        validate(&parsed, &SqlScripts::new())
    }

    #[test]
    fn kubernetes_rest_url_is_a_template_and_max_replicas_is_for_local_targets() {
        let k8s = "    target: kubernetes\n    namespace: flink\n    flinkVersion: '2.1'\n";
        let about = |d: &[crate::Diagnostic], what: &str| d.iter().filter(|x| x.message.contains(what)).map(|x| (x.level, x.line)).collect::<Vec<_>>();
        assert!(about(&diagnostics(&format!("{k8s}    restUrl: http://{{name}}-rest.{{namespace}}.svc:8081\n")), "restUrl").is_empty());
        for bad in ["ftp://{name}:8081", "http://{nam}-rest:8081", "http://:8081", "{name}-rest:8081"] {
            let d = diagnostics(&format!("{k8s}    restUrl: '{bad}'\n"));
            assert_eq!(about(&d, "REST URL template"), vec![(Level::Error, 7)], "{bad}: {d:#?}");
        }
        let local = "    target: local\n    flinkVersion: '2.3'\n";
        assert!(about(&diagnostics(&format!("{local}    taskManager: {{replicas: 2, maxReplicas: 3}}\n")), "maxReplicas").is_empty());
        assert_eq!(about(&diagnostics(&format!("{local}    taskManager: {{replicas: 2, maxReplicas: 1}}\n")), "maxReplicas")[0].0, Level::Error);
        assert_eq!(about(&diagnostics(&format!("{k8s}    taskManager: {{replicas: 1, maxReplicas: 3}}\n")), "maxReplicas")[0].0, Level::Warning);
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("flink-prod", 63));
        assert!(!is_dns_label("Flink", 63));
        assert!(!is_dns_label("-a", 63));
    }
}
