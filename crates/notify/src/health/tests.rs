use super::*;
use proptest::prelude::*;

const T0: i64 = 1_700_000_000_000;
const MIN: i64 = 60_000;

/// A healthy running job: every value known, nothing near a threshold.
fn healthy(at: i64) -> JobHealthSample {
    JobHealthSample {
        job: "orders".into(),
        at,
        state: Some("RUNNING".into()),
        expected_running: true,
        num_restarts: Some(0),
        completed_checkpoints: Some(10),
        failed_checkpoints: Some(0),
        last_completed_checkpoint_at: Some(at - 5_000),
        last_checkpoint_duration_ms: Some(1_000),
        max_backpressured_ms_per_s: Some(10.0),
        max_busy_ms_per_s: Some(100.0),
        checkpoint_interval_ms: Some(60_000),
        uptime_ms: Some(3_600_000),
    }
}

fn cond(rule: Rule, s: &JobHealthSample) -> Condition {
    condition(rule, s, &HealthHistory::default(), &RuleSettings::default())
}

fn is_holds(c: &Condition) -> bool {
    matches!(c, Condition::Holds { .. })
}

fn summary(c: &Condition) -> &str {
    match c {
        Condition::Holds { summary } => summary,
        other => panic!("expected Holds, got {other:?}"),
    }
}

#[test]
fn a_healthy_job_triggers_no_rule() {
    let s = healthy(T0);
    let mut h = HealthHistory::default();
    h.record(&healthy(T0 - MIN), &RuleSettings::default());
    h.record(&s, &RuleSettings::default());
    for r in Rule::ALL {
        assert_eq!(condition(r, &s, &h, &RuleSettings::default()), Condition::Clear, "{r}");
    }
}

#[test]
fn job_not_running() {
    let mut s = healthy(T0);
    s.state = Some("FAILED".into());
    let c = cond(Rule::FlinkJobNotRunning, &s);
    assert_eq!(summary(&c), "Flink job orders is FAILED, not RUNNING");
    s.state = None;
    assert!(summary(&cond(Rule::FlinkJobNotRunning, &s)).contains("was not found"));
    s.state = Some("running".into());
    assert_eq!(cond(Rule::FlinkJobNotRunning, &s), Condition::Clear);
    // Suspended on purpose: nothing holds.
    s.state = Some("CANCELED".into());
    s.expected_running = false;
    assert_eq!(cond(Rule::FlinkJobNotRunning, &s), Condition::Clear);
    assert_eq!(Rule::FlinkJobNotRunning.default_severity(), Severity::Critical);
    assert_eq!(Rule::FlinkJobNotRunning.default_for_ms(), MIN);
}

#[test]
fn a_missing_job_only_triggers_not_running() {
    let mut s = JobHealthSample::new("orders", T0);
    s.max_busy_ms_per_s = Some(1000.0); // stale garbage must not matter
    for r in Rule::ALL {
        let c = cond(r, &s);
        assert_eq!(is_holds(&c), r == Rule::FlinkJobNotRunning, "{r}: {c:?}");
    }
}

fn history(points: &[(i64, Option<i64>, Option<i64>)]) -> HealthHistory {
    let mut h = HealthHistory::default();
    for (at, restarts, failed) in points {
        let mut s = healthy(*at);
        s.num_restarts = *restarts;
        s.failed_checkpoints = *failed;
        h.record(&s, &RuleSettings::default());
    }
    h
}

