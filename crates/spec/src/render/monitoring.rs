//! Monitoring artifacts of an environment: Prometheus scrape config (plain and as a
//! prometheus-operator PodMonitor), the alert rules (plain rule file and PrometheusRule), a
//! complete `prometheus.yml`, the Alertmanager config routing by severity to the spec's channels
//! (secrets as `*_file` paths), and the Grafana dashboard (JSON and a sidecar ConfigMap).

use serde_json::{Value, json};

use crate::plan::EnvPlan;
use crate::rules::{self, ENV_LABEL, Rule, prom_label};
use crate::types::{Channel, SecretRef, Severity, Target};

/// Where Alertmanager finds the files of Kubernetes Secrets (prometheus-operator mounts an
/// Alertmanager's `spec.secrets` there).
pub const SECRET_MOUNT: &str = "/etc/alertmanager/secrets";

/// Scrape targets of a local/standalone environment: the spec's, else the local reporter range.
pub fn static_targets(p: &EnvPlan<'_>) -> Vec<String> {
    if !p.env.metrics.targets.is_empty() {
        return p.env.metrics.targets.clone();
    }
    let port = &p.env.metrics.port;
    let (lo, hi) = match port.split_once('-') {
        Some((a, b)) => (a.trim().parse::<u16>().unwrap_or(9249), b.trim().parse::<u16>().unwrap_or(9249)),
        None => {
            let v = port.trim().parse::<u16>().unwrap_or(9249);
            (v, v)
        }
    };
    (lo..=hi.min(lo.saturating_add(15))).map(|port| format!("127.0.0.1:{port}")).collect()
}

/// The plain `scrape_configs` entry.
pub fn scrape_config(p: &EnvPlan<'_>) -> Value {
    match p.env.target {
        Target::Kubernetes => json!({
            "job_name": format!("flink-{}", p.name),
            "scrape_interval": p.env.metrics.scrape_interval,
            "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [p.namespace()]}}],
            "relabel_configs": [
                {"source_labels": ["__meta_kubernetes_pod_label_type"], "regex": "flink-native-kubernetes", "action": "keep"},
                {"source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": "metrics", "action": "keep"},
                {"target_label": ENV_LABEL, "replacement": p.name, "action": "replace"},
                {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace", "action": "replace"},
                {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod", "action": "replace"},
                {"source_labels": ["__meta_kubernetes_pod_label_component"], "target_label": "component", "action": "replace"},
                {"source_labels": ["__meta_kubernetes_pod_label_app"], "target_label": "cluster", "action": "replace"},
            ],
        }),
        Target::Standalone | Target::Local => json!({
            "job_name": format!("flink-{}", p.name),
            "scrape_interval": p.env.metrics.scrape_interval,
            "static_configs": [{"targets": static_targets(p), "labels": {ENV_LABEL: p.name}}],
        }),
    }
}

/// A prometheus-operator PodMonitor equivalent to [`scrape_config`] (Kubernetes only).
pub fn pod_monitor(p: &EnvPlan<'_>) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": format!("flink-{}", p.name), "namespace": p.namespace(), "labels": super::kube::labels(p, "monitoring")},
        "spec": {
            "namespaceSelector": {"matchNames": [p.namespace()]},
            "selector": {"matchLabels": {"type": "flink-native-kubernetes"}},
            "podMetricsEndpoints": [{
                "port": "metrics",
                "interval": p.env.metrics.scrape_interval,
                "relabelings": [
                    {"targetLabel": ENV_LABEL, "replacement": p.name, "action": "replace"},
                    {"sourceLabels": ["__meta_kubernetes_pod_label_component"], "targetLabel": "component", "action": "replace"},
                    {"sourceLabels": ["__meta_kubernetes_pod_label_app"], "targetLabel": "cluster", "action": "replace"},
                ],
            }],
        },
    })
}

fn rule_json(r: &Rule, base: Option<&str>) -> Value {
    json!({
        "alert": r.name,
        "expr": r.expr,
        "for": r.for_,
        "labels": {"severity": r.severity.as_str()},
        "annotations": {"summary": r.summary, "description": r.description, "runbook_url": rules::runbook_url(base, r.name)},
    })
}

/// The rule groups (one group per environment).
pub fn rule_groups(p: &EnvPlan<'_>) -> Value {
    let base = p.alerting.runbook_base_url.as_deref();
    let rules: Vec<Value> = rules::rules(p).iter().map(|r| rule_json(r, base)).collect();
    json!([{"name": format!("flinkops-{}", p.name), "rules": rules}])
}

