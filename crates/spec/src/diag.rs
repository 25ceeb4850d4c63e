//! Diagnostics: every problem in a spec, with file:line:col, the path of the field and how to
//! fix it. Readers and validators collect them all before failing.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

pub use flinkops_config::model::Pos;

/// How bad a diagnostic is. Errors stop `render`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        })
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub level: Level,
    /// Dotted path of the field (`environments.prod.taskManager.cpu`), empty for the root.
    pub path: String,
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file, self.line, self.column, self.level, self.message)?;
        if !self.path.is_empty() && !self.message.contains(&format!("`{}`", self.path)) {
            write!(f, " (at `{}`)", self.path)?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// Positions of every node of a parsed spec, by dotted path (key position and value position).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    pub file: String,
    pub(crate) keys: BTreeMap<String, Pos>,
    pub(crate) values: BTreeMap<String, Pos>,
}

impl SourceMap {
    pub fn new(file: impl Into<String>) -> Self {
        Self { file: file.into(), ..Self::default() }
    }

    /// Where the value at `path` starts; falls back to the nearest ancestor, then 1:1.
    pub fn value_pos(&self, path: &str) -> Pos {
        self.lookup(&self.values, path)
    }

    /// Where the key of `path` is written (the value's position for list items).
    pub fn key_pos(&self, path: &str) -> Pos {
        match self.keys.get(path) {
            Some(p) => *p,
            None => self.lookup(&self.values, path),
        }
    }

    /// True when the spec wrote this path (not a default).
    pub fn has(&self, path: &str) -> bool {
        self.values.contains_key(path)
    }

    fn lookup(&self, map: &BTreeMap<String, Pos>, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some(pos) = map.get(p) {
                return *pos;
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => return map.get("").copied().unwrap_or(Pos::new(1, 1)),
            }
        }
    }
}

/// Collects diagnostics against one source map.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, map: &SourceMap, level: Level, path: &str, message: impl Into<String>, help: Option<String>) {
        self.at(&map.file, map.key_pos(path), level, path, message, help);
    }

    /// At the value (not the key) of `path`.
    pub fn push_value(&mut self, map: &SourceMap, level: Level, path: &str, message: impl Into<String>, help: Option<String>) {
        self.at(&map.file, map.value_pos(path), level, path, message, help);
    }

    pub fn at(&mut self, file: &str, pos: Pos, level: Level, path: &str, message: impl Into<String>, help: Option<String>) {
        self.items.push(Diagnostic {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
            level,
            path: path.to_string(),
            message: message.into(),
            help,
        });
    }

    pub fn error(&mut self, map: &SourceMap, path: &str, message: impl Into<String>, help: impl Into<Option<String>>) {
        self.push(map, Level::Error, path, message, help.into());
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.level == Level::Error)
    }

    /// Sorted by position, then message; duplicates removed.
    pub fn sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message)));
        self.items.dedup();
        self.items
    }
}

/// Edit distance over chars.
pub fn levenshtein(a: &str, b: &str) -> usize {
    flinkops_config::catalog::levenshtein(a, b)
}

/// The closest candidates to `word` (case-insensitive edit distance ≤ max(2, len/3)), best first.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lw = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (levenshtein(&lw, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    let best: Vec<&str> = scored.iter().take(2).map(|(_, c)| *c).collect();
    match best.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        [a, b, ..] => Some(format!("did you mean `{a}` or `{b}`?")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words() {
        assert_eq!(did_you_mean("taskManger", ["taskManager", "jobManager"]).as_deref(), Some("did you mean `taskManager`?"));
        assert_eq!(did_you_mean("zzz", ["taskManager"]), None);
    }

    #[test]
    fn source_map_falls_back_to_ancestors() {
        let mut m = SourceMap::new("f.yaml");
        m.values.insert("".into(), Pos::new(1, 1));
        m.values.insert("a".into(), Pos::new(2, 3));
        assert_eq!(m.value_pos("a.b.c"), Pos::new(2, 3));
        assert_eq!(m.value_pos("x"), Pos::new(1, 1));
    }
}
