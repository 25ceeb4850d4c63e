//! Lint tests on small hand-built catalogs (the plain-data contract of `catalog.rs`).

use super::*;
use crate::catalog::{Catalog, OptionInfo, OptionType, PrefixFamily};
use crate::model::{Hint, load_str};

pub(crate) fn opt(key: &str, ty: OptionType, default: Option<&str>) -> OptionInfo {
    OptionInfo {
        key: key.into(),
        ty,
        default: default.map(str::to_string),
        fallback_keys: vec![],
        deprecated_keys: vec![],
        deprecated: false,
        description: String::new(),
        declared_in: String::new(),
        default_note: None,
        hidden: false,
        also_declared_in: vec![],
    }
}

pub(crate) fn flink23() -> Catalog {
    let mut backend = opt("state.backend.type", OptionType::String, Some("hashmap"));
    backend.deprecated_keys = vec!["state.backend".into()];
    backend.description = "The state backend to be used to store state.\nRecognized shortcut names are 'hashmap', 'rocksdb' and 'forst'.".into();
    let mut restart = opt("restart-strategy.type", OptionType::String, None);
    restart.deprecated_keys = vec!["restart-strategy".into()];
    restart.description = "Defines the restart strategy.\nAccepted values are:\n- `disable`, `off`, `none`: No restart strategy.\n- `fixed-delay`, `fixeddelay`: Fixed delay.\n- `failure-rate`, `failurerate`: Failure rate.\n- `exponential-delay`, `exponentialdelay`: Exponential delay.".into();
    let mut unaligned = opt("execution.checkpointing.unaligned.enabled", OptionType::Boolean, Some("false"));
    unaligned.deprecated_keys = vec!["execution.checkpointing.unaligned".into()];
    let mut dir = opt("execution.checkpointing.dir", OptionType::String, None);
    dir.deprecated_keys = vec!["state.checkpoints.dir".into()];
    Catalog::new(
        "2.3.0",
        vec![
            backend,
            restart,
            unaligned,
            dir,
            opt("restart-strategy.fixed-delay.attempts", OptionType::Integer, Some("1")),
            opt("restart-strategy.fixed-delay.delay", OptionType::Duration, Some("1 s")),
            opt("execution.checkpointing.interval", OptionType::Duration, None),
            opt("execution.checkpointing.timeout", OptionType::Duration, Some("10 min")),
            opt(
                "execution.checkpointing.mode",
                OptionType::Enum { values: vec!["EXACTLY_ONCE".into(), "AT_LEAST_ONCE".into()] },
                Some("EXACTLY_ONCE"),
            ),
            opt("state.backend.rocksdb.block.cache-size", OptionType::MemorySize, Some("8 mb")),
            opt("state.backend.rocksdb.memory.managed", OptionType::Boolean, Some("true")),
            opt("state.backend.incremental", OptionType::Boolean, Some("false")),
            opt("taskmanager.numberOfTaskSlots", OptionType::Integer, Some("1")),
            opt("taskmanager.memory.process.size", OptionType::MemorySize, None),
            opt("jobmanager.memory.process.size", OptionType::MemorySize, None),
            opt("kubernetes.taskmanager.cpu.amount", OptionType::Double, Some("1.0")),
            opt("kubernetes.jobmanager.cpu.amount", OptionType::Double, Some("1.0")),
            opt("parallelism.default", OptionType::Integer, Some("1")),
            opt("pipeline.jars", OptionType::List { element: Box::new(OptionType::String) }, None),
        ],
        vec![PrefixFamily {
            prefix: "metrics.reporter.".into(),
            description: "reporters".into(),
            name_segment: Some("name".into()),
            sources: vec![],
            options: vec![
                opt("factory.class", OptionType::String, None),
                opt("port", OptionType::String, None),
                opt("<parameter>", OptionType::String, None),
            ],
        }],
    )
}

