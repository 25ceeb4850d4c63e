//! Pure rendering of one environment into a [`Bundle`] of files (relative path → text). The
//! plan ([`crate::plan`]) must be free of errors first: nothing is rendered from a spec that
//! has any. Output is deterministic (sorted keys, sorted files).

pub mod emit;
pub mod kube;
pub mod monitoring;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Diagnostic;
use crate::plan::{self, EnvPlan, SqlScripts};
use crate::read::Parsed;
use crate::types::Target;

/// Rendered files of one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bundle {
    pub files: BTreeMap<String, String>,
}

/// A rendered environment and the warnings its spec produced.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bundle: Bundle,
    pub warnings: Vec<Diagnostic>,
}

/// Renders environment `env`. Any error in the spec (anywhere, or in this environment's
/// Flink configuration as linted for its version) returns every diagnostic instead.
pub fn render(parsed: &Parsed, env: &str, sql: &SqlScripts) -> Result<Rendered, Vec<Diagnostic>> {
    let (p, warnings) = plan::plan(parsed, env, sql)?;
    Ok(Rendered { bundle: render_plan(&p), warnings })
}

/// Renders a checked plan.
pub fn render_plan(p: &EnvPlan<'_>) -> Bundle {
    let mut files = BTreeMap::new();
    if p.env.target == Target::Kubernetes {
        files.extend(kube::files(p));
    } else {
        files.insert("flink/config.yaml".to_string(), emit::yaml(&flat_conf(p)));
    }
    files.extend(monitoring::files(p));
    Bundle { files }
}

fn flat_conf(p: &EnvPlan<'_>) -> Value {
    Value::Object(p.conf.iter().map(|(k, s)| (k.clone(), Value::String(s.value.clone()))).collect())
}