#[test]
fn job_restarting_within_the_window() {
    let settings = RuleSettings::default();
    let s = healthy(T0);
    // First sample: nothing to compare with.
    let h = history(&[(T0, Some(3), Some(0))]);
    assert_eq!(condition(Rule::FlinkJobRestarting, &s, &h, &settings), Condition::Unknown);
    // Rose by 2 one minute ago.
    let h = history(&[(T0 - 2 * MIN, Some(3), Some(0)), (T0 - MIN, Some(5), Some(0)), (T0, Some(5), Some(0))]);
    let c = condition(Rule::FlinkJobRestarting, &s, &h, &settings);
    assert_eq!(summary(&c), "Flink job orders restarted 2 times in the last 10m");
    // The rise was 11 minutes ago: outside the 10-minute window.
    let h = history(&[(T0 - 12 * MIN, Some(3), Some(0)), (T0 - 11 * MIN, Some(5), Some(0)), (T0, Some(5), Some(0))]);
    assert_eq!(condition(Rule::FlinkJobRestarting, &s, &h, &settings), Condition::Clear);
    // A reset (new job attempt: 5 → 0) is no rise.
    let h = history(&[(T0 - MIN, Some(5), Some(0)), (T0, Some(0), Some(0))]);
    assert_eq!(condition(Rule::FlinkJobRestarting, &s, &h, &settings), Condition::Clear);
    // Unknown values are skipped, not taken as zero.
    let h = history(&[(T0 - 3 * MIN, Some(1), Some(0)), (T0 - 2 * MIN, None, Some(0)), (T0, Some(2), Some(0))]);
    assert_eq!(summary(&condition(Rule::FlinkJobRestarting, &s, &h, &settings)), "Flink job orders restarted 1 times in the last 10m");
    assert_eq!(Rule::FlinkJobRestarting.default_severity(), Severity::Warning);
}

#[test]
fn history_keeps_one_baseline_before_the_window() {
    let settings = RuleSettings::default();
    let mut h = HealthHistory::default();
    for i in 0..100 {
        let mut s = healthy(T0 + i * MIN);
        s.num_restarts = Some(i);
        h.record(&s, &settings);
    }
    // 10-minute window at a 1-minute tick: the points inside it and one before.
    assert_eq!(h.len(), 11);
    let s = healthy(T0 + 99 * MIN);
    assert_eq!(summary(&condition(Rule::FlinkJobRestarting, &s, &h, &settings)), "Flink job orders restarted 10 times in the last 10m");
}

#[test]
fn checkpoint_failures() {
    let settings = RuleSettings::default();
    let s = healthy(T0);
    let h = history(&[(T0 - MIN, Some(0), Some(4)), (T0, Some(0), Some(7))]);
    assert_eq!(summary(&condition(Rule::FlinkCheckpointFailures, &s, &h, &settings)), "3 checkpoints of orders failed in the last 10m");
    let h = history(&[(T0 - MIN, Some(0), Some(4)), (T0, Some(0), Some(4))]);
    assert_eq!(condition(Rule::FlinkCheckpointFailures, &s, &h, &settings), Condition::Clear);
    let h = history(&[(T0 - MIN, Some(0), None), (T0, Some(0), None)]);
    assert_eq!(condition(Rule::FlinkCheckpointFailures, &s, &h, &settings), Condition::Unknown);
    assert_eq!(Rule::FlinkCheckpointFailures.default_for_ms(), 0);
}

#[test]
fn no_recent_checkpoint() {
    // Interval 1 min, 3 missed allowed: older than 3 minutes holds.
    let mut s = healthy(T0);
    s.last_completed_checkpoint_at = Some(T0 - 3 * MIN);
    assert_eq!(cond(Rule::FlinkNoRecentCheckpoint, &s), Condition::Clear);
    s.last_completed_checkpoint_at = Some(T0 - 3 * MIN - 1);
    assert!(summary(&cond(Rule::FlinkNoRecentCheckpoint, &s)).contains("in the last 3 checkpoint intervals (last one 3m ago)"));
    // None yet, running 2 minutes: not yet; running 4 minutes: holds.
    s.last_completed_checkpoint_at = None;
    s.completed_checkpoints = Some(0);
    s.uptime_ms = Some(2 * MIN);
    assert_eq!(cond(Rule::FlinkNoRecentCheckpoint, &s), Condition::Clear);
    s.uptime_ms = Some(4 * MIN);
    assert_eq!(summary(&cond(Rule::FlinkNoRecentCheckpoint, &s)), "No checkpoint of orders completed since it started 4m ago (3 checkpoint intervals)");
    // A checkpoint from before a restart 1 minute ago does not count against the new attempt.
    s.last_completed_checkpoint_at = Some(T0 - 60 * MIN);
    s.completed_checkpoints = Some(5);
    s.uptime_ms = Some(MIN);
    assert_eq!(cond(Rule::FlinkNoRecentCheckpoint, &s), Condition::Clear);
    // Checkpoint statistics not read: unknown. Checkpointing off: clear.
    s.completed_checkpoints = None;
    s.last_completed_checkpoint_at = None;
    assert_eq!(cond(Rule::FlinkNoRecentCheckpoint, &s), Condition::Unknown);
    s.checkpoint_interval_ms = None;
    assert_eq!(cond(Rule::FlinkNoRecentCheckpoint, &s), Condition::Clear);
    // Custom number of intervals.
    let mut s = healthy(T0);
    s.last_completed_checkpoint_at = Some(T0 - 4 * MIN);
    let settings = RuleSettings { missed_checkpoints: 5, ..RuleSettings::default() };
    assert_eq!(condition(Rule::FlinkNoRecentCheckpoint, &s, &HealthHistory::default(), &settings), Condition::Clear);
    assert_eq!(Rule::FlinkNoRecentCheckpoint.default_severity(), Severity::Critical);
}