pub(crate) fn flink120() -> Catalog {
    let mut netty = opt("taskmanager.network.netty.server.numThreads", OptionType::Integer, Some("-1"));
    netty.deprecated = true;
    netty.deprecated_keys = vec!["taskmanager.net.server.numThreads".into()];
    netty.description = "The number of Netty server threads.".into();
    let mut async_ = opt("state.backend.async", OptionType::Boolean, Some("true"));
    async_.deprecated = true;
    async_.description = "Deprecated option. All state snapshots are asynchronous.".into();
    let cur = flink23();
    let mut options = cur.options.clone();
    options.retain(|o| o.key != "execution.checkpointing.dir");
    options.extend([netty, async_]);
    Catalog::new("1.20.3", options, cur.prefixes.clone())
}

pub(crate) fn operator() -> Catalog {
    Catalog::new(
        "operator-1.15.0",
        vec![
            opt("job.autoscaler.enabled", OptionType::Boolean, Some("false")),
            opt("job.autoscaler.target.utilization", OptionType::Double, Some("0.7")),
            opt("kubernetes.operator.leader-election.lease-duration", OptionType::Duration, Some("15 s")),
        ],
        vec![],
    )
}

fn run(name: &str, text: &str, version: &str) -> Vec<Finding> {
    let (c, p, o) = (flink23(), flink120(), operator());
    let v = FlinkVersion::parse(version).expect("version");
    let ctx = LintContext {
        version: v,
        flink: if v.major >= 2 { &c } else { &p },
        previous: (v.major >= 2).then_some(&p),
        operator: Some(&o),
    };
    let docs = load_str(name, text, Hint::Auto).expect("parses");
    lint(&docs, &ctx)
}

fn codes_of(f: &[Finding]) -> Vec<(String, u32)> {
    f.iter().map(|f| (f.code.clone(), f.line)).collect()
}

fn has(f: &[Finding], code: &str, line: u32) -> bool {
    f.iter().any(|x| x.code == code && x.line == line)
}

