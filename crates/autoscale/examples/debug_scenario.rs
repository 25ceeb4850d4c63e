//! Prints one scenario's rescales under DS2 (debugging aid), as the suite's `ds2` column runs it
//! (datagen-like sources declare their rate); a third argument `unseen` runs it without.
//! `cargo run -p flinkops-autoscale --example debug_scenario -- SEED INDEX [unseen]`
use flinkops_autoscale::sim::policy::Ds2;
use flinkops_autoscale::sim::suite::{ds2_settings, outcome, scenario};

fn main() {
    let mut a = std::env::args().skip(1);
    let seed = a.next().and_then(|x| x.parse().ok()).unwrap_or(1);
    let index = a.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    let unseen = a.next().is_some_and(|x| x == "unseen");
    let s = scenario(seed, index);
    let sim = flinkops_autoscale::sim::SimSettings { declared_rates: !unseen, ..s.sim.clone() };
    println!("{} vertices, {:?}, edges {:?}", s.job.vertices.len(), s.shape, s.job.edges);
    for v in &s.job.vertices {
        println!("  {} cost {:.4} sel {:.2} skew {:.2} maxp {} {:?}", v.id, v.cost_ms, v.selectivity, v.skew, v.max_parallelism, v.source);
    }
    let t = s.job.run(&mut Ds2::new(ds2_settings()), &vec![1; s.job.vertices.len()], &sim);
    for r in &t.rescales {
        println!("t={} {:?}", r.at_s, r.changes);
    }
    println!("final {:?}\nneeded {:?}", t.final_parallelism, t.final_needed);
    println!("{:?}", outcome(&s, &t));
}