/// The plain Prometheus rule file.
pub fn rule_file(p: &EnvPlan<'_>) -> Value {
    json!({"groups": rule_groups(p)})
}

/// The PrometheusRule (prometheus-operator).
pub fn prometheus_rule(p: &EnvPlan<'_>) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": format!("flink-{}", p.name), "namespace": p.namespace(), "labels": super::kube::labels(p, "monitoring")},
        "spec": {"groups": rule_groups(p)},
    })
}

fn alertmanager_targets(p: &EnvPlan<'_>) -> Vec<String> {
    let mut t: Vec<String> = p.alerting.channels.values().filter_map(|c| c.alertmanager.as_ref()).flat_map(|a| a.targets.iter().cloned()).collect();
    t.sort();
    t.dedup();
    t
}

/// A complete `prometheus.yml` (rule file next to it as `rules.yaml`).
pub fn prometheus_config(p: &EnvPlan<'_>) -> Value {
    let mut v = json!({
        "global": {"scrape_interval": p.env.metrics.scrape_interval, "evaluation_interval": p.env.metrics.evaluation_interval},
        "rule_files": ["rules.yaml"],
        "scrape_configs": [scrape_config(p)],
    });
    let targets = alertmanager_targets(p);
    if !targets.is_empty() {
        v["alerting"] = json!({"alertmanagers": [{"static_configs": [{"targets": targets}]}]});
    }
    v
}

/// The file Alertmanager reads a secret from.
pub fn secret_file(r: &SecretRef) -> String {
    match (&r.file, &r.kubernetes_secret) {
        (Some(f), _) => f.clone(),
        (None, Some(k)) => format!("{SECRET_MOUNT}/{}/{}", k.name, k.key),
        // env references are rejected by validation (Alertmanager reads files only).
        (None, None) => String::new(),
    }
}

fn add_channel(receiver: &mut serde_json::Map<String, Value>, c: &Channel) {
    let mut push = |kind: &str, cfg: Value| {
        let list = receiver.entry(kind.to_string()).or_insert_with(|| json!([]));
        if let Value::Array(a) = list {
            a.push(cfg);
        }
    };
    if let Some(s) = &c.slack {
        push("slack_configs", json!({"api_url_file": secret_file(&s.webhook_url), "channel": s.channel, "send_resolved": true, "title": "{{ .CommonAnnotations.summary }}", "text": "{{ range .Alerts }}{{ .Annotations.description }} Runbook: {{ .Annotations.runbook_url }}\n{{ end }}"}));
    }
    if let Some(pd) = &c.pagerduty {
        push("pagerduty_configs", json!({"routing_key_file": secret_file(&pd.routing_key), "send_resolved": true, "description": "{{ .CommonAnnotations.summary }}"}));
    }
    if let Some(e) = &c.email {
        let mut cfg = json!({"to": e.to.join(", "), "from": e.from, "smarthost": e.smarthost, "require_tls": e.require_tls, "send_resolved": true});
        if let Some(u) = &e.auth_username {
            cfg["auth_username"] = json!(u);
        }
        if let Some(pw) = &e.auth_password {
            cfg["auth_password_file"] = json!(secret_file(pw));
        }
        push("email_configs", cfg);
    }
    if let Some(w) = &c.webhook {
        let mut cfg = json!({"url": w.url, "send_resolved": true});
        if let Some(t) = &w.bearer_token {
            cfg["http_config"] = json!({"authorization": {"type": "Bearer", "credentials_file": secret_file(t)}});
        }
        push("webhook_configs", cfg);
    }
}

/// The receiver for a set of channels at one severity (None when no channel takes it).
fn receiver(name: String, p: &EnvPlan<'_>, channels: &[&str], sev: Severity) -> Option<Value> {
    let mut r = serde_json::Map::new();
    for c in channels {
        let Some(ch) = p.alerting.channels.get(*c) else { continue };
        if ch.alertmanager.is_some() {
            continue;
        }
        if ch.severities.is_empty() || ch.severities.contains(&sev) {
            add_channel(&mut r, ch);
        }
    }
    if r.is_empty() {
        return None;
    }
    r.insert("name".into(), json!(name));
    Some(Value::Object(r))
}

