//! Fuzz target: reading a Flink 2.x `config.yaml` (`model::parse_config_yaml`, and `load_bytes`
//! with the config.yaml hint and with auto-detection). Never panics; every entry it returns has
//! its key and value positions inside the input.
#![no_main]

use flinkops_config::model::{Hint, load_bytes, parse_config_yaml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = load_bytes("config.yaml", data, Hint::ConfigYaml);
    let _ = load_bytes("config.yaml", data, Hint::Auto);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = parse_config_yaml("config.yaml", text) else { return };
    // YAML line breaks: \n, \r and \r\n; one more line than breaks.
    let lines = text.matches(['\n', '\r']).count() + 1;
    for e in &doc.entries {
        assert!((e.key_pos.line as usize) <= lines, "key line {} beyond {lines} lines", e.key_pos.line);
        assert!((e.value_pos.line as usize) <= lines, "value line {} beyond {lines} lines", e.value_pos.line);
    }
});
