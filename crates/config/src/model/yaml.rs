//! YAML reading for the config model, on the `granit-parser` event API that `serde-saphyr`
//! re-exports (it gives a line and column for every key, which serde's data model cannot).
//!
//! Builds a small node tree with positions, expands aliases and merge keys under a node budget
//! (no "billion laughs"), and resolves plain scalars the way the reader of the file does:
//! Flink's loader (YAML 1.2 core schema: `yes`/`on` stay strings, `010` is ten, `0x10` sixteen)
//! or, for Kubernetes manifests, kubectl's YAML 1.1 rules (`yes`/`on` are booleans). Values are
//! then turned into the exact string Flink's `Configuration` returns for them.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError};

use super::{ConfigDoc, Entry, ModelError, NoteSeverity, Origin, Pos, Value, ValueKind};

/// Upper bound on nodes built, alias expansions included.
pub const MAX_NODES: usize = 2_000_000;

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

/// A scalar as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
    /// Core-schema tag suffix (`str`, `int`, …) or the full custom tag.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A YAML node with the position where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
}

impl Node {
    /// The value under a scalar key of a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().rev().find_map(|(k, v)| match &k.kind {
                NodeKind::Scalar(s) if s.text == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The text of a scalar node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    fn size(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar(_) => 1,
            NodeKind::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            NodeKind::Map(entries) => 1 + entries.iter().map(|(k, v)| k.size() + v.size()).sum::<usize>(),
        }
    }
}

/// One YAML document: its root (None for an empty document) and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub root: Option<Node>,
    pub pos: Pos,
}

fn pos_of(m: &serde_saphyr::granit_parser::Marker) -> Pos {
    Pos::new(
        u32::try_from(m.line()).unwrap_or(u32::MAX),
        u32::try_from(m.col().saturating_add(1)).unwrap_or(u32::MAX),
    )
}

fn scan_error(file: &str, e: &ScanError) -> ModelError {
    ModelError::Yaml { file: file.to_string(), pos: pos_of(e.marker()), message: e.info() }
}

enum Frame {
    Seq { items: Vec<Node>, pos: Pos, anchor: usize },
    Map { entries: Vec<(Node, Node)>, key: Option<Node>, pos: Pos, anchor: usize },
}

/// Parses all documents of a YAML stream into node trees.
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<Document>, ModelError> {
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut current: Option<Document> = None;
    let mut budget: usize = 0;
    let too_big = |pos: Pos| ModelError::Structure {
        file: file.to_string(),
        pos,
        message: format!("more than {MAX_NODES} YAML nodes (after expanding aliases); this is not a Flink configuration"),
    };

    for next in Parser::new_from_str(text) {
        let (event, span) = next.map_err(|e| scan_error(file, &e))?;
        let pos = pos_of(&span.start);
        let mut finished: Option<(Node, usize)> = None;
        match event {
            Event::DocumentStart(..) => {
                anchors.clear();
                current = Some(Document { root: None, pos });
            }
            Event::DocumentEnd => {
                if let Some(d) = current.take() {
                    docs.push(d);
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    _ => Style::Block,
                };
                let tag = tag.map(|t| match t.core_suffix() {
                    Some(s) if t.is_yaml_core_schema() => s.to_string(),
                    _ => t.original(),
                });
                finished = Some((
                    Node { kind: NodeKind::Scalar(Scalar { text: value.into_owned(), style, tag }), pos },
                    anchor,
                ));
                budget += 1;
            }
            Event::SequenceStart(_, anchor, _) => {
                stack.push(Frame::Seq { items: Vec::new(), pos, anchor });
                budget += 1;
            }
            Event::MappingStart(_, anchor, _) => {
                stack.push(Frame::Map { entries: Vec::new(), key: None, pos, anchor });
                budget += 1;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { items, pos, anchor }) => {
                    finished = Some((Node { kind: NodeKind::Seq(items), pos }, anchor));
                }
                Some(Frame::Map { entries, pos, anchor, .. }) => {
                    finished = Some((Node { kind: NodeKind::Map(entries), pos }, anchor));
                }
                None => {
                    return Err(ModelError::Yaml { file: file.to_string(), pos, message: "unbalanced collection end".into() });
                }
            },
            Event::Alias(id) => {
                let node = anchors.get(&id).cloned().ok_or_else(|| ModelError::Yaml {
                    file: file.to_string(),
                    pos,
                    message: "alias to an unknown anchor".into(),
                })?;
                budget = budget.saturating_add(node.size());
                if budget > MAX_NODES {
                    return Err(too_big(pos));
                }
                finished = Some((Node { kind: node.kind, pos }, 0));
            }
            _ => {}
        }
        if budget > MAX_NODES {
            return Err(too_big(pos));
        }
        if let Some((node, anchor)) = finished {
            if anchor != 0 {
                anchors.insert(anchor, node.clone());
            }
            match stack.last_mut() {
                Some(Frame::Seq { items, .. }) => items.push(node),
                Some(Frame::Map { entries, key, .. }) => match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                },
                None => {
                    let d = current.get_or_insert(Document { root: None, pos: Pos::new(1, 1) });
                    d.root = Some(node);
                }
            }
        }
    }
    if let Some(d) = current.take() {
        docs.push(d);
    }
    Ok(docs)
}