/// The Alertmanager configuration: alerts of this environment grouped by rule and job, routed
/// by severity to the channels subscribed to it; jobs with their own channels first.
pub fn alertmanager_config(p: &EnvPlan<'_>) -> Value {
    let all: Vec<&str> = p.alerting.channels.keys().map(String::as_str).collect();
    let mut receivers = vec![json!({"name": "null"})];
    let mut routes = Vec::new();
    for j in &p.jobs {
        let Some(a) = &j.job.alerts else { continue };
        let chans: Vec<&str> = a.channels.iter().map(String::as_str).collect();
        let mut sub = Vec::new();
        for sev in Severity::ALL {
            let name = format!("{}-job-{}-{}", p.name, j.name, sev.as_str());
            let recv = receiver(name.clone(), p, &chans, sev);
            let target = if recv.is_some() { name } else { "null".to_string() };
            if let Some(r) = recv {
                receivers.push(r);
            }
            sub.push(json!({"matchers": [format!("severity=\"{}\"", sev.as_str())], "receiver": target}));
        }
        routes.push(json!({"matchers": [format!("job_name=\"{}\"", prom_label(j.name))], "receiver": "null", "routes": sub}));
    }
    for sev in Severity::ALL {
        let name = format!("{}-{}", p.name, sev.as_str());
        if let Some(r) = receiver(name.clone(), p, &all, sev) {
            receivers.push(r);
            routes.push(json!({"matchers": [format!("severity=\"{}\"", sev.as_str())], "receiver": name}));
        }
    }
    json!({
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "null",
            "group_by": ["alertname", ENV_LABEL, "job_name"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [{"matchers": [format!("{ENV_LABEL}=\"{}\"", p.name)], "receiver": "null", "routes": routes}],
        },
        "inhibit_rules": [{
            "source_matchers": ["alertname=\"FlinkJobManagerDown\""],
            "target_matchers": ["severity=~\"warning|info\""],
            "equal": [ENV_LABEL],
        }],
        "receivers": receivers,
    })
}

fn panel(id: u32, title: &str, kind: &str, grid: (u32, u32, u32, u32), targets: &[(&str, &str)], unit: &str) -> Value {
    let targets: Vec<Value> = targets
        .iter()
        .enumerate()
        .map(|(i, (expr, legend))| {
            json!({"datasource": {"type": "prometheus", "uid": "${datasource}"}, "expr": expr, "legendFormat": legend, "refId": char::from(b'A' + u8::try_from(i).unwrap_or(0)).to_string()})
        })
        .collect();
    json!({
        "id": id,
        "title": title,
        "type": kind,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"x": grid.0, "y": grid.1, "w": grid.2, "h": grid.3},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": targets,
    })
}

