//! `config lint`: checks Flink configurations against the option catalog of one Flink version
//! (and the Kubernetes operator's catalog) and collects every finding before reporting — unknown
//! keys with did-you-mean, deprecated aliases, keys removed in 2.0, operator keys in the wrong
//! place, values parsed exactly as Flink parses them, and semantic checks across keys (see
//! [`semantic`]). Pure: takes parsed [`ConfigDoc`]s and catalogs, returns [`Finding`]s.

pub mod index;
pub mod report;
pub mod semantic;
pub mod values;

use serde::Serialize;

use crate::catalog::{Catalog, OptionInfo};
use crate::model::{ConfigDoc, Entry, Format, NoteSeverity, Origin, Pos};
use index::{Hit, Index};

/// How bad a finding is. Errors make `config lint` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

impl From<NoteSeverity> for Severity {
    fn from(s: NoteSeverity) -> Self {
        match s {
            NoteSeverity::Info => Severity::Info,
            NoteSeverity::Warning => Severity::Warning,
            NoteSeverity::Error => Severity::Error,
        }
    }
}

/// One problem, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub severity: Severity,
    /// Stable code (see [`codes`]).
    pub code: String,
    pub key: Option<String>,
    pub message: String,
    pub suggestion: Option<String>,
    /// The Kubernetes resource (`FlinkDeployment/app`) when the file holds several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// The stable finding codes.
pub mod codes {
    pub const UNKNOWN_KEY: &str = "unknown-key";
    pub const DEPRECATED_KEY: &str = "deprecated-key";
    pub const REMOVED_KEY: &str = "removed-key";
    pub const SHADOWED_KEY: &str = "shadowed-key";
    pub const INVALID_VALUE: &str = "invalid-value";
    pub const OPERATOR_KEY: &str = "operator-key";
    pub const FLINK_KEY_IN_OPERATOR_CONFIG: &str = "flink-key-in-operator-config";
    pub const LEGACY_CONFIG_FILE: &str = "legacy-config-file";
    pub const CONFIG_YAML_TOO_NEW: &str = "config-yaml-unsupported";
    pub const INVALID_STATE_BACKEND: &str = "invalid-state-backend";
    pub const ROCKSDB_OPTION_UNUSED: &str = "rocksdb-option-unused";
    pub const ROCKSDB_SETTING_IGNORED: &str = "rocksdb-setting-ignored";
    pub const CHECKPOINT_TIMEOUT: &str = "checkpoint-timeout-below-interval";
    pub const UNALIGNED_AT_LEAST_ONCE: &str = "unaligned-at-least-once";
    pub const REPORTER_CLASS: &str = "reporter-class-removed";
    pub const REPORTER_NO_FACTORY: &str = "reporter-without-factory";
    pub const MEMORY_CONFIG: &str = "invalid-memory-config";
    pub const NOTHING_TO_LINT: &str = "no-flink-config";
}

/// A Flink version as `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FlinkVersion {
    pub major: u32,
    pub minor: u32,
}

impl FlinkVersion {
    /// Parses `2.3`, `2.3.0`, `v2_3`, `1.18`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().trim_start_matches(['v', 'V']).replace('_', ".");
        let mut parts = s.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        if let Some(patch) = parts.next() {
            patch.parse::<u32>().ok()?;
        }
        parts.next().is_none().then_some(Self { major, minor })
    }
}

impl std::fmt::Display for FlinkVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What to lint against.
pub struct LintContext<'c> {
    pub version: FlinkVersion,
    /// The Flink catalog of `version`.
    pub flink: &'c Catalog,
    /// The last 1.x catalog, to explain keys that 2.x removed (None for 1.x targets).
    pub previous: Option<&'c Catalog>,
    /// The Kubernetes operator's catalog, if available.
    pub operator: Option<&'c Catalog>,
}

/// True for keys only the Kubernetes operator reads.
pub fn is_operator_key(key: &str) -> bool {
    key.starts_with("kubernetes.operator.") || key.starts_with("job.autoscaler.")
}

/// Reads a Flink config file that holds only operator keys (`kubernetes.operator.*`,
/// `job.autoscaler.*`) as the Kubernetes operator's own configuration — its `config.yaml`,
/// `flink-conf.yaml` or a ConfigMap holding one — as `config lint --as operator` would. Returns
/// whether it did. Documents with any Flink key, with no keys, and operator resources
/// (FlinkDeployment, FlinkSessionJob) are left as they are.
pub fn detect_operator_config(doc: &mut ConfigDoc) -> bool {
    let file_like = matches!(
        doc.format,
        Format::ConfigYaml | Format::LegacyFlinkConf | Format::ConfigMapConfigYaml | Format::ConfigMapLegacy
    );
    if file_like && !doc.entries.is_empty() && doc.entries.iter().all(|e| is_operator_key(&e.key)) {
        doc.format = Format::OperatorConfig;
        return true;
    }
    false
}