#[test]
fn checkpoint_duration_high() {
    let mut s = healthy(T0);
    s.last_checkpoint_duration_ms = Some(30_000); // exactly 50% of 60 s
    assert_eq!(cond(Rule::FlinkCheckpointDurationHigh, &s), Condition::Clear);
    s.last_checkpoint_duration_ms = Some(30_001);
    assert_eq!(
        summary(&cond(Rule::FlinkCheckpointDurationHigh, &s)),
        "The last checkpoint of orders took 30001 ms, more than 50% of the 60000 ms checkpoint interval"
    );
    s.last_checkpoint_duration_ms = None;
    assert_eq!(cond(Rule::FlinkCheckpointDurationHigh, &s), Condition::Unknown);
    s.completed_checkpoints = Some(0);
    assert_eq!(cond(Rule::FlinkCheckpointDurationHigh, &s), Condition::Clear);
    s.last_checkpoint_duration_ms = Some(50_000);
    s.checkpoint_interval_ms = Some(0);
    assert_eq!(cond(Rule::FlinkCheckpointDurationHigh, &s), Condition::Clear);
}

#[test]
fn backpressure_and_busy() {
    let mut s = healthy(T0);
    s.max_backpressured_ms_per_s = Some(500.0);
    s.max_busy_ms_per_s = Some(900.0);
    assert_eq!(cond(Rule::FlinkBackpressureHigh, &s), Condition::Clear);
    assert_eq!(cond(Rule::FlinkTaskBusy, &s), Condition::Clear);
    s.max_backpressured_ms_per_s = Some(750.4);
    s.max_busy_ms_per_s = Some(990.0);
    assert_eq!(summary(&cond(Rule::FlinkBackpressureHigh, &s)), "A task of orders is back-pressured 750 ms per second (threshold 500)");
    assert_eq!(summary(&cond(Rule::FlinkTaskBusy, &s)), "A task of orders is busy 990 ms per second (threshold 900)");
    s.max_backpressured_ms_per_s = None;
    s.max_busy_ms_per_s = None;
    assert_eq!(cond(Rule::FlinkBackpressureHigh, &s), Condition::Unknown);
    assert_eq!(cond(Rule::FlinkTaskBusy, &s), Condition::Unknown);
    // A job that is not running: its metric rules clear (FlinkJobNotRunning speaks for it).
    s.max_busy_ms_per_s = Some(1000.0);
    s.state = Some("RESTARTING".into());
    assert_eq!(cond(Rule::FlinkTaskBusy, &s), Condition::Clear);
    assert_eq!(Rule::FlinkTaskBusy.default_for_ms(), 10 * MIN);
    assert_eq!(Rule::FlinkBackpressureHigh.default_for_ms(), 5 * MIN);
}

fn cfg(for_ms: i64) -> RuleConfig {
    RuleConfig { for_ms, disabled: false, severity: Severity::Critical }
}

fn h(s: &str) -> Condition {
    Condition::Holds { summary: s.into() }
}

const REPEAT: i64 = 4 * 3_600_000;

fn step(prev: Option<&AlertState>, c: &Condition, for_ms: i64, now: i64) -> (Option<AlertState>, Option<AlertEvent>) {
    transition(prev, "orders", Rule::FlinkJobNotRunning, c, &cfg(for_ms), REPEAT, now)
}

