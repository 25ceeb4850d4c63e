//! Checks an overlay the way a user's Flink would see it: every key an own, current key of the
//! version's catalog (the planner's `table.*` options are in the catalog: it is generated with
//! the table jars on the class path), no lint finding at warning or error level, and a valid
//! TaskManager memory model. The advisor's output must pass; tests prove it does for every
//! profile and version, and for random workloads.

use std::collections::BTreeMap;

use flinkops_config::catalog::{Catalog, Lookup};
use flinkops_config::lint::{self, FlinkVersion, LintContext, Severity};
use flinkops_config::memory;
use flinkops_config::model::{self, Format, Pos};

use crate::error::TuneError;

/// Problems of an overlay, one sentence each; empty when it is clean.
pub fn problems(config: &BTreeMap<String, String>, version: &str) -> Result<Vec<String>, TuneError> {
    let cat = Catalog::for_version(version)?;
    let mut out = Vec::new();
    for k in config.keys() {
        match cat.lookup(k) {
            Lookup::Known(o) if !o.deprecated => {}
            Lookup::Known(_) => out.push(format!("`{k}` is deprecated in Flink {}", cat.version)),
            Lookup::DeprecatedAlias { current, .. } => out.push(format!("`{k}` is a deprecated alias of `{}`", current.key)),
            Lookup::FallbackKey { option, .. } => out.push(format!("`{k}` is a fallback key of `{}`", option.key)),
            Lookup::Prefix(_) => out.push(format!("`{k}` is a prefix-family parameter, not an option")),
            Lookup::Unknown => out.push(format!("`{k}` is not an option of Flink {}", cat.version)),
        }
    }
    let Some(v) = FlinkVersion::parse(&cat.version) else {
        return Ok(out);
    };
    let items = config.iter().enumerate().map(|(i, (k, val))| (k.clone(), val.clone(), Pos::new(u32::try_from(i + 1).unwrap_or(u32::MAX), 1)));
    // Flink before 1.19 reads only flink-conf.yaml.
    let format = if v < (FlinkVersion { major: 1, minor: 19 }) { Format::LegacyFlinkConf } else { Format::ConfigYaml };
    let doc = model::from_map("overlay", format, items);
    let previous = if v.major >= 2 { Catalog::for_version("1.20").ok() } else { None };
    let ctx = LintContext { version: v, flink: cat, previous, operator: None };
    for f in lint::lint(&[doc], &ctx) {
        if f.severity >= Severity::Warning {
            out.push(format!("lint {} [{}] {}: {}", f.severity, f.code, f.key.as_deref().unwrap_or("-"), f.message));
        }
    }
    if let Err(e) = memory::taskmanager(&cat.version, config) {
        out.push(format!("memory model: {e}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_what_the_seed_gets_wrong() {
        let seed = crate::seed::for_workload(
            crate::Profile::HighThroughput,
            &crate::Workload { sql: crate::workload::SqlShape { group_aggregations: true, ..Default::default() }, ..Default::default() },
        );
        let p = problems(&seed, "2.3").unwrap();
        assert!(p.iter().any(|m| m.contains("[removed-key] taskmanager.network.memory.buffers-per-channel")), "{p:#?}");
        assert!(p.iter().any(|m| m.contains("`state.backend.rocksdb.write-buffer-size` is not an option")), "{p:#?}");
        assert!(p.iter().any(|m| m.contains("`state.backend` is a deprecated alias")), "{p:#?}");
        let mut bad = BTreeMap::new();
        bad.insert("taskmanager.memory.process.size".to_string(), "1gb".to_string());
        bad.insert("taskmanager.memory.network.min".to_string(), "900mb".to_string());
        let p = problems(&bad, "2.3").unwrap();
        assert!(p.iter().any(|m| m.starts_with("memory model") || m.contains("invalid-memory-config")), "{p:#?}");
    }

    #[test]
    fn a_clean_overlay_has_no_problems() {
        let mut ok = BTreeMap::new();
        ok.insert("taskmanager.memory.process.size".to_string(), "2 gb".to_string());
        ok.insert("pipeline.object-reuse".to_string(), "true".to_string());
        assert_eq!(problems(&ok, "2.3").unwrap(), Vec::<String>::new());
        assert_eq!(problems(&ok, "1.20").unwrap(), Vec::<String>::new());
    }
}
