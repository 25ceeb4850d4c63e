//! Flink 1.x `flink-conf.yaml`: not YAML but one `key: value` per line, read as Flink's legacy
//! `GlobalConfiguration.loadYAMLResource` does — everything after the first `#` is a comment, the
//! rest is split at the first `": "`, key and value are trimmed (Java `trim`), and lines without a
//! separator or with an empty key or value are skipped with a warning. Quotes are kept as part of
//! the value. The last occurrence of a key wins.

use std::collections::HashMap;

use super::{ConfigDoc, Entry, Format, NoteSeverity, Origin, Pos, Value};

fn java_trim(s: &str) -> (&str, usize) {
    let start = s.find(|c: char| c > ' ').unwrap_or(s.len());
    let rest = &s[start..];
    let end = rest.rfind(|c: char| c > ' ').map(|i| i + rest[i..].chars().next().map_or(1, char::len_utf8)).unwrap_or(0);
    (&rest[..end], start)
}

fn col(line: &str, byte: usize) -> u32 {
    u32::try_from(line[..byte.min(line.len())].chars().count() + 1).unwrap_or(u32::MAX)
}

/// Splits like Java's `BufferedReader.readLine` (`\n`, `\r`, `\r\n`).
fn java_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            out.push(&text[start..i]);
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < b.len() {
        out.push(&text[start..]);
    }
    out
}

/// Parses legacy text. `offset` shifts positions (for a file embedded in a ConfigMap: lines are
/// added, columns are added).
pub fn parse_legacy(name: &str, text: &str, format: Format, offset: Pos) -> ConfigDoc {
    let mut doc = ConfigDoc::new(name, format);
    let mut seen: HashMap<String, Pos> = HashMap::new();
    for (idx, line) in java_lines(text).into_iter().enumerate() {
        let line_no = u32::try_from(idx + 1).unwrap_or(u32::MAX).saturating_add(offset.line);
        let at = |byte: usize| Pos::new(line_no, col(line, byte).saturating_add(offset.column));
        let (conf, comment) = match line.find('#') {
            Some(i) => (&line[..i], Some(i)),
            None => (line, None),
        };
        let (trimmed, lead) = java_trim(conf);
        if trimmed.is_empty() {
            continue;
        }
        let Some(sep) = trimmed.find(": ") else {
            doc.note(
                NoteSeverity::Warning,
                "skipped-line",
                None,
                at(lead),
                format!("Flink skips this line: `{trimmed}` has no `: ` (colon and space) between key and value"),
                Some("write `key: value` with a space after the colon".into()),
            );
            continue;
        };
        let (key, key_off) = java_trim(&trimmed[..sep]);
        let raw_value = &trimmed[sep + 2..];
        let (value, val_off) = java_trim(raw_value);
        let key_byte = lead + key_off;
        let val_byte = lead + sep + 2 + val_off;
        if key.is_empty() || value.is_empty() {
            doc.note(
                NoteSeverity::Warning,
                "skipped-line",
                if key.is_empty() { None } else { Some(key) },
                at(lead),
                "Flink skips this line: the key or the value is empty".to_string(),
                Some("give the key a value or delete the line".into()),
            );
            continue;
        }
        if let Some(c) = comment {
            if c > 0 && !line[..c].ends_with([' ', '\t']) {
                doc.note(
                    NoteSeverity::Warning,
                    "comment-in-value",
                    Some(key),
                    at(c),
                    format!("`#` starts a comment even inside a value: Flink reads `{key}` as `{value}`"),
                    Some("flink-conf.yaml cannot hold `#` in a value; move to config.yaml and quote it".into()),
                );
            }
        }
        if value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"')) || (value.starts_with('\'') && value.ends_with('\'')))
        {
            doc.note(
                NoteSeverity::Warning,
                "quoted-value",
                Some(key),
                at(val_byte),
                format!("in flink-conf.yaml quotes are part of the value: Flink reads `{key}` as {value}, quotes included"),
                Some("remove the quotes".into()),
            );
        }
        if let Some(first) = seen.get(key) {
            doc.note(
                NoteSeverity::Warning,
                "duplicate-key",
                Some(key),
                at(key_byte),
                format!("`{key}` is set again (first at {first}); the last one wins"),
                Some("delete the earlier line".into()),
            );
        }
        seen.insert(key.to_string(), at(key_byte));
        doc.entries.push(Entry {
            key: key.to_string(),
            value: Value::string(value),
            file: name.to_string(),
            key_pos: at(key_byte),
            value_pos: at(val_byte),
            origin: Origin::Written,
        });
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_flink_1_20() {
        // Expectations checked against Flink 1.20.3's GlobalConfiguration.
        let text = "key:value\n  key2 :  v2  \nk3: a: b\nk4: \"quoted\"\nk5: x # comment\nk6:\nk6b: \n k7: v#x\nk8 : v8\nk9:\ty\n\tk10: z\nk11 :x\nk12:  \t  w\nk5: dup\n- list: item\nk13: [a, b]\n";
        let d = parse_legacy("flink-conf.yaml", text, Format::LegacyFlinkConf, Pos::default());
        let m = d.to_map();
        let expected = [
            ("- list", "item"),
            ("k10", "z"),
            ("k12", "w"),
            ("k13", "[a, b]"),
            ("k3", "a: b"),
            ("k4", "\"quoted\""),
            ("k5", "dup"),
            ("k7", "v"),
            ("k8", "v8"),
            ("key2", "v2"),
        ];
        assert_eq!(m.len(), expected.len(), "{m:?}");
        for (k, v) in expected {
            assert_eq!(m[k], v, "{k}");
        }
        let e = d.entries.iter().find(|e| e.key == "key2").expect("key2");
        assert_eq!(e.key_pos, Pos::new(2, 3));
        assert_eq!(e.value_pos, Pos::new(2, 11));
        let codes: Vec<_> = d.notes.iter().map(|n| n.code).collect();
        assert!(codes.contains(&"skipped-line"));
        assert!(codes.contains(&"duplicate-key"));
        assert!(codes.contains(&"quoted-value"));
        assert!(codes.contains(&"comment-in-value"));
    }

    #[test]
    fn crlf_and_offsets() {
        let d = parse_legacy("cm.yaml", "a: 1\r\nb: 2\rc: 3", Format::ConfigMapLegacy, Pos::new(10, 4));
        assert_eq!(d.entries.len(), 3);
        assert_eq!(d.entries[2].key_pos, Pos::new(13, 5));
    }
}
