//! Fuzz target: Flink durations under every generation's rules. Parsing never panics; what an
//! older generation accepts, a newer one accepts with the same value.
#![no_main]

use flinkops_config::units::{DurationRules, parse_duration_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let v1 = parse_duration_with(DurationRules::Flink1, text);
    let v20 = parse_duration_with(DurationRules::Flink2_0, text);
    let v21 = parse_duration_with(DurationRules::Flink2_1, text);
    if let Ok(d) = v1 {
        assert_eq!(v20.as_ref().ok(), Some(&d));
    }
    if let Ok(d) = v20 {
        assert_eq!(v21.ok(), Some(d));
    }
});
