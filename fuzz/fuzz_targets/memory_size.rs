//! Fuzz target: Flink memory sizes. Parsing never panics, and every accepted size prints back
//! (both the exact and the human form) and parses back to the same number of bytes.
#![no_main]

use flinkops_config::units::{format_memory_size, human_memory_size, parse_memory_size};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(bytes) = parse_memory_size(text) {
        assert!(bytes <= i64::MAX as u64);
        assert_eq!(parse_memory_size(&format_memory_size(bytes)), Ok(bytes));
        let _ = human_memory_size(bytes);
    }
});
