//! The configuration model: Flink settings read from every place a user writes them — a 2.x
//! `config.yaml` (standard YAML, nested or flat dotted keys, flattened exactly as Flink's
//! `GlobalConfiguration` does), a legacy 1.x `flink-conf.yaml` (Flink's loose `key: value` line
//! format), `-D key=value` pairs, a `FlinkDeployment` / `FlinkSessionJob` manifest or a ConfigMap
//! holding a Flink config file, and (later) the platform spec.
//!
//! Every [`Entry`] keeps the file, line and column it came from. Problems that are not fatal
//! (duplicate keys, lines Flink skips, null values) are collected as [`Note`]s on the
//! [`ConfigDoc`] so that the linter can report all of them at once; only input that cannot be
//! read at all (malformed YAML, binary data, oversized files) is a [`ModelError`], and that error
//! carries a position too. No input makes these parsers panic.

mod legacy;
mod manifest;
pub mod yaml;

use std::collections::BTreeMap;

use serde::Serialize;

pub use legacy::parse_legacy;
pub use manifest::parse_manifest_docs;

/// Largest input accepted (bytes). Flink configs are kilobytes; anything near this is a mistake.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// A position in a source: 1-based line and column (in characters). `0:0` means "no position"
/// (e.g. a value derived from another field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const fn new(line: u32, column: u32) -> Self {
        Self { line, column }
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The kind of document a [`ConfigDoc`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Flink 2.x `config.yaml` (also read by 1.19/1.20 when present).
    ConfigYaml,
    /// Flink 1.x `flink-conf.yaml`: one `key: value` per line, not real YAML.
    LegacyFlinkConf,
    /// `-D key=value` pairs from a command line.
    Dynamic,
    /// `spec.flinkConfiguration` (+ resources) of a `FlinkDeployment`.
    FlinkDeployment,
    /// `spec.flinkConfiguration` of a `FlinkSessionJob`.
    FlinkSessionJob,
    /// A Flink config file embedded in a ConfigMap's `data`.
    ConfigMapConfigYaml,
    /// A legacy `flink-conf.yaml` embedded in a ConfigMap's `data`.
    ConfigMapLegacy,
    /// The Kubernetes operator's own configuration (its `flink-conf.yaml` / `config.yaml`).
    OperatorConfig,
    /// Settings from the flinkops platform spec.
    Platform,
}

impl Format {
    /// True for the line-based legacy format that Flink 2.x no longer reads.
    pub fn is_legacy(self) -> bool {
        matches!(self, Format::LegacyFlinkConf | Format::ConfigMapLegacy)
    }
    /// True for Kubernetes operator resources (the operator reads `kubernetes.operator.*` there).
    pub fn is_operator_resource(self) -> bool {
        matches!(self, Format::FlinkDeployment | Format::FlinkSessionJob)
    }
}

/// What YAML made of a value before Flink turned it into a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueKind {
    /// A string (quoted, block, or a plain scalar that is no other type; always for legacy files).
    String,
    Bool,
    Int,
    Float,
    /// YAML null (`~`, `null`, nothing): Flink 2.x refuses to start ("Value must not be null").
    Null,
    /// A YAML sequence, kept as Flink's one-line YAML dump (`[a, b]`).
    List,
    /// A YAML mapping in a place where Flink keeps it whole (inside a list).
    Map,
}

/// A value as Flink sees it: the string Flink's `Configuration` returns for it, plus what YAML
/// made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Value {
    pub text: String,
    pub kind: ValueKind,
}

impl Value {
    pub fn string(text: impl Into<String>) -> Self {
        Self { text: text.into(), kind: ValueKind::String }
    }
}

/// Where an entry came from, beyond its file position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Origin {
    /// Written by the user under this key.
    Written,
    /// Set by the operator from another field (e.g. `spec.taskManager.resource.memory`).
    Derived { from: String },
}

/// One configuration setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The flattened key, as Flink sees it (`state.backend.type`).
    pub key: String,
    pub value: Value,
    /// Display name of the file (or `<command line>`).
    pub file: String,
    /// Position of the key (for nested YAML: of the innermost key segment).
    pub key_pos: Pos,
    /// Position of the value.
    pub value_pos: Pos,
    pub origin: Origin,
}

/// Severity of a parse-level note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteSeverity {
    Info,
    Warning,
    Error,
}