pub(crate) struct Indexes<'c> {
    pub flink: Index<'c>,
    pub previous: Option<Index<'c>>,
    pub operator: Option<Index<'c>>,
}

/// Lints all documents; findings sorted by file, position and code.
pub fn lint(docs: &[ConfigDoc], ctx: &LintContext<'_>) -> Vec<Finding> {
    let idx = Indexes {
        flink: Index::new(ctx.flink),
        previous: ctx.previous.map(Index::new),
        operator: ctx.operator.map(Index::new),
    };
    let mut out = Vec::new();
    for doc in docs {
        lint_doc(doc, ctx, &idx, &mut out);
    }
    out.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.code, &a.key).cmp(&(&b.file, b.line, b.column, &b.code, &b.key))
    });
    out.dedup();
    out
}

/// Collects findings for one document.
pub(crate) struct Sink<'a> {
    pub doc: &'a ConfigDoc,
    pub out: &'a mut Vec<Finding>,
}

impl Sink<'_> {
    pub fn at(&mut self, pos: Pos, severity: Severity, code: &str, key: Option<&str>, message: String, suggestion: Option<String>) {
        self.out.push(Finding {
            file: self.doc.file.clone(),
            line: pos.line,
            column: pos.column,
            severity,
            code: code.to_string(),
            key: key.map(str::to_string),
            message,
            suggestion,
            resource: self.doc.resource.clone(),
        });
    }
    pub fn entry(&mut self, e: &Entry, severity: Severity, code: &str, message: String, suggestion: Option<String>) {
        let message = match &e.origin {
            Origin::Derived { from } => format!("{message} (set by the operator from {from})"),
            Origin::Written => message,
        };
        self.at(e.key_pos, severity, code, Some(&e.key), message, suggestion);
    }
}

fn first_sentence(s: &str) -> String {
    let s = s.trim();
    let end = s.find(". ").map(|i| i + 1).or_else(|| s.find('\n')).unwrap_or(s.len());
    s[..end].trim().to_string()
}

fn lint_doc(doc: &ConfigDoc, ctx: &LintContext<'_>, idx: &Indexes<'_>, out: &mut Vec<Finding>) {
    let mut sink = Sink { doc, out };
    for n in &doc.notes {
        sink.at(n.pos, n.severity.into(), n.code, n.key.as_deref(), n.message.clone(), n.help.clone());
    }
    if doc.format.is_legacy() && ctx.version.major >= 2 {
        sink.at(
            doc.pos,
            Severity::Error,
            codes::LEGACY_CONFIG_FILE,
            None,
            format!(
                "a legacy flink-conf.yaml: Flink {} does not read it (a conf dir with only flink-conf.yaml fails to start)",
                ctx.version
            ),
            Some(format!("run `flinkops config migrate {}` to write a config.yaml", doc.file)),
        );
    }
    if matches!(doc.format, Format::ConfigYaml | Format::ConfigMapConfigYaml)
        && ctx.version < (FlinkVersion { major: 1, minor: 19 })
    {
        sink.at(
            doc.pos,
            Severity::Error,
            codes::CONFIG_YAML_TOO_NEW,
            None,
            format!("Flink {} reads only flink-conf.yaml; config.yaml is read from Flink 1.19 on", ctx.version),
            Some("name the file flink-conf.yaml and write one `key: value` per line".into()),
        );
    }
    for e in &doc.entries {
        check_entry(e, doc, ctx, idx, &mut sink);
    }
    semantic::check(doc, ctx, idx, &mut sink);
}

fn check_value(o: &OptionInfo, e: &Entry, v2: bool, sink: &mut Sink<'_>) {
    if e.value.kind == crate::model::ValueKind::Null {
        return; // reported by the model as null-value
    }
    if let Err(inv) = values::check(&o.ty, &e.value.text, v2) {
        let message = format!("invalid value for `{}`: {}", e.key, inv.reason);
        let message = match &e.origin {
            Origin::Derived { from } => format!("{message} (set by the operator from {from})"),
            Origin::Written => message,
        };
        sink.at(e.value_pos, Severity::Error, codes::INVALID_VALUE, Some(&e.key), message, Some(inv.help));
    }
}