#[test]
fn clean_config_has_no_findings() {
    let f = run(
        "config.yaml",
        "state.backend.type: rocksdb\nexecution:\n  checkpointing:\n    interval: 60 s\n    mode: exactly_once\ntaskmanager.numberOfTaskSlots: 4\n",
        "2.3",
    );
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn unknown_deprecated_removed() {
    let f = run(
        "config.yaml",
        "taskmanager.numberOfTaskSlot: 4\nstate.backend: rocksdb\ntaskmanager.network.netty.server.numThreads: 4\ntaskmanager.net.server.numThreads: 4\nstate.backend.async: true\n",
        "2.3.0",
    );
    assert!(has(&f, codes::UNKNOWN_KEY, 1), "{:?}", codes_of(&f));
    let unknown = f.iter().find(|x| x.code == codes::UNKNOWN_KEY).expect("unknown");
    assert_eq!(unknown.suggestion.as_deref(), Some("did you mean `taskmanager.numberOfTaskSlots`?"));
    assert!(has(&f, codes::DEPRECATED_KEY, 2));
    assert!(has(&f, codes::REMOVED_KEY, 3));
    assert!(has(&f, codes::REMOVED_KEY, 4));
    assert!(has(&f, codes::REMOVED_KEY, 5));
    let async_ = f.iter().find(|x| x.line == 5).expect("async");
    assert!(async_.suggestion.as_deref().is_some_and(|s| s.contains("asynchronous")), "{async_:?}");
}

#[test]
fn values_are_checked_by_type() {
    let f = run(
        "config.yaml",
        "execution.checkpointing.unaligned.enabled: yes\ntaskmanager.numberOfTaskSlots: 4.0\nexecution.checkpointing.interval: 1.5 s\nexecution.checkpointing.mode: exactly-once\nstate.backend.rocksdb.block.cache-size: 64 MiB\nrestart-strategy.type: fixed\n",
        "2.3",
    );
    for line in 1..=6 {
        assert!(f.iter().any(|x| x.line == line && (x.code == codes::INVALID_VALUE)), "line {line}: {:?}", codes_of(&f));
    }
}

#[test]
fn semantic_checks() {
    let f = run(
        "config.yaml",
        "state.backend.type: filesystem\nstate.backend.rocksdb.block.cache-size: 64m\nexecution.checkpointing.interval: 10 min\nexecution.checkpointing.timeout: 1 min\nexecution.checkpointing.mode: AT_LEAST_ONCE\nexecution.checkpointing.unaligned: true\nmetrics.reporter.prom.class: org.apache.flink.metrics.prometheus.PrometheusReporter\nmetrics.reporter.jmx.port: 9999\n",
        "2.3",
    );
    assert!(has(&f, codes::INVALID_STATE_BACKEND, 1), "{:?}", codes_of(&f));
    assert!(has(&f, codes::ROCKSDB_OPTION_UNUSED, 2));
    assert!(has(&f, codes::CHECKPOINT_TIMEOUT, 4));
    assert!(has(&f, codes::UNALIGNED_AT_LEAST_ONCE, 6));
    assert!(has(&f, codes::REPORTER_CLASS, 7));
    assert!(has(&f, codes::REPORTER_NO_FACTORY, 8));
    let rc = f.iter().find(|x| x.code == codes::REPORTER_CLASS).expect("reporter");
    assert!(rc.suggestion.as_deref().is_some_and(|s| s.contains("PrometheusReporterFactory")));
    let f = run("config.yaml", "state.backend.type: rocksdb\nstate.backend.rocksdb.block.cache-size: 64m\n", "2.3");
    assert!(has(&f, codes::ROCKSDB_SETTING_IGNORED, 2), "{:?}", codes_of(&f));
}

#[test]
fn shadowed_alias() {
    let f = run("config.yaml", "state.backend: rocksdb\nstate.backend.type: hashmap\n", "2.3");
    assert!(has(&f, codes::SHADOWED_KEY, 1), "{:?}", codes_of(&f));
}

#[test]
fn legacy_file_under_2x_and_1x() {
    let f = run("conf/flink-conf.yaml", "state.backend: rocksdb\n", "2.3");
    assert!(has(&f, codes::LEGACY_CONFIG_FILE, 1), "{:?}", codes_of(&f));
    let f = run("conf/flink-conf.yaml", "state.backend.type: rocksdb\n", "1.20");
    assert!(!f.iter().any(|x| x.severity == Severity::Error), "{f:#?}");
}

#[test]
fn operator_keys_by_context() {
    let f = run("config.yaml", "job.autoscaler.enabled: true\nkubernetes.operator.leader.election.lease-duration: 15s\n", "2.3");
    assert!(f.iter().any(|x| x.code == codes::OPERATOR_KEY && x.severity == Severity::Info && x.line == 1), "{f:#?}");
    let u = f.iter().find(|x| x.code == codes::UNKNOWN_KEY && x.line == 2).expect("unknown operator key");
    assert_eq!(u.suggestion.as_deref(), Some("did you mean `kubernetes.operator.leader-election.lease-duration`?"));
    let fd = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: a\nspec:\n  flinkVersion: v2_2\n  flinkConfiguration:\n    job.autoscaler.enabled: \"true\"\n    job.autoscaler.target.utilization: \"high\"\n";
    let f = run("fd.yaml", fd, "2.3");
    assert!(!f.iter().any(|x| x.code == codes::OPERATOR_KEY), "{f:#?}");
    assert!(has(&f, codes::INVALID_VALUE, 9), "{f:#?}");
    assert_eq!(f[0].resource.as_deref(), Some("FlinkDeployment/a"));
}

#[test]
fn all_findings_collected_and_sorted() {
    let f = run("config.yaml", "zz: 1\na.b: 1\n", "2.3");
    assert!(f.windows(2).all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)));
    let f = run("config.yaml", "x1: 1\nx2: 2\nx3: 3\n", "2.3");
    assert_eq!(f.len(), 3);
}