/// The Grafana dashboard of an environment (variables: data source and job).
pub fn dashboard(p: &EnvPlan<'_>) -> Value {
    let s = format!("{ENV_LABEL}=\"{}\", job_name=~\"$job\"", p.name);
    let e = format!("{ENV_LABEL}=\"{}\"", p.name);
    let panels = vec![
        panel(1, "Running jobs", "stat", (0, 0, 6, 4), &[(&format!("count(flink_jobmanager_job_uptime{{{s}}} > 0) or vector(0)"), "running")], "none"),
        panel(2, "TaskManagers", "stat", (6, 0, 6, 4), &[(&format!("sum(flink_jobmanager_numRegisteredTaskManagers{{{e}}})"), "registered")], "none"),
        panel(3, "Free task slots", "stat", (12, 0, 6, 4), &[(&format!("sum(flink_jobmanager_taskSlotsAvailable{{{e}}})"), "free"), (&format!("sum(flink_jobmanager_taskSlotsTotal{{{e}}})"), "total")], "none"),
        panel(4, "Restarts (1h)", "stat", (18, 0, 6, 4), &[(&format!("sum by (job_name) (delta(flink_jobmanager_job_numRestarts{{{s}}}[1h]))"), "{{job_name}}")], "none"),
        panel(5, "Job uptime", "timeseries", (0, 4, 12, 8), &[(&format!("flink_jobmanager_job_uptime{{{s}}}"), "{{job_name}}")], "ms"),
        panel(6, "Records in / out per second", "timeseries", (12, 4, 12, 8), &[
            (&format!("sum by (job_name) (flink_taskmanager_job_task_numRecordsInPerSecond{{{s}}})"), "{{job_name}} in"),
            (&format!("sum by (job_name) (flink_taskmanager_job_task_numRecordsOutPerSecond{{{s}}})"), "{{job_name}} out"),
        ], "rps"),
        panel(7, "Checkpoint duration", "timeseries", (0, 12, 8, 8), &[(&format!("flink_jobmanager_job_lastCheckpointDuration{{{s}}}"), "{{job_name}}")], "ms"),
        panel(8, "Checkpoint size", "timeseries", (8, 12, 8, 8), &[(&format!("flink_jobmanager_job_lastCheckpointSize{{{s}}}"), "{{job_name}}")], "bytes"),
        panel(9, "Failed checkpoints (10m)", "timeseries", (16, 12, 8, 8), &[(&format!("delta(flink_jobmanager_job_numberOfFailedCheckpoints{{{s}}}[10m])"), "{{job_name}}")], "none"),
        panel(10, "Busy time per vertex", "timeseries", (0, 20, 12, 8), &[(&format!("max by (job_name, task_name) (flink_taskmanager_job_task_busyTimeMsPerSecond{{{s}}})"), "{{job_name}} {{task_name}}")], "ms"),
        panel(11, "Backpressured time per vertex", "heatmap", (12, 20, 12, 8), &[(&format!("max by (job_name, task_name) (flink_taskmanager_job_task_backPressuredTimeMsPerSecond{{{s}}})"), "{{job_name}} {{task_name}}")], "ms"),
        panel(12, "TaskManager heap used / max", "timeseries", (0, 28, 12, 8), &[
            (&format!("flink_taskmanager_Status_JVM_Memory_Heap_Used{{{e}}}"), "{{tm_id}} used"),
            (&format!("flink_taskmanager_Status_JVM_Memory_Heap_Max{{{e}}}"), "{{tm_id}} max"),
        ], "bytes"),
        panel(13, "GC time per second", "timeseries", (12, 28, 12, 8), &[(&format!("flink_taskmanager_Status_JVM_GarbageCollector_All_TimeMsPerSecond{{{e}}}"), "{{tm_id}}")], "ms"),
    ];
    json!({
        "uid": format!("flinkops-{}", p.name),
        "title": format!("Flink — {} / {}", p.platform, p.name),
        "tags": ["flink", "flinkops", p.platform, p.name],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": true,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"},
            {
                "name": "job", "type": "query", "label": "Job", "includeAll": true, "multi": true, "allValue": ".*",
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "query": {"query": format!("label_values(flink_jobmanager_job_uptime{{{e}}}, job_name)"), "refId": "jobs"},
                "refresh": 2,
            },
        ]},
        "panels": panels,
    })
}

/// The ConfigMap Grafana's dashboard sidecar picks up (label `grafana_dashboard: "1"`).
pub fn dashboard_configmap(p: &EnvPlan<'_>) -> Value {
    let mut labels = super::kube::labels(p, "monitoring");
    labels["grafana_dashboard"] = json!("1");
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": format!("flink-{}-dashboard", p.name), "namespace": p.namespace(), "labels": labels},
        "data": {format!("flinkops-{}.json", p.name): super::emit::json(&dashboard(p))},
    })
}

/// Every monitoring file of the environment, path → text.
pub fn files(p: &EnvPlan<'_>) -> Vec<(String, String)> {
    use super::emit::{json as js, yaml};
    let mut out = vec![
        ("prometheus/prometheus.yml".to_string(), yaml(&prometheus_config(p))),
        ("prometheus/scrape-config.yaml".to_string(), yaml(&json!({"scrape_configs": [scrape_config(p)]}))),
        ("prometheus/rules.yaml".to_string(), yaml(&rule_file(p))),
        ("alertmanager/alertmanager.yaml".to_string(), yaml(&alertmanager_config(p))),
        ("grafana/dashboard.json".to_string(), js(&dashboard(p))),
    ];
    if p.env.target == Target::Kubernetes {
        out.push(("kubernetes/monitoring/podmonitor.yaml".to_string(), yaml(&pod_monitor(p))));
        out.push(("kubernetes/monitoring/prometheusrule.yaml".to_string(), yaml(&prometheus_rule(p))));
        out.push(("kubernetes/monitoring/grafana-dashboard.yaml".to_string(), yaml(&dashboard_configmap(p))));
    }
    out
}