#[test]
fn inactive_stays_inactive_while_clear_or_unknown() {
    assert_eq!(step(None, &Condition::Clear, MIN, T0), (None, None));
    assert_eq!(step(None, &Condition::Unknown, MIN, T0), (None, None));
}

#[test]
fn pending_then_firing_after_for() {
    let (s1, e1) = step(None, &h("down"), MIN, T0);
    let s1 = s1.expect("pending state");
    assert_eq!((s1.status, s1.since, s1.last_notified_at, e1), (AlertStatus::Pending, T0, None, None));
    assert_eq!((s1.job.as_str(), s1.rule.as_str(), s1.severity.as_str(), s1.summary.as_str()), ("orders", "FlinkJobNotRunning", "critical", "down"));
    // Not yet: 59.999 s.
    let (s2, e2) = step(Some(&s1), &h("still down"), MIN, T0 + MIN - 1);
    let s2 = s2.expect("still pending");
    assert_eq!((s2.status, s2.since, e2, s2.summary.as_str(), s2.updated_at), (AlertStatus::Pending, T0, None, "still down", T0 + MIN - 1));
    // Exactly `for` later: fires.
    let (s3, e3) = step(Some(&s2), &h("down 1m"), MIN, T0 + MIN);
    let s3 = s3.expect("firing");
    assert_eq!((s3.status, s3.since, s3.last_notified_at, e3), (AlertStatus::Firing, T0 + MIN, Some(T0 + MIN), Some(AlertEvent::Firing)));
}

#[test]
fn zero_for_fires_at_once() {
    let (s, e) = step(None, &h("x"), 0, T0);
    let s = s.expect("firing");
    assert_eq!((s.status, s.last_notified_at, e), (AlertStatus::Firing, Some(T0), Some(AlertEvent::Firing)));
}

#[test]
fn firing_deduplicates_until_the_repeat_interval() {
    let (s, _) = step(None, &h("x"), 0, T0);
    let s = s.expect("firing");
    let (s2, e2) = step(Some(&s), &h("x"), 0, T0 + REPEAT - 1);
    let s2 = s2.expect("firing");
    assert_eq!((s2.status, e2, s2.last_notified_at), (AlertStatus::Firing, None, Some(T0)));
    let (s3, e3) = step(Some(&s2), &h("x"), 0, T0 + REPEAT);
    let s3 = s3.expect("firing");
    assert_eq!((s3.status, e3, s3.last_notified_at, s3.since), (AlertStatus::Firing, Some(AlertEvent::Repeat), Some(T0 + REPEAT), T0));
}

#[test]
fn firing_resolves_once() {
    let (s, _) = step(None, &h("x"), 0, T0);
    let (r, e) = step(s.as_ref(), &Condition::Clear, 0, T0 + 5_000);
    let r = r.expect("resolved");
    assert_eq!((r.status, r.since, r.last_notified_at, e), (AlertStatus::Resolved, T0 + 5_000, Some(T0 + 5_000), Some(AlertEvent::Resolved)));
    assert_eq!(r.summary, "x", "a resolve keeps what was seen firing");
    let (r2, e2) = step(Some(&r), &Condition::Clear, 0, T0 + 10_000);
    let r2 = r2.expect("still resolved");
    assert_eq!((r2.status, r2.since, e2, r2.updated_at), (AlertStatus::Resolved, T0 + 5_000, None, T0 + 10_000));
    // And it can fire again.
    let (f, e3) = step(Some(&r2), &h("again"), 0, T0 + 20_000);
    assert_eq!((f.map(|f| f.status), e3), (Some(AlertStatus::Firing), Some(AlertEvent::Firing)));
}

#[test]
fn pending_that_clears_resolves_silently() {
    let (p, _) = step(None, &h("x"), MIN, T0);
    let (r, e) = step(p.as_ref(), &Condition::Clear, MIN, T0 + 1_000);
    let r = r.expect("resolved");
    assert_eq!((r.status, r.last_notified_at, e), (AlertStatus::Resolved, None, None));
    // Pending again from scratch: `since` restarts.
    let (p2, e2) = step(Some(&r), &h("x"), MIN, T0 + 2_000);
    let p2 = p2.expect("pending");
    assert_eq!((p2.status, p2.since, e2), (AlertStatus::Pending, T0 + 2_000, None));
    let (p3, e3) = step(Some(&p2), &h("x"), MIN, T0 + MIN + 1_000);
    assert_eq!((p3.map(|s| s.status), e3), (Some(AlertStatus::Pending), None), "for counts from the new pending start");
}

