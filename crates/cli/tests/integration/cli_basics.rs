//! The CLI's contract without a cluster: help that teaches, completions, exit codes for bad
//! input and unreachable peers, `flink list`/`install` on the test home.

use crate::support::{flinkops, flinkops_json, free_port, require_flink};

#[test]
fn help_lists_every_command_with_examples() {
    let out = flinkops().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["flink", "local", "job", "config", "memory", "completions"] {
        assert!(text.contains(cmd), "--help lacks `{cmd}`:\n{text}");
    }
    let out = flinkops().args(["job", "submit", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Examples:") && text.contains("--from-savepoint"), "{text}");
}

#[test]
fn completions_are_generated() {
    let out = flinkops().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("_flinkops"));
}

#[test]
fn installed_versions_are_listed() {
    require_flink("2.3.0");
    let v = flinkops_json(&["flink", "list"]);
    let versions: Vec<&str> = v.as_array().unwrap().iter().filter_map(|d| d["version"].as_str()).collect();
    assert!(versions.contains(&"2.3.0"), "{v}");
    // Installing an installed version is a no-op that says so.
    let v = flinkops_json(&["flink", "install", "2.3.0"]);
    assert_eq!(v["downloaded"], false);
    assert_eq!(v["dist"]["version"], "2.3.0");
}

#[test]
fn bad_versions_are_input_errors() {
    for (version, expect) in [("1.17", "1.18 and newer"), ("two", "MAJOR.MINOR"), ("9.9", "1.18 to 2.x")] {
        let out = flinkops().args(["flink", "install", version]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{version}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{version}: {err}");
    }
}

#[test]
fn a_version_pypi_does_not_have_is_reported() {
    let out = flinkops().args(["flink", "install", "1.18.99"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no release matching") && err.contains("apache-flink-libraries==1.18.99"), "{err}");
    // Nothing half-installed stays behind.
    let leftovers: Vec<_> = std::fs::read_dir(crate::support::test_home().join("flink"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".install-") || e.file_name() == "1.18.99")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn unreachable_rest_url_names_the_url() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = flinkops().args(["job", "list", "--rest", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[test]
fn job_commands_without_a_cluster_say_how_to_start_one() {
    let out = flinkops().args(["job", "list", "--cluster", "no-such-cluster"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("flinkops local up") && err.contains("no-such-cluster"), "{err}");
}

#[test]
fn malformed_job_ids_are_rejected_before_any_request() {
    let out = flinkops().args(["job", "status", "not-a-job-id", "--rest", "http://127.0.0.1:1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-a-job-id"));
}

#[test]
fn missing_java_says_how_to_install_it() {
    let out = flinkops().args(["local", "up", "--name", "no-java"]).env("JAVA_HOME", "/nonexistent-jdk").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent-jdk") && err.contains("openjdk-17"), "{err}");
}
