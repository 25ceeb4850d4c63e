//! Checks across keys, on the settings as Flink resolves them (aliases mapped to their current
//! key, defaults from the catalog): state backend names, RocksDB options under another backend,
//! the RocksDB block cache under managed memory, checkpoint timeout vs. interval, unaligned
//! checkpoints with at-least-once, metric reporters configured by class, restart strategy names,
//! and the memory model.

use std::collections::{BTreeMap, BTreeSet};

use super::{Indexes, LintContext, Severity, Sink, codes, is_operator_key};
use crate::model::{ConfigDoc, Entry};

/// The settings as Flink sees them: canonical key → entry (current key beats alias; last wins).
pub(crate) struct View<'a> {
    map: BTreeMap<String, &'a Entry>,
}

impl<'a> View<'a> {
    pub(crate) fn new(doc: &'a ConfigDoc, idx: &Indexes<'_>, sink: Option<&mut Sink<'_>>) -> Self {
        let mut map: BTreeMap<String, &'a Entry> = BTreeMap::new();
        let mut shadowed = Vec::new();
        for e in &doc.entries {
            let canonical = if is_operator_key(&e.key) {
                idx.operator.as_ref().map_or(e.key.clone(), |o| o.canonical(&e.key).into_owned())
            } else {
                idx.flink.canonical(&e.key).into_owned()
            };
            match map.get(&canonical) {
                Some(prev) if prev.key == canonical && e.key != canonical => {
                    shadowed.push((e, prev.key.clone()));
                    continue;
                }
                Some(prev) if prev.key != canonical && e.key == canonical && prev.key != e.key => {
                    shadowed.push((*prev, e.key.clone()));
                }
                _ => {}
            }
            map.insert(canonical, e);
        }
        if let Some(sink) = sink {
            for (e, winner) in shadowed {
                sink.entry(
                    e,
                    Severity::Warning,
                    codes::SHADOWED_KEY,
                    format!("`{}` is ignored: `{winner}` is also set and Flink reads that one", e.key),
                    Some(format!("delete `{}`", e.key)),
                );
            }
        }
        Self { map }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Entry> {
        self.map.get(key).copied()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &&'a Entry)> {
        self.map.iter()
    }
}

fn value_or_default(view: &View<'_>, idx: &Indexes<'_>, key: &str) -> Option<String> {
    view.get(key)
        .map(|e| e.value.text.clone())
        .or_else(|| idx.flink.option(key).and_then(|o| o.default.clone()))
}

fn is_true(s: Option<&str>) -> bool {
    s.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Quoted names after `marker` in a description (`'hashmap', 'rocksdb' and 'forst'`).
fn quoted_names_after(text: &str, marker: &str) -> Vec<String> {
    let Some(i) = text.find(marker) else { return Vec::new() };
    let rest = &text[i + marker.len()..];
    let end = rest.find(['.', '\n']).unwrap_or(rest.len());
    rest[..end].split('\'').skip(1).step_by(2).map(str::to_string).collect()
}

pub(crate) fn check(doc: &ConfigDoc, ctx: &LintContext<'_>, idx: &Indexes<'_>, sink: &mut Sink<'_>) {
    let view = View::new(doc, idx, Some(sink));
    state_backend(&view, ctx, idx, sink);
    rocksdb(&view, idx, sink);
    checkpoints(&view, ctx, idx, sink);
    reporters(&view, ctx, sink);
    restart_strategy(&view, idx, sink);
    memory(doc, &view, ctx, sink);
}

/// Shortcut names of state backends in this version (from the option's own description).
pub(crate) fn state_backend_names(ctx: &LintContext<'_>, idx: &Indexes<'_>) -> Vec<String> {
    let mut names = idx
        .flink
        .option("state.backend.type")
        .map(|o| quoted_names_after(&o.description, "Recognized shortcut names are"))
        .unwrap_or_default();
    if names.is_empty() {
        names = vec!["hashmap".into(), "rocksdb".into()];
    }
    if ctx.version.major < 2 {
        // Deprecated in 1.x, still accepted by StateBackendLoader until 2.0.
        for legacy in ["jobmanager", "filesystem"] {
            if !names.iter().any(|n| n == legacy) {
                names.push(legacy.into());
            }
        }
    }
    names
}

fn state_backend(view: &View<'_>, ctx: &LintContext<'_>, idx: &Indexes<'_>, sink: &mut Sink<'_>) {
    let Some(e) = view.get("state.backend.type") else { return };
    let v = e.value.text.trim().to_ascii_lowercase();
    if v.contains('.') {
        return; // a StateBackendFactory class name
    }
    let names = state_backend_names(ctx, idx);
    if names.contains(&v) {
        return;
    }
    let help = match v.as_str() {
        "memory" | "jobmanager" | "filesystem" | "fs" | "heap" => format!(
            "use `hashmap` (state on the JVM heap); where checkpoints go is `execution.checkpointing.storage` / `execution.checkpointing.dir`{}",
            if ctx.version.major >= 2 && v != "memory" { " — Flink 2.0 removed the `jobmanager` and `filesystem` backends" } else { "" }
        ),
        _ => format!("use one of {}", names.join(", ")),
    };
    sink.at(
        e.value_pos,
        Severity::Error,
        codes::INVALID_STATE_BACKEND,
        Some(&e.key),
        format!(
            "`{}` is not a state backend in Flink {} (it knows {}); the job fails to start",
            e.value.text,
            ctx.version,
            names.join(", ")
        ),
        Some(help),
    );
}

fn rocksdb(view: &View<'_>, idx: &Indexes<'_>, sink: &mut Sink<'_>) {
    let backend = value_or_default(view, idx, "state.backend.type").unwrap_or_else(|| "hashmap".into()).to_ascii_lowercase();
    let is_class = backend.contains('.');
    for (family, name) in [("state.backend.rocksdb.", "rocksdb"), ("state.backend.forst.", "forst")] {
        if is_class || backend == name {
            continue;
        }
        for (k, e) in view.iter() {
            if k.starts_with(family) && idx.flink.option(k).is_some() {
                sink.entry(
                    e,
                    Severity::Warning,
                    codes::ROCKSDB_OPTION_UNUSED,
                    format!("`{k}` configures the {name} state backend, but the state backend is `{backend}`; it has no effect"),
                    Some(format!("set `state.backend.type: {name}` or delete the line")),
                );
            }
        }
    }
    if backend != "rocksdb" {
        return;
    }
    if let Some(e) = view.get("state.backend.rocksdb.block.cache-size") {
        let managed = value_or_default(view, idx, "state.backend.rocksdb.memory.managed");
        let fixed = view.get("state.backend.rocksdb.memory.fixed-per-slot").or_else(|| view.get("state.backend.rocksdb.memory.fixed-per-tm"));
        if is_true(managed.as_deref()) || fixed.is_some() {
            let why = if fixed.is_some() {
                "a fixed RocksDB memory size (`state.backend.rocksdb.memory.fixed-per-*`) is set"
            } else {
                "`state.backend.rocksdb.memory.managed` is true (the default)"
            };
            sink.entry(
                e,
                Severity::Warning,
                codes::ROCKSDB_SETTING_IGNORED,
                format!("`{}` is ignored: {why}, so RocksDB shares one cache sized from managed memory", e.key),
                Some("size it through `taskmanager.memory.managed.size`/`.fraction` and `state.backend.rocksdb.memory.high-prio-pool-ratio`, or set `state.backend.rocksdb.memory.managed: false`".into()),
            );
        }
    }
}

fn duration_of(text: &str, v2: bool) -> Option<std::time::Duration> {
    super::values::parse_duration(text, v2).ok()
}

fn checkpoints(view: &View<'_>, ctx: &LintContext<'_>, idx: &Indexes<'_>, sink: &mut Sink<'_>) {
    let v2 = ctx.version.major >= 2;
    if let Some(interval_e) = view.get("execution.checkpointing.interval") {
        let timeout_e = view.get("execution.checkpointing.timeout");
        let timeout_text = value_or_default(view, idx, "execution.checkpointing.timeout");
        if let (Some(interval), Some(timeout)) =
            (duration_of(&interval_e.value.text, v2), timeout_text.as_deref().and_then(|t| duration_of(t, v2)))
        {
            if timeout < interval {
                let target = timeout_e.unwrap_or(interval_e);
                sink.entry(
                    target,
                    Severity::Warning,
                    codes::CHECKPOINT_TIMEOUT,
                    format!(
                        "checkpoint timeout ({}) is shorter than the checkpoint interval ({}){}",
                        timeout_text.as_deref().unwrap_or(""),
                        interval_e.value.text,
                        if timeout_e.is_none() { " (the timeout is the default)" } else { "" }
                    ),
                    Some("a checkpoint that needs most of the interval times out; make `execution.checkpointing.timeout` at least the interval".into()),
                );
            }
        }
    }
    if let Some(u) = view.get("execution.checkpointing.unaligned.enabled") {
        let mode = value_or_default(view, idx, "execution.checkpointing.mode").unwrap_or_default();
        if is_true(Some(&u.value.text)) && mode.eq_ignore_ascii_case("AT_LEAST_ONCE") {
            sink.entry(
                u,
                Severity::Warning,
                codes::UNALIGNED_AT_LEAST_ONCE,
                "unaligned checkpoints are enabled but `execution.checkpointing.mode` is AT_LEAST_ONCE; Flink uses unaligned checkpoints only with EXACTLY_ONCE, so this has no effect".into(),
                Some("set `execution.checkpointing.mode: EXACTLY_ONCE` or drop the unaligned setting".into()),
            );
        }
    }
}

/// The factory of a reporter class (all bundled reporters follow `<Class>Factory`).
pub fn reporter_factory(class: &str) -> String {
    format!("{}Factory", class.trim())
}

fn reporters(view: &View<'_>, ctx: &LintContext<'_>, sink: &mut Sink<'_>) {
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut with_factory: BTreeSet<String> = BTreeSet::new();
    for (k, e) in view.iter() {
        let Some(rest) = k.strip_prefix("metrics.reporter.") else { continue };
        let Some((name, sub)) = rest.split_once('.') else { continue };
        names.insert(name.to_string());
        if sub == "factory.class" {
            with_factory.insert(name.to_string());
        } else if sub == "class" {
            let factory_key = format!("metrics.reporter.{name}.factory.class");
            let help = format!("replace it with `{factory_key}: {}`", reporter_factory(&e.value.text));
            if ctx.version.major >= 2 {
                sink.entry(
                    e,
                    Severity::Error,
                    codes::REPORTER_CLASS,
                    format!("`{k}` was removed in Flink 2.0: reporters are only created through factories, so reporter `{name}` is not started"),
                    Some(help),
                );
            } else {
                sink.entry(
                    e,
                    Severity::Warning,
                    codes::DEPRECATED_KEY,
                    format!("`{k}` is deprecated (reflection-based reporter loading); Flink 2.0 removes it"),
                    Some(help),
                );
                with_factory.insert(name.to_string());
            }
        }
    }
    for name in names.difference(&with_factory) {
        let has_class = view.get(&format!("metrics.reporter.{name}.class")).is_some();
        if has_class {
            continue; // reported above
        }
        if let Some((_, e)) = view.iter().find(|(k, _)| k.starts_with(&format!("metrics.reporter.{name}."))) {
            sink.entry(
                e,
                Severity::Warning,
                codes::REPORTER_NO_FACTORY,
                format!("metric reporter `{name}` has settings but no `metrics.reporter.{name}.factory.class`; it is not started"),
                Some(format!("add `metrics.reporter.{name}.factory.class`")),
            );
        }
    }
}

fn restart_strategy(view: &View<'_>, idx: &Indexes<'_>, sink: &mut Sink<'_>) {
    let Some(e) = view.get("restart-strategy.type") else { return };
    let Some(o) = idx.flink.option("restart-strategy.type") else { return };
    // "- `fixed-delay`, `fixeddelay`: ..." lines of the description.
    let mut accepted: Vec<String> = Vec::new();
    for line in o.description.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("- ") {
            let head = rest.split(':').next().unwrap_or("");
            accepted.extend(head.split('`').skip(1).step_by(2).map(str::to_ascii_lowercase));
        }
    }
    let v = e.value.text.trim().to_ascii_lowercase();
    if accepted.is_empty() || v.contains('.') || accepted.contains(&v) {
        return;
    }
    sink.at(
        e.value_pos,
        Severity::Error,
        codes::INVALID_VALUE,
        Some(&e.key),
        format!("`{}` is not a restart strategy (Flink accepts {})", e.value.text, accepted.join(", ")),
        Some("use fixed-delay, failure-rate, exponential-delay or none".into()),
    );
}

/// Runs Flink's memory model (`crate::memory`, identical to Flink's own calculator) on the
/// settings and reports what Flink would reject at start-up, in Flink's words. Only for
/// processes whose memory the document configures; a document that sizes nothing (an overlay)
/// and values that do not parse (already `invalid-value`) are not reported again.
fn memory(doc: &ConfigDoc, _view: &View<'_>, ctx: &LintContext<'_>, sink: &mut Sink<'_>) {
    use crate::memory::{self, MemoryError};
    let mut map = BTreeMap::new();
    for e in &doc.entries {
        map.insert(e.key.clone(), e.value.text.clone());
    }
    let version = format!("{}.{}", ctx.version.major, ctx.version.minor);
    for (process, prefixes) in [
        ("TaskManager", ["taskmanager.memory.", "taskmanager.heap."]),
        ("JobManager", ["jobmanager.memory.", "jobmanager.heap."]),
    ] {
        let Some(first) = doc.entries.iter().find(|e| prefixes.iter().any(|p| e.key.starts_with(p))) else { continue };
        let result = if process == "TaskManager" {
            memory::taskmanager(&version, &map).map(|_| ())
        } else {
            memory::jobmanager(&version, &map).map(|_| ())
        };
        match result {
            Ok(()) | Err(MemoryError::NotConfigured { .. } | MemoryError::InvalidValue { .. } | MemoryError::UnsupportedVersion(_)) => {}
            Err(MemoryError::Invalid(reason)) => sink.entry(
                first,
                Severity::Error,
                codes::MEMORY_CONFIG,
                format!("Flink {version} refuses to start the {process} with this memory configuration: {reason}"),
                Some(format!("see the derivation with `flinkops memory {} --config FILE`", if process == "TaskManager" { "tm" } else { "jm" })),
            ),
        }
    }
}

#[cfg(test)]
mod memory_tests {
    use crate::catalog::Catalog;
    use crate::lint::{FlinkVersion, LintContext, codes, lint};
    use crate::model::{Hint, load_str};

