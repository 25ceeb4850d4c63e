//! Renders findings: compiler-style text, JSON (the findings array) and SARIF 2.1.0 for
//! code-scanning tools.

use serde_json::{Value, json};

use super::{Finding, Severity};

/// `file:line:col: severity[code]: message` and `  = help: suggestion`, then a summary line.
pub fn text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let loc = if f.line == 0 { f.file.clone() } else { format!("{}:{}:{}", f.file, f.line, f.column) };
        out.push_str(&format!("{loc}: {}[{}]: {}\n", f.severity, f.code, f.message));
        if let Some(r) = &f.resource {
            out.push_str(&format!("  = in: {r}\n"));
        }
        if let Some(s) = &f.suggestion {
            out.push_str(&format!("  = help: {s}\n"));
        }
    }
    out.push_str(&summary(findings));
    out.push('\n');
    out
}

/// `2 errors, 1 warning, 0 infos`.
pub fn summary(findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    format!(
        "{}, {}, {}",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Info), "info")
    )
}

/// The findings as a JSON array.
pub fn json(findings: &[Finding]) -> Value {
    serde_json::to_value(findings).unwrap_or(Value::Array(Vec::new()))
}

/// SARIF 2.1.0 log.
pub fn sarif(findings: &[Finding], tool_version: &str) -> Value {
    let mut rules: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    let rule_index = |code: &str| rules.iter().position(|r| *r == code).unwrap_or(0);
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            let text = match &f.suggestion {
                Some(s) => format!("{} (help: {s})", f.message),
                None => f.message.clone(),
            };
            let mut physical = json!({ "artifactLocation": { "uri": uri(&f.file) } });
            if f.line > 0 {
                physical["region"] = json!({ "startLine": f.line, "startColumn": f.column.max(1) });
            }
            let mut r = json!({
                "ruleId": f.code,
                "ruleIndex": rule_index(&f.code),
                "level": level,
                "message": { "text": text },
                "locations": [ { "physicalLocation": physical } ],
            });
            if let Some(k) = &f.key {
                r["properties"] = json!({ "key": k });
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "flinkops",
                "version": tool_version,
                "informationUri": "https://example.invalid/flinkops",
                "rules": rules.iter().map(|r| json!({ "id": r, "shortDescription": { "text": r.replace('-', " ") } })).collect::<Vec<_>>(),
            }},
            "results": results,
        }]
    })
}

fn uri(file: &str) -> String {
    file.replace('\\', "/").replace(' ', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(sev: Severity) -> Finding {
        Finding {
            file: "c.yaml".into(),
            line: 3,
            column: 1,
            severity: sev,
            code: "unknown-key".into(),
            key: Some("a".into()),
            message: "m".into(),
            suggestion: Some("s".into()),
            resource: None,
        }
    }

    #[test]
    fn text_and_sarif() {
        let v = vec![f(Severity::Error), f(Severity::Warning)];
        let t = text(&v);
        assert!(t.starts_with("c.yaml:3:1: error[unknown-key]: m\n  = help: s\n"), "{t}");
        assert!(t.ends_with("1 error, 1 warning, 0 infos\n"), "{t}");
        let s = sarif(&v, "0.1.0");
        assert_eq!(s["version"], "2.1.0");
        assert_eq!(s["runs"][0]["results"][0]["level"], "error");
        assert_eq!(s["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
        let j = json(&v);
        assert_eq!(j[0]["suggestion"], "s");
        assert_eq!(j[0]["line"], 3);
    }
}