#[test]
fn versions_parse() {
    assert_eq!(FlinkVersion::parse("2.3"), Some(FlinkVersion { major: 2, minor: 3 }));
    assert_eq!(FlinkVersion::parse("2.3.0"), Some(FlinkVersion { major: 2, minor: 3 }));
    assert_eq!(FlinkVersion::parse("v1_18"), Some(FlinkVersion { major: 1, minor: 18 }));
    assert_eq!(FlinkVersion::parse("x"), None);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn lint_never_panics(text in "([a-z.\\-]{1,30}: [ -~]{0,20}\\n){0,30}", version in "(2\\.3|1\\.20)") {
            let (c, p, o) = (flink23(), flink120(), operator());
            let v = FlinkVersion::parse(&version).expect("version");
            let ctx = LintContext { version: v, flink: &c, previous: Some(&p), operator: Some(&o) };
            for name in ["config.yaml", "flink-conf.yaml"] {
                if let Ok(docs) = load_str(name, &text, Hint::Auto) {
                    let _ = lint(&docs, &ctx);
                }
            }
            for ty in [OptionType::Boolean, OptionType::Integer, OptionType::Duration, OptionType::MemorySize, OptionType::Map,
                       OptionType::List { element: Box::new(OptionType::Integer) }, OptionType::Float] {
                let _ = values::check(&ty, &text, true);
            }
        }
    }
}

/// Lint time of a 1,000-key config (900 real keys with their defaults, 100 typos) against the
/// real 2.3 catalog: the median of 21 runs with today's did-you-mean and, in the same run, with
/// the plain reference algorithm it replaced (full edit distance to every key). A benchmark, not
/// an assertion:
/// `cargo test -p flinkops-config --release --lib lint_1000_keys_timing -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark; prints medians and the ratio"]
fn lint_1000_keys_timing() {
    use std::time::{Duration, Instant};
    let flink = Catalog::for_version("2.3").expect("2.3 catalog");
    let previous = Catalog::for_version("1.20").ok();
    let operator = Catalog::try_operator().ok();
    let mut text = String::new();
    for (i, o) in flink.options.iter().filter(|o| o.default.is_some()).cycle().take(1000).enumerate() {
        // Real keys (with their defaults) plus some typos, so every path runs.
        let key = if i % 10 == 0 { format!("{}x", o.key) } else { o.key.clone() };
        text.push_str(&format!("{}: {}\n", key, crate::migrate::yaml_scalar(o.default.as_deref().unwrap_or(""))));
    }
    let ctx = LintContext { version: FlinkVersion { major: 2, minor: 3 }, flink, previous, operator };
    let median = |reference: bool| -> (Duration, Vec<Finding>) {
        crate::catalog::REFERENCE_SUGGEST.with(|r| r.set(reference));
        let mut times = Vec::new();
        let mut findings = Vec::new();
        for _ in 0..21 {
            let t = Instant::now();
            let docs = load_str("config.yaml", &text, Hint::Auto).expect("parses");
            findings = lint(&docs, &ctx);
            times.push(t.elapsed());
        }
        crate::catalog::REFERENCE_SUGGEST.with(|r| r.set(false));
        times.sort();
        (times[times.len() / 2], findings)
    };
    let _warm = median(false);
    let (old, old_findings) = median(true);
    let (new, new_findings) = median(false);
    assert_eq!(new_findings, old_findings, "the fast did-you-mean must not change any finding");
    let parse = {
        let mut p = Vec::new();
        for _ in 0..21 {
            let t = Instant::now();
            let _ = load_str("config.yaml", &text, Hint::Auto);
            p.push(t.elapsed());
        }
        p.sort();
        p[p.len() / 2]
    };
    let typos: Vec<String> = flink.options.iter().take(100).map(|o| format!("{}x", o.key)).collect();
    let per_call = |reference: bool| {
        crate::catalog::REFERENCE_SUGGEST.with(|r| r.set(reference));
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            for k in &typos {
                std::hint::black_box(flink.suggest(k));
            }
            times.push(t.elapsed() / 100);
        }
        crate::catalog::REFERENCE_SUGGEST.with(|r| r.set(false));
        times.sort();
        times[times.len() / 2]
    };
    let (s_old, s_new) = (per_call(true), per_call(false));
    println!(
        "lint of 1000 keys ({} findings), median of 21: {new:?} (reference did-you-mean: {old:?}; {:.1}x faster); parse alone {parse:?}",
        new_findings.len(),
        old.as_secs_f64() / new.as_secs_f64().max(1e-9)
    );
    println!(
        "suggest per call, median: {s_new:?} (reference: {s_old:?}; {:.1}x faster)",
        s_old.as_secs_f64() / s_new.as_secs_f64().max(1e-9)
    );
}

