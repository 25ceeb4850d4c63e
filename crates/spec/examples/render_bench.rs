//! Render time for a platform of 3 Kubernetes environments × 50 jobs: parse + validate + lint
//! + render every environment, repeated; prints the median and the spread (no assertions: this
//! machine is shared and noisy). Run: `cargo run --release -p flinkops-spec --example render_bench`.

include!("common/synthetic.rs");

use std::time::Instant;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let (envs, jobs, runs) = (3, 50, 15);
    let text = synthetic_spec(envs, jobs);
    let sql = flinkops_spec::plan::SqlScripts::new();
    let mut parse_ms = Vec::new();
    let mut render_ms = Vec::new();
    let mut files = 0;
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let parsed = match flinkops_spec::parse("bench.yaml", &text) {
            Ok(p) => p,
            Err(d) => {
                eprintln!("{d:?}");
                std::process::exit(2);
            }
        };
        parse_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        files = 0;
        bytes = 0;
        for e in 0..envs {
            match flinkops_spec::render::render(&parsed, &format!("env{e}"), &sql) {
                Ok(r) => {
                    files += r.bundle.files.len();
                    bytes += r.bundle.files.values().map(String::len).sum::<usize>();
                }
                Err(d) => {
                    eprintln!("{}", d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
                    std::process::exit(2);
                }
            }
        }
        render_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (pmin, pmax) = (parse_ms.iter().cloned().fold(f64::MAX, f64::min), parse_ms.iter().cloned().fold(0.0, f64::max));
    let (rmin, rmax) = (render_ms.iter().cloned().fold(f64::MAX, f64::min), render_ms.iter().cloned().fold(0.0, f64::max));
    println!("spec: {envs} environments x {jobs} jobs ({} bytes of YAML), {runs} runs", text.len());
    println!("parse (strict, positioned):          median {:.1} ms (min {pmin:.1}, max {pmax:.1})", median(&mut parse_ms));
    println!("plan+lint+render, all environments:  median {:.1} ms (min {rmin:.1}, max {rmax:.1})", median(&mut render_ms));
    println!("output: {files} files, {bytes} bytes");
}