    fn memory_findings(yaml: &str, version: &str) -> Vec<String> {
        let docs = load_str("config.yaml", yaml, Hint::ConfigYaml).unwrap();
        let flink = Catalog::for_version(version).unwrap();
        let ctx = LintContext { version: FlinkVersion::parse(version).unwrap(), flink, previous: None, operator: None };
        lint(&docs, &ctx).into_iter().filter(|f| f.code == codes::MEMORY_CONFIG).map(|f| f.message).collect()
    }

    #[test]
    fn memory_that_flink_rejects_is_an_error_with_flinks_reason() {
        let found = memory_findings("taskmanager.memory.process.size: 1g\ntaskmanager.memory.managed.size: 900m\n", "2.3");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("TaskManager") && found[0].contains("exceed configured Total Flink Memory"), "{found:?}");
        let found = memory_findings("jobmanager.memory.process.size: 300m\n", "1.20");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("JobManager"), "{found:?}");
    }

    #[test]
    fn valid_memory_and_overlays_are_not_reported() {
        assert!(memory_findings("taskmanager.memory.process.size: 4g\njobmanager.memory.process.size: 2g\n", "2.3").is_empty());
        // An overlay that sizes nothing: Flink's defaults file supplies the total.
        assert!(memory_findings("taskmanager.memory.managed.fraction: 0.5\n", "2.3").is_empty());
        // A value that does not parse is reported once, as invalid-value, not again here.
        assert!(memory_findings("taskmanager.memory.process.size: lots\n", "2.3").is_empty());
    }
}