fn check_entry(e: &Entry, doc: &ConfigDoc, ctx: &LintContext<'_>, idx: &Indexes<'_>, sink: &mut Sink<'_>) {
    let key = e.key.as_str();
    let v2 = ctx.version.major >= 2;
    let operator_context = doc.format.is_operator_resource() || doc.format == Format::OperatorConfig;
    if is_operator_key(key) {
        let Some(op) = &idx.operator else {
            if !operator_context {
                sink.entry(
                    e,
                    Severity::Info,
                    codes::OPERATOR_KEY,
                    format!("`{key}` is a Kubernetes operator option; Flink itself ignores it"),
                    Some("set it in the operator's configuration or a FlinkDeployment's flinkConfiguration".into()),
                );
            }
            return;
        };
        match op.lookup(key) {
            Hit::Unknown => {
                let s = operator_suggestions(op, key);
                sink.entry(
                    e,
                    Severity::Warning,
                    codes::UNKNOWN_KEY,
                    format!("`{key}` is not an option of the Kubernetes operator ({}); nothing reads it", op.catalog.version),
                    did_you_mean(&s),
                );
            }
            hit => {
                if let Hit::Alias { current } = hit {
                    sink.entry(
                        e,
                        Severity::Warning,
                        codes::DEPRECATED_KEY,
                        format!("`{key}` is a deprecated alias of the operator option `{}`", current.key),
                        Some(format!("rename it to `{}`", current.key)),
                    );
                }
                if !operator_context {
                    sink.entry(
                        e,
                        Severity::Info,
                        codes::OPERATOR_KEY,
                        format!("`{key}` is read only by the Kubernetes operator; Flink ignores it in this file"),
                        Some("move it to a FlinkDeployment's flinkConfiguration or the operator's configuration".into()),
                    );
                }
                if let Some(o) = op.option(key) {
                    check_value(o, e, v2, sink);
                }
            }
        }
        return;
    }
    if doc.format == Format::OperatorConfig && idx.flink.option(key).is_some() {
        sink.entry(
            e,
            Severity::Info,
            codes::FLINK_KEY_IN_OPERATOR_CONFIG,
            format!("`{key}` is a Flink option: the operator does not read it, it passes it as a default to every deployment"),
            None,
        );
    }
    match idx.flink.lookup(key) {
        Hit::Known(o) => {
            if o.deprecated {
                sink.entry(
                    e,
                    Severity::Warning,
                    codes::DEPRECATED_KEY,
                    format!("`{key}` is deprecated in Flink {}: {}", ctx.version, first_sentence(&o.description)),
                    replacement_in_text(&o.description, &idx.flink).map(|r| format!("use `{r}` instead")),
                );
            }
            check_value(o, e, v2, sink);
        }
        Hit::Alias { current } => {
            sink.entry(
                e,
                Severity::Warning,
                codes::DEPRECATED_KEY,
                format!("`{key}` is a deprecated alias of `{}`; Flink {} still reads it", current.key, ctx.version),
                Some(format!("rename it to `{}`", current.key)),
            );
            check_value(current, e, v2, sink);
        }
        Hit::Fallback(o) => check_value(o, e, v2, sink),
        Hit::Family { family, option, name } => {
            if family.prefix == "metrics.reporter." && key.ends_with(".class") && !key.ends_with(".factory.class") {
                return; // semantic::reporters explains it
            }
            if let Some(o) = option {
                let factory = name.as_deref().and_then(|n| {
                    let factory_key = format!("{}{n}.factory.class", family.prefix);
                    doc.entries.iter().rev().find(|x| x.key == factory_key).map(|x| x.value.text.as_str())
                });
                if parameter_applies(o, factory) {
                    check_value(o, e, v2, sink);
                }
            }
        }
        Hit::Unknown => {
            if let Some((reason, replacement)) = removed(key, idx) {
                sink.entry(
                    e,
                    Severity::Error,
                    codes::REMOVED_KEY,
                    format!("`{key}` was removed in Flink 2.0 and is ignored by Flink {}: {reason}", ctx.version),
                    Some(replacement),
                );
            } else {
                let s = idx.flink.suggest(key);
                sink.entry(
                    e,
                    Severity::Warning,
                    codes::UNKNOWN_KEY,
                    format!("`{key}` is not a Flink {} option; Flink ignores it", ctx.version),
                    did_you_mean(&s),
                );
            }
        }
    }
}

/// Whether the type of a prefix-family parameter applies to an instance with this factory class.
/// Flink's own family options (`org.apache.flink.configuration.*`: `interval`, `factory.class`…)
/// apply to every instance. A plugin's parameter is typed only for that plugin: reporters share
/// parameter names with different types (the InfluxDB reporter's `port` is an int, the Prometheus
/// and JMX reporters' `port` a string that may be a range, `9249-9260`), so it is checked only
/// when the instance's factory comes from the class that declares it (same package, same
/// `…Reporter` stem: `InfluxdbReporterOptions` ↔ `InfluxdbReporterFactory`,
/// `OpenTelemetryReporterOptions` ↔ `OpenTelemetryMetricReporterFactory`).
fn parameter_applies(o: &OptionInfo, factory: Option<&str>) -> bool {
    fn split(class: &str) -> (&str, &str) {
        class.trim().rsplit_once('.').unwrap_or(("", class.trim()))
    }
    fn stem(simple: &str) -> String {
        let s = simple.strip_suffix("Options").or_else(|| simple.strip_suffix("Factory")).unwrap_or(simple);
        ["Metric", "Trace", "Event"].iter().fold(s.to_string(), |acc, w| acc.replace(&format!("{w}Reporter"), "Reporter"))
    }
    let (package, declarer) = split(&o.declared_in);
    if package.is_empty() || package == "org.apache.flink.configuration" {
        return true;
    }
    let Some((f_package, f_class)) = factory.map(split) else { return false };
    f_package == package && stem(f_class) == stem(declarer)
}

