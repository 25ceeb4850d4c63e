//! The overlay as a file: a Flink `config.yaml` (flat keys; `flink-conf.yaml` lines for Flink
//! before 1.19, whose parser does not unquote) or the `flinkConfiguration` map of a
//! FlinkDeployment, with each key's reason as a comment above it.

use std::collections::BTreeMap;

use crate::recommend::Reason;

/// Which file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `key: value` lines.
    ConfigYaml,
    /// `flinkConfiguration:` with the keys indented below.
    FlinkConfiguration,
}

fn scalar(v: &str, quote: bool) -> String {
    let plain = !v.is_empty()
        && v.chars().all(|c| c.is_ascii_alphanumeric() || " ._-/:=;,".contains(c))
        && !v.starts_with(['-', ':', ' '])
        && !v.ends_with(' ')
        && !v.contains(": ");
    if plain || !quote { v.to_string() } else { format!("'{}'", v.replace('\'', "''")) }
}

/// Renders `config`; `header` lines become comments at the top. `yaml` is false for a Flink
/// 1.18 `flink-conf.yaml` (values written as they are).
pub fn render(config: &BTreeMap<String, String>, reasons: &[Reason], header: &[String], format: FileFormat, yaml: bool) -> String {
    let mut out = String::new();
    for h in header {
        out.push_str(&format!("# {h}\n"));
    }
    let indent = match format {
        FileFormat::ConfigYaml => "",
        FileFormat::FlinkConfiguration => {
            out.push_str("flinkConfiguration:\n");
            "  "
        }
    };
    for (k, v) in config {
        if let Some(r) = reasons.iter().find(|r| &r.key == k) {
            out.push_str(&format!("{indent}# {} ({})\n", r.because.replace('\n', " "), r.trigger));
        }
        let quote = yaml || format == FileFormat::FlinkConfiguration;
        out.push_str(&format!("{indent}{k}: {}\n", scalar(v, quote)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flinkops_config::model::{self, Hint};

    #[test]
    fn config_yaml_reads_back_as_the_same_map() {
        let w = crate::Workload { sql: crate::workload::SqlShape { group_aggregations: true, ..Default::default() }, ..Default::default() };
        let r = crate::recommend(&w, crate::Profile::HighThroughput, "2.3").unwrap();
        let text = render(&r.config, &r.reasons, &["made by a test".into()], FileFormat::ConfigYaml, true);
        let docs = model::load_str("config.yaml", &text, Hint::Auto).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].to_map(), r.config);
        assert!(text.starts_with("# made by a test\n"));
        assert!(text.contains("# records are buffered"), "{text}");
    }

    #[test]
    fn flink_configuration_is_a_map_under_its_key() {
        let mut c = BTreeMap::new();
        c.insert("a.b".to_string(), "x: y".to_string());
        c.insert("c".to_string(), "it's".to_string());
        let text = render(&c, &[], &[], FileFormat::FlinkConfiguration, true);
        assert_eq!(text, "flinkConfiguration:\n  a.b: 'x: y'\n  c: 'it''s'\n");
    }
}
