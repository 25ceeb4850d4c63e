//! The SQL runner: a small Java `main` (shipped as source in `crates/local/java/`) that runs a
//! SQL script through Flink's `TableEnvironment` as one job. Flink's distribution has no SQL
//! gateway jar, so `flinkops job submit --sql` uploads this runner and passes the script as a
//! program argument. It is compiled with `javac` against the chosen Flink's `lib/` on first
//! use and cached per Flink version and source hash.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use crate::dist::FlinkDist;
use crate::home::Home;
use crate::java::Java;
use crate::{Error, Result};

/// The runner's Java source, embedded so the binary needs nothing from the repository.
pub const SOURCE: &str = include_str!("../java/FlinkopsSqlRunner.java");
/// Its entry class.
pub const ENTRY_CLASS: &str = "io.flinkops.sqlrunner.FlinkopsSqlRunner";

/// Program arguments that make the runner execute `script`.
///
/// `parallelism_by_name` maps stable vertex names (vertex names without the SQL planner's node
/// numbers, `GroupAggregate -> snk: Writer`) to the parallelism the runner gives the operators
/// of that vertex (see the runner's source for how names are matched). Empty: the runner builds
/// the job as before, without the argument. Entries the runner could not read back (parallelism
/// 0, an empty name or one with a line break) are left out.
pub fn program_args(script: &str, parallelism_by_name: &BTreeMap<String, u32>) -> Vec<String> {
    let mut args = vec!["--script".to_string(), script.to_string()];
    let mut lines = String::new();
    for (name, p) in parallelism_by_name {
        if *p == 0 || name.is_empty() || name.contains(['\n', '\r']) {
            tracing::warn!(vertex = %name, parallelism = p, "left out of the SQL runner's parallelism by name");
            continue;
        }
        lines.push_str(name);
        lines.push('\t');
        lines.push_str(&p.to_string());
        lines.push('\n');
    }
    if !lines.is_empty() {
        args.push("--parallelism-by-name-base64".to_string());
        args.push(base64(lines.as_bytes()));
    }
    args
}

/// Standard base64 with padding (what Java's `Base64.getDecoder()` reads).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn source_hash() -> u64 {
    // FNV-1a: stable across Rust versions (unlike DefaultHasher), enough to key a cache.
    SOURCE.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Returns the runner jar for `dist`, compiling it if it is not cached yet.
pub fn ensure_jar(home: &Home, dist: &FlinkDist, java: &Java) -> Result<PathBuf> {
    let dir = home.cache_dir().join("sql-runner").join(&dist.version);
    let jar = dir.join(format!("flinkops-sql-runner-{:016x}.jar", source_hash()));
    if jar.is_file() {
        return Ok(jar);
    }
    let javac = java.javac()?;
    std::fs::create_dir_all(&dir).map_err(Error::io("creating", &dir))?;
    let work = tempfile::tempdir_in(&dir).map_err(Error::io("creating a temp dir in", &dir))?;
    let src_dir = work.path().join("src/io/flinkops/sqlrunner");
    std::fs::create_dir_all(&src_dir).map_err(Error::io("creating", &src_dir))?;
    let src = src_dir.join("FlinkopsSqlRunner.java");
    std::fs::write(&src, SOURCE).map_err(Error::io("writing", &src))?;
    let classes = work.path().join("classes");
    let out = Command::new(&javac)
        .arg("-nowarn")
        .arg("-d")
        .arg(&classes)
        .arg("-cp")
        .arg(dist.classpath())
        .arg(&src)
        .output()
        .map_err(|e| Error::Compile(format!("cannot run {}: {e}", javac.display())))?;
    if !out.status.success() {
        return Err(Error::Compile(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))));
    }
    let staged = work.path().join("runner.jar");
    write_jar(&classes, &staged)?;
    std::fs::rename(&staged, &jar).map_err(Error::io("moving into place", &jar))?;
    Ok(jar)
}

/// Packs every file under `classes` into a jar (a zip with a manifest).
fn write_jar(classes: &std::path::Path, jar: &std::path::Path) -> Result<()> {
    let file = std::fs::File::create(jar).map_err(Error::io("creating", jar))?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let zerr = |e: zip::result::ZipError| Error::Other(format!("writing {}: {e}", jar.display()));
    zip.start_file("META-INF/MANIFEST.MF", opts).map_err(zerr)?;
    zip.write_all(format!("Manifest-Version: 1.0\nMain-Class: {ENTRY_CLASS}\nCreated-By: flinkops\n\n").as_bytes())
        .map_err(Error::io("writing", jar))?;
    let mut stack = vec![classes.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(Error::io("reading", &dir))?.flatten() {
            let p = entry.path();
            if p.is_dir() { stack.push(p) } else { files.push(p) }
        }
    }
    files.sort();
    for f in files {
        let rel = f.strip_prefix(classes).map_err(|e| Error::Other(e.to_string()))?;
        let name = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        zip.start_file(name, opts).map_err(zerr)?;
        let bytes = std::fs::read(&f).map_err(Error::io("reading", &f))?;
        zip.write_all(&bytes).map_err(Error::io("writing", jar))?;
    }
    zip.finish().map_err(zerr)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_is_the_runner_and_hash_is_stable() {
        assert!(SOURCE.contains("class FlinkopsSqlRunner"));
        assert!(SOURCE.contains("package io.flinkops.sqlrunner;"));
        assert_eq!(source_hash(), source_hash());
        assert_eq!(program_args("SELECT 1", &BTreeMap::new()), vec!["--script", "SELECT 1"]);
    }

    #[test]
    fn base64_is_the_standard_alphabet_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
        assert_eq!(base64("→ é".as_bytes()), "4oaSIMOp");
    }

    #[test]
    fn parallelism_by_name_is_one_line_per_vertex() {
        let map: BTreeMap<String, u32> = [
            ("Source: src -> Calc".to_string(), 1),
            ("GroupAggregate -> ConstraintEnforcer -> snk: Writer".to_string(), 3),
            // Never read back by the runner, so never sent.
            ("zero".to_string(), 0),
            (String::new(), 2),
            ("two\nlines".to_string(), 2),
        ]
        .into();
        let args = program_args("INSERT INTO t SELECT 1", &map);
        assert_eq!(&args[..3], &["--script", "INSERT INTO t SELECT 1", "--parallelism-by-name-base64"]);
        assert_eq!(args.len(), 4);
        // Lines in the map's (sorted) order.
        let text = "GroupAggregate -> ConstraintEnforcer -> snk: Writer\t3\nSource: src -> Calc\t1\n";
        assert_eq!(args[3], base64(text.as_bytes()));
        // Nothing usable: no argument, the runner's old path.
        let none: BTreeMap<String, u32> = [("zero".to_string(), 0)].into();
        assert_eq!(program_args("x", &none), vec!["--script", "x"]);
    }
}