/// A non-fatal problem found while reading (the linter turns these into findings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub severity: NoteSeverity,
    /// Stable code, e.g. `duplicate-key`, `skipped-line`, `null-value`.
    pub code: &'static str,
    pub key: Option<String>,
    pub pos: Pos,
    pub message: String,
    pub help: Option<String>,
}

/// One configuration as read from one source (one file can hold several, e.g. a multi-document
/// manifest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigDoc {
    pub file: String,
    pub format: Format,
    /// For Kubernetes resources: `Kind/name`.
    pub resource: Option<String>,
    /// For operator resources: `spec.flinkVersion` (e.g. `v1_18`).
    pub flink_version: Option<String>,
    /// Position of the document itself (for findings about the whole document).
    pub pos: Pos,
    /// Every setting in source order, duplicates included.
    pub entries: Vec<Entry>,
    pub notes: Vec<Note>,
}

impl ConfigDoc {
    pub fn new(file: impl Into<String>, format: Format) -> Self {
        Self {
            file: file.into(),
            format,
            resource: None,
            flink_version: None,
            pos: Pos::new(1, 1),
            entries: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The effective settings: the last entry per key wins (as in Flink for legacy files and
    /// `-D`; duplicate keys in YAML are reported separately).
    pub fn effective(&self) -> BTreeMap<&str, &Entry> {
        let mut map = BTreeMap::new();
        for e in &self.entries {
            map.insert(e.key.as_str(), e);
        }
        map
    }

    /// The effective settings as plain strings.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.effective().into_iter().map(|(k, e)| (k.to_string(), e.value.text.clone())).collect()
    }

    pub(crate) fn note(
        &mut self,
        severity: NoteSeverity,
        code: &'static str,
        key: Option<&str>,
        pos: Pos,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        self.notes.push(Note { severity, code, key: key.map(str::to_string), pos, message: message.into(), help });
    }
}

/// Input that cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("{file}: cannot read: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}: {size} bytes is larger than the {max} bytes accepted for a configuration file; check that this is the right file")]
    TooLarge { file: String, size: usize, max: usize },
    #[error("{file}:{pos}: not a text file ({what}); give a YAML or flink-conf.yaml file")]
    Binary { file: String, pos: Pos, what: String },
    #[error("{file}:{pos}: invalid YAML: {message}; fix the syntax at that position (Flink would refuse to start)")]
    Yaml { file: String, pos: Pos, message: String },
    #[error("{file}:{pos}: {message}")]
    Structure { file: String, pos: Pos, message: String },
    #[error("-D argument {index}: {message}")]
    Dynamic { index: usize, message: String },
}

impl ModelError {
    /// The position of the error, when it has one.
    pub fn pos(&self) -> Option<Pos> {
        match self {
            ModelError::Binary { pos, .. } | ModelError::Yaml { pos, .. } | ModelError::Structure { pos, .. } => {
                Some(*pos)
            }
            _ => None,
        }
    }
}

/// How to read a file: explicitly, or guessed from its name and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    Auto,
    ConfigYaml,
    Legacy,
    Manifest,
}

/// Checks size and encoding; returns the text. Binary data and invalid UTF-8 are errors with the
/// position of the first offending byte.
pub fn check_text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ModelError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ModelError::TooLarge { file: file.to_string(), size: bytes.len(), max: MAX_INPUT_BYTES });
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let pos = pos_at(std::str::from_utf8(good).unwrap_or(""), good.len());
            return Err(ModelError::Binary {
                file: file.to_string(),
                pos,
                what: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            });
        }
    };
    if let Some(i) = text.find('\0') {
        return Err(ModelError::Binary { file: file.to_string(), pos: pos_at(text, i), what: "NUL byte".into() });
    }
    Ok(text)
}

/// Line/column (1-based, columns in characters) of a byte offset.
pub fn pos_at(text: &str, byte: usize) -> Pos {
    let byte = byte.min(text.len());
    let mut line = 1u32;
    let mut col = 1u32;
    for (i, c) in text.char_indices() {
        if i >= byte {
            break;
        }
        if c == '\n' {
            line = line.saturating_add(1);
            col = 1;
        } else {
            col = col.saturating_add(1);
        }
    }
    Pos::new(line, col)
}

/// Reads one file's bytes into one or more configurations. `name` is the display name (and is
/// used to guess the format: `flink-conf.yaml` is legacy; YAML with `apiVersion`/`kind` is a
/// Kubernetes manifest; other YAML is a `config.yaml`).
pub fn load_bytes(name: &str, bytes: &[u8], hint: Hint) -> Result<Vec<ConfigDoc>, ModelError> {
    let text = check_text(name, bytes)?;
    load_str(name, text, hint)
}

