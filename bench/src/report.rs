//! The benchmark's table: one row per workload with the four variants, their ratios, and the
//! Markdown page `docs/bench/tuning.md`.

use serde::Serialize;

use crate::{Config, Measured, RunResult};

#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub flink_version: String,
    pub quick: bool,
    pub warmup_s: u64,
    pub measure_s: u64,
    pub elapsed_s: u64,
    pub cores: usize,
    pub command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub throughput: f64,
    pub cpu_cores: Option<f64>,
    pub checkpoint_ms: Option<f64>,
    pub error: Option<String>,
}

impl From<&Measured> for Cell {
    fn from(m: &Measured) -> Cell {
        Cell { throughput: m.throughput, cpu_cores: m.cpu_cores, checkpoint_ms: m.checkpoint_ms, error: m.error.clone() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub workload: String,
    pub defaults: Option<Cell>,
    pub seed: Option<Cell>,
    pub tuned: Option<Cell>,
    pub grid: Option<Cell>,
    /// The grid's best configuration (keys changed from the defaults).
    pub grid_config: Config,
    pub grid_runs: usize,
    /// Runs behind the defaults', the tuned and the grid column (their median).
    pub runs_defaults: usize,
    pub runs_tuned: usize,
    pub runs_grid: usize,
    pub tuned_vs_defaults: Option<f64>,
    pub tuned_vs_grid: Option<f64>,
    pub tuned_vs_seed: Option<f64>,
}

fn ratio(a: &Option<Cell>, b: &Option<Cell>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if a.error.is_none() && b.error.is_none() && b.throughput > 0.0 => Some(a.throughput / b.throughput),
        _ => None,
    }
}

/// The median of the runs of one variant (each field its own median): repeated runs of a
/// variant on a shared machine differ by more than most knobs do.
fn median_cell(runs: &[&RunResult]) -> Option<Cell> {
    let ok: Vec<&&RunResult> = runs.iter().filter(|r| r.measured.error.is_none()).collect();
    if ok.is_empty() {
        return runs.first().map(|r| Cell::from(&r.measured));
    }
    let med = |xs: Vec<f64>| crate::median(xs);
    Some(Cell {
        throughput: med(ok.iter().map(|r| r.measured.throughput).collect()).unwrap_or(0.0),
        cpu_cores: med(ok.iter().filter_map(|r| r.measured.cpu_cores).collect()),
        checkpoint_ms: med(ok.iter().filter_map(|r| r.measured.checkpoint_ms).collect()),
        error: None,
    })
}

pub fn rows(names: &[String], runs: &[RunResult]) -> Vec<Row> {
    names
        .iter()
        .map(|w| {
            let of_variant = |variant: &str| -> Vec<&RunResult> { runs.iter().filter(|r| &r.workload == w && r.variant == variant).collect() };
            let of = |variant: &str| median_cell(&of_variant(variant));
            // a run of the search: the defaults, a grid step, or the winner run again
            let searched = |r: &&RunResult| &r.workload == w && (r.variant == "defaults" || r.variant.starts_with("grid"));
            // the search's candidates: the defaults and every grid step, each its median
            let mut candidates: Vec<String> = Vec::new();
            for r in runs.iter().filter(searched) {
                if !candidates.contains(&r.variant) {
                    candidates.push(r.variant.clone());
                }
            }
            let best = candidates
                .iter()
                .filter_map(|v| median_cell(&of_variant(v)).filter(|c| c.error.is_none()).map(|c| (v, c)))
                .max_by(|a, b| a.1.throughput.total_cmp(&b.1.throughput));
            let grid_runs = runs.iter().filter(searched).count();
            let (defaults, seed, tuned) = (of("defaults"), of("seed"), of("tuned"));
            let (grid_config, grid, runs_grid) = match of_variant(crate::GRID_BEST).first() {
                // The search's winner ran again: its column is the median of every run of that
                // configuration (the one that won, the re-runs, and the defaults' runs when no
                // knob beat them), not the lucky run that picked it.
                Some(again) => {
                    let same: Vec<&RunResult> = runs.iter().filter(searched).filter(|r| r.config == again.config).collect();
                    (again.config.clone(), median_cell(&same), same.len())
                }
                None => {
                    let config = best.as_ref().and_then(|(v, _)| of_variant(v).first().map(|r| r.config.clone())).unwrap_or_default();
                    let n = best.as_ref().map(|(v, _)| of_variant(v).len()).unwrap_or(0);
                    (config, best.map(|(_, c)| c), n)
                }
            };
            Row {
                workload: w.clone(),
                tuned_vs_defaults: ratio(&tuned, &defaults),
                tuned_vs_grid: ratio(&tuned, &grid),
                tuned_vs_seed: ratio(&tuned, &seed),
                runs_defaults: of_variant("defaults").len(),
                runs_tuned: of_variant("tuned").len(),
                runs_grid,
                grid_config,
                grid_runs,
                defaults,
                seed,
                tuned,
                grid,
            }
        })
        .collect()
}

fn m(c: &Option<Cell>) -> String {
    match c {
        Some(c) if c.error.is_some() => "failed".into(),
        Some(c) => format!("{:.3}", c.throughput / 1e6),
        None => "-".into(),
    }
}

fn x(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}×")).unwrap_or_else(|| "-".into())
}