/// Reporters share parameter names with different types: a plugin's typed parameter is checked
/// only for that plugin's reporters (the Prometheus `port` is a string range, InfluxDB's an int);
/// Flink's own family options are checked for every reporter.
#[test]
fn reporter_parameters_are_typed_per_plugin() {
    for version in ["2.3", "1.18"] {
        let flink = Catalog::for_version(version).expect("catalog");
        let v = FlinkVersion::parse(version).expect("version");
        let ctx = LintContext { version: v, flink, previous: None, operator: None };
        let text = "metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory\n\
                    metrics.reporter.prom.port: 9249-9260\n\
                    metrics.reporter.prom.interval: 10 parsecs\n\
                    metrics.reporter.influx.factory.class: org.apache.flink.metrics.influxdb.InfluxdbReporterFactory\n\
                    metrics.reporter.influx.port: 80-90\n\
                    metrics.reporter.push.factory.class: org.apache.flink.metrics.prometheus.PrometheusPushGatewayReporterFactory\n\
                    metrics.reporter.push.deleteOnShutdown: perhaps\n";
        let docs = load_str("flink-conf.yaml", text, Hint::Legacy).expect("parses");
        let invalid: Vec<String> = lint(&docs, &ctx)
            .into_iter()
            .filter(|f| f.code == codes::INVALID_VALUE)
            .filter_map(|f| f.key)
            .collect();
        // In the 1.18 catalog `port` is the push gateway's (1.x) option, not InfluxDB's: the
        // InfluxDB port is then an untyped parameter.
        let expected: &[&str] = if version == "2.3" {
            &["metrics.reporter.prom.interval", "metrics.reporter.influx.port", "metrics.reporter.push.deleteOnShutdown"]
        } else {
            &["metrics.reporter.prom.interval", "metrics.reporter.push.deleteOnShutdown"]
        };
        assert_eq!(invalid, expected, "{version}");
    }
}

/// A config file with only operator keys is the operator's own configuration; one Flink key,
/// an empty file or a FlinkDeployment keep their format.
#[test]
fn operator_config_is_detected() {
    let load = |name: &str, text: &str| load_str(name, text, Hint::Auto).expect("parses");
    let mut docs = load("config.yaml", "kubernetes.operator.reconcile.interval: 15 s\njob.autoscaler:\n  enabled: true\n");
    assert!(detect_operator_config(&mut docs[0]));
    assert_eq!(docs[0].format, Format::OperatorConfig);
    let mut docs = load("flink-conf.yaml", "kubernetes.operator.reconcile.interval: 15 s\n");
    assert!(detect_operator_config(&mut docs[0]));
    let mut docs = load("config.yaml", "kubernetes.operator.reconcile.interval: 15 s\nparallelism.default: 2\n");
    assert!(!detect_operator_config(&mut docs[0]));
    assert_eq!(docs[0].format, Format::ConfigYaml);
    let mut docs = load("config.yaml", "# nothing\n");
    assert!(!detect_operator_config(&mut docs[0]));
    let mut docs = load(
        "deploy.yaml",
        "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: a\nspec:\n  flinkConfiguration:\n    job.autoscaler.enabled: \"true\"\n",
    );
    assert!(docs.iter_mut().all(|d| !detect_operator_config(d)));
    // Linted as operator config: no "Flink ignores it" notes for the operator's own keys.
    let mut docs = load("config.yaml", "kubernetes.operator.reconcile.interval: 15 s\n");
    let ctx = LintContext {
        version: FlinkVersion { major: 2, minor: 3 },
        flink: Catalog::for_version("2.3").expect("2.3"),
        previous: None,
        operator: Catalog::try_operator().ok(),
    };
    assert!(lint(&docs, &ctx).iter().any(|f| f.code == codes::OPERATOR_KEY));
    detect_operator_config(&mut docs[0]);
    assert_eq!(lint(&docs, &ctx), []);
}