#[test]
fn unknown_keeps_the_state() {
    let (p, _) = step(None, &h("x"), MIN, T0);
    let (p2, e) = step(p.as_ref(), &Condition::Unknown, MIN, T0 + 2 * MIN);
    let p2 = p2.expect("kept");
    assert_eq!((p2.status, p2.since, e), (AlertStatus::Pending, T0, None), "unknown does not advance pending to firing");
    let (f, _) = step(None, &h("x"), 0, T0);
    let (f2, e2) = step(f.as_ref(), &Condition::Unknown, 0, T0 + REPEAT + 1);
    let f2 = f2.expect("kept");
    assert_eq!((f2.status, e2), (AlertStatus::Firing, None), "unknown neither resolves nor repeats");
}

#[test]
fn a_disabled_rule_resolves_its_firing_alert() {
    let (f, _) = step(None, &h("x"), 0, T0);
    let off = RuleConfig { disabled: true, ..cfg(0) };
    let (r, e) = transition(f.as_ref(), "orders", Rule::FlinkJobNotRunning, &h("x"), &off, REPEAT, T0 + 1);
    assert_eq!((r.map(|r| r.status), e), (Some(AlertStatus::Resolved), Some(AlertEvent::Resolved)));
    let (n, e) = transition(None, "orders", Rule::FlinkJobNotRunning, &h("x"), &off, REPEAT, T0 + 1);
    assert_eq!((n, e), (None, None));
}

#[test]
fn evaluate_job_builds_notifications() {
    let mut settings = RuleSettings {
        runbook_base_url: Some("https://runbooks.example/flink/".into()),
        ..RuleSettings::default()
    };
    settings.labels.insert("flinkops_env".into(), "prod".into());
    let mut hist = HealthHistory::default();
    let mut stored: Vec<AlertState> = Vec::new();
    let mut tick = |stored: &mut Vec<AlertState>, s: JobHealthSample, now: i64| {
        let ev = evaluate_job(stored, &s, &mut hist, &settings, now);
        *stored = ev.states().cloned().collect();
        ev
    };
    let mut s = healthy(T0);
    s.job = "order-totals".into();
    let ev = tick(&mut stored, s.clone(), T0);
    assert_eq!(ev.notifications().count(), 0);
    assert_eq!(ev.states().count(), 0);

    s.state = Some("FAILED".into());
    s.at = T0 + 10_000;
    let ev = tick(&mut stored, s.clone(), T0 + 10_000);
    assert_eq!(ev.notifications().count(), 0, "FlinkJobNotRunning waits 1m");
    assert_eq!(ev.changed_states().count(), 1);

    s.at = T0 + 70_000;
    let ev = tick(&mut stored, s.clone(), T0 + 70_000);
    let n: Vec<&Notification> = ev.notifications().collect();
    assert_eq!(n.len(), 1);
    let n = n[0];
    assert_eq!(n.rule, "FlinkJobNotRunning");
    assert_eq!(n.status, NotificationStatus::Firing);
    assert!(!n.repeat);
    assert_eq!(n.severity, Severity::Critical);
    assert_eq!(n.summary, "Flink job order-totals is FAILED, not RUNNING");
    assert_eq!(n.dedup_key, "flinkops/order-totals/FlinkJobNotRunning");
    assert_eq!(n.runbook_url, "https://runbooks.example/flink/FlinkJobNotRunning.md");
    assert_eq!((n.starts_at, n.ends_at), (T0 + 70_000, None));
    assert_eq!(
        n.labels,
        BTreeMap::from([
            ("alertname".to_string(), "FlinkJobNotRunning".to_string()),
            ("flinkops_env".to_string(), "prod".to_string()),
            ("job_name".to_string(), "order_totals".to_string()),
            ("severity".to_string(), "critical".to_string()),
        ])
    );
    assert_eq!(n.annotations()["description"], Rule::FlinkJobNotRunning.description());

    // Still failing: nothing new.
    s.at = T0 + 130_000;
    let ev = tick(&mut stored, s.clone(), T0 + 130_000);
    assert_eq!(ev.notifications().count(), 0);
    assert_eq!(ev.changed_states().count(), 0, "only updated_at moved");
    assert_eq!(ev.states().map(|s| s.rule.as_str()).collect::<Vec<_>>(), vec!["FlinkJobNotRunning"]);

    // Running again: resolves, same dedup key, ends_at set, starts_at the firing start.
    s.state = Some("RUNNING".into());
    s.at = T0 + 190_000;
    s.last_completed_checkpoint_at = Some(T0 + 185_000);
    let ev = tick(&mut stored, s.clone(), T0 + 190_000);
    let n: Vec<&Notification> = ev.notifications().collect();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].status, NotificationStatus::Resolved);
    assert_eq!(n[0].dedup_key, "flinkops/order-totals/FlinkJobNotRunning");
    assert_eq!((n[0].starts_at, n[0].ends_at), (T0 + 70_000, Some(T0 + 190_000)));
    assert_eq!(n[0].summary, "Flink job order-totals is FAILED, not RUNNING");
}

