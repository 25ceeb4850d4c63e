//! Prints one scenario's rescales under DS2 (debugging aid).
//! `cargo run -p flinkops-autoscale --example debug_scenario -- SEED INDEX`
use flinkops_autoscale::sim::policy::Ds2;
use flinkops_autoscale::sim::suite::{ds2_settings, outcome, scenario};

fn main() {
    let mut a = std::env::args().skip(1);
    let seed = a.next().and_then(|x| x.parse().ok()).unwrap_or(1);
    let index = a.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    let s = scenario(seed, index);
    println!("{} vertices, {:?}, edges {:?}", s.job.vertices.len(), s.shape, s.job.edges);
    for v in &s.job.vertices {
        println!("  {} cost {:.4} sel {:.2} skew {:.2} maxp {} {:?}", v.id, v.cost_ms, v.selectivity, v.skew, v.max_parallelism, v.source);
    }
    let t = s.job.run(&mut Ds2::new(ds2_settings()), &vec![1; s.job.vertices.len()], &s.sim);
    for r in &t.rescales {
        println!("t={} {:?}", r.at_s, r.changes);
    }
    println!("final {:?}\nneeded {:?}", t.final_parallelism, t.final_needed);
    println!("{:?}", outcome(&s, &t));
}
