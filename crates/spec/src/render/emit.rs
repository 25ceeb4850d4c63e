//! Deterministic text output: YAML and JSON with mapping keys sorted, whatever serde_json's
//! map ordering feature is, so rendered files only change when their content does.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// A JSON value serialized with sorted mapping keys.
pub struct Sorted<'a>(pub &'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut map = s.serialize_map(Some(keys.len()))?;
                for k in keys {
                    map.serialize_entry(k, &Sorted(&m[k]))?;
                }
                map.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(&Sorted(i))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// One YAML document.
pub fn yaml(v: &Value) -> String {
    serde_saphyr::to_string(&Sorted(v)).unwrap_or_else(|e| format!("# flinkops: cannot serialize: {e}\n"))
}

/// Several YAML documents separated by `---`.
pub fn yaml_docs(vs: &[Value]) -> String {
    let docs: Vec<Sorted<'_>> = vs.iter().map(Sorted).collect();
    serde_saphyr::to_string_multiple(&docs).unwrap_or_else(|e| format!("# flinkops: cannot serialize: {e}\n"))
}

/// Pretty JSON with a trailing newline.
pub fn json(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(&Sorted(v)).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_that_look_like_other_types_are_quoted() {
        let v = json!({"b": {"x": "true", "y": "1.20", "z": "yes", "w": "010", "n": 3}, "a": "line1\nline2\n"});
        let out = yaml(&v);
        assert!(out.starts_with("a:"), "{out}");
        let back: serde_json::Value = serde_saphyr::from_str(&out).expect("round trip");
        assert_eq!(back, v, "{out}");
    }
}
