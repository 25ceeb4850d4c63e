//! Flink settings in Kubernetes manifests: `FlinkDeployment` / `FlinkSessionJob`
//! (`spec.flinkConfiguration`, flat or nested, plus the resource fields the operator's
//! `FlinkConfigBuilder` turns into Flink options) and ConfigMaps whose `data` holds a
//! `config.yaml` or `flink-conf.yaml`. Other kinds in the same stream are skipped.
//!
//! Manifests are read by kubectl/the API server (YAML 1.1: an unquoted `yes` becomes `true`), so
//! `flinkConfiguration` scalars resolve with [`Schema::Kubernetes`].

use std::collections::HashMap;

use super::yaml::{self, Document, Node, NodeKind, Schema, Style};
use super::{ConfigDoc, Entry, Format, ModelError, NoteSeverity, Origin, Pos, Value, ValueKind};

/// `spec.flinkVersion` values the operator's CRD accepts (operator 1.15).
pub const CRD_FLINK_VERSIONS: &[&str] =
    &["v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18", "v1_19", "v1_20", "v2_0", "v2_1", "v2_2"];

/// Parses a manifest stream.
pub fn parse_manifest_docs(name: &str, text: &str) -> Result<Vec<ConfigDoc>, ModelError> {
    let docs = yaml::parse_documents(name, text)?;
    from_documents(name, text, docs)
}

/// Turns parsed documents of a manifest stream into configurations.
pub fn from_documents(name: &str, text: &str, docs: Vec<Document>) -> Result<Vec<ConfigDoc>, ModelError> {
    let mut out = Vec::new();
    for d in docs {
        let Some(root) = d.root else { continue };
        let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
        let res_name = root.get("metadata").and_then(|m| m.get("name")).and_then(Node::as_str).unwrap_or("?");
        match kind {
            "FlinkDeployment" | "FlinkSessionJob" => out.push(flink_resource(name, &root, kind, res_name)),
            "ConfigMap" => out.extend(config_map(name, text, &root, res_name)?),
            _ => {}
        }
    }
    Ok(out)
}

fn flink_resource(name: &str, root: &Node, kind: &str, res_name: &str) -> ConfigDoc {
    let format = if kind == "FlinkDeployment" { Format::FlinkDeployment } else { Format::FlinkSessionJob };
    let mut doc = ConfigDoc::new(name, format);
    doc.resource = Some(format!("{kind}/{res_name}"));
    doc.pos = root.pos;
    let spec = root.get("spec");
    if let Some(v) = spec.and_then(|s| s.get("flinkVersion")) {
        let text = v.as_str().unwrap_or("");
        doc.flink_version = Some(text.to_string());
        if kind == "FlinkDeployment" && !CRD_FLINK_VERSIONS.contains(&text) {
            let suggestion = text.strip_prefix('v').unwrap_or(text).replace('.', "_");
            doc.note(
                NoteSeverity::Error,
                "invalid-value",
                Some("spec.flinkVersion"),
                v.pos,
                format!("spec.flinkVersion `{text}` is not one of the operator CRD's values ({})", CRD_FLINK_VERSIONS.join(", ")),
                Some(format!("write `v{suggestion}`")),
            );
        }
    }
    if let Some(fc) = spec.and_then(|s| s.get("flinkConfiguration")) {
        match &fc.kind {
            NodeKind::Map(_) => {
                let mut seen = HashMap::new();
                yaml::flatten_into(fc, "", &mut doc, Schema::Kubernetes, &mut seen, 0);
                yaml11_notes(fc, "", &mut doc);
            }
            NodeKind::Scalar(s) if yaml::resolve(s, Schema::Kubernetes).kind == ValueKind::Null => {}
            _ => doc.note(
                NoteSeverity::Error,
                "invalid-structure",
                Some("spec.flinkConfiguration"),
                fc.pos,
                "spec.flinkConfiguration must be a mapping of Flink keys to values",
                Some("write `flinkConfiguration:` followed by indented `key: \"value\"` lines".into()),
            ),
        }
    }
    if kind == "FlinkDeployment" {
        if let Some(spec) = spec {
            for (component, mem_key, cpu_key) in [
                ("jobManager", "jobmanager.memory.process.size", "kubernetes.jobmanager.cpu.amount"),
                ("taskManager", "taskmanager.memory.process.size", "kubernetes.taskmanager.cpu.amount"),
            ] {
                let Some(res) = spec.get(component).and_then(|c| c.get("resource")) else { continue };
                if let Some(mem) = res.get("memory") {
                    derive(&mut doc, mem, mem_key, &format!("spec.{component}.resource.memory"), None);
                }
                if let Some(cpu) = res.get("cpu") {
                    let from = format!("spec.{component}.resource.cpu");
                    let numeric = match &cpu.kind {
                        NodeKind::Scalar(s) => {
                            let v = yaml::resolve(s, Schema::Kubernetes);
                            matches!(v.kind, ValueKind::Int | ValueKind::Float).then(|| {
                                v.text.parse::<f64>().map(yaml::java_double).unwrap_or(v.text)
                            })
                        }
                        _ => None,
                    };
                    match numeric {
                        Some(text) => derive(&mut doc, cpu, cpu_key, &from, Some(text)),
                        None => doc.note(
                            NoteSeverity::Error,
                            "invalid-value",
                            Some(&from),
                            cpu.pos,
                            format!(
                                "{from} is `{}`, but the operator's CRD declares it a number of cores; the API server rejects the resource",
                                cpu.as_str().unwrap_or("?")
                            ),
                            Some(cpu_hint(cpu.as_str().unwrap_or(""))),
                        ),
                    }
                }
            }
            // FlinkConfigBuilder: application deployments with a positive job parallelism.
            if let Some(p) = spec.get("job").and_then(|j| j.get("parallelism")) {
                if p.as_str().and_then(|t| t.parse::<i64>().ok()).is_some_and(|n| n > 0) {
                    derive(&mut doc, p, "parallelism.default", "spec.job.parallelism", None);
                }
            }
        }
    }
    doc
}

