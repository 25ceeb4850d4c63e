//! The thin I/O shell around rendering: reading a spec and its SQL scripts from disk, and
//! writing a bundle atomically (into a temporary directory beside the target, renamed into
//! place at the end: a failed render leaves nothing behind).

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostics, Level};
use crate::plan::SqlScripts;
use crate::read::{Parsed, child};
use crate::render::Bundle;

/// Errors of the I/O shell.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: cannot read the spec: {source}; check the path given to --spec")]
    ReadSpec { path: String, source: std::io::Error },
    #[error("{path}: the spec is not UTF-8 text; save it as UTF-8")]
    NotText { path: String },
    #[error("{path}: exists and is not a directory; choose another output directory")]
    NotADir { path: String },
    #[error("{path}: already exists and is not empty; pass an empty or new directory (or remove it first)")]
    NotEmpty { path: String },
    #[error("{path}: cannot write: {source}; check permissions and free space")]
    Write { path: String, source: std::io::Error },
}

/// Reads a spec file as text.
pub fn read_spec(path: &Path) -> Result<String, OutputError> {
    let bytes = std::fs::read(path).map_err(|source| OutputError::ReadSpec { path: path.display().to_string(), source })?;
    String::from_utf8(bytes).map_err(|_| OutputError::NotText { path: path.display().to_string() })
}

/// Reads the SQL scripts of the spec's jobs (paths relative to the spec's directory); missing
/// files are diagnostics at the job's `sql:` field.
pub fn load_sql(parsed: &Parsed, spec_dir: &Path) -> Result<SqlScripts, Vec<crate::Diagnostic>> {
    let mut d = Diagnostics::default();
    let mut out = SqlScripts::new();
    for (name, job) in &parsed.spec.jobs {
        let Some(rel) = &job.sql else { continue };
        let path: PathBuf = spec_dir.join(rel);
        match std::fs::read_to_string(&path) {
            Ok(t) => {
                out.insert(name.clone(), t);
            }
            Err(e) => d.push_value(
                &parsed.map,
                Level::Error,
                &format!("{}.sql", child("jobs", name)),
                format!("cannot read the SQL script `{}`: {e}", path.display()),
                Some("paths are relative to the spec file's directory".into()),
            ),
        }
    }
    if d.has_errors() { Err(d.sorted()) } else { Ok(out) }
}

/// Writes `bundle` into `dir` (created; must not exist or be empty) atomically.
pub fn write_bundle(bundle: &Bundle, dir: &Path) -> Result<(), OutputError> {
    let shown = dir.display().to_string();
    let werr = |source: std::io::Error| OutputError::Write { path: shown.clone(), source };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(OutputError::NotADir { path: shown });
        }
        if std::fs::read_dir(dir).map_err(werr)?.next().is_some() {
            return Err(OutputError::NotEmpty { path: shown });
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(werr)?;
    let tmp = tempfile::Builder::new().prefix(".flinkops-render-").tempdir_in(&parent).map_err(werr)?;
    for (rel, text) in &bundle.files {
        let path = tmp.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(werr)?;
        }
        std::fs::write(&path, text).map_err(werr)?;
    }
    if dir.exists() {
        std::fs::remove_dir(dir).map_err(werr)?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        werr(e)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_and_refuses_non_empty_dirs() {
        let t = tempfile::tempdir().expect("tempdir");
        let mut b = Bundle::default();
        b.files.insert("a/b.yaml".into(), "x: 1\n".into());
        let out = t.path().join("out");
        write_bundle(&b, &out).expect("write");
        assert_eq!(std::fs::read_to_string(out.join("a/b.yaml")).expect("read"), "x: 1\n");
        assert!(matches!(write_bundle(&b, &out), Err(OutputError::NotEmpty { .. })));
        let leftovers: Vec<_> = std::fs::read_dir(t.path()).expect("ls").flatten().map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }
}
