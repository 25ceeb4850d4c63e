//! Prints the simulator's scenario suite: the DS2 core beside the CPU-threshold policy, and DS2
//! when datagen-like sources do not declare their rate.
//!
//! `cargo run -p flinkops-autoscale --release --example scenarios -- [SCENARIOS] [SEED]`
//! (defaults: 200 scenarios, seed 1). `flinkops autoscaler simulate` prints the same table.

fn main() {
    let mut args = std::env::args().skip(1);
    let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let report = flinkops_autoscale::sim::suite::run_suite(n, seed);
    print!("{}", report.table());
}
