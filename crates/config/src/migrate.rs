//! `config migrate`: a Flink 1.x `flink-conf.yaml` → a Flink 2.x `config.yaml`.
//!
//! Renames deprecated aliases to their current keys, turns `metrics.reporter.<name>.class` into
//! `factory.class` with the reporter's factory, maps the removed `jobmanager`/`filesystem` state
//! backends to `hashmap`, and comments removed keys out with the reason — no setting is dropped
//! silently: every input line ends up as a key or as a comment saying why not. Keys are written
//! flat and dotted, so keys that are prefixes of other keys (`restart-strategy` and
//! `restart-strategy.fixed-delay.attempts`) cannot collide the way Flink's own nested migrator
//! makes them. Values are quoted wherever YAML would read them differently from the legacy
//! parser (which kept every value as a plain string).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::catalog::Catalog;
use crate::lint::index::{Hit, Index};
use crate::lint::{FlinkVersion, Indexes, is_operator_key, removed, semantic::reporter_factory};
use crate::model::yaml::{Scalar, Schema, Style, resolve};
use crate::model::{ConfigDoc, ValueKind};

/// What happened to one input setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    Kept,
    Renamed { to: String },
    ValueChanged { from: String, to: String },
    CommentedOut { reason: String },
    Overridden { by_line: u32 },
}

/// One line of the migration report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub line: u32,
    pub key: String,
    #[serde(flatten)]
    pub action: Action,
}

/// The result: the new file and what was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Migration {
    pub output: String,
    pub changes: Vec<Change>,
}

/// Whether a plain YAML scalar reads back as exactly the text `s` under Flink 2.x.
pub fn plain_is_safe(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return false;
    }
    let r = resolve(&Scalar { text: s.to_string(), style: Style::Plain, tag: None }, Schema::Flink);
    // Numbers and booleans are fine as long as Flink reads back the same text (`3`, `true`).
    if r.kind == ValueKind::Null || r.text != s {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    !("-?:,[]{}#&*!|>'\"%@`".contains(first))
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.contains(['\t', '\n', '\r'])
        && !s.chars().any(yaml_unprintable)
}

/// Characters that may not appear raw in a YAML stream (outside YAML's printable set: controls
/// other than tab, DEL, C1 controls, U+FFFE/U+FFFF, a BOM inside the stream), plus the line and
/// paragraph separators and NEL that YAML 1.1 readers take for line breaks.
fn yaml_unprintable(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}')
}

