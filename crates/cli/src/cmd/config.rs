//! `flinkops config …`: lint, explain, migrate and diff Flink configurations against the real
//! option catalogs. Raw arguments are turned into a plan (files, catalogs, output format) here;
//! all deciding happens in `flinkops_config`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use flinkops_config::catalog::{Catalog, OptionInfo, OptionType};
use flinkops_config::lint::{self, Finding, FlinkVersion, LintContext, Severity, report};
use flinkops_config::model::{self, ConfigDoc, Format, Hint, ModelError};

use crate::output::{Exit, GlobalArgs, OutputFormat, input, print_json, table};

/// Default Flink version for all config commands.
const DEFAULT_VERSION: &str = "2.3";
/// The 1.x catalog that explains keys removed in 2.0.
const LAST_1X: &str = "1.20";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// `file:line:col: severity[code]: message` like a compiler.
    Text,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputKind {
    /// Guess from the file name and content.
    Auto,
    /// A Flink `config.yaml`.
    ConfigYaml,
    /// A legacy `flink-conf.yaml`.
    Legacy,
    /// Kubernetes manifests (FlinkDeployment, FlinkSessionJob, ConfigMap).
    Manifest,
    /// The Kubernetes operator's own configuration file.
    Operator,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCmd {
    /// Lint Flink configuration files against the real option catalog of a Flink version.
    ///
    /// Reads config.yaml, legacy flink-conf.yaml, FlinkDeployment/FlinkSessionJob manifests and
    /// ConfigMaps holding a Flink config. Exit 0: no errors (warnings allowed); 1: errors found;
    /// 2: a file could not be read.
    Lint {
        /// Files (or Flink conf dirs) to lint.
        #[arg(required_unless_present = "dynamic")]
        files: Vec<PathBuf>,
        /// Flink version to check against (`2.3`, `2.3.0`, `1.20`).
        #[arg(long, default_value = DEFAULT_VERSION, value_name = "V")]
        flink_version: String,
        /// Output: text, json or sarif (default: text, or json with `-o json`).
        #[arg(long, value_enum)]
        format: Option<LintFormat>,
        /// How to read the files.
        #[arg(long = "as", value_enum, default_value_t = InputKind::Auto)]
        kind: InputKind,
        /// Extra `-D key=value` settings to lint as well.
        #[arg(short = 'D', value_name = "KEY=VALUE", id = "dynamic")]
        dynamic: Vec<String>,
    },
    /// Explain an option: type, default, description, aliases and the Flink versions that have it.
    Explain {
        /// The option key (also a deprecated alias or a removed 1.x key).
        key: String,
        #[arg(long, default_value = DEFAULT_VERSION, value_name = "V")]
        flink_version: String,
    },
    /// Migrate a Flink 1.x flink-conf.yaml to a Flink 2.x config.yaml.
    Migrate {
        /// The legacy flink-conf.yaml.
        file: PathBuf,
        /// Target Flink version.
        #[arg(long, default_value = DEFAULT_VERSION, value_name = "V")]
        to: String,
        /// Write the config.yaml here instead of stdout (`-o` is the global output format).
        #[arg(long = "out", value_name = "OUT")]
        out: Option<PathBuf>,
    },
    /// Compare the effective values of two configurations (after aliases and defaults).
    Diff {
        a: PathBuf,
        b: PathBuf,
        #[arg(long, default_value = DEFAULT_VERSION, value_name = "V")]
        flink_version: String,
        /// Also list keys whose effective values are equal.
        #[arg(long)]
        all: bool,
    },
}

pub fn run(cmd: ConfigCmd, g: &GlobalArgs) -> anyhow::Result<Exit> {
    match cmd {
        ConfigCmd::Lint { files, flink_version, format, kind, dynamic } => {
            let format = format.unwrap_or(if g.output == OutputFormat::Json { LintFormat::Json } else { LintFormat::Text });
            lint_cmd(&files, &flink_version, format, kind, &dynamic)
        }
        ConfigCmd::Explain { key, flink_version } => explain_cmd(&key, &flink_version, g),
        ConfigCmd::Migrate { file, to, out } => migrate_cmd(&file, &to, out.as_deref()),
        ConfigCmd::Diff { a, b, flink_version, all } => diff_cmd(&a, &b, &flink_version, all, g),
    }
}

/// The catalogs for a version, or a usage error (exit 2).
fn catalogs(version: &str) -> anyhow::Result<(FlinkVersion, &'static Catalog, Option<&'static Catalog>)> {
    let v = FlinkVersion::parse(version)
        .ok_or_else(|| input(anyhow!("`{version}` is not a Flink version; write e.g. 2.3 or 1.20.1")))?;
    let flink = Catalog::for_version(version).map_err(input)?;
    let previous = if v.major >= 2 { Catalog::for_version(LAST_1X).ok() } else { None };
    Ok((v, flink, previous))
}

fn hint(kind: InputKind) -> Hint {
    match kind {
        InputKind::Auto | InputKind::Operator => Hint::Auto,
        InputKind::ConfigYaml => Hint::ConfigYaml,
        InputKind::Legacy => Hint::Legacy,
        InputKind::Manifest => Hint::Manifest,
    }
}

fn unreadable(file: &Path, e: &ModelError) -> Finding {
    let pos = e.pos().unwrap_or_default();
    Finding {
        file: file.display().to_string(),
        line: pos.line,
        column: pos.column,
        severity: Severity::Error,
        code: "unreadable".into(),
        key: None,
        message: without_location(&e.to_string(), &file.display().to_string(), pos.line, pos.column),
        suggestion: None,
        resource: None,
    }
}

/// The model's messages start with `file:line:col: ` for standalone use; a finding prints its
/// position itself, so drop that prefix instead of saying it twice.
fn without_location(message: &str, file: &str, line: u32, column: u32) -> String {
    let prefix = format!("{file}:{line}:{column}: ");
    message.strip_prefix(&prefix).or_else(|| message.strip_prefix(&format!("{file}: "))).unwrap_or(message).to_string()
}

fn lint_cmd(files: &[PathBuf], version: &str, format: LintFormat, kind: InputKind, dynamic: &[String]) -> anyhow::Result<Exit> {
    let (v, flink, previous) = catalogs(version)?;
    let operator = Catalog::try_operator().ok();
    let mut docs: Vec<ConfigDoc> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut failed = 0usize;
    for f in files {
        match model::load_path(f, hint(kind)) {
            Ok(mut ds) => {
                if ds.is_empty() {
                    findings.push(Finding {
                        file: f.display().to_string(),
                        line: 0,
                        column: 0,
                        severity: Severity::Info,
                        code: lint::codes::NOTHING_TO_LINT.into(),
                        key: None,
                        message: "no Flink configuration in this file (no FlinkDeployment, FlinkSessionJob or ConfigMap with a Flink config)".into(),
                        suggestion: None,
                        resource: None,
                    });
                }
                for d in &mut ds {
                    match kind {
                        InputKind::Operator => d.format = Format::OperatorConfig,
                        // A file with only operator keys is the operator's own configuration.
                        InputKind::Auto => {
                            lint::detect_operator_config(d);
                        }
                        _ => {}
                    }
                }
                docs.extend(ds);
            }
            Err(e) => {
                failed += 1;
                findings.push(unreadable(f, &e));
            }
        }
    }
    if !dynamic.is_empty() {
        match model::parse_dynamic(dynamic) {
            Ok(d) => docs.push(d),
            Err(e) => return Err(input(e)),
        }
    }
    let ctx = LintContext { version: v, flink, previous, operator };
    findings.extend(lint::lint(&docs, &ctx));
    findings.sort_by(|a, b| (&a.file, a.line, a.column, &a.code).cmp(&(&b.file, b.line, b.column, &b.code)));
    let rendered = match format {
        LintFormat::Text => report::text(&findings),
        LintFormat::Json => serde_json::to_string_pretty(&report::json(&findings))? + "\n",
        LintFormat::Sarif => serde_json::to_string_pretty(&report::sarif(&findings, env!("CARGO_PKG_VERSION")))? + "\n",
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(rendered.as_bytes())?;
    stdout.flush()?;
    if failed > 0 {
        return Err(input(anyhow!("{failed} file(s) could not be read (see the `unreadable` findings)")));
    }
    Ok(if findings.iter().any(|f| f.severity == Severity::Error) { Exit::Findings } else { Exit::Success })
}

fn type_name(t: &OptionType) -> String {
    match t {
        OptionType::Boolean => "boolean".into(),
        OptionType::Integer => "int".into(),
        OptionType::Long => "long".into(),
        OptionType::Float => "float".into(),
        OptionType::Double => "double".into(),
        OptionType::String => "string".into(),
        OptionType::Duration => "duration".into(),
        OptionType::MemorySize => "memory size".into(),
        OptionType::Enum { values } => format!("enum ({})", values.join(", ")),
        OptionType::Map => "map (k1:v1,k2:v2)".into(),
        OptionType::List { element } => format!("list of {} (a;b;c)", type_name(element)),
        OptionType::Other { class } => class.clone(),
    }
}

#[derive(serde::Serialize)]
struct Explained<'a> {
    key: &'a str,
    asked: &'a str,
    catalog: &'a str,
    #[serde(rename = "type")]
    ty: String,
    default: Option<&'a str>,
    deprecated: bool,
    deprecated_keys: &'a [String],
    fallback_keys: &'a [String],
    declared_in: &'a str,
    description: &'a str,
    versions: Vec<&'static str>,
    note: Option<String>,
}

fn explain_cmd(key: &str, version: &str, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let (v, flink, _) = catalogs(version)?;
    let operator = Catalog::try_operator().ok();
    let cat = if lint::is_operator_key(key) { operator.unwrap_or(flink) } else { flink };
    let idx = lint::index::Index::new(cat);
    let (option, note): (Option<&OptionInfo>, Option<String>) = match idx.lookup(key) {
        lint::index::Hit::Known(o) => (Some(o), None),
        lint::index::Hit::Alias { current } => {
            (Some(current), Some(format!("`{key}` is a deprecated alias of `{}`; rename it", current.key)))
        }
        lint::index::Hit::Fallback(o) => (Some(o), Some(format!("`{key}` is a fallback key of `{}`", o.key))),
        lint::index::Hit::Family { family, option, .. } => {
            (option, Some(format!("a key of the `{}*` family: {}", family.prefix, family.description)))
        }
        lint::index::Hit::Unknown => (None, None),
    };
    let Some(o) = option else {
        let mut msg = match (note, Catalog::removed_in_2(key)) {
            (Some(n), _) => n,
            (None, Some(r)) if v.major >= 2 => format!(
                "`{key}` was removed in Flink 2.0 (last in {}){}",
                r.last_version,
                r.replacement.map(|x| format!("; use `{x}`")).unwrap_or_default()
            ),
            _ => format!("`{key}` is not an option of Flink {v}"),
        };
        let s = idx.suggest(key);
        if !s.is_empty() {
            msg.push_str(&format!("; did you mean {}?", s.join(" or ")));
        }
        if g.output == OutputFormat::Json {
            print_json(&serde_json::json!({ "key": key, "known": false, "message": msg, "suggestions": s }))?;
        } else {
            println!("{msg}");
        }
        return Ok(Exit::Findings);
    };
    let versions = if cat.version.starts_with("operator") { vec![] } else { Catalog::versions_with(&o.key) };
    let e = Explained {
        key: &o.key,
        asked: key,
        catalog: &cat.version,
        ty: type_name(&o.ty),
        default: o.default.as_deref(),
        deprecated: o.deprecated,
        deprecated_keys: &o.deprecated_keys,
        fallback_keys: &o.fallback_keys,
        declared_in: &o.declared_in,
        description: &o.description,
        versions,
        note,
    };
    if g.output == OutputFormat::Json {
        print_json(&e)?;
        return Ok(Exit::Success);
    }
    let mut t = table(&["", ""]);
    t.add_row(vec!["key", e.key]);
    if let Some(n) = &e.note {
        t.add_row(vec!["note", n]);
    }
    t.add_row(vec!["catalog", e.catalog]);
    t.add_row(vec!["type", &e.ty]);
    t.add_row(vec!["default", e.default.unwrap_or("(none)")]);
    if e.deprecated {
        t.add_row(vec!["deprecated", "yes"]);
    }
    if !e.deprecated_keys.is_empty() {
        t.add_row(vec!["deprecated aliases".to_string(), e.deprecated_keys.join(", ")]);
    }
    if !e.fallback_keys.is_empty() {
        t.add_row(vec!["fallback keys".to_string(), e.fallback_keys.join(", ")]);
    }
    if !e.declared_in.is_empty() {
        t.add_row(vec!["declared in", e.declared_in]);
    }
    if !e.versions.is_empty() {
        t.add_row(vec!["Flink versions".to_string(), e.versions.join(", ")]);
    }
    println!("{t}");
    println!("\n{}", e.description);
    Ok(Exit::Success)
}

fn migrate_cmd(file: &Path, to: &str, out: Option<&Path>) -> anyhow::Result<Exit> {
    let (v, flink, previous) = catalogs(to)?;
    if v.major < 2 {
        return Err(input(anyhow!("--to {to}: migration targets Flink 2.x config.yaml; give e.g. --to 2.3")));
    }
    let docs = model::load_path(file, Hint::Legacy).map_err(input)?;
    let doc = docs.into_iter().next().ok_or_else(|| input(anyhow!("{}: nothing to migrate", file.display())))?;
    let m = flinkops_config::migrate::migrate(&doc, v, flink, previous);
    match out {
        Some(path) => {
            std::fs::write(path, &m.output).with_context(|| format!("writing {}", path.display())).map_err(input)?;
            for c in &m.changes {
                if !matches!(c.action, flinkops_config::migrate::Action::Kept) {
                    eprintln!("{}:{}: {}: {}", file.display(), c.line, c.key, serde_json::to_string(&c.action)?);
                }
            }
            eprintln!("wrote {} ({} settings)", path.display(), m.changes.len());
        }
        None => print!("{}", m.output),
    }
    Ok(Exit::Success)
}

fn load_one(path: &Path) -> anyhow::Result<ConfigDoc> {
    let docs = model::load_path(path, Hint::Auto).map_err(input)?;
    let mut it = docs.into_iter();
    let first = it.next().ok_or_else(|| input(anyhow!("{}: no Flink configuration in it", path.display())))?;
    if it.next().is_some() {
        return Err(input(anyhow!("{}: holds several configurations; give a file with one", path.display())));
    }
    Ok(first)
}

fn diff_cmd(a: &Path, b: &Path, version: &str, all: bool, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let (v, flink, _) = catalogs(version)?;
    let (da, db) = (load_one(a)?, load_one(b)?);
    let rows = flinkops_config::diff::diff(&da, &db, flink, v.major >= 2, all);
    if g.output == OutputFormat::Json {
        print_json(&rows)?;
    } else {
        let show = |v: &Option<String>, s: flinkops_config::diff::Source| match (v, s) {
            (Some(x), flinkops_config::diff::Source::Default) => format!("{x} (default)"),
            (Some(x), _) => x.clone(),
            (None, _) => "(unset)".into(),
        };
        let mut t = table(&["key", &a.display().to_string(), &b.display().to_string(), ""]);
        for r in &rows {
            t.add_row(vec![r.key.clone(), show(&r.a, r.a_source), show(&r.b, r.b_source), if r.same { "=" } else { "≠" }.into()]);
        }
        println!("{t}");
        println!("{} differing key(s)", rows.iter().filter(|r| !r.same).count());
    }
    Ok(if rows.iter().any(|r| !r.same) { Exit::Findings } else { Exit::Success })
}

#[cfg(test)]
mod location_tests {
    use super::without_location;

    #[test]
    fn unreadable_messages_do_not_repeat_the_position() {
        assert_eq!(without_location("/a/b.yaml:1:4: invalid YAML: x", "/a/b.yaml", 1, 4), "invalid YAML: x");
        assert_eq!(without_location("/a/b.yaml: too large", "/a/b.yaml", 0, 0), "too large");
        assert_eq!(without_location("other text", "/a/b.yaml", 1, 1), "other text");
    }
}