/// True for a mapping with `apiVersion` and `kind`.
pub fn looks_like_k8s_object(node: &Node) -> bool {
    node.get("apiVersion").is_some() && node.get("kind").and_then(Node::as_str).is_some()
}

/// Which reader's rules apply to plain scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Flink's `config.yaml` loader: YAML 1.2 core schema.
    Flink,
    /// kubectl / the Kubernetes API (YAML 1.1 via go-yaml, then JSON): `yes`/`on` are booleans.
    Kubernetes,
}

fn is_decimal_int(s: &str) -> bool {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

fn canonical_decimal(s: &str) -> String {
    let (neg, d) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let d = d.trim_start_matches('0');
    if d.is_empty() {
        "0".to_string()
    } else if neg {
        format!("-{d}")
    } else {
        d.to_string()
    }
}

fn is_core_float(s: &str) -> bool {
    // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let b = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.first() == Some(&b'.') {
        i = 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `Double.toString` of Java (the format Flink prints floats in).
pub fn java_double(x: f64) -> String {
    crate::units::java_double_to_string(x)
}

fn yaml_double(x: f64) -> String {
    if x.is_nan() {
        ".NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { ".inf".into() } else { "-.inf".into() }
    } else {
        java_double(x)
    }
}

/// Resolves a scalar to what the reader makes of it, as the string Flink sees.
pub fn resolve(s: &Scalar, schema: Schema) -> Value {
    let text = s.text.as_str();
    let tag = s.tag.as_deref();
    if s.style != Style::Plain || tag == Some("str") {
        return Value { text: s.text.clone(), kind: ValueKind::String };
    }
    match schema {
        Schema::Flink => resolve_core(text, tag),
        Schema::Kubernetes => resolve_yaml11(text),
    }
}

fn resolve_core(text: &str, tag: Option<&str>) -> Value {
    let v = |text: String, kind| Value { text, kind };
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") && tag != Some("str") {
        return v(String::new(), ValueKind::Null);
    }
    if matches!(text, "true" | "True" | "TRUE") {
        return v("true".into(), ValueKind::Bool);
    }
    if matches!(text, "false" | "False" | "FALSE") {
        return v("false".into(), ValueKind::Bool);
    }
    if is_decimal_int(text) {
        return v(canonical_decimal(text), ValueKind::Int);
    }
    if let Some(o) = text.strip_prefix("0o") {
        if !o.is_empty() && o.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            if let Ok(n) = u128::from_str_radix(o, 8) {
                return v(n.to_string(), ValueKind::Int);
            }
        }
    }
    if let Some(h) = text.strip_prefix("0x") {
        if !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()) {
            if let Ok(n) = u128::from_str_radix(h, 16) {
                return v(n.to_string(), ValueKind::Int);
            }
        }
    }
    if is_core_float(text) {
        if let Ok(x) = text.parse::<f64>() {
            return v(yaml_double(x), ValueKind::Float);
        }
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return v(if text.starts_with('-') { "-.inf".into() } else { ".inf".into() }, ValueKind::Float);
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return v(".NaN".into(), ValueKind::Float);
    }
    v(text.to_string(), ValueKind::String)
}