/// A YAML scalar for `s`: plain when safe, else single-quoted, or double-quoted with escapes
/// when it holds characters YAML cannot carry raw.
pub fn yaml_scalar(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_string()
    } else if s.chars().any(yaml_unprintable) {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if yaml_unprintable(c) => {
                    let n = u32::from(c);
                    out.push_str(&if n <= 0xFF { format!("\\x{n:02X}") } else { format!("\\u{n:04X}") });
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// Text for a `#` comment: line breaks become spaces, other characters YAML cannot carry raw
/// are written as `\u{…}`, so the comment keeps what it says and the file stays valid YAML.
fn comment_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if yaml_unprintable(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Migrates a legacy document to a `config.yaml` for `to` (`flink` is the catalog of `to`,
/// `previous` the last 1.x catalog, used to explain removed keys).
pub fn migrate(doc: &ConfigDoc, to: FlinkVersion, flink: &Catalog, previous: Option<&Catalog>) -> Migration {
    let idx = Indexes { flink: Index::new(flink), previous: previous.map(Index::new), operator: None };
    let mut changes = Vec::new();
    let mut lines: Vec<String> = vec![
        format!("# Flink {to} configuration, migrated by flinkops from {} (legacy flink-conf.yaml).", comment_safe(&doc.file)),
        "# Keys are flat and dotted; every input setting is below, as a key or as a comment saying why not.".into(),
    ];
    // Last occurrence of each key wins (as in Flink 1.x).
    let mut last: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, e) in doc.entries.iter().enumerate() {
        last.insert(e.key.as_str(), i);
    }
    // Keys set explicitly under their current name (an alias next to them is shadowed).
    let explicit: BTreeSet<&str> = doc.entries.iter().map(|e| e.key.as_str()).collect();
    let mut emitted: BTreeSet<String> = BTreeSet::new();
    for (i, e) in doc.entries.iter().enumerate() {
        let line = e.key_pos.line;
        let value = e.value.text.as_str();
        if last.get(e.key.as_str()) != Some(&i) {
            let by = last.get(e.key.as_str()).map_or(0, |&j| doc.entries[j].key_pos.line);
            lines.push(format!("# {}: {}   # line {line}: overridden by line {by}", comment_safe(&e.key), comment_safe(value)));
            changes.push(Change { line, key: e.key.clone(), action: Action::Overridden { by_line: by } });
            continue;
        }
        let mut key = e.key.clone();
        let mut out_value = value.to_string();
        let mut notes: Vec<String> = Vec::new();
        let mut action = Action::Kept;

        if let Some(name) = key.strip_prefix("metrics.reporter.").and_then(|r| r.strip_suffix(".class")) {
            if !name.contains('.') && !key.ends_with(".factory.class") {
                let factory_key = format!("metrics.reporter.{name}.factory.class");
                if explicit.contains(factory_key.as_str()) {
                    lines.push(comment_safe(&format!(
                        "# {key}: {}   # removed in Flink 2.0; `{factory_key}` is already set",
                        comment_safe(value)
                    )));
                    changes.push(Change {
                        line,
                        key: key.clone(),
                        action: Action::CommentedOut { reason: format!("removed in 2.0; {factory_key} is set") },
                    });
                    continue;
                }
                out_value = reporter_factory(value);
                notes.push(format!("was {key}: {}", comment_safe(value)));
                action = Action::Renamed { to: factory_key.clone() };
                key = factory_key;
            }
        }
        if matches!(action, Action::Kept) && !is_operator_key(&key) {
            match idx.flink.lookup(&key) {
                Hit::Alias { current } => {
                    if explicit.contains(current.key.as_str()) {
                        lines.push(comment_safe(&format!(
                            "# {key}: {}   # deprecated alias of `{}`, which is also set (that one wins)",
                            comment_safe(value),
                            current.key
                        )));
                        changes.push(Change {
                            line,
                            key: key.clone(),
                            action: Action::CommentedOut { reason: format!("shadowed by {}", current.key) },
                        });
                        continue;
                    }
                    notes.push(format!("was {key}"));
                    action = Action::Renamed { to: current.key.clone() };
                    key = current.key.clone();
                }
                Hit::Unknown => {
                    if let Some((reason, fix)) = removed(&key, &idx) {
                        // A removed alias whose current key survives is a rename.
                        if let Some(to) = fix.strip_prefix("rename it to `").and_then(|r| r.strip_suffix('`')) {
                            notes.push(format!("was {key} (removed in 2.0)"));
                            action = Action::Renamed { to: to.to_string() };
                            key = to.to_string();
                        } else {
                            lines.push(comment_safe(&format!(
                                "# {key}: {}   # removed in Flink 2.0: {} — {}",
                                comment_safe(value),
                                comment_safe(&reason),
                                comment_safe(&fix)
                            )));
                            changes.push(Change {
                                line,
                                key: key.clone(),
                                action: Action::CommentedOut { reason: format!("{reason} — {fix}") },
                            });
                            continue;
                        }
                    } else {
                        notes.push("not an option of this Flink version; kept as is".into());
                    }
                }
                _ => {}
            }
        }
        if key == "state.backend.type" && to.major >= 2 {
            let lower = out_value.trim().to_ascii_lowercase();
            if lower == "jobmanager" || lower == "filesystem" {
                notes.push(format!("was `{out_value}`: Flink 2.0 removed that backend; hashmap keeps state on the heap"));
                action = match action {
                    Action::Kept => Action::ValueChanged { from: out_value.clone(), to: "hashmap".into() },
                    other => other,
                };
                out_value = "hashmap".into();
            }
        }
        if emitted.contains(&key) {
            lines.push(comment_safe(&format!("# {key}: {}   # line {line}: `{key}` is already set above", out_value)));
            changes.push(Change { line, key: key.clone(), action: Action::CommentedOut { reason: "already set".into() } });
            continue;
        }
        let yaml_key = yaml_scalar(&key);
        // YAML limits implicit keys to 1024 characters; longer ones need the explicit `? key` form.
        let mut text = if yaml_key.chars().count() > 1000 {
            format!("? {yaml_key}\n: {}", yaml_scalar(&out_value))
        } else {
            format!("{yaml_key}: {}", yaml_scalar(&out_value))
        };
        if !notes.is_empty() {
            text.push_str(&format!("   # {}", comment_safe(&notes.join("; "))));
        }
        lines.push(text);
        emitted.insert(key.clone());
        changes.push(Change { line, key: e.key.clone(), action });
    }
    for n in &doc.notes {
        if n.code == "skipped-line" {
            lines.push(format!("# line {}: {} (Flink 1.x skipped it too)", n.pos.line, comment_safe(&n.message)));
        }
    }
    let mut output = lines.join("\n");
    output.push('\n');
    Migration { output, changes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::tests::{flink120, flink23};
    use crate::lint::{LintContext, Severity, lint};
    use crate::model::{Format, Pos, parse_config_yaml, parse_legacy};

    const V23: FlinkVersion = FlinkVersion { major: 2, minor: 3 };

    fn run(text: &str) -> (Migration, ConfigDoc) {
        let (c, p) = (flink23(), flink120());
        let doc = parse_legacy("flink-conf.yaml", text, Format::LegacyFlinkConf, Pos::default());
        let m = migrate(&doc, V23, &c, Some(&p));
        let out = parse_config_yaml("config.yaml", &m.output).expect("migrated output parses");
        (m, out)
    }

    #[test]
    fn prefix_keys_survive() {
        let (m, out) = run("restart-strategy: fixed-delay\nrestart-strategy.fixed-delay.attempts: 3\nrestart-strategy.fixed-delay.delay: 10 s\n");
        let map = out.to_map();
        assert_eq!(map["restart-strategy.type"], "fixed-delay", "{}", m.output);
        assert_eq!(map["restart-strategy.fixed-delay.attempts"], "3");
        assert_eq!(map["restart-strategy.fixed-delay.delay"], "10 s");
    }

    #[test]
    fn everything_accounted_for_and_lints_clean() {
        let input = "state.backend: filesystem\nstate.checkpoints.dir: s3://b/c\nmetrics.reporter.prom.class: org.apache.flink.metrics.prometheus.PrometheusReporter\nmetrics.reporter.prom.port: 9249\ntaskmanager.network.netty.server.numThreads: 4\nstate.backend.async: true\npipeline.jars: a.jar;b.jar\nmy.custom: 010\nodd: yes # c\nquoted: \"x\"\ntaskmanager.numberOfTaskSlots: 2\ntaskmanager.numberOfTaskSlots: 4\n";
        let (m, out) = run(input);
        let map = out.to_map();
        assert_eq!(map["state.backend.type"], "hashmap", "{}", m.output);
        assert_eq!(map["execution.checkpointing.dir"], "s3://b/c");
        assert_eq!(map["metrics.reporter.prom.factory.class"], "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        assert_eq!(map["pipeline.jars"], "a.jar;b.jar");
        assert_eq!(map["my.custom"], "010");
        assert_eq!(map["odd"], "yes");
        assert_eq!(map["quoted"], "\"x\"");
        assert_eq!(map["taskmanager.numberOfTaskSlots"], "4");
        assert!(m.output.contains("# taskmanager.network.netty.server.numThreads: 4   # removed in Flink 2.0"), "{}", m.output);
        assert!(m.output.contains("# state.backend.async: true"));
        assert!(m.output.contains("overridden by line 12"));
        assert_eq!(m.changes.len(), 12);
        let (c, p) = (flink23(), flink120());
        let ctx = LintContext { version: V23, flink: &c, previous: Some(&p), operator: None };
        let errors: Vec<_> = lint(&[out], &ctx).into_iter().filter(|f| f.severity == Severity::Error).collect();
        assert!(errors.is_empty(), "{errors:#?}\n{}", m.output);
    }

    /// Found by the `legacy_conf` fuzz target: a NUL in a line Flink skips ended up raw in a
    /// comment of the migrated file, which then was no YAML at all (likewise a NUL in a reporter
    /// `class` key, in the note of its rename).
    #[test]
    fn unprintable_characters_keep_the_output_valid() {
        let input = "restart-strategy: fixed-delay\n  a :\0\0\0 b # c\nk\u{1}k: v\u{7f}\u{85}\u{2028}x\nbom: \u{feff}y\u{ffff}\n\
                     metrics.reporter.b\0.class: C\nstate.backend\u{1}.async: true\nk\u{1}k: again\n";
        let (m, out) = run(input);
        let map = out.to_map();
        assert_eq!(map["k\u{1}k"], "again", "{}", m.output);
        assert!(m.output.contains("# k\\u{1}k: v\\u{7f}\\u{85}\\u{2028}x   # line 3: overridden by line 7"), "{}", m.output);
        assert_eq!(map["bom"], "\u{feff}y\u{ffff}", "{}", m.output);
        assert!(m.output.contains("\\u{0}"), "the skipped line is kept, escaped: {}", m.output);
        assert_eq!(map["metrics.reporter.b\0.factory.class"], "CFactory", "{}", m.output);
    }

    /// Found by the `legacy_conf` fuzz target: a key longer than YAML's 1024-character limit for
    /// implicit keys made the output unreadable; it is written as an explicit `? key`.
    #[test]
    fn very_long_keys_stay_readable() {
        for long in ["k".repeat(1100), format!("k{}k", "\0".repeat(300))] {
            let (m, out) = run(&format!("{long}: v\nshort: w\n"));
            let map = out.to_map();
            assert_eq!(map.get(&long).map(String::as_str), Some("v"), "{}", m.output);
            assert_eq!(map["short"], "w");
        }
    }

    #[test]
    fn quoting() {
        for s in ["yes", "010", "1.50", "true", "null", "", " a", "a: b", "#x", "[a]", "k1:v1,k2:v2", "it's", "a\tb", "a\0\"\\b", "\u{85}\u{2028}\u{feff}"] {
            let y = format!("k: {}\n", yaml_scalar(s));
            let d = parse_config_yaml("t.yaml", &y).expect("parses");
            assert_eq!(d.to_map()["k"], s, "{y}");
        }
    }
}
