//! `flinkops config …` end to end: runs the built binary on fixture files. The seed golden test
//! lints every Flink configuration block of the seed document (copied into `golden/seed/`, see
//! `golden/seed/REVIEW.md` for where each came from and why each finding is right) and compares
//! the JSON findings with the reviewed golden files. `UPDATE_GOLDEN=1` rewrites them.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn bin() -> Command {
    let mut c = Command::cargo_bin("flinkops").expect("flinkops binary");
    c.env_remove("FLINKOPS_OUTPUT");
    c
}

fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/golden/seed")
}

fn golden(fixture: &str, version: &str) {
    let dir = seed_dir();
    let out = bin()
        .current_dir(&dir)
        .args(["config", "lint", "--format", "json", "--flink-version", version, fixture])
        .output()
        .expect("runs");
    let code = out.status.code().expect("exit code");
    assert!(code == 0 || code == 1, "exit {code}: {}", String::from_utf8_lossy(&out.stderr));
    let actual: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let golden_path = dir.join(format!("{}.lint-{version}.json", fixture.trim_end_matches(".yaml")));
    let rendered = serde_json::to_string_pretty(&actual).expect("render") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden_path, &rendered).expect("write golden");
    }
    let expected = std::fs::read_to_string(&golden_path).unwrap_or_else(|_| panic!("missing {}", golden_path.display()));
    assert_eq!(rendered, expected, "findings of {fixture} for {version} differ from {}", golden_path.display());
    let has_errors = actual.as_array().expect("array").iter().any(|f| f["severity"] == "error");
    assert_eq!(code, i32::from(has_errors), "exit code follows the errors");
    for f in actual.as_array().expect("array") {
        for field in ["key", "severity", "code", "message", "line", "suggestion", "file", "column"] {
            assert!(f.get(field).is_some(), "finding without {field}: {f}");
        }
    }
}

#[test]
fn seed_flink_application_2_3() {
    golden("flink-application.yaml", "2.3");
}

#[test]
fn seed_flink_application_1_18() {
    golden("flink-application.yaml", "1.18");
}

#[test]
fn seed_flink_ha_config_2_3() {
    golden("flink-ha-config.yaml", "2.3");
}

#[test]
fn seed_flink_ha_config_1_18() {
    golden("flink-ha-config.yaml", "1.18");
}

#[test]
fn seed_flink_autoscaling_2_3() {
    golden("flink-autoscaling.yaml", "2.3");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p
}

#[test]
fn lint_exit_codes_and_text_format() {
    let t = tempfile::tempdir().expect("tempdir");
    let clean = write(t.path(), "config.yaml", "state.backend.type: rocksdb\nexecution:\n  checkpointing:\n    interval: 60 s\n");
    bin().args(["config", "lint"]).arg(&clean).assert().code(0);
    let warn = write(t.path(), "warn.yaml", "taskmanager.numberOfTaskSlot: 4\n");
    let out = bin().args(["config", "lint"]).arg(&warn).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("warn.yaml:1:1: warning[unknown-key]: `taskmanager.numberOfTaskSlot`"), "{text}");
    assert!(text.contains("  = help: did you mean `taskmanager.numberOfTaskSlots`?"), "{text}");
    let bad = write(t.path(), "bad.yaml", "state.backend.type: memory\nexecution.checkpointing.unaligned.enabled: yes\n");
    let out = bin().args(["config", "lint", "--format", "json"]).arg(&bad).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let codes: Vec<&str> = v.as_array().expect("array").iter().filter_map(|f| f["code"].as_str()).collect();
    assert!(codes.contains(&"invalid-state-backend") && codes.contains(&"invalid-value"), "{codes:?}");
    let broken = write(t.path(), "broken.yaml", "a: [1, 2\n");
    let out = bin().args(["config", "lint"]).arg(&broken).arg(&bad).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("broken.yaml:2:1: error[unreadable]") || text.contains("broken.yaml:1:"), "{text}");
    assert!(text.contains("invalid-state-backend"), "other files are still linted: {text}");
    let garbage = t.path().join("garbage.yaml");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 0, 1, 2]).expect("write");
    bin().args(["config", "lint"]).arg(&garbage).assert().code(2);
    bin().args(["config", "lint"]).arg(t.path().join("missing.yaml")).assert().code(2);
    bin().args(["config", "lint", "--flink-version", "9.9"]).arg(&clean).assert().code(2);
}