fn cpu_hint(s: &str) -> String {
    match s.strip_suffix('m').and_then(|m| m.parse::<f64>().ok()) {
        Some(milli) => format!("write `cpu: {}` (cores, unquoted)", yaml::java_double(milli / 1000.0)),
        None => "write the number of cores, unquoted (e.g. `cpu: 1.0`)".into(),
    }
}

fn derive(doc: &mut ConfigDoc, node: &Node, key: &str, from: &str, text: Option<String>) {
    let text = match text {
        Some(t) => t,
        None => match &node.kind {
            NodeKind::Scalar(s) => yaml::resolve(s, Schema::Kubernetes).text,
            _ => return,
        },
    };
    if let Some(prev) = doc.entries.iter().find(|e| e.key == key && e.origin == Origin::Written) {
        let prev_pos = prev.key_pos;
        doc.note(
            NoteSeverity::Warning,
            "overridden-by-spec",
            Some(key),
            prev_pos,
            format!("the operator overwrites `{key}` with {from} (`{text}`)"),
            Some(format!("set it in one place: delete `{key}` from flinkConfiguration or {from}")),
        );
    }
    doc.entries.push(Entry {
        key: key.to_string(),
        value: Value::string(text),
        file: doc.file.clone(),
        key_pos: node.pos,
        value_pos: node.pos,
        origin: Origin::Derived { from: from.to_string() },
    });
}

/// Notes unquoted YAML 1.1 booleans/octals, which Kubernetes turns into something else.
fn yaml11_notes(node: &Node, prefix: &str, doc: &mut ConfigDoc) {
    let NodeKind::Map(entries) = &node.kind else { return };
    for (k, v) in entries {
        let key = format!("{prefix}{}", k.as_str().unwrap_or(""));
        match &v.kind {
            NodeKind::Map(_) => yaml11_notes(v, &format!("{key}."), doc),
            NodeKind::Scalar(s) if s.style == Style::Plain => {
                let k8s = yaml::resolve(s, Schema::Kubernetes);
                let flink = yaml::resolve(s, Schema::Flink);
                if k8s.text != flink.text && k8s.kind != ValueKind::Null {
                    doc.note(
                        NoteSeverity::Warning,
                        "yaml11-value",
                        Some(&key),
                        v.pos,
                        format!("Kubernetes reads the unquoted `{}` as YAML 1.1 and passes `{}` to Flink", s.text, k8s.text),
                        Some(format!("quote it: \"{}\"", s.text)),
                    );
                }
            }
            _ => {}
        }
    }
}

fn config_map(name: &str, text: &str, root: &Node, res_name: &str) -> Result<Vec<ConfigDoc>, ModelError> {
    let mut out = Vec::new();
    let Some(NodeKind::Map(data)) = root.get("data").map(|d| &d.kind) else { return Ok(out) };
    for (k, v) in data {
        let Some(file_key) = k.as_str() else { continue };
        let legacy = file_key == "flink-conf.yaml";
        if !legacy && file_key != "config.yaml" {
            continue;
        }
        let NodeKind::Scalar(s) = &v.kind else { continue };
        let offset = embedded_offset(text, v, &s.text, s.style);
        let mut doc = if legacy {
            super::parse_legacy(name, &s.text, Format::ConfigMapLegacy, offset)
        } else {
            let docs = yaml::parse_documents(name, &s.text).map_err(|e| shift_error(e, offset))?;
            let mut doc = ConfigDoc::new(name, Format::ConfigMapConfigYaml);
            if let Some(root) = docs.into_iter().next().and_then(|d| d.root) {
                yaml::flatten_root(&root, &mut doc, Schema::Flink).map_err(|e| shift_error(e, offset))?;
            }
            for e in &mut doc.entries {
                e.key_pos = shift(e.key_pos, offset);
                e.value_pos = shift(e.value_pos, offset);
            }
            for n in &mut doc.notes {
                n.pos = shift(n.pos, offset);
            }
            doc
        };
        doc.resource = Some(format!("ConfigMap/{res_name} data.{file_key}"));
        doc.pos = k.pos;
        out.push(doc);
    }
    Ok(out)
}

