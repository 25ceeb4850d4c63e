//! Fuzz target: `config lint` of arbitrary bytes, read as `config.yaml`, `flink-conf.yaml` or a
//! manifest (by the first byte) and linted against Flink 2.3 or 1.18 with the operator catalog,
//! then rendered as text, JSON and SARIF. Never panics.
#![no_main]

use flinkops_config::catalog::Catalog;
use flinkops_config::lint::{FlinkVersion, LintContext, lint, report};
use flinkops_config::model::{Hint, load_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let name = ["config.yaml", "flink-conf.yaml", "deploy.yaml", "operator.yaml"][usize::from(sel & 3)];
    let Ok(docs) = load_bytes(name, rest, Hint::Auto) else { return };
    let (version, previous) = if sel & 4 == 0 {
        (FlinkVersion { major: 2, minor: 3 }, Catalog::for_version("1.20").ok())
    } else {
        (FlinkVersion { major: 1, minor: 18 }, None)
    };
    let Ok(flink) = Catalog::for_version(&version.to_string()) else { return };
    let ctx = LintContext { version, flink, previous, operator: Catalog::try_operator().ok() };
    let findings = lint(&docs, &ctx);
    let _ = report::text(&findings);
    let _ = report::json(&findings);
    let _ = report::sarif(&findings, "fuzz");
});