/// [`load_bytes`] for text already in memory.
pub fn load_str(name: &str, text: &str, hint: Hint) -> Result<Vec<ConfigDoc>, ModelError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(ModelError::TooLarge { file: name.to_string(), size: text.len(), max: MAX_INPUT_BYTES });
    }
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let hint = match hint {
        Hint::Auto if base == "flink-conf.yaml" || base.ends_with("flink-conf.yaml") => Hint::Legacy,
        h => h,
    };
    match hint {
        Hint::Legacy => Ok(vec![parse_legacy(name, text, Format::LegacyFlinkConf, Pos::new(0, 0))]),
        Hint::ConfigYaml => Ok(vec![parse_config_yaml(name, text)?]),
        Hint::Manifest => parse_manifest_docs(name, text),
        Hint::Auto => {
            let docs = yaml::parse_documents(name, text)?;
            let is_manifest = docs.iter().any(|d| d.root.as_ref().is_some_and(yaml::looks_like_k8s_object));
            if is_manifest {
                manifest::from_documents(name, text, docs)
            } else {
                config_yaml_from_documents(name, docs)
            }
        }
    }
}

/// Reads a file from disk (see [`load_bytes`]).
pub fn load_path(path: &std::path::Path, hint: Hint) -> Result<Vec<ConfigDoc>, ModelError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| ModelError::Io { file: name.clone(), reason: e.to_string() })?;
    if meta.is_dir() {
        // A conf dir: what Flink itself would pick.
        let cfg = path.join("config.yaml");
        let legacy = path.join("flink-conf.yaml");
        if cfg.is_file() {
            return load_path(&cfg, hint);
        }
        if legacy.is_file() {
            return load_path(&legacy, hint);
        }
        return Err(ModelError::Io {
            file: name,
            reason: "a directory without config.yaml or flink-conf.yaml; give a Flink conf dir or a file".into(),
        });
    }
    if meta.len() > MAX_INPUT_BYTES as u64 {
        return Err(ModelError::TooLarge { file: name, size: meta.len() as usize, max: MAX_INPUT_BYTES });
    }
    let bytes = std::fs::read(path).map_err(|e| ModelError::Io { file: name.clone(), reason: e.to_string() })?;
    load_bytes(&name, &bytes, hint)
}

/// Parses a Flink 2.x `config.yaml` exactly as Flink does: one YAML document whose root is a
/// mapping; nested mappings are flattened with `.`; lists become their one-line YAML form;
/// scalars resolve by YAML 1.2 core schema rules and become the string Flink would print.
pub fn parse_config_yaml(name: &str, text: &str) -> Result<ConfigDoc, ModelError> {
    let docs = yaml::parse_documents(name, text)?;
    config_yaml_from_documents(name, docs).map(|mut v| v.remove(0))
}

fn config_yaml_from_documents(name: &str, docs: Vec<yaml::Document>) -> Result<Vec<ConfigDoc>, ModelError> {
    let mut doc = ConfigDoc::new(name, Format::ConfigYaml);
    if docs.len() > 1 {
        let pos = docs.get(1).map(|d| d.pos).unwrap_or_default();
        doc.note(
            NoteSeverity::Error,
            "multiple-documents",
            None,
            pos,
            format!("{} YAML documents in one config file; Flink reads exactly one and fails on more", docs.len()),
            Some("remove the `---` separators and keep one document".into()),
        );
    }
    if let Some(first) = docs.into_iter().next() {
        if let Some(root) = first.root {
            yaml::flatten_root(&root, &mut doc, yaml::Schema::Flink)?;
        }
    }
    Ok(vec![doc])
}

/// Parses `-D key=value` pairs (each item without the `-D`), as Flink's command line does:
/// split at the first `=`; a key without `=` means `true`.
pub fn parse_dynamic<S: AsRef<str>>(items: &[S]) -> Result<ConfigDoc, ModelError> {
    let mut doc = ConfigDoc::new("<command line>", Format::Dynamic);
    for (i, item) in items.iter().enumerate() {
        let item = item.as_ref();
        let item = item.strip_prefix("-D").unwrap_or(item);
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k, v),
            None => (item, "true"),
        };
        if key.trim().is_empty() {
            return Err(ModelError::Dynamic { index: i + 1, message: format!("`{item}` has no key; write -Dkey=value") });
        }
        let pos = Pos::new(1, u32::try_from(i + 1).unwrap_or(u32::MAX));
        doc.entries.push(Entry {
            key: key.to_string(),
            value: Value::string(value),
            file: doc.file.clone(),
            key_pos: pos,
            value_pos: pos,
            origin: Origin::Written,
        });
    }
    Ok(doc)
}