/// Operator did-you-mean; autoscaler keys written under `kubernetes.operator.` (as in operator
/// releases before 1.5, or invented as `auto-scaling`) are looked up under `job.autoscaler.`.
fn operator_suggestions(op: &Index<'_>, key: &str) -> Vec<String> {
    for marker in ["kubernetes.operator.job.autoscaler.", "kubernetes.operator.auto-scaling.", "kubernetes.operator.autoscaler."] {
        if let Some(rest) = key.strip_prefix(marker) {
            let moved = format!("job.autoscaler.{rest}");
            if op.option(&moved).is_some() {
                return vec![op.canonical(&moved).into_owned()];
            }
            let s = op.suggest(&moved);
            if !s.is_empty() {
                return s;
            }
        }
    }
    op.suggest(key)
}

fn did_you_mean(s: &[String]) -> Option<String> {
    match s {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => Some(format!(
            "did you mean {}?",
            many.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" or ")
        )),
    }
}

/// A current key named in a description ("use `x` instead", "replaced by x").
fn replacement_in_text(text: &str, cur: &Index<'_>) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for marker in ["use ", "replaced by ", "please use ", "instead of this, "] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(marker) {
            let start = from + i + marker.len();
            let word: String = text[start..]
                .trim_start_matches(['`', '\'', '"'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect();
            let word = word.trim_end_matches('.').to_string();
            if word.contains('.') && matches!(cur.lookup(&word), Hit::Known(_)) {
                return Some(word);
            }
            from = start;
        }
    }
    None
}

/// Hints for removed keys whose replacement is not a key rename (facts from the Flink 2.0
/// release notes; the key lists themselves come from the catalogs).
const REMOVED_HINTS: &[(&str, &str)] = &[
    ("taskmanager.heap.size", "size the TaskManager with `taskmanager.memory.process.size` (or `taskmanager.memory.flink.size`)"),
    ("taskmanager.heap.mb", "size the TaskManager with `taskmanager.memory.process.size` (or `taskmanager.memory.flink.size`)"),
    ("jobmanager.heap.size", "size the JobManager with `jobmanager.memory.process.size` (or `jobmanager.memory.heap.size`)"),
    ("jobmanager.heap.mb", "size the JobManager with `jobmanager.memory.process.size` (or `jobmanager.memory.heap.size`)"),
    ("taskmanager.network.numberOfBuffers", "size network memory with `taskmanager.memory.network.fraction` / `.min` / `.max`"),
    ("state.backend.async", "all state snapshots are asynchronous; delete the line"),
    ("pipeline.time-characteristic", "event time is the default since 1.12; delete the line"),
];

/// Whether a key was removed in 2.0: the reason and the fix.
pub(crate) fn removed(key: &str, idx: &Indexes<'_>) -> Option<(String, String)> {
    let prev = idx.previous.as_ref()?;
    let hit = prev.lookup(key);
    let (o, alias_of) = match hit {
        Hit::Known(o) => (o, None),
        Hit::Alias { current } => (current, Some(current)),
        Hit::Fallback(o) => (o, None),
        Hit::Family { .. } | Hit::Unknown => return None,
    };
    if let Some(cur) = alias_of {
        if let Some(now) = idx.flink.option(&cur.key) {
            return Some((
                format!("it was a deprecated alias of `{}`", cur.key),
                format!("rename it to `{}`", now.key),
            ));
        }
    }
    let reason = {
        let d = first_sentence(&o.description);
        if d.is_empty() { "no longer an option".to_string() } else { d }
    };
    if let Some((_, hint)) = REMOVED_HINTS.iter().find(|(k, _)| *k == key) {
        return Some((reason, (*hint).to_string()));
    }
    if let Some(r) = replacement_in_text(&o.description, &idx.flink) {
        return Some((reason, format!("use `{r}` instead")));
    }
    let lower = o.description.to_ascii_lowercase();
    let fix = if lower.contains("no longer used") || lower.contains("no effect") {
        "it had no effect any more; delete the line".to_string()
    } else {
        "Flink 2.x has no replacement; delete the line (see the Flink 2.0 release notes)".to_string()
    };
    Some((reason, fix))
}

#[cfg(test)]
pub(crate) mod tests;