#[test]
fn overrides_from_the_spec() {
    let overrides = BTreeMap::from([
        ("FlinkJobNotRunning".to_string(), AlertOverride { for_: Some("30s".into()), disabled: false }),
        ("FlinkTaskBusy".to_string(), AlertOverride { for_: None, disabled: true }),
        ("FlinkHeapUsageHigh".to_string(), AlertOverride { for_: Some("1m".into()), disabled: false }),
    ]);
    let s = RuleSettings::default().with_overrides(&overrides).expect("valid overrides");
    assert_eq!(s.rule(Rule::FlinkJobNotRunning).for_ms, 30_000);
    assert!(!s.rule(Rule::FlinkJobNotRunning).disabled);
    assert!(s.rule(Rule::FlinkTaskBusy).disabled);
    assert_eq!(s.rule(Rule::FlinkTaskBusy).for_ms, 10 * MIN, "for untouched");
    assert_eq!(s.rule(Rule::FlinkBackpressureHigh), RuleConfig { for_ms: 5 * MIN, disabled: false, severity: Severity::Warning });

    // A disabled rule never notifies, even when its condition holds.
    let mut sample = healthy(T0);
    sample.max_busy_ms_per_s = Some(1000.0);
    let out = evaluate_rule(Rule::FlinkTaskBusy, None, &sample, &HealthHistory::default(), &s, T0);
    assert_eq!((out.state, out.notification), (None, None));

    let bad = BTreeMap::from([("FlinkJobRestarting".to_string(), AlertOverride { for_: Some("5 minutes".into()), disabled: false })]);
    let err = RuleSettings::default().with_overrides(&bad).expect_err("bad duration");
    let msg = err.to_string();
    assert!(msg.contains("FlinkJobRestarting") && msg.contains("`for: 5 minutes`") && msg.contains("`1h30m`"), "{msg}");
}

#[test]
fn settings_of_a_spec_environment() {
    let yaml = "platform: demo\nenvironments:\n  local:\n    target: local\n    flinkVersion: \"2.3\"\n    checkpointing:\n      interval: 5s\n      alertAfterMissed: 5\n    alerts:\n      FlinkJobNotRunning: {for: 15s}\n      FlinkTaskBusy: {disabled: true}\nalerting:\n  runbookBaseUrl: https://runbooks.example.com\n";
    let spec = flinkops_spec::parse("flinkops.yaml", yaml).expect("valid spec").spec;
    let s = RuleSettings::for_environment(&spec, "local").expect("settings");
    assert_eq!(s.rule(Rule::FlinkJobNotRunning).for_ms, 15_000);
    assert!(s.rule(Rule::FlinkTaskBusy).disabled);
    assert_eq!(s.missed_checkpoints, 5);
    assert_eq!(s.runbook_base_url.as_deref(), Some("https://runbooks.example.com"));
    assert_eq!(s.labels.get("flinkops_env").map(String::as_str), Some("local"));
    let e = RuleSettings::for_environment(&spec, "prod").expect_err("no such environment");
    assert_eq!(e.to_string(), "the spec has no environment `prod`; its environments are: local");
}