fn resolve_yaml11(text: &str) -> Value {
    let v = |text: String, kind| Value { text, kind };
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return v(String::new(), ValueKind::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return v("true".into(), ValueKind::Bool);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return v("false".into(), ValueKind::Bool);
        }
        _ => {}
    }
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    let parsed = if let Some(h) = body.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()
    } else if let Some(b) = body.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()
    } else if body.len() > 1 && body.starts_with('0') && body.bytes().all(|b| b.is_ascii_digit()) {
        i128::from_str_radix(&body[1..], 8).ok()
    } else if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
        body.parse::<i128>().ok()
    } else {
        None
    };
    if let Some(n) = parsed {
        return v((if neg { -n } else { n }).to_string(), ValueKind::Int);
    }
    if is_core_float(&plain) {
        if let Ok(x) = plain.parse::<f64>() {
            return v(java_double(x), ValueKind::Float);
        }
    }
    v(text.to_string(), ValueKind::String)
}

fn needs_quotes_in_flow(s: &str) -> bool {
    s.is_empty()
        || resolve_core(s, None).kind != ValueKind::String
        || s.starts_with([' ', '-', '?', ':', '!', '&', '*', '#', '|', '>', '\'', '"', '%', '@', '`'])
        || s.ends_with(' ')
        || s.contains([',', '[', ']', '{', '}', '\n'])
        || s.contains(": ")
        || s.contains(" #")
}