#[test]
fn lint_sarif() {
    let t = tempfile::tempdir().expect("tempdir");
    let f = write(t.path(), "flink-conf.yaml", "state.backend: rocksdb\n");
    let out = bin().args(["config", "lint", "--format", "sarif"]).arg(&f).output().expect("runs");
    assert_eq!(out.status.code(), Some(1), "legacy file under 2.3 is an error");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif json");
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert!(results.iter().any(|r| r["ruleId"] == "legacy-config-file" && r["level"] == "error"));
}

#[test]
fn migrate_output_lints_clean() {
    let t = tempfile::tempdir().expect("tempdir");
    let legacy = write(
        t.path(),
        "flink-conf.yaml",
        "# 1.x\nstate.backend: filesystem\nstate.checkpoints.dir: s3://b/cp\nrestart-strategy: fixed-delay\nrestart-strategy.fixed-delay.attempts: 3\nrestart-strategy.fixed-delay.delay: 10 s\nhigh-availability: kubernetes\nmetrics.reporter.prom.class: org.apache.flink.metrics.prometheus.PrometheusReporter\nmetrics.reporter.prom.port: 9249\ntaskmanager.network.netty.server.numThreads: 4\ntaskmanager.memory.process.size: 4g\nexecution.checkpointing.interval: 60s\n",
    );
    let out_path = t.path().join("config.yaml");
    bin().args(["config", "migrate"]).arg(&legacy).arg("--out").arg(&out_path).assert().code(0);
    let migrated = std::fs::read_to_string(&out_path).expect("migrated");
    assert!(migrated.contains("restart-strategy.type: fixed-delay"), "{migrated}");
    assert!(migrated.contains("restart-strategy.fixed-delay.attempts: 3"), "{migrated}");
    assert!(migrated.contains("metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory"), "{migrated}");
    assert!(migrated.contains("# taskmanager.network.netty.server.numThreads: 4"), "{migrated}");
    let out = bin().args(["config", "lint", "--format", "json"]).arg(&out_path).output().expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let errors: Vec<_> = v.as_array().expect("array").iter().filter(|f| f["severity"] == "error").collect();
    assert!(errors.is_empty(), "{errors:#?}\n{migrated}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn explain_and_diff() {
    let out = bin().args(["-o", "json", "config", "explain", "state.backend"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["key"], "state.backend.type");
    assert!(v["versions"].as_array().is_some_and(|a| a.iter().any(|x| x == "2.3")));
    bin().args(["config", "explain", "no.such.key"]).assert().code(1);
    let t = tempfile::tempdir().expect("tempdir");
    let a = write(t.path(), "a.yaml", "state.backend: rocksdb\ntaskmanager.memory.process.size: 1g\n");
    let b = write(t.path(), "b.yaml", "state.backend.type: rocksdb\ntaskmanager.memory.process.size: 1024m\n");
    bin().args(["config", "diff"]).arg(&a).arg(&b).assert().code(0);
    let c = write(t.path(), "c.yaml", "state.backend.type: hashmap\n");
    let out = bin().args(["-o", "json", "config", "diff"]).arg(&a).arg(&c).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(rows.as_array().expect("rows").iter().any(|r| r["key"] == "state.backend.type"));
}

/// Findings of `config lint --format json` on one file: (exit code, findings, stderr).
fn lint_json(file: &Path, version: &str) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let out = bin()
        .args(["config", "lint", "--format", "json", "--flink-version", version])
        .arg(file)
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let findings = v.as_array().expect("array").clone();
    (out.status.code(), findings, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Every config flinkops itself writes passes its own checks: the local cluster's generated
/// `config.yaml` (2.x) / `flink-conf.yaml` (1.x) lints against the matching catalog with no error
/// and no warning.
#[test]
fn local_cluster_config_lints_clean() {
    use flinkops_local::cluster::{ClusterOptions, generate_config, render_flat_yaml};
    use flinkops_local::dist::FlinkDist;
    let t = tempfile::tempdir().expect("tempdir");
    for version in ["2.3.0", "2.2.1", "1.20.3", "1.18.1"] {
        let dist = FlinkDist { path: t.path().join("flink").join(version), version: version.into(), source: "pypi".into() };
        let cluster_dir = t.path().join("clusters").join(version);
        let config = generate_config(&cluster_dir, &dist, &ClusterOptions::default(), 6123);
        let rendered = render_flat_yaml(&config);
        let conf_dir = t.path().join("conf").join(version);
        std::fs::create_dir_all(&conf_dir).expect("conf dir");
        let file = write(&conf_dir, dist.config_file_name(), &rendered);
        let (code, findings, stderr) = lint_json(&file, version);
        let bad: Vec<_> = findings.iter().filter(|f| f["severity"] == "error" || f["severity"] == "warning").collect();
        assert!(bad.is_empty(), "Flink {version}: {bad:#?}\n{rendered}");
        assert_eq!(code, Some(0), "Flink {version}: {stderr}");
        assert!(config.len() > 20, "Flink {version}: {} keys", config.len());
    }
}

/// `config migrate` of a realistic 1.x `flink-conf.yaml` (fixtures/flink-conf.yaml): every
/// setting is accounted for, and the `config.yaml` it writes lints without errors under 2.3.
#[test]
fn migrate_of_a_production_flink_conf_lints_without_errors() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/fixtures/flink-conf.yaml");
    let input = std::fs::read_to_string(&fixture).expect("fixture");
    let settings = input.lines().filter(|l| !l.trim_start().starts_with('#') && l.contains(": ")).count();
    let t = tempfile::tempdir().expect("tempdir");
    let out_path = t.path().join("config.yaml");
    let out = bin().args(["config", "migrate", "--to", "2.3"]).arg(&fixture).arg("--out").arg(&out_path).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("({settings} settings)")), "{settings} settings expected: {stderr}");
    let migrated = std::fs::read_to_string(&out_path).expect("migrated");
    for line in ["state.backend.type: rocksdb", "execution.checkpointing.dir: s3://flink-prod/checkpoints", "restart-strategy.type: exponential-delay", "metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory", "# taskmanager.network.netty.server.numThreads: 8"] {
        assert!(migrated.contains(line), "missing `{line}`:\n{migrated}");
    }
    let (code, findings, _) = lint_json(&out_path, "2.3");
    let errors: Vec<_> = findings.iter().filter(|f| f["severity"] == "error").collect();
    assert!(errors.is_empty(), "{errors:#?}\n{migrated}");
    assert_eq!(code, Some(0));
    // The input itself is full of problems for 2.3: the test would pass vacuously otherwise.
    let (code, findings, _) = lint_json(&fixture, "2.3");
    assert_eq!(code, Some(1));
    assert!(findings.iter().filter(|f| f["severity"] == "error").count() > 1, "{findings:#?}");
}

