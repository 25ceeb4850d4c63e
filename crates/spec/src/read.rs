//! Strict reading of `flinkops.yaml`: YAML → a positioned node tree (the config crate's reader,
//! with alias budgets) → checked against the JSON Schema generated from the types, collecting
//! every problem at once (unknown fields with did-you-mean, wrong types, missing fields, bad
//! enum values, inline secrets) with line:col → JSON → the typed [`Spec`].
//!
//! Scalars are read by the schema, not by YAML's guesses: a string field takes any scalar
//! verbatim (`yes`, `2.20`, `010` stay as written — Flink values are strings), numbers and
//! booleans must look like them (YAML 1.2 core: `yes` is not a boolean).

use flinkops_config::model::yaml::{self, Node, NodeKind, Scalar, Style};
use flinkops_config::model::{Pos, ValueKind};
use serde_json::{Map, Value};

use crate::diag::{Diagnostics, Level, SourceMap, did_you_mean};
use crate::types::Spec;

/// Largest spec accepted (bytes).
pub const MAX_SPEC_BYTES: usize = 8 * 1024 * 1024;

/// A spec read from text, with the positions of everything written in it.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub spec: Spec,
    pub map: SourceMap,
}

/// Reads a spec. `file` names it in diagnostics. All problems are returned at once.
pub fn parse(file: &str, text: &str) -> Result<Parsed, Vec<crate::Diagnostic>> {
    let mut map = SourceMap::new(file);
    let mut d = Diagnostics::default();
    if text.len() > MAX_SPEC_BYTES {
        d.at(file, Pos::new(1, 1), Level::Error, "", format!("{} bytes is larger than the {MAX_SPEC_BYTES} bytes accepted for a spec", text.len()), Some("check that this is the right file".into()));
        return Err(d.sorted());
    }
    let docs = match yaml::parse_documents(file, text) {
        Ok(docs) => docs,
        Err(e) => {
            let pos = e.pos().unwrap_or(Pos::new(1, 1));
            d.at(file, pos, Level::Error, "", e.to_string(), Some("fix the YAML syntax at that position".into()));
            return Err(d.sorted());
        }
    };
    let mut roots = docs.into_iter().filter_map(|doc| doc.root.map(|r| (r, doc.pos)));
    let Some((root, _)) = roots.next() else {
        d.at(file, Pos::new(1, 1), Level::Error, "", "the spec is empty", Some("start with `platform: NAME` and `environments:` (see docs/spec.md)".into()));
        return Err(d.sorted());
    };
    if let Some((_, pos)) = roots.next() {
        d.at(file, pos, Level::Error, "", "more than one YAML document in the spec", Some("remove the `---` separator and keep one document".into()));
    }
    let schema = crate::schema::schema_value();
    let mut w = Walker { root: &schema, map: &mut map, diags: &mut d, quiet: false };
    map_value_pos(&mut w, "", root.pos);
    let value = w.walk(&root, &schema, "");
    if d.has_errors() {
        return Err(d.sorted());
    }
    let Some(value) = value else {
        d.at(file, root.pos, Level::Error, "", "the spec could not be read", None);
        return Err(d.sorted());
    };
    match serde_json::from_value::<Spec>(value) {
        Ok(spec) => Ok(Parsed { spec, map }),
        Err(e) => {
            d.at(file, root.pos, Level::Error, "", format!("the spec does not match its types: {e}"), Some("this is a flinkops bug; please report it with the spec".into()));
            Err(d.sorted())
        }
    }
}

fn map_value_pos(w: &mut Walker<'_>, path: &str, pos: Pos) {
    w.map.values.insert(path.to_string(), pos);
}

/// The path of a child: `a.b`, or `a[x.y]` when the key has a dot or is not an identifier.
pub fn child(path: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (true, false) => format!("[{key}]"),
        (false, true) => format!("{path}.{key}"),
        (false, false) => format!("{path}[{key}]"),
    }
}

struct Walker<'a> {
    root: &'a Value,
    map: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
    /// Trial walks of `anyOf` alternatives record no positions.
    quiet: bool,
}