/// Builds a configuration from already-flat settings (the platform spec's entry point): each
/// item is `(key, value, position)`.
pub fn from_map<I>(file: &str, format: Format, items: I) -> ConfigDoc
where
    I: IntoIterator<Item = (String, String, Pos)>,
{
    let mut doc = ConfigDoc::new(file, format);
    let mut seen: BTreeMap<String, Pos> = BTreeMap::new();
    for (key, value, pos) in items {
        if let Some(first) = seen.get(&key) {
            doc.note(
                NoteSeverity::Error,
                "duplicate-key",
                Some(&key),
                pos,
                format!("`{key}` is set twice (first at {first})"),
                Some("keep one of them".into()),
            );
        }
        seen.insert(key.clone(), pos);
        doc.entries.push(Entry {
            key,
            value: Value::string(value),
            file: file.to_string(),
            key_pos: pos,
            value_pos: pos,
            origin: Origin::Written,
        });
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_pairs() {
        let d = parse_dynamic(&["-Da.b=1", "c=x=y", "flag"]).expect("parses");
        let m = d.to_map();
        assert_eq!(m["a.b"], "1");
        assert_eq!(m["c"], "x=y");
        assert_eq!(m["flag"], "true");
        assert!(parse_dynamic(&["=x"]).is_err());
    }

    #[test]
    fn binary_and_bad_utf8_have_positions() {
        let e = load_bytes("x.yaml", b"a: 1\nb: \xff\n", Hint::Auto).expect_err("bad utf8");
        assert_eq!(e.pos(), Some(Pos::new(2, 4)));
        let e = load_bytes("x.yaml", b"a: 1\n\0", Hint::Auto).expect_err("nul");
        assert_eq!(e.pos(), Some(Pos::new(2, 1)));
    }

    #[test]
    fn format_guess() {
        let d = load_str("conf/flink-conf.yaml", "a: 1\n", Hint::Auto).expect("ok");
        assert_eq!(d[0].format, Format::LegacyFlinkConf);
        let d = load_str("config.yaml", "a:\n  b: 1\n", Hint::Auto).expect("ok");
        assert_eq!(d[0].format, Format::ConfigYaml);
        assert_eq!(d[0].to_map()["a.b"], "1");
    }

    #[test]
    fn from_map_reports_duplicates() {
        let d = from_map(
            "platform.yaml",
            Format::Platform,
            vec![("a".into(), "1".into(), Pos::new(1, 1)), ("a".into(), "2".into(), Pos::new(2, 1))],
        );
        assert_eq!(d.notes.len(), 1);
        assert_eq!(d.to_map()["a"], "2");
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            for hint in [Hint::Auto, Hint::ConfigYaml, Hint::Legacy, Hint::Manifest] {
                let _ = load_bytes("f.yaml", &bytes, hint);
            }
        }

        #[test]
        fn yamlish_text_never_panics(text in "([a-z.\\-]{0,8}(: |:|\\n|  |- |\\[|\\]|\\{|\\}|&a |\\*a|<<|#|'|\"|\\||>|---\\n|~|yes|010|0x1f|1e3)){0,40}") {
            for hint in [Hint::Auto, Hint::ConfigYaml, Hint::Legacy, Hint::Manifest] {
                let _ = load_str("f.yaml", &text, hint);
            }
            let _ = load_str("flink-conf.yaml", &text, Hint::Auto);
            let _ = parse_dynamic(&[text.as_str()]);
        }

        #[test]
        fn flat_keys_round_trip(keys in proptest::collection::btree_set("[a-z]{1,6}(\\.[a-z]{1,6}){0,3}", 1..20), v in "[a-z]{1,8}") {
            let text: String = keys.iter().map(|k| format!("{k}: {v}\n")).collect();
            let doc = parse_config_yaml("c.yaml", &text).expect("valid yaml");
            let map = doc.to_map();
            for k in &keys {
                prop_assert_eq!(map.get(k).map(String::as_str), Some(v.as_str()));
            }
        }
    }
}
