//! Value checks: a value is parsed exactly as Flink parses it for the option's declared type
//! (memory sizes and durations through [`crate::units`], enums case-insensitively, booleans only
//! `true`/`false`, Java `int`/`long` ranges, lists split like Flink's `StructuredOptionsSplitter`
//! or given as a YAML flow list, maps as `k:v,k2:v2` or a YAML flow map).

use crate::catalog::OptionType;
use crate::units;
use crate::model::yaml;

/// Why a value does not parse, and how to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub reason: String,
    pub help: String,
}

fn invalid(reason: impl Into<String>, help: impl Into<String>) -> Invalid {
    Invalid { reason: reason.into(), help: help.into() }
}

/// Flink's duration parser of the major version (2.x also takes ISO-8601).
pub fn parse_duration(text: &str, v2: bool) -> Result<std::time::Duration, units::UnitError> {
    if v2 { units::parse_duration(text) } else { units::parse_duration_1x(text) }
}

/// Checks `text` against `ty` (`v2`: Flink 2.x rules).
pub fn check(ty: &OptionType, text: &str, v2: bool) -> Result<(), Invalid> {
    match ty {
        OptionType::Boolean => {
            if units::parse_bool(text).is_ok() {
                Ok(())
            } else {
                Err(invalid(
                    format!("`{text}` is not a boolean: Flink accepts only true or false (any case){}", yaml11_hint(text)),
                    "write true or false",
                ))
            }
        }
        OptionType::Integer => units::parse_java_int(text).map(|_| ()).map_err(|_| {
            invalid(
                format!("`{text}` is not a Java int (digits only, {} to {})", i32::MIN, i32::MAX),
                "write a whole number without units or separators",
            )
        }),
        OptionType::Long => units::parse_java_long(text).map(|_| ()).map_err(|_| {
            invalid(format!("`{text}` is not a Java long (digits only)"), "write a whole number without units or separators")
        }),
        OptionType::Float => units::parse_java_float(text)
            .map(|_| ())
            .map_err(|e| invalid(e.to_string(), "write a decimal number such as 0.4")),
        OptionType::Double => units::parse_java_double(text)
            .map(|_| ())
            .map_err(|e| invalid(e.to_string(), "write a decimal number such as 0.4")),
        OptionType::Duration => parse_duration(text, v2).map(|_| ()).map_err(|e| {
            invalid(
                format!("`{text}` is not a duration: {e}"),
                "write a number with a unit: ms, s, min, h, d (e.g. 60 s, 10 min); a bare number means milliseconds",
            )
        }),
        OptionType::MemorySize => units::parse_memory_size(text).map(|_| ()).map_err(|e| {
            invalid(
                format!("`{text}` is not a memory size: {e}"),
                "write a number with a unit: b, kb, mb, gb, tb (e.g. 1024m, 4 gb); a bare number means bytes",
            )
        }),
        OptionType::Enum { values } => {
            if values.iter().any(|v| v.eq_ignore_ascii_case(text)) {
                Ok(())
            } else {
                Err(invalid(
                    format!("`{text}` is not one of {} (case does not matter)", values.join(", ")),
                    closest(text, values).map_or_else(
                        || format!("write one of {}", values.join(", ")),
                        |c| format!("did you mean {c}?"),
                    ),
                ))
            }
        }
        OptionType::List { element } => {
            let items = split_list(text).map_err(|e| invalid(e, "write `a;b;c` or a YAML list `[a, b, c]`"))?;
            for item in items {
                check(element, &item, v2).map_err(|e| Invalid { reason: format!("list element: {}", e.reason), help: e.help })?;
            }
            Ok(())
        }
        OptionType::Map => split_map(text)
            .map(|_| ())
            .map_err(|e| invalid(e, "write `key1:value1,key2:value2` or a YAML map `{key1: value1}`")),
        OptionType::String | OptionType::Other { .. } => Ok(()),
    }
}

fn yaml11_hint(text: &str) -> &'static str {
    if matches!(text.to_ascii_lowercase().as_str(), "yes" | "no" | "on" | "off" | "y" | "n") {
        " (YAML 1.1 words like yes/on are not booleans to Flink 2.x)"
    } else {
        ""
    }
}

fn closest<'a>(text: &str, values: &'a [String]) -> Option<&'a str> {
    let t = text.to_ascii_uppercase().replace('-', "_");
    values
        .iter()
        .map(|v| (super::index::levenshtein(&t, &v.to_ascii_uppercase()), v.as_str()))
        .filter(|(d, v)| *d <= (v.len() / 3).max(2))
        .min()
        .map(|(_, v)| v)
}