/// One-line YAML of a node, as Flink's `YamlParserUtils.toYAMLString` dumps lists.
pub fn flow_text(node: &Node, schema: Schema) -> String {
    match &node.kind {
        NodeKind::Scalar(s) => {
            let v = resolve(s, schema);
            match v.kind {
                ValueKind::Null => "null".into(),
                ValueKind::String if needs_quotes_in_flow(&v.text) => format!("'{}'", v.text.replace('\'', "''")),
                _ => v.text,
            }
        }
        NodeKind::Seq(items) => {
            let inner: Vec<String> = items.iter().map(|n| flow_text(n, schema)).collect();
            format!("[{}]", inner.join(", "))
        }
        NodeKind::Map(entries) => {
            let inner: Vec<String> =
                entries.iter().map(|(k, v)| format!("{}: {}", flow_text(k, schema), flow_text(v, schema))).collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Expands `<<` merge keys: explicit entries win over merged ones, earlier merged maps over later.
fn merged_entries(entries: &[(Node, Node)]) -> Vec<(Node, Node)> {
    let is_merge = |k: &Node| matches!(&k.kind, NodeKind::Scalar(s) if s.text == "<<" && s.style == Style::Plain);
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return entries.to_vec();
    }
    let mut out: Vec<(Node, Node)> = entries.iter().filter(|(k, _)| !is_merge(k)).cloned().collect();
    let has = |out: &[(Node, Node)], k: &Node| out.iter().any(|(o, _)| o.kind == k.kind);
    for (k, v) in entries.iter().filter(|(k, _)| is_merge(k)) {
        let _ = k;
        let sources: Vec<&Node> = match &v.kind {
            NodeKind::Map(_) => vec![v],
            NodeKind::Seq(items) => items.iter().collect(),
            NodeKind::Scalar(_) => vec![],
        };
        for src in sources {
            if let NodeKind::Map(es) = &src.kind {
                for (mk, mv) in merged_entries(es) {
                    if !has(&out, &mk) {
                        out.push((mk, mv));
                    }
                }
            }
        }
    }
    out
}

/// Flattens a root mapping into `doc` the way Flink's `GlobalConfiguration` does.
pub fn flatten_root(root: &Node, doc: &mut ConfigDoc, schema: Schema) -> Result<(), ModelError> {
    match &root.kind {
        NodeKind::Map(_) => {
            let mut seen = HashMap::new();
            flatten_into(root, "", doc, schema, &mut seen, 0);
            Ok(())
        }
        NodeKind::Scalar(s) if resolve(s, schema).kind == ValueKind::Null => Ok(()),
        _ => Err(ModelError::Structure {
            file: doc.file.clone(),
            pos: root.pos,
            message: "the top level must be a mapping of configuration keys to values; Flink fails to load anything else".into(),
        }),
    }
}

/// Flattens a mapping under `prefix` into `doc` (used for `config.yaml` and `flinkConfiguration`).
pub fn flatten_into(
    node: &Node,
    prefix: &str,
    doc: &mut ConfigDoc,
    schema: Schema,
    seen: &mut HashMap<String, Pos>,
    depth: usize,
) {
    let NodeKind::Map(raw) = &node.kind else { return };
    let entries = merged_entries(raw);
    let mut local: HashMap<String, Pos> = HashMap::new();
    for (k, v) in &entries {
        let key_part = match &k.kind {
            NodeKind::Scalar(s) => {
                let r = resolve(s, schema);
                if r.kind == ValueKind::Null { "null".to_string() } else { r.text }
            }
            _ => {
                doc.note(
                    NoteSeverity::Error,
                    "invalid-key",
                    None,
                    k.pos,
                    "a mapping or list used as a key; configuration keys are strings",
                    Some("write the key as a plain string".into()),
                );
                continue;
            }
        };
        let key = format!("{prefix}{key_part}");
        if let Some(first) = local.get(&key_part) {
            doc.note(
                NoteSeverity::Error,
                "duplicate-key",
                Some(&key),
                k.pos,
                format!("`{key}` appears twice in the same mapping (first at {first}); Flink refuses such a file (\"found duplicate key\")"),
                Some("delete one of the two".into()),
            );
        }
        local.insert(key_part, k.pos);
        match &v.kind {
            NodeKind::Map(inner) => {
                if inner.is_empty() {
                    doc.note(
                        NoteSeverity::Warning,
                        "empty-mapping",
                        Some(&key),
                        v.pos,
                        format!("`{key}` is an empty mapping; it sets nothing"),
                        Some("give it a value or delete it".into()),
                    );
                }
                if depth < 64 {
                    flatten_into(v, &format!("{key}."), doc, schema, seen, depth + 1);
                }
            }
            _ => {
                let value = match &v.kind {
                    NodeKind::Seq(_) => Value { text: flow_text(v, schema), kind: ValueKind::List },
                    NodeKind::Scalar(s) => {
                        if let Some(tag) = s.tag.as_deref().filter(|t| !matches!(*t, "str" | "int" | "float" | "bool" | "null" | "!")) {
                            doc.note(
                                NoteSeverity::Error,
                                "unsupported-tag",
                                Some(&key),
                                v.pos,
                                format!("YAML tag `{tag}` on `{key}`; Flink's loader cannot construct it"),
                                Some("remove the tag".into()),
                            );
                        }
                        resolve(s, schema)
                    }
                    NodeKind::Map(_) => continue,
                };
                if value.kind == ValueKind::Null {
                    doc.note(
                        NoteSeverity::Error,
                        "null-value",
                        Some(&key),
                        v.pos,
                        format!("`{key}` has no value (YAML null); Flink fails to start with \"Value must not be null\""),
                        Some("give it a value, quote it (\"\") if you mean an empty string, or delete the line".into()),
                    );
                }
                if let Some(first) = seen.get(&key).copied() {
                    if !local_dup(&entries, k) {
                        doc.note(
                            NoteSeverity::Error,
                            "duplicate-key",
                            Some(&key),
                            k.pos,
                            format!("`{key}` is written twice, once nested and once dotted (first at {first}); Flink keeps one of them unpredictably"),
                            Some("keep one spelling of the key".into()),
                        );
                    }
                }
                seen.insert(key.clone(), k.pos);
                doc.entries.push(Entry {
                    key,
                    value,
                    file: doc.file.clone(),
                    key_pos: k.pos,
                    value_pos: v.pos,
                    origin: Origin::Written,
                });
            }
        }
    }
}

fn local_dup(entries: &[(Node, Node)], k: &Node) -> bool {
    entries.iter().filter(|(o, _)| o.kind == k.kind).count() > 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Format, parse_config_yaml};

    fn map(text: &str) -> std::collections::BTreeMap<String, String> {
        parse_config_yaml("config.yaml", text).expect("parses").to_map()
    }

    #[test]
    fn scalars_resolve_like_flink_2() {
        // Each expectation was checked against Flink 2.3.0's GlobalConfiguration.
        let m = map("a:\n  b: yes\n  c: on\n  d: 1.50\n  e: \"quoted\"\n  f: [x, y]\n  h: 0x10\n  i: 010\n  k: 1_000\n  l: .inf\n  o:\n    - 1\n    - 2\nflat.key: 3\n");
        assert_eq!(m["a.b"], "yes");
        assert_eq!(m["a.c"], "on");
        assert_eq!(m["a.d"], "1.5");
        assert_eq!(m["a.e"], "quoted");
        assert_eq!(m["a.f"], "[x, y]");
        assert_eq!(m["a.h"], "16");
        assert_eq!(m["a.i"], "10");
        assert_eq!(m["a.k"], "1_000");
        assert_eq!(m["a.l"], ".inf");
        assert_eq!(m["a.o"], "[1, 2]");
        assert_eq!(m["flat.key"], "3");
        let m = map("b1: True\nb3: tRuE\ni3: +12\ni4: 1e3\ns1: 1e10\ns2: 0o17\ns3: -0\ns4: 1.0\ns5: 100000000.0\ns6: 0.0001\ns7: 12345678901234567890\nd1: 10 s\n");
        assert_eq!(m["b1"], "true");
        assert_eq!(m["b3"], "tRuE");
        assert_eq!(m["i3"], "12");
        assert_eq!(m["i4"], "1000.0");
        assert_eq!(m["s1"], "1.0E10");
        assert_eq!(m["s2"], "15");
        assert_eq!(m["s3"], "0");
        assert_eq!(m["s4"], "1.0");
        assert_eq!(m["s5"], "1.0E8");
        assert_eq!(m["s6"], "1.0E-4");
        assert_eq!(m["s7"], "12345678901234567890");
        assert_eq!(m["d1"], "10 s");
    }

    #[test]
    fn positions_of_keys_and_values() {
        let d = parse_config_yaml("c.yaml", "# c\nstate:\n  backend:\n    type: rocksdb\n").expect("ok");
        let e = &d.entries[0];
        assert_eq!(e.key, "state.backend.type");
        assert_eq!(e.key_pos, Pos::new(4, 5));
        assert_eq!(e.value_pos, Pos::new(4, 11));
        assert_eq!(d.format, Format::ConfigYaml);
    }

    #[test]
    fn duplicates_nulls_and_collisions() {
        let d = parse_config_yaml("c.yaml", "a: 1\na: 2\nb:\nc:\n  d: 1\nc.d: 2\n").expect("ok");
        let codes: Vec<_> = d.notes.iter().map(|n| (n.code, n.pos.line)).collect();
        assert!(codes.contains(&("duplicate-key", 2)), "{codes:?}");
        assert!(codes.contains(&("null-value", 3)), "{codes:?}");
        assert!(codes.contains(&("duplicate-key", 6)), "{codes:?}");
    }

    #[test]
    fn prefix_keys_coexist_flat() {
        let m = map("restart-strategy: fixed-delay\nrestart-strategy.fixed-delay.attempts: 3\n");
        assert_eq!(m["restart-strategy"], "fixed-delay");
        assert_eq!(m["restart-strategy.fixed-delay.attempts"], "3");
    }

    #[test]
    fn anchors_and_merges() {
        let m = map("base: &b\n  x: 1\n  y: 2\nother:\n  <<: *b\n  y: 3\n");
        assert_eq!(m["other.x"], "1");
        assert_eq!(m["other.y"], "3");
    }

    #[test]
    fn errors_have_positions() {
        let e = parse_config_yaml("c.yaml", "a: 1\nb: [1, 2\n").expect_err("bad");
        assert!(e.pos().is_some_and(|p| p.line >= 2), "{e}");
        let e = parse_config_yaml("c.yaml", "- a\n- b\n").expect_err("not a map");
        assert_eq!(e.pos(), Some(Pos::new(1, 1)));
        assert!(parse_config_yaml("c.yaml", "").expect("empty").entries.is_empty());
        assert!(parse_config_yaml("c.yaml", "# only\n").expect("comment").entries.is_empty());
    }

    #[test]
    fn billion_laughs_is_bounded() {
        let mut s = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        let mut prev = 'a';
        for c in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            s.push_str(&format!("{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = c;
        }
        assert!(parse_config_yaml("c.yaml", &s).is_err());
    }

    #[test]
    fn kubernetes_schema_is_yaml_1_1() {
        let s = Scalar { text: "yes".into(), style: Style::Plain, tag: None };
        assert_eq!(resolve(&s, Schema::Kubernetes).text, "true");
        let s = Scalar { text: "010".into(), style: Style::Plain, tag: None };
        assert_eq!(resolve(&s, Schema::Kubernetes).text, "8");
        assert_eq!(resolve(&s, Schema::Flink).text, "10");
    }

    #[test]
    fn java_double_format() {
        assert_eq!(java_double(1.5), "1.5");
        assert_eq!(java_double(1000.0), "1000.0");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(0.001), "0.001");
    }
}