fn ck(c: &Option<Cell>) -> String {
    c.as_ref().and_then(|c| c.checkpoint_ms).map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into())
}

fn cpu(c: &Option<Cell>) -> String {
    c.as_ref().and_then(|c| c.cpu_cores).map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into())
}

fn knobs(c: &Config) -> String {
    if c.is_empty() {
        return "defaults".into();
    }
    c.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "table.exec.mini-batch.allow-latency" | "table.exec.mini-batch.size"))
        .map(|(k, v)| match k.as_str() {
            "table.exec.mini-batch.enabled" => "mini-batch".to_string(),
            "pipeline.object-reuse" => "object reuse".to_string(),
            "parallelism.default" => format!("p={v}"),
            "state.backend.type" => v.clone(),
            "execution.buffer-timeout.enabled" => "no buffer timeout".to_string(),
            "taskmanager.memory.managed.fraction" => format!("managed {v}"),
            "env.java.opts.taskmanager" if v == flinkops_tune::recommend::PARALLEL_GC => "parallel GC".to_string(),
            _ => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plain-text table the command prints.
pub fn table(rows: &[Row]) -> String {
    let mut s = format!("{:<10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}\n", "workload", "defaults", "seed", "tuned", "grid", "t/def", "t/grid", "t/seed");
    for r in rows {
        s.push_str(&format!(
            "{:<10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}\n",
            r.workload,
            m(&r.defaults),
            m(&r.seed),
            m(&r.tuned),
            m(&r.grid),
            x(r.tuned_vs_defaults),
            x(r.tuned_vs_grid),
            x(r.tuned_vs_seed)
        ));
    }
    s.push_str("(M records/s emitted by the sources; median of 5 s spans)\n");
    s
}

pub fn markdown(meta: &Meta, rows: &[Row], runs: &[RunResult]) -> String {
    let mut s = String::new();
    s.push_str("# Tuning benchmark\n\n");
    s.push_str(&format!(
        "Flink {} on this machine ({} cores, shared), one TaskManager of 4 GB with 2 slots, datagen sources far above capacity. \
         Throughput is the records per second the **source operators** emit (`Source__<table>[n].numRecordsOut`, summed over sources and subtasks), \
         in millions, the median of 5 s spans after a {} s warm-up over a {} s window. Written by `{}` ({}).\n\n",
        meta.flink_version,
        meta.cores,
        meta.warmup_s,
        meta.measure_s,
        meta.command,
        match (meta.quick, meta.elapsed_s) {
            (true, e) => format!("quick mode; {e} s in all"),
            // a report written again from runs (--report-from): their time is in their log
            (false, 0) => "full suite".to_string(),
            (false, e) => format!("full suite; {e} s in all"),
        }
    ));
    s.push_str("![throughput per workload and configuration](tuning.png)\n\n");
    s.push_str("| workload | defaults | seed preset | flinkops tune | grid best | tuned / defaults | tuned / grid | tuned / seed | grid best is |\n");
    s.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({} of {} runs) |\n",
            r.workload,
            m(&r.defaults),
            m(&r.seed),
            m(&r.tuned),
            m(&r.grid),
            x(r.tuned_vs_defaults),
            x(r.tuned_vs_grid),
            x(r.tuned_vs_seed),
            knobs(&r.grid_config),
            r.runs_grid,
            r.grid_runs
        ));
    }
    s.push_str("\nCheckpoint duration (median end-to-end ms of the checkpoints completed in the window; `-`: none completed, e.g. the seed's 60 s minimum pause) and CPU (cores the TaskManager process used, from `/proc/<pid>/stat`; 2 cores in all):\n\n");
    s.push_str("| workload | ckpt defaults | ckpt seed | ckpt tuned | ckpt grid | CPU defaults | CPU seed | CPU tuned | CPU grid |\n");
    s.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.workload,
            ck(&r.defaults),
            ck(&r.seed),
            ck(&r.tuned),
            ck(&r.grid),
            cpu(&r.defaults),
            cpu(&r.seed),
            cpu(&r.tuned),
            cpu(&r.grid)
        ));
    }
    let loads: Vec<f64> = runs.iter().filter_map(|r| r.measured.load_avg).collect();
    if !loads.is_empty() {
        let mean = loads.iter().sum::<f64>() / loads.len() as f64;
        let max = loads.iter().copied().fold(0.0, f64::max);
        s.push_str(&format!(
            "\nNoise: the 1-minute load average at the start of the runs was {mean:.2} on average and {max:.2} at most on {} cores (the benchmark itself keeps about 2 busy). \
             The defaults, the tuned and the grid column are the median of {} runs, {} runs and {} runs of one configuration made at different times (the first row's counts; each workload's are in `tuning.json`, `rows[].runs_defaults`/`runs_tuned`/`runs_grid`, and in the last column: runs of the grid's best of all the search's runs), \
             every other number one run; the grid's best configuration is the fastest single run of the search, {}; the spread of each run's 5 s spans is in `tuning.json` (`runs[].measured.spans`). \
             The first job on a newly started cluster often ran slower (cold JVM) and only some variants start one: that job is run once before the measured one and listed below as `cold: …`, outside every ratio.\n",
            meta.cores,
            rows.first().map(|r| r.runs_defaults).unwrap_or(0),
            rows.first().map(|r| r.runs_tuned).unwrap_or(0),
            rows.first().map(|r| r.runs_grid).unwrap_or(0),
            if runs.iter().any(|r| r.variant == crate::GRID_BEST) {
                "which then ran again with the repeats (`grid best` below): its column is the median of all its runs, not the lucky run that picked it"
            } else {
                "and its column is that run (the best of several single runs leans high)"
            }
        ));
    }
    s.push_str("\n## All runs\n\n| workload | variant | M rec/s | CPU | ckpt ms | configuration (besides the workload's requirements) |\n| --- | --- | ---: | ---: | ---: | --- |\n");
    for r in runs {
        let c = Cell::from(&r.measured);
        let conf = if r.config.is_empty() { "Flink defaults".to_string() } else { r.config.iter().map(|(k, v)| format!("`{k}: {v}`")).collect::<Vec<_>>().join(" ") };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {}{} |\n",
            r.workload,
            r.variant,
            m(&Some(c.clone())),
            cpu(&Some(c.clone())),
            ck(&Some(c.clone())),
            conf,
            r.measured.error.as_deref().map(|e| format!(" — error: {}", e.replace('|', "/").lines().next().unwrap_or_default())).unwrap_or_default()
        ));
    }
    s
}