fn shift(p: Pos, by: Pos) -> Pos {
    if p.line == 0 { p } else { Pos::new(p.line.saturating_add(by.line), p.column.saturating_add(by.column)) }
}

fn shift_error(e: ModelError, by: Pos) -> ModelError {
    match e {
        ModelError::Yaml { file, pos, message } => ModelError::Yaml { file, pos: shift(pos, by), message },
        ModelError::Structure { file, pos, message } => ModelError::Structure { file, pos: shift(pos, by), message },
        other => other,
    }
}

/// Line/column offset of a block scalar's content in the outer file.
fn embedded_offset(text: &str, v: &Node, content: &str, style: Style) -> Pos {
    if style != Style::Block {
        return Pos::new(v.pos.line.saturating_sub(1), v.pos.column.saturating_sub(1));
    }
    // The scalar's span starts at its first content line (after the `|` header).
    let header = (v.pos.line as usize).saturating_sub(1);
    let first_content = content.lines().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let inner_indent = content.lines().nth(first_content).map_or(0, |l| l.len() - l.trim_start().len());
    let outer_indent = text
        .lines()
        .nth(header + first_content)
        .map_or(0, |l| l.chars().take_while(|c| *c == ' ').count());
    Pos::new(
        u32::try_from(header).unwrap_or(u32::MAX),
        u32::try_from(outer_indent.saturating_sub(inner_indent)).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Hint, load_str};

    const FD: &str = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: app\nspec:\n  flinkVersion: \"1.18\"\n  flinkConfiguration:\n    state.backend: \"rocksdb\"\n    taskmanager.memory.process.size: \"1g\"\n    nested:\n      key: on\n  jobManager:\n    resource:\n      memory: \"2048m\"\n      cpu: \"1000m\"\n  taskManager:\n    resource:\n      memory: \"4g\"\n      cpu: 2\n  job:\n    parallelism: 8\n";

    #[test]
    fn flink_deployment() {
        let docs = load_str("fd.yaml", FD, Hint::Auto).expect("ok");
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d.format, Format::FlinkDeployment);
        assert_eq!(d.resource.as_deref(), Some("FlinkDeployment/app"));
        let m = d.to_map();
        assert_eq!(m["state.backend"], "rocksdb");
        assert_eq!(m["nested.key"], "true");
        assert_eq!(m["jobmanager.memory.process.size"], "2048m");
        assert_eq!(m["taskmanager.memory.process.size"], "4g");
        assert_eq!(m["kubernetes.taskmanager.cpu.amount"], "2.0");
        assert_eq!(m["parallelism.default"], "8");
        assert!(!m.contains_key("kubernetes.jobmanager.cpu.amount"));
        let codes: Vec<_> = d.notes.iter().map(|n| (n.code, n.pos.line)).collect();
        assert!(codes.contains(&("invalid-value", 6)), "{codes:?}");
        assert!(codes.contains(&("invalid-value", 15)), "{codes:?}");
        assert!(codes.contains(&("yaml11-value", 11)), "{codes:?}");
        assert!(codes.contains(&("overridden-by-spec", 9)), "{codes:?}");
        let e = d.entries.iter().find(|e| e.key == "state.backend").expect("entry");
        assert_eq!(e.key_pos, Pos::new(8, 5));
    }

    #[test]
    fn config_map_positions() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  flink-conf.yaml: |\n    # c\n    a: 1\n\n    b: 2\n  config.yaml: |\n    x:\n      y: 1\n  log4j.properties: |\n    z=1\n";
        let docs = load_str("cm.yaml", text, Hint::Auto).expect("ok");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].format, Format::ConfigMapLegacy);
        assert_eq!(docs[0].entries[0].key_pos, Pos::new(8, 5));
        assert_eq!(docs[0].entries[1].key_pos, Pos::new(10, 5));
        assert_eq!(docs[1].format, Format::ConfigMapConfigYaml);
        assert_eq!(docs[1].entries[0].key, "x.y");
        assert_eq!(docs[1].entries[0].key_pos, Pos::new(13, 7));
    }

    #[test]
    fn other_kinds_are_skipped() {
        let docs = load_str("m.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: ServiceAccount\n", Hint::Auto).expect("ok");
        assert!(docs.is_empty());
    }
}