#[test]
fn rule_names_match_the_prometheus_rules() {
    for r in Rule::ALL {
        assert!(flinkops_spec::rules::RULE_NAMES.contains(&r.name()), "{r} is not a Prometheus rule name");
        assert_eq!(Rule::from_name(r.name()), Some(r));
        let runbook = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../docs/runbooks/{}.md", r.name()));
        assert!(runbook.is_file(), "{} is missing", runbook.display());
    }
}

#[test]
fn prometheus_durations() {
    assert_eq!(parse_prom_duration("0"), Ok(0));
    assert_eq!(parse_prom_duration("0s"), Ok(0));
    assert_eq!(parse_prom_duration("250ms"), Ok(250));
    assert_eq!(parse_prom_duration("30s"), Ok(30_000));
    assert_eq!(parse_prom_duration("1h30m"), Ok(5_400_000));
    assert_eq!(parse_prom_duration("1d"), Ok(86_400_000));
    assert!(parse_prom_duration("").is_err());
    assert!(parse_prom_duration("5").is_err());
    assert!(parse_prom_duration("m5").is_err());
    assert!(parse_prom_duration("5 m").is_err());
    assert!(parse_prom_duration("99999999999999999999s").is_err());
    assert!(parse_prom_duration("9999999999999y").is_err());
}

// ---- properties of the state machine ----

#[derive(Debug, Clone, Copy)]
enum C {
    Holds,
    Clear,
    Unknown,
}

fn arb_c() -> impl Strategy<Value = C> {
    prop_oneof![4 => Just(C::Holds), 2 => Just(C::Clear), 1 => Just(C::Unknown)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Over any sequence of ticks (any gaps, any mix of conditions):
    /// (a) no second firing notification without a resolve in between, except a repeat after
    ///     the repeat interval since the previous one;
    /// (b) no firing before the condition was observed holding (or unknown, never clear) for
    ///     `for` since it was first seen holding.
    #[test]
    fn never_double_notifies_nor_fires_early(
        for_ms in prop_oneof![Just(0i64), 1i64..600_000],
        repeat_ms in 1i64..20_000_000,
        ticks in proptest::collection::vec((0i64..400_000, arb_c()), 1..120),
    ) {
        let config = cfg(for_ms);
        let mut state: Option<AlertState> = None;
        let mut now = T0;
        // When the current episode (holding, maybe with unknowns, no clear) began.
        let mut episode_start: Option<i64> = None;
        // Last firing-kind notification, and whether a resolve followed it.
        let mut last_firing: Option<i64> = None;
        let mut resolved_since = true;
        for (dt, c) in ticks {
            now += dt;
            let cond = match c { C::Holds => h("x"), C::Clear => Condition::Clear, C::Unknown => Condition::Unknown };
            match c {
                C::Holds => { episode_start.get_or_insert(now); }
                C::Clear => episode_start = None,
                C::Unknown => {}
            }
            let (next, ev) = transition(state.as_ref(), "j", Rule::FlinkJobNotRunning, &cond, &config, repeat_ms, now);
            match ev {
                Some(AlertEvent::Firing) => {
                    prop_assert!(resolved_since, "fired twice without a resolve");
                    let start = episode_start.expect("fired without the condition holding");
                    prop_assert!(now - start >= for_ms, "fired {} ms into the episode, for = {}", now - start, for_ms);
                    prop_assert!(matches!(c, C::Holds));
                    last_firing = Some(now);
                    resolved_since = false;
                }
                Some(AlertEvent::Repeat) => {
                    prop_assert!(!resolved_since, "repeat of an alert that is not firing");
                    let prev = last_firing.expect("repeat without a firing");
                    prop_assert!(now - prev >= repeat_ms, "repeated after {} ms < {}", now - prev, repeat_ms);
                    last_firing = Some(now);
                }
                Some(AlertEvent::Resolved) => {
                    prop_assert!(!resolved_since, "resolved an alert that was not firing");
                    prop_assert!(matches!(c, C::Clear));
                    resolved_since = true;
                }
                None => {}
            }
            // The stored state agrees with what was notified.
            let firing = next.as_ref().is_some_and(|s| s.status == AlertStatus::Firing);
            prop_assert_eq!(firing, !resolved_since);
            if let Some(s) = &next {
                prop_assert!(s.since <= now && s.updated_at == now);
            }
            state = next;
        }
    }
}