/// `docs/bench/ablation.md` (and `ab.md`): one table per workload, the runs in the order they ran.
pub fn ablation_markdown(command: &str, version: &str, args: &crate::Args, elapsed: u64, runs: &[RunResult]) -> String {
    let mut s = String::from("# Tuning ablation\n\n");
    s.push_str(&format!(
        "Flink {version}, one TaskManager of 4 GB with 2 slots. Runs of `flinkops tune`'s overlay, of Flink's defaults and of variants between them \
         (the workload's checkpoint interval and mode in every run), in the order they ran. Throughput as in \
         `tuning.md` (M records/s from the source operators, median of 5 s spans, {} s warm-up, {} s window); restarts is the job's `numRestarts` at the end; \
         exceptions from `/jobs/:id/exceptions`; load the 1-minute load average at the start of the run (2 cores, shared). Written by `{command}` in {elapsed} s.\n",
        args.warmup.as_secs(),
        args.measure.as_secs()
    ));
    let mut names: Vec<&str> = Vec::new();
    for r in runs {
        if !names.contains(&r.workload.as_str()) {
            names.push(&r.workload);
        }
    }
    for w in names {
        s.push_str(&format!("\n## {w}\n\n| variant | M rec/s | CPU | ckpt ms | restarts | load | exceptions / error | keys |\n| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |\n"));
        for r in runs.iter().filter(|r| r.workload == w) {
            let c = Cell::from(&r.measured);
            let keys = if r.config.is_empty() { "Flink defaults".to_string() } else { r.config.iter().map(|(k, v)| format!("`{k}: {v}`")).collect::<Vec<_>>().join(" ") };
            let mut trouble: Vec<String> = r.measured.exceptions.iter().map(|e| e.replace('|', "/")).collect();
            if let Some(e) = &r.measured.error {
                trouble.insert(0, format!("error: {}", e.replace('|', "/").lines().next().unwrap_or_default()));
            }
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.variant,
                m(&Some(c.clone())),
                cpu(&Some(c.clone())),
                ck(&Some(c)),
                r.measured.restarts.map(|x| format!("{x:.0}")).unwrap_or_else(|| "-".into()),
                r.measured.load_avg.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into()),
                if trouble.is_empty() { "-".into() } else { trouble.join("<br>") },
                keys
            ));
        }
        s.push_str(&profile_markdown(runs.iter().filter(|r| r.workload == w)));
    }
    s
}

