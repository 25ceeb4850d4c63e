//! The JSON Schema of the spec, generated from the types' doc comments (schemars). Editors
//! validate `flinkops.yaml` with it; the strict reader ([`crate::read`]) walks it.

use std::sync::OnceLock;

use serde_json::Value;

/// The schema as JSON (generated once).
pub fn schema_value() -> Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            
            serde_json::to_value(schemars::schema_for!(crate::types::Spec)).unwrap_or(Value::Null)
        })
        .clone()
}

/// The schema, pretty-printed with sorted keys (what `flinkops spec schema` prints).
pub fn schema_json() -> String {
    crate::render::emit::json(&schema_value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_strict_and_documented() {
        let s = schema_value();
        let env = &s["$defs"]["Environment"];
        assert_eq!(env["additionalProperties"], Value::Bool(false));
        assert!(env["properties"]["flinkVersion"]["description"].as_str().unwrap_or("").contains("Flink version"));
        assert!(s["$defs"]["SecretRef"].is_object());
    }
}
