//! Rendered artifacts against the real validators: FlinkDeployment/FlinkSessionJob against the
//! operator's CRD schemas (shared/crds, unknown fields made errors), core objects against
//! Kubernetes' own types (k8s-openapi, round-tripped so a dropped field is an unknown field),
//! rules through `promtool check rules` and `promtool test rules`, the Alertmanager config
//! through `amtool check-config`. Tests that need promtool/amtool fail with how to install them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::*;
use crate::output;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn load(rel: &str) -> (Parsed, SqlScripts) {
    let path = repo().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let parsed = crate::parse(rel, &text).unwrap_or_else(|d| panic!("{rel}: {}", d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")));
    let sql = output::load_sql(&parsed, path.parent().unwrap_or(Path::new("."))).unwrap_or_else(|d| panic!("{d:?}"));
    (parsed, sql)
}

fn render_env(rel: &str, env: &str) -> Bundle {
    let (parsed, sql) = load(rel);
    match render(&parsed, env, &sql) {
        Ok(r) => r.bundle,
        Err(d) => panic!("{rel} {env}:\n{}", d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")),
    }
}

/// Every (example, environment) pair.
pub(crate) fn examples() -> Vec<(&'static str, &'static str)> {
    vec![
        ("examples/enterprise/flinkops.yaml", "production"),
        ("examples/enterprise/flinkops.yaml", "staging"),
        ("examples/enterprise/flinkops.yaml", "development"),
        ("examples/local/flinkops.yaml", "local"),
    ]
}

fn docs(text: &str) -> Vec<Value> {
    // The renderer's own YAML must read back as JSON for the validators.
    text.split("\n---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_saphyr::from_str::<Value>(d).unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}\n{d}")))
        .collect()
}

/// A CRD's openAPIV3Schema with `additionalProperties: false` on every object that lists its
/// properties and does not preserve unknown fields.
fn strict_crd_schema(file: &str) -> Value {
    // a copy of shared/crds/flink-kubernetes-operator-1.15.0 (the operator's CRDs), so that a
    // clone anywhere validates against them
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/crds/flink-kubernetes-operator-1.15.0").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (the operator's CRDs, copied from shared/crds)", path.display()));
    let crd: Value = serde_saphyr::from_str(&text).expect("CRD parses");
    let mut schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    fn close(v: &mut Value) {
        match v {
            Value::Object(m) => {
                let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
                if m.contains_key("properties") && !preserve && !m.contains_key("additionalProperties") {
                    m.insert("additionalProperties".into(), Value::Bool(false));
                }
                for (_, c) in m.iter_mut() {
                    close(c);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(close),
            _ => {}
        }
    }
    // Only below `spec`: the root lists no apiVersion/kind/metadata (the API server adds them).
    if let Some(spec) = schema.get_mut("properties").and_then(|p| p.get_mut("spec")) {
        close(spec);
    }
    schema
}

fn crd_errors(validator: &jsonschema::Validator, obj: &Value) -> Vec<String> {
    validator.iter_errors(obj).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

/// Deserializes into the k8s-openapi type and serializes back: any field lost is unknown.
fn k8s_roundtrip<T: serde::de::DeserializeOwned + serde::Serialize>(obj: &Value) -> Result<(), String> {
    let typed: T = serde_json::from_value(obj.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if back != *obj {
        return Err(format!("fields lost in a round trip through Kubernetes' types (unknown or mistyped):\nrendered: {obj}\ntyped:    {back}"));
    }
    Ok(())
}

fn validate_core(obj: &Value) -> Result<(), String> {
    use k8s_openapi::api::{core::v1, rbac::v1 as rbac};
    match obj["kind"].as_str().unwrap_or("") {
        "Namespace" => k8s_roundtrip::<v1::Namespace>(obj),
        "ServiceAccount" => k8s_roundtrip::<v1::ServiceAccount>(obj),
        "ConfigMap" => k8s_roundtrip::<v1::ConfigMap>(obj),
        "Role" => k8s_roundtrip::<rbac::Role>(obj),
        "RoleBinding" => k8s_roundtrip::<rbac::RoleBinding>(obj),
        other => Err(format!("no validator for kind {other}")),
    }
}

/// Validates every Kubernetes object of a bundle; returns (objects validated, failures).
pub(crate) fn validate_bundle(b: &Bundle) -> (usize, Vec<String>) {
    let fd = jsonschema::options().build(&strict_crd_schema("flinkdeployments.flink.apache.org-v1.yml")).expect("FlinkDeployment schema compiles");
    let sj = jsonschema::options().build(&strict_crd_schema("flinksessionjobs.flink.apache.org-v1.yml")).expect("FlinkSessionJob schema compiles");
    let mut n = 0;
    let mut failures = Vec::new();
    for (path, text) in &b.files {
        if !path.starts_with("kubernetes/") {
            continue;
        }
        for obj in docs(text) {
            n += 1;
            let kind = obj["kind"].as_str().unwrap_or("").to_string();
            let errs = match kind.as_str() {
                "FlinkDeployment" => crd_errors(&fd, &obj),
                "FlinkSessionJob" => crd_errors(&sj, &obj),
                // prometheus-operator CRDs are not on this machine: check their shape by hand.
                "PodMonitor" | "PrometheusRule" => {
                    let ok = obj["apiVersion"] == "monitoring.coreos.com/v1" && obj["spec"].is_object() && obj["metadata"]["namespace"].is_string();
                    if ok { Vec::new() } else { vec!["malformed prometheus-operator object".to_string()] }
                }
                _ => validate_core(&obj).err().into_iter().collect(),
            };
            failures.extend(errs.into_iter().map(|e| format!("{path} ({kind}): {e}")));
        }
    }
    (n, failures)
}

#[test]
fn rendered_kubernetes_objects_pass_the_crd_schemas_and_kubernetes_types() {
    let mut total = 0;
    for (spec, env) in examples() {
        let b = render_env(spec, env);
        let (n, failures) = validate_bundle(&b);
        assert!(failures.is_empty(), "{spec} {env}:\n{}", failures.join("\n"));
        total += n;
    }
    println!("examples: {total} Kubernetes objects validated, 0 failures");
    assert!(total >= 20, "only {total} objects validated");
}

mod synthetic {
    include!("../../examples/common/synthetic.rs");
}

#[test]
fn a_large_platform_renders_valid_objects() {
    let text = synthetic::synthetic_spec(3, 50);
    let parsed = crate::parse("bench.yaml", &text).unwrap_or_else(|d| panic!("{d:?}"));
    let (mut objects, mut failures) = (0, Vec::new());
    for e in 0..3 {
        let b = render(&parsed, &format!("env{e}"), &SqlScripts::new()).unwrap_or_else(|d| panic!("{d:?}")).bundle;
        let (n, f) = validate_bundle(&b);
        objects += n;
        failures.extend(f);
    }
    println!("3 environments x 50 jobs: {objects} Kubernetes objects validated, {} failures", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(objects, 3 * (50 + 7));
}

#[test]
fn the_crd_validator_catches_what_the_seed_got_wrong() {
    let fd = jsonschema::options().build(&strict_crd_schema("flinkdeployments.flink.apache.org-v1.yml")).expect("schema");
    let seed = serde_json::json!({
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
        "metadata": {"name": "x"},
        "spec": {"flinkVersion": "1.18", "jobManager": {"resource": {"memory": "2048m", "cpu": "1000m"}},
                 "taskManager": {"horizontalPodAutoscaler": {"minReplicas": 2}}},
    });
    let errs = crd_errors(&fd, &seed);
    assert!(errs.iter().any(|e| e.contains("/spec/flinkVersion")), "{errs:?}");
    assert!(errs.iter().any(|e| e.contains("/spec/jobManager/resource/cpu")), "{errs:?}");
    assert!(errs.iter().any(|e| e.contains("horizontalPodAutoscaler")), "{errs:?}");
    let bad_role = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resource": ["pods"], "verbs": ["get"]}]});
    assert!(validate_core(&bad_role).is_err());
}

#[test]
fn rbac_is_namespaced_and_never_touches_secrets() {
    for (spec, env) in examples().into_iter().filter(|(_, e)| *e != "local") {
        let b = render_env(spec, env);
        let text = &b.files["kubernetes/rbac.yaml"];
        for obj in docs(text) {
            assert!(!obj["kind"].as_str().unwrap_or("").starts_with("Cluster"));
            for r in obj["rules"].as_array().into_iter().flatten() {
                let res: Vec<&str> = r["resources"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                assert!(!res.contains(&"secrets") && !res.contains(&"*"), "{r}");
                assert!(!r["verbs"].as_array().into_iter().flatten().any(|v| v == "*"), "{r}");
            }
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    for (spec, env) in examples() {
        assert_eq!(render_env(spec, env), render_env(spec, env));
    }
}

fn tool(name: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).map(|d| d.join(name)).find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("`{name}` is not installed: run `apt-get install -y {package}` (.ci/run installs it)"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run tool");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn promtool_accepts_the_rules_and_the_prometheus_config() {
    let promtool = tool("promtool", "prometheus");
    for (spec, env) in examples() {
        let b = render_env(spec, env);
        let dir = tempfile::tempdir().expect("tempdir");
        output::write_bundle(&b, &dir.path().join("out")).expect("write");
        let out = dir.path().join("out");
        run(Command::new(&promtool).arg("check").arg("rules").arg(out.join("prometheus/rules.yaml")));
        if env == "local" {
            // check config also checks the rule files it names.
            run(Command::new(&promtool).arg("check").arg("config").arg(out.join("prometheus/prometheus.yml")));
        }
        // Kubernetes environments: Debian's Prometheus is built without Kubernetes service
        // discovery, so its promtool cannot read `kubernetes_sd_configs`; the rules are checked
        // above and the PodMonitor is the equivalent for prometheus-operator.
        if env != "local" {
            let pr = docs(&b.files["kubernetes/monitoring/prometheusrule.yaml"]).remove(0);
            let rf: Value = serde_saphyr::from_str(&b.files["prometheus/rules.yaml"]).expect("rules parse");
            assert_eq!(pr["spec"]["groups"], rf["groups"], "PrometheusRule and rule file differ");
        }
    }
}

#[test]
fn amtool_accepts_the_alertmanager_config() {
    let amtool = tool("amtool", "prometheus-alertmanager");
    for (spec, env) in examples() {
        let b = render_env(spec, env);
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("alertmanager.yaml");
        std::fs::write(&f, &b.files["alertmanager/alertmanager.yaml"]).expect("write");
        run(Command::new(&amtool).arg("check-config").arg(&f));
    }
}

#[test]
fn alertmanager_routes_by_severity_and_job() {
    let amtool = tool("amtool", "prometheus-alertmanager");
    let b = render_env("examples/enterprise/flinkops.yaml", "production");
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("alertmanager.yaml");
    std::fs::write(&f, &b.files["alertmanager/alertmanager.yaml"]).expect("write");
    let route = |labels: &[&str]| -> String {
        let mut c = Command::new(&amtool);
        c.arg("config").arg("routes").arg("test").arg("--config.file").arg(&f);
        c.args(labels);
        let out = c.output().expect("amtool");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").trim().to_string()
    };
    assert_eq!(route(&["flinkops_env=production", "severity=critical", "job_name=real_time_analytics"]), "production-critical");
    assert_eq!(route(&["flinkops_env=production", "severity=warning"]), "production-warning");
    assert_eq!(route(&["flinkops_env=production", "severity=info"]), "null");
    assert_eq!(route(&["flinkops_env=production", "severity=critical", "job_name=order_totals"]), "production-job-order-totals-critical");
    assert_eq!(route(&["flinkops_env=staging", "severity=critical"]), "null");
}

/// Rule unit tests with input series: `promtool test rules`.
#[test]
fn promtool_rule_unit_tests_fire_the_expected_alerts() {
    let promtool = tool("promtool", "prometheus");
    let b = render_env("examples/enterprise/flinkops.yaml", "production");
    let dir = tempfile::tempdir().expect("tempdir");
    // promtool compares annotations exactly; the tests are about which alerts fire, so the
    // rendered rules are used as they are, minus their annotations.
    let mut rules: Value = serde_saphyr::from_str(&b.files["prometheus/rules.yaml"]).expect("rules parse");
    for g in rules["groups"].as_array_mut().into_iter().flatten() {
        for r in g["rules"].as_array_mut().into_iter().flatten() {
            if let Some(o) = r.as_object_mut() {
                o.remove("annotations");
            }
        }
    }
    std::fs::write(dir.path().join("rules.yaml"), emit::yaml(&rules)).expect("write rules");
    let tests = include_str!("../../tests/fixtures/rules-test.yaml");
    std::fs::write(dir.path().join("rules-test.yaml"), tests).expect("write tests");
    let out = run(Command::new(&promtool).current_dir(dir.path()).arg("test").arg("rules").arg("rules-test.yaml"));
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn bad_specs_are_reported_whole_and_render_nothing() {
    let text = std::fs::read_to_string(repo().join("examples/enterprise/flinkops.yaml")).expect("read");
    // Conflicting settings, a Flink version the operator cannot run, an unknown environment,
    // a missing secret reference and a Flink key that does not exist — all at once.
    let bad = text
        .replacen("      metrics.system-resource: \"true\"", "      metrics.system-resource: \"true\"\n      execution.checkpointing.interval: 30s\n      taskmanager.numberOfTaskSlot: \"8\"", 1)
        .replacen("    flinkVersion: \"2.2\"\n    image: flink:2.2-java17\n    storage:\n      checkpoints: s3://staging", "    flinkVersion: \"2.3\"\n    image: flink:2.2-java17\n    storage:\n      checkpoints: s3://staging", 1)
        .replacen("environments: [production, staging]", "environments: [production, stagin]", 1)
        .replacen("        routingKey: {kubernetesSecret: {name: alertmanager-secrets, key: pagerduty-routing-key}}", "        routingKey: {}", 1);
    let parsed = crate::parse("bad.yaml", &bad).expect("parses");
    let sql: SqlScripts = [("order-totals".to_string(), "SELECT 1;".to_string())].into_iter().collect();
    let errs = render(&parsed, "production", &sql).expect_err("must fail");
    let all: Vec<String> = errs.iter().filter(|d| d.level == crate::Level::Error).map(ToString::to_string).collect();
    let has = |s: &str| all.iter().any(|e| e.contains(s));
    assert!(has("contradicts `environments.production.checkpointing.interval`"), "{all:#?}");
    assert!(has("unknown environment `stagin`") && has("did you mean `staging`?"), "{all:#?}");
    assert!(has("exactly one of env, file, kubernetesSecret"), "{all:#?}");
    assert!(
        errs.iter().any(|d| d.message.contains("`taskmanager.numberOfTaskSlot` is not a Flink 2.2 option") && d.help.as_deref().unwrap_or("").contains("taskmanager.numberOfTaskSlots")),
        "{errs:#?}"
    );
    let v = crate::plan::validate(&parsed, &sql);
    assert!(v.iter().any(|d| d.message.contains("supports Flink up to 2.2")), "{v:#?}");
    assert!(all.iter().all(|e| e.starts_with("bad.yaml:")), "{all:#?}");
}

#[test]
fn local_environment_scrapes_the_reporter_range() {
    let b = render_env("examples/local/flinkops.yaml", "local");
    let prom: Value = serde_saphyr::from_str(&b.files["prometheus/prometheus.yml"]).expect("yaml");
    let targets = &prom["scrape_configs"][0]["static_configs"][0]["targets"];
    assert_eq!(targets[0], "127.0.0.1:9249");
    assert_eq!(prom["scrape_configs"][0]["static_configs"][0]["labels"]["flinkops_env"], "local");
    let files: BTreeMap<_, _> = b.files.keys().map(|k| (k.as_str(), ())).collect();
    assert!(files.contains_key("flink/config.yaml") && !files.contains_key("kubernetes/rbac.yaml"));
}
