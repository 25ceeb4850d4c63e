//! Fuzz target: the legacy `flink-conf.yaml` parser, and `config migrate` on what it reads. Never
//! panics; every entry is a trimmed, non-empty key with a non-empty value; the migrated
//! `config.yaml` always parses as YAML, and a setting migrate keeps unchanged reads back with
//! exactly the same value.
#![no_main]

use flinkops_config::catalog::Catalog;
use flinkops_config::lint::FlinkVersion;
use flinkops_config::migrate::{Action, migrate};
use flinkops_config::model::{Format, Hint, Pos, load_bytes, parse_config_yaml, parse_legacy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = load_bytes("flink-conf.yaml", data, Hint::Auto);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let doc = parse_legacy("flink-conf.yaml", text, Format::LegacyFlinkConf, Pos::default());
    for e in &doc.entries {
        assert!(!e.key.is_empty() && !e.value.text.is_empty(), "empty key or value: {e:?}");
        assert!(!e.key.contains('#') && !e.value.text.contains('#'), "comment kept: {e:?}");
    }
    let (Ok(flink), Ok(previous)) = (Catalog::for_version("2.3"), Catalog::for_version("1.20")) else { return };
    let m = migrate(&doc, FlinkVersion { major: 2, minor: 3 }, flink, Some(previous));
    let out = match parse_config_yaml("config.yaml", &m.output) {
        Ok(out) => out,
        Err(e) => panic!("migrated output does not parse: {e}\n{}", m.output),
    };
    let map = out.to_map();
    for c in &m.changes {
        if c.action == Action::Kept {
            let Some(e) = doc.entries.iter().rev().find(|e| e.key == c.key) else { continue };
            assert_eq!(map.get(&c.key), Some(&e.value.text), "kept `{}` reads back differently\n{}", c.key, m.output);
        }
    }
});