/// Flink's escaped split (`StructuredOptionsSplitter.splitEscaped`): quotes `'` or `"` protect
/// delimiters; a doubled quote inside quotes is a literal quote.
pub fn split_escaped(s: &str, delim: char) -> Result<Vec<String>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if (c == '\'' || c == '"') && cur.trim().is_empty() {
            let q = c;
            i += 1;
            let mut closed = false;
            while i < chars.len() {
                if chars[i] == q {
                    if chars.get(i + 1) == Some(&q) {
                        cur.push(q);
                        i += 2;
                        continue;
                    }
                    closed = true;
                    i += 1;
                    break;
                }
                cur.push(chars[i]);
                i += 1;
            }
            if !closed {
                return Err(format!("unclosed quote {q} in `{s}`"));
            }
            while i < chars.len() && chars[i] != delim {
                if !chars[i].is_whitespace() {
                    return Err(format!("text after a closing quote in `{s}`"));
                }
                i += 1;
            }
            continue;
        }
        if c == delim {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
        i += 1;
    }
    out.push(cur);
    Ok(out)
}

fn yaml_flow(text: &str) -> Option<yaml::Node> {
    yaml::parse_documents("value", text).ok()?.into_iter().next()?.root
}

/// List elements as Flink reads them (YAML flow list or `;`-separated).
pub fn split_list(text: &str) -> Result<Vec<String>, String> {
    let t = text.trim();
    if t.starts_with('[') && t.ends_with(']') {
        if let Some(yaml::Node { kind: yaml::NodeKind::Seq(items), .. }) = yaml_flow(t) {
            return Ok(items
                .iter()
                .map(|n| match &n.kind {
                    yaml::NodeKind::Scalar(s) => yaml::resolve(s, yaml::Schema::Flink).text,
                    _ => yaml::flow_text(n, yaml::Schema::Flink),
                })
                .collect());
        }
    }
    if text.is_empty() {
        return Ok(Vec::new());
    }
    split_escaped(text, ';')
}

/// Map entries as Flink reads them (YAML flow map or `k:v,k:v`).
pub fn split_map(text: &str) -> Result<Vec<(String, String)>, String> {
    let t = text.trim();
    if t.starts_with('{') && t.ends_with('}') {
        if let Some(yaml::Node { kind: yaml::NodeKind::Map(entries), .. }) = yaml_flow(t) {
            return Ok(entries
                .iter()
                .map(|(k, v)| (yaml::flow_text(k, yaml::Schema::Flink), yaml::flow_text(v, yaml::Schema::Flink)))
                .collect());
        }
    }
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in split_escaped(text, ',')? {
        let kv = split_escaped(&entry, ':')?;
        if kv.len() != 2 {
            return Err(format!("`{entry}` is not a `key:value` pair"));
        }
        out.push((kv[0].clone(), kv[1].clone()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert!(check(&OptionType::Boolean, "TRUE", true).is_ok());
        let e = check(&OptionType::Boolean, "yes", true).expect_err("yes");
        assert!(e.reason.contains("YAML 1.1"));
        assert!(check(&OptionType::Integer, "2147483647", true).is_ok());
        assert!(check(&OptionType::Integer, "2147483648", true).is_err());
        assert!(check(&OptionType::Integer, " 12 ", true).is_err());
        assert!(check(&OptionType::Integer, "+12", true).is_ok());
        assert!(check(&OptionType::Long, "2147483648", true).is_ok());
        let en = OptionType::Enum { values: vec!["EXACTLY_ONCE".into(), "AT_LEAST_ONCE".into()] };
        assert!(check(&en, "exactly_once", true).is_ok());
        let e = check(&en, "exactly-once", true).expect_err("dash");
        assert!(e.help.contains("EXACTLY_ONCE"), "{e:?}");
    }

    #[test]
    fn lists_and_maps() {
        assert_eq!(split_list("a;b;c").expect("ok"), vec!["a", "b", "c"]);
        assert_eq!(split_list("[a, b]").expect("ok"), vec!["a", "b"]);
        assert_eq!(split_list("'a;b';c").expect("ok"), vec!["a;b", "c"]);
        assert!(split_list("'a;b").is_err());
        assert_eq!(split_map("k1:v1,k2:v2").expect("ok").len(), 2);
        assert_eq!(split_map("{k1: v1, k2: v2}").expect("ok").len(), 2);
        assert!(split_map("k1").is_err());
        let li = OptionType::List { element: Box::new(OptionType::Integer) };
        assert!(check(&li, "1;2", true).is_ok());
        assert!(check(&li, "1;x", true).is_err());
    }
}