/// An operator `config.yaml` or ConfigMap with only `kubernetes.operator.*` / `job.autoscaler.*`
/// keys lints as operator configuration without `--as operator`: no "Flink ignores it" notes,
/// but unknown operator keys are still found.
#[test]
fn operator_config_is_detected() {
    let t = tempfile::tempdir().expect("tempdir");
    let f = write(t.path(), "config.yaml", "kubernetes.operator.reconcile.interval: 15 s\njob.autoscaler.enabled: true\n");
    let (code, findings, _) = lint_json(&f, "2.3");
    assert_eq!(code, Some(0));
    assert!(findings.is_empty(), "{findings:#?}");
    let cm = write(
        t.path(),
        "operator-cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flink-operator-config\ndata:\n  config.yaml: |\n    kubernetes.operator.reconcile.interval: 15 s\n    kubernetes.operator.reconcile.intervall: 15 s\n",
    );
    let (_, findings, _) = lint_json(&cm, "2.3");
    let codes: Vec<&str> = findings.iter().filter_map(|f| f["code"].as_str()).collect();
    assert_eq!(codes, ["unknown-key"], "{findings:#?}");
    // With one Flink key it is a Flink config: the operator keys get their notes.
    let mixed = write(t.path(), "mixed.yaml", "kubernetes.operator.reconcile.interval: 15 s\nparallelism.default: 2\n");
    let (_, findings, _) = lint_json(&mixed, "2.3");
    assert!(findings.iter().any(|f| f["code"] == "operator-key"), "{findings:#?}");
}