/// The JFR profiles of a workload's runs (`--jfr`), added up per variant (cold runs apart):
/// the share of the TaskManager's execution samples per thread and per method. Methods: the
/// 18 with the largest share in some variant and the 15 whose share differs most between the
/// variants (by ≥ 1 point), without those on ≥ 45 % of the samples in every variant (the task
/// threads' common frames).
fn profile_markdown<'a>(runs: impl Iterator<Item = &'a RunResult>) -> String {
    let mut variants: Vec<(String, crate::jfr::Profile)> = Vec::new();
    for r in runs.filter(|r| !r.variant.starts_with("cold: ")) {
        let Some(p) = &r.measured.profile else { continue };
        match variants.iter_mut().find(|(v, _)| *v == r.variant) {
            Some((_, sum)) => sum.add(p),
            None => variants.push((r.variant.clone(), p.clone())),
        }
    }
    if variants.is_empty() {
        return String::new();
    }
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    let mut s = String::from(
        "\nWhere the TaskManager's time went (JFR execution samples over the measurement windows, the runs of a variant together; a method's share counts the samples whose stack contains it; native code such as RocksDB's is not sampled):\n\n",
    );
    s.push_str(&format!("| | {} |\n|{}\n", variants.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>().join(" | "), " --- |".repeat(variants.len() + 1)));
    s.push_str(&format!("| samples | {} |\n", variants.iter().map(|(_, p)| p.samples.to_string()).collect::<Vec<_>>().join(" | ")));
    let mut threads: Vec<&String> = variants.iter().flat_map(|(_, p)| p.threads.keys()).collect();
    threads.sort();
    threads.dedup();
    threads.retain(|t| variants.iter().any(|(_, p)| p.thread_share(t) >= 0.01));
    threads.sort_by(|a, b| variants[0].1.thread_share(b).total_cmp(&variants[0].1.thread_share(a)));
    for t in threads {
        s.push_str(&format!("| thread `{}` | {} |\n", t.replace('|', "/"), variants.iter().map(|(_, p)| pct(p.thread_share(t))).collect::<Vec<_>>().join(" | ")));
    }
    let mut methods: Vec<&String> = variants.iter().flat_map(|(_, p)| p.methods.keys()).collect();
    methods.sort();
    methods.dedup();
    methods.retain(|m| !variants.iter().all(|(_, p)| p.share(m) >= 0.45));
    let most = |m: &str| variants.iter().map(|(_, p)| p.share(m)).fold(0.0, f64::max);
    let spread = |m: &str| most(m) - variants.iter().map(|(_, p)| p.share(m)).fold(1.0, f64::min);
    let mut by_share = methods.clone();
    by_share.sort_by(|a, b| most(b).total_cmp(&most(a)).then_with(|| a.cmp(b)));
    by_share.truncate(18);
    // and the methods whose share differs most between the variants (what a knob changed)
    let mut by_spread = methods.clone();
    by_spread.retain(|m| spread(m) >= 0.01);
    by_spread.sort_by(|a, b| spread(b).total_cmp(&spread(a)).then_with(|| a.cmp(b)));
    by_spread.truncate(15);
    methods = by_share;
    for m in by_spread {
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    methods.sort_by(|a, b| variants[0].1.share(b).total_cmp(&variants[0].1.share(a)).then_with(|| a.cmp(b)));
    for m in methods {
        s.push_str(&format!("| `{m}` | {} |\n", variants.iter().map(|(_, p)| pct(p.share(m))).collect::<Vec<_>>().join(" | ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Measured, RunResult};

    fn run(variant: &str, config: &[(&str, &str)], throughput: f64) -> RunResult {
        RunResult {
            workload: "w".into(),
            variant: variant.into(),
            config: config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            measured: Measured { throughput, ..Measured::default() },
        }
    }

    #[test]
    fn profiles_add_up_per_variant_and_leave_the_common_frames_out() {
        let profile = |samples: u64, methods: &[(&str, u64)]| crate::jfr::Profile {
            samples,
            threads: [("Op (N/N)#N".to_string(), samples)].into(),
            methods: methods.iter().map(|(m, n)| (m.to_string(), *n)).collect(),
        };
        let with = |variant: &str, p: crate::jfr::Profile| {
            let mut r = run(variant, &[], 1.0);
            r.measured.profile = Some(p);
            r
        };
        let runs = vec![
            with("cold: a", profile(1000, &[("Task.run", 1000), ("Zone.convert", 1000)])),
            with("a", profile(100, &[("Task.run", 100), ("Zone.convert", 10), ("Timer.add", 20)])),
            with("b", profile(100, &[("Task.run", 99), ("Timer.add", 30)])),
            with("a", profile(100, &[("Task.run", 100), ("Zone.convert", 12), ("Timer.add", 20)])),
        ];
        let md = profile_markdown(runs.iter());
        assert!(md.contains("| samples | 200 | 100 |"), "{md}");
        assert!(md.contains("| `Zone.convert` | 11.0 % | 0.0 % |"), "the cold run stays out: {md}");
        assert!(md.contains("| `Timer.add` | 20.0 % | 30.0 % |"), "{md}");
        assert!(!md.contains("Task.run"), "{md}");
        assert!(md.find("Timer.add") < md.find("Zone.convert"), "ordered by the first variant's share: {md}");
        assert_eq!(profile_markdown(runs[..0].iter()), "");
    }

    #[test]
    fn a_method_a_knob_changes_is_listed_however_small() {
        let mut a = crate::jfr::Profile { samples: 1000, ..Default::default() };
        let mut b = a.clone();
        for i in 0..30 {
            a.methods.insert(format!("Big.m{i:02}"), 400 - i);
            b.methods.insert(format!("Big.m{i:02}"), 400 - i);
        }
        b.methods.insert("Zone.convert".into(), 50);
        let mut ra = run("a", &[], 1.0);
        ra.measured.profile = Some(a);
        let mut rb = run("b", &[], 1.0);
        rb.measured.profile = Some(b);
        let md = profile_markdown([ra, rb].iter());
        assert!(md.contains("| `Zone.convert` | 0.0 % | 5.0 % |"), "{md}");
        assert!(md.contains("`Big.m17`") && !md.contains("`Big.m18`"), "the 18 largest: {md}");
    }

    #[test]
    fn grid_best_is_the_median_of_the_winner_runs_not_its_lucky_run() {
        let p2 = [("parallelism.default", "2")];
        let runs = vec![
            run("defaults", &[], 3.0),
            run("grid +parallelism-2", &p2, 5.0),
            run("grid +object-reuse", &[("pipeline.object-reuse", "true")], 3.5),
            run("tuned", &p2, 4.0),
            run("cold: grid best", &p2, 1.0),
            run(crate::GRID_BEST, &p2, 4.0),
            run(crate::GRID_BEST, &p2, 3.8),
        ];
        let r = &rows(&["w".into()], &runs)[0];
        assert_eq!(r.grid_config, p2.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Config>());
        // 5.0, 4.0 and 3.8: the cold run is not one of them
        assert_eq!(r.runs_grid, 3);
        assert_eq!(r.grid.as_ref().map(|c| c.throughput), Some(4.0));
        assert_eq!(r.tuned_vs_grid, Some(1.0));
    }

    #[test]
    fn without_reruns_the_grid_best_is_the_fastest_single_run() {
        let runs = vec![run("defaults", &[], 3.0), run("grid +parallelism-2", &[("parallelism.default", "2")], 5.0), run("tuned", &[], 4.0)];
        let r = &rows(&["w".into()], &runs)[0];
        assert_eq!(r.grid.as_ref().map(|c| c.throughput), Some(5.0));
        assert_eq!(r.runs_grid, 1);
    }

    #[test]
    fn when_the_defaults_win_their_runs_count_for_the_grid() {
        let runs = vec![
            run("defaults", &[], 3.0),
            run("grid +object-reuse", &[("pipeline.object-reuse", "true")], 2.0),
            run("defaults", &[], 2.6),
            run(crate::GRID_BEST, &[], 2.8),
        ];
        let r = &rows(&["w".into()], &runs)[0];
        assert_eq!(r.runs_grid, 3);
        assert_eq!(r.grid.as_ref().map(|c| c.throughput), Some(2.8));
    }
}