fn describe(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar(s) => match scalar_kind(s) {
            ValueKind::Null => "nothing (null)".into(),
            ValueKind::Bool => format!("the boolean `{}`", s.text),
            ValueKind::Int | ValueKind::Float => format!("the number `{}`", s.text),
            _ => format!("the string `{}`", truncate(&s.text)),
        },
        NodeKind::Seq(_) => "a list".into(),
        NodeKind::Map(_) => "a mapping".into(),
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 { format!("{}…", s.chars().take(40).collect::<String>()) } else { s.to_string() }
}

fn scalar_kind(s: &Scalar) -> ValueKind {
    yaml::resolve(s, yaml::Schema::Flink).kind
}

fn types_of(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

impl Walker<'_> {
    fn error(&mut self, pos: Pos, path: &str, message: String, help: Option<String>) {
        let file = self.map.file.clone();
        self.diags.at(&file, pos, Level::Error, path, message, help);
    }

    fn deref<'s>(root: &'s Value, schema: &'s Value) -> (&'s Value, Option<&'s str>) {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or(r);
                let target = root.get("$defs").and_then(|d| d.get(name)).unwrap_or(&Value::Bool(true));
                (target, Some(name))
            }
            None => (schema, None),
        }
    }

    fn walk(&mut self, node: &Node, schema: &Value, path: &str) -> Option<Value> {
        let root = self.root;
        let (schema, def) = Self::deref(root, schema);
        if !self.quiet {
            self.map.values.entry(path.to_string()).or_insert(node.pos);
        }
        if def == Some("SecretRef")
            && let NodeKind::Scalar(s) = &node.kind
                && scalar_kind(s) != ValueKind::Null {
                    self.error(
                        node.pos,
                        path,
                        format!("`{path}` holds a secret written inline; the spec only takes references to secrets"),
                        Some("write `{env: VAR}`, `{file: /path/to/file}` or `{kubernetesSecret: {name: NAME, key: KEY}}` and keep the value out of the spec (rotate it if this file was shared)".into()),
                    );
                    return None;
                }
        if let Some(alts) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
            return self.walk_alternatives(node, alts, path);
        }
        if let Some(c) = schema.get("const") {
            return self.walk_enum(node, std::slice::from_ref(c), path);
        }
        if let Some(Value::Array(vals)) = schema.get("enum") {
            return self.walk_enum(node, vals, path);
        }
        let types = types_of(schema);
        let is_null = matches!(&node.kind, NodeKind::Scalar(s) if scalar_kind(s) == ValueKind::Null && s.style == Style::Plain);
        if is_null && types.contains(&"null") {
            return Some(Value::Null);
        }
        let ty = types.iter().copied().find(|t| *t != "null").unwrap_or(if schema.get("properties").is_some() { "object" } else { "any" });
        match ty {
            "object" => self.walk_object(node, schema, path),
            "array" => self.walk_array(node, schema, path),
            "string" => self.walk_string(node, path),
            "integer" => self.walk_integer(node, schema, path),
            "number" => self.walk_number(node, path),
            "boolean" => self.walk_bool(node, path),
            _ => Some(to_json(node)),
        }
    }

    fn walk_alternatives(&mut self, node: &Node, alts: &[Value], path: &str) -> Option<Value> {
        let root = self.root;
        let is_null = matches!(&node.kind, NodeKind::Scalar(s) if scalar_kind(s) == ValueKind::Null && s.style == Style::Plain);
        let resolved: Vec<&Value> = alts.iter().map(|a| Self::deref(root, a).0).collect();
        let null_ok = resolved.iter().any(|a| types_of(a) == ["null"]);
        if is_null && null_ok {
            return Some(Value::Null);
        }
        let real: Vec<&Value> = alts.iter().filter(|a| types_of(Self::deref(root, a).0) != ["null"]).collect();
        if real.len() == 1 {
            return self.walk(node, real[0], path);
        }
        if real.iter().all(|a| Self::deref(root, a).0.get("const").is_some()) {
            let consts: Vec<Value> = real.iter().filter_map(|a| Self::deref(root, a).0.get("const").cloned()).collect();
            return self.walk_enum(node, &consts, path);
        }
        // Try each alternative quietly; take the first that fits, else report the closest.
        let mut best: Option<(usize, Diagnostics)> = None;
        for alt in &real {
            let mut trial = Diagnostics::default();
            let mut scratch = SourceMap::new(self.map.file.clone());
            let mut w = Walker { root, map: &mut scratch, diags: &mut trial, quiet: true };
            let v = w.walk(node, alt, path);
            if !trial.has_errors() {
                return self.walk(node, alt, path).or(v);
            }
            let n = trial.items.len();
            if best.as_ref().is_none_or(|(b, _)| n < *b) {
                best = Some((n, trial));
            }
        }
        if let Some((_, trial)) = best {
            self.diags.items.extend(trial.items);
        }
        None
    }

    fn walk_enum(&mut self, node: &Node, vals: &[Value], path: &str) -> Option<Value> {
        let names: Vec<&str> = vals.iter().filter_map(Value::as_str).collect();
        if let NodeKind::Scalar(s) = &node.kind {
            if names.contains(&s.text.as_str()) {
                return Some(Value::String(s.text.clone()));
            }
            let help = did_you_mean(&s.text, names.iter().copied()).unwrap_or_else(|| format!("use one of: {}", names.join(", ")));
            self.error(node.pos, path, format!("`{}` is not a valid value for `{path}` (one of: {})", truncate(&s.text), names.join(", ")), Some(help));
        } else {
            self.error(node.pos, path, format!("expected one of {} for `{path}`, found {}", names.join(", "), describe(node)), None);
        }
        None
    }

    fn walk_object(&mut self, node: &Node, schema: &Value, path: &str) -> Option<Value> {
        let NodeKind::Map(entries) = &node.kind else {
            self.error(node.pos, path, format!("expected a mapping for `{}`, found {}", display_path(path), describe(node)), None);
            return None;
        };
        let props = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        let closed = matches!(additional, Some(Value::Bool(false)));
        let mut out = Map::new();
        let mut ok = true;
        let mut seen: std::collections::BTreeMap<String, Pos> = std::collections::BTreeMap::new();
        for (k, v) in entries {
            let key = match &k.kind {
                NodeKind::Scalar(s) => s.text.clone(),
                _ => {
                    self.error(k.pos, path, "a mapping or list used as a key; keys are strings".into(), None);
                    ok = false;
                    continue;
                }
            };
            let cpath = child(path, &key);
            if let Some(first) = seen.get(&key) {
                self.error(k.pos, &cpath, format!("`{key}` is written twice in this mapping (first at {first})"), Some("keep one of them".into()));
                ok = false;
                continue;
            }
            seen.insert(key.clone(), k.pos);
            if !self.quiet {
                self.map.keys.insert(cpath.clone(), k.pos);
            }
            let sub = props.and_then(|p| p.get(&key)).or(match additional {
                Some(Value::Bool(false)) | None => None,
                Some(s) => Some(s),
            });
            match sub {
                Some(sub) => match self.walk(v, sub, &cpath) {
                    Some(val) => {
                        out.insert(key, val);
                    }
                    None => ok = false,
                },
                None if closed || props.is_some() => {
                    let names: Vec<&str> = props.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                    let help = did_you_mean(&key, names.iter().copied())
                        .unwrap_or_else(|| format!("known fields here: {}", names.join(", ")));
                    let help = if key == "<<" { "merge keys (`<<`) are not supported in a spec; write the fields out".to_string() } else { help };
                    self.error(k.pos, &cpath, format!("unknown field `{key}` in `{}`", display_path(path)), Some(help));
                    ok = false;
                }
                None => {
                    out.insert(key, to_json(v));
                }
            }
        }
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !seen.contains_key(r) {
                    let what = props
                        .and_then(|p| p.get(r))
                        .map(|s| Self::deref(self.root, s).0)
                        .and_then(|s| s.get("description").or_else(|| s.get("title")))
                        .and_then(Value::as_str)
                        .map(|d| d.split(". ").next().unwrap_or(d).trim_end_matches('.').to_string());
                    let help = match what {
                        Some(w) => format!("add `{r}:` ({w})"),
                        None => format!("add `{r}:`"),
                    };
                    self.error(node.pos, &child(path, r), format!("missing field `{r}` in `{}`", display_path(path)), Some(help));
                    ok = false;
                }
            }
        }
        ok.then_some(Value::Object(out))
    }

    fn walk_array(&mut self, node: &Node, schema: &Value, path: &str) -> Option<Value> {
        let items_schema = schema.get("items").cloned().unwrap_or(Value::Bool(true));
        let items = match &node.kind {
            NodeKind::Seq(items) => items,
            NodeKind::Scalar(s) if scalar_kind(s) == ValueKind::Null && s.style == Style::Plain => return Some(Value::Array(Vec::new())),
            _ => {
                self.error(node.pos, path, format!("expected a list for `{}`, found {}", display_path(path), describe(node)), Some("write `[a, b]` or one `- item` per line".into()));
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.walk(item, &items_schema, &format!("{path}[{i}]")) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(Value::Array(out))
    }

    fn walk_string(&mut self, node: &Node, path: &str) -> Option<Value> {
        match &node.kind {
            NodeKind::Scalar(s) if !(s.style == Style::Plain && scalar_kind(s) == ValueKind::Null) => Some(Value::String(s.text.clone())),
            _ => {
                self.error(node.pos, path, format!("expected a string for `{}`, found {}", display_path(path), describe(node)), Some("write a value (quote it if it is empty: \"\")".into()));
                None
            }
        }
    }

    fn walk_integer(&mut self, node: &Node, schema: &Value, path: &str) -> Option<Value> {
        let n = match &node.kind {
            NodeKind::Scalar(s) if s.style == Style::Plain && scalar_kind(s) == ValueKind::Int => s.text.parse::<i64>().ok(),
            _ => None,
        };
        let Some(n) = n else {
            self.error(node.pos, path, format!("expected a whole number for `{}`, found {}", display_path(path), describe(node)), Some("write a number without quotes or units".into()));
            return None;
        };
        let min = schema.get("minimum").and_then(Value::as_i64).unwrap_or(i64::MIN);
        let max = match schema.get("format").and_then(Value::as_str) {
            Some("uint32") => i64::from(u32::MAX),
            Some("uint16") => i64::from(u16::MAX),
            _ => schema.get("maximum").and_then(Value::as_i64).unwrap_or(i64::MAX),
        };
        if n < min || n > max {
            self.error(node.pos, path, format!("{n} is out of range for `{}` ({min}..={max})", display_path(path)), None);
            return None;
        }
        Some(Value::from(n))
    }

    fn walk_number(&mut self, node: &Node, path: &str) -> Option<Value> {
        if let NodeKind::Scalar(s) = &node.kind {
            if s.style == Style::Plain && matches!(scalar_kind(s), ValueKind::Int | ValueKind::Float)
                && let Some(v) = s.text.parse::<f64>().ok().filter(|x| x.is_finite()).and_then(serde_json::Number::from_f64) {
                    return Some(Value::Number(v));
                }
            let help = match s.text.strip_suffix('m').and_then(|m| m.trim().parse::<f64>().ok()) {
                Some(milli) => format!("write `{}` (a number of cores; Kubernetes millicores like `{}` are not accepted here)", milli / 1000.0, s.text),
                None => "write a number without quotes".to_string(),
            };
            self.error(node.pos, path, format!("expected a number for `{}`, found {}", display_path(path), describe(node)), Some(help));
        } else {
            self.error(node.pos, path, format!("expected a number for `{}`, found {}", display_path(path), describe(node)), None);
        }
        None
    }

    fn walk_bool(&mut self, node: &Node, path: &str) -> Option<Value> {
        if let NodeKind::Scalar(s) = &node.kind
            && s.style == Style::Plain && scalar_kind(s) == ValueKind::Bool {
                return Some(Value::Bool(s.text.eq_ignore_ascii_case("true")));
            }
        self.error(node.pos, path, format!("expected true or false for `{}`, found {}", display_path(path), describe(node)), Some("write `true` or `false` (YAML 1.1 `yes`/`on` are strings)".into()));
        None
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "the spec" } else { path }
}

/// A node as JSON without a schema (strings stay strings).
fn to_json(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Scalar(s) => {
            let v = yaml::resolve(s, yaml::Schema::Flink);
            match v.kind {
                ValueKind::Null => Value::Null,
                _ => Value::String(s.text.clone()),
            }
        }
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), to_json(v))))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "platform: demo\nenvironments:\n  dev:\n    target: local\n    flinkVersion: 2.3\n";

    #[test]
    fn reads_a_minimal_spec() {
        let p = parse("f.yaml", MINIMAL).expect("parses");
        assert_eq!(p.spec.platform, "demo");
        assert_eq!(p.spec.environments["dev"].flink_version, "2.3");
        assert_eq!(p.map.value_pos("environments.dev.flinkVersion"), Pos::new(5, 19));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let text = "platform: demo\nenvironmnts: {}\nenvironments:\n  dev:\n    target: kubernets\n    flinkVersion: 2.2\n    taskManager:\n      cpu: 1000m\n      slots: -1\n      memroy: 4g\n";
        let errs = parse("f.yaml", text).unwrap_err();
        let lines: Vec<String> = errs.iter().map(|d| format!("{}:{} {}", d.line, d.column, d.message)).collect();
        assert_eq!(errs.len(), 5, "{lines:#?}");
        assert!(errs[0].message.contains("unknown field `environmnts`") && errs[0].help.as_deref() == Some("did you mean `environments`?"), "{lines:#?}");
        assert!(errs[1].message.contains("`kubernets` is not a valid value"), "{lines:#?}");
        assert_eq!(errs[1].help.as_deref(), Some("did you mean `kubernetes`?"));
        assert!(errs[2].help.as_deref().unwrap_or("").contains("write `1`"), "{lines:#?}");
        assert!(errs[3].message.contains("out of range"), "{lines:#?}");
        assert!(errs[4].message.contains("unknown field `memroy`") && errs[4].help.as_deref() == Some("did you mean `memory`?"), "{lines:#?}");
        assert_eq!((errs[4].line, errs[4].column), (10, 7));
    }

    #[test]
    fn inline_secrets_are_errors_and_not_echoed() {
        let text = "platform: p\nenvironments: {}\nalerting:\n  channels:\n    s:\n      slack:\n        webhookUrl: https://hooks.slack.com/services/T0/B0/SECRET\n        channel: '#a'\n";
        let errs = parse("f.yaml", text).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("secret written inline"));
        assert!(!errs[0].to_string().contains("SECRET"));
        assert_eq!((errs[0].line, errs[0].column), (7, 21));
    }

    #[test]
    fn flink_values_stay_strings() {
        let text = "platform: p\nenvironments:\n  e:\n    target: local\n    flinkVersion: '2.3'\n    flinkConfiguration:\n      a.b: yes\n      c: 010\n";
        let p = parse("f.yaml", text).expect("parses");
        let fc = &p.spec.environments["e"].flink_configuration;
        assert_eq!(fc["a.b"], "yes");
        assert_eq!(fc["c"], "010");
        assert!(p.map.has("environments.e.flinkConfiguration[a.b]"));
    }

    #[test]
    fn missing_fields_and_bad_yaml() {
        let errs = parse("f.yaml", "environments:\n  e:\n    target: local\n").unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert!(errs.iter().any(|d| d.message.contains("missing field `platform`")));
        assert!(errs.iter().any(|d| d.message.contains("missing field `flinkVersion`")));
        let errs = parse("f.yaml", "platform: [a\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(parse("f.yaml", "").is_err());
        assert!(parse("f.yaml", "- a\n").is_err());
    }
}
