//! `config diff`: compares two configurations by their effective values — aliases resolved to
//! current keys, unset keys filled with the catalog default, values normalized by type (so
//! `1g` equals `1024m`, `60 s` equals `1 min`, `TRUE` equals `true`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::catalog::{Catalog, OptionType};
use crate::lint::index::Index;
use crate::model::ConfigDoc;

/// Where an effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Written in the file (possibly under an alias).
    Set,
    /// Not written; Flink's default.
    Default,
    /// Not written and no default.
    Unset,
}

/// One compared key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub key: String,
    pub a: Option<String>,
    pub a_source: Source,
    pub b: Option<String>,
    pub b_source: Source,
    /// Same effective value.
    pub same: bool,
}

fn normalize(ty: Option<&OptionType>, v: &str, v2: bool) -> String {
    let t = v.trim();
    match ty {
        Some(OptionType::MemorySize) => crate::units::parse_memory_size(t).map_or_else(|_| t.to_string(), |b| format!("{b}b")),
        Some(OptionType::Duration) => crate::lint::values::parse_duration(t, v2)
            .map_or_else(|_| t.to_string(), |d| format!("{}ns", d.as_nanos())),
        Some(OptionType::Boolean | OptionType::Enum { .. }) => t.to_ascii_uppercase(),
        Some(OptionType::Integer | OptionType::Long) => {
            crate::units::parse_java_long(t).map_or_else(|_| t.to_string(), |n| n.to_string())
        }
        Some(OptionType::Float | OptionType::Double) => {
            crate::units::parse_java_double(t).map_or_else(|_| t.to_string(), |x| x.to_string())
        }
        _ => v.to_string(),
    }
}

fn effective(doc: &ConfigDoc, idx: &Index<'_>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut explicit = BTreeSet::new();
    for e in &doc.entries {
        let canonical = idx.canonical(&e.key).into_owned();
        if e.key == canonical {
            explicit.insert(canonical.clone());
            m.insert(canonical, e.value.text.clone());
        } else if !explicit.contains(&canonical) {
            m.insert(canonical, e.value.text.clone());
        }
    }
    m
}

/// Compares `a` and `b` under `catalog`. With `all`, equal keys are listed too.
pub fn diff(a: &ConfigDoc, b: &ConfigDoc, catalog: &Catalog, v2: bool, all: bool) -> Vec<Row> {
    let idx = Index::new(catalog);
    let (ea, eb) = (effective(a, &idx), effective(b, &idx));
    let keys: BTreeSet<&String> = ea.keys().chain(eb.keys()).collect();
    let mut rows = Vec::new();
    for key in keys {
        let opt = idx.option(key);
        let default = opt.and_then(|o| o.default.clone());
        let side = |m: &BTreeMap<String, String>| match m.get(key) {
            Some(v) => (Some(v.clone()), Source::Set),
            None => match &default {
                Some(d) => (Some(d.clone()), Source::Default),
                None => (None, Source::Unset),
            },
        };
        let (av, asrc) = side(&ea);
        let (bv, bsrc) = side(&eb);
        let ty = opt.map(|o| &o.ty);
        let same = match (&av, &bv) {
            (Some(x), Some(y)) => normalize(ty, x, v2) == normalize(ty, y, v2),
            (None, None) => true,
            _ => false,
        };
        if all || !same {
            rows.push(Row { key: key.clone(), a: av, a_source: asrc, b: bv, b_source: bsrc, same });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::tests::flink23;
    use crate::model::parse_config_yaml;

    #[test]
    fn effective_values() {
        let c = flink23();
        let a = parse_config_yaml("a.yaml", "state.backend: rocksdb\ntaskmanager.memory.process.size: 1g\nexecution.checkpointing.timeout: 10 min\nx: 1\n").expect("a");
        let b = parse_config_yaml("b.yaml", "state.backend.type: ROCKSDB\ntaskmanager.memory.process.size: 1024m\nx: 2\nexecution.checkpointing.interval: 60 s\n").expect("b");
        let rows = diff(&a, &b, &c, true, false);
        let keys: Vec<_> = rows.iter().map(|r| r.key.as_str()).collect();
        // rocksdb vs ROCKSDB differ (a string option, Flink lowercases it only when loading the backend).
        assert_eq!(keys, vec!["execution.checkpointing.interval", "state.backend.type", "x"], "{rows:#?}");
        let all = diff(&a, &b, &c, true, true);
        let t = all.iter().find(|r| r.key == "execution.checkpointing.timeout").expect("timeout");
        assert!(t.same);
        assert_eq!(t.b_source, Source::Default);
    }
}
