//! Crash points for the crash tests: `FLINKOPS_FAILPOINTS=upgrade.begun,…` makes serve abort
//! (no cleanup, like `kill -9`) the first time it reaches a listed point, so a test can stop it
//! between any two steps of a lifecycle action and prove that a restart completes or rolls back.
//! Unset (always, outside tests), [`hit`] does nothing.

use std::sync::OnceLock;

/// The points serve passes through, in the order of an upgrade.
pub const POINTS: &[&str] = &["upgrade.begun", "upgrade.stopped", "upgrade.submitted", "upgrade.rolling_back"];

fn armed() -> &'static [String] {
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    ARMED.get_or_init(|| parse(&std::env::var("FLINKOPS_FAILPOINTS").unwrap_or_default()))
}

fn parse(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Aborts the process if `point` is armed.
pub fn hit(point: &str) {
    debug_assert!(POINTS.contains(&point), "unknown failpoint {point}");
    if armed().iter().any(|p| p == point) {
        eprintln!("flinkops serve: failpoint {point} reached: aborting");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_a_comma_list() {
        assert_eq!(super::parse(" upgrade.begun, upgrade.stopped ,,"), vec!["upgrade.begun", "upgrade.stopped"]);
        assert!(super::parse("").is_empty());
    }
}
