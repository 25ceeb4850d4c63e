//! `flinkops memory tm|jm`: Flink's exact memory model. Reads a Flink config file (config.yaml,
//! flink-conf.yaml or a conf dir, through the config model) and `-D key=value` overrides, asks
//! `flinkops_config::memory` for the sizes and prints them as a table with proportional bars, as
//! JSON, or as the exact two lines Flink's `BashJavaUtils` prints.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::anyhow;
use flinkops_config::memory::{self, Derivation, JobManagerMemory, TaskManagerMemory};
use flinkops_config::model::{self, Hint};
use flinkops_config::units::{format_memory_size, human_memory_size};

use crate::output::{Exit, GlobalArgs, OutputFormat, input, print_json, table};

/// Which Flink process to size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Process {
    /// The TaskManager (`GET_TM_RESOURCE_PARAMS`).
    Tm,
    /// The JobManager (`GET_JM_RESOURCE_PARAMS`).
    Jm,
}

/// How to print the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MemoryFormat {
    /// Every component in bytes and human units, with a proportional bar.
    Table,
    /// One JSON document.
    Json,
    /// Exactly the two `BASH_JAVA_UTILS_EXEC_RESULT:` lines Flink's BashJavaUtils prints.
    BashJavaUtils,
}

/// Compute a TaskManager's or JobManager's memory exactly as Flink does.
///
/// Exit 0 with the sizes; exit 2 when Flink would refuse the configuration (with Flink's
/// reason) or the config file cannot be read.
#[derive(Debug, clap::Args)]
pub struct MemoryArgs {
    /// `tm` (TaskManager) or `jm` (JobManager).
    #[arg(value_enum)]
    pub process: Process,
    /// Flink version whose rules to apply (`2.3`, `2.3.0`, `1.20`, …).
    #[arg(long, default_value = "2.3", value_name = "V")]
    pub flink_version: String,
    /// A Flink config file (config.yaml, flink-conf.yaml) or conf dir.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A config override `key=value`, applied after the file (repeatable).
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    pub dynamic: Vec<String>,
    /// Output: table, json or bash-java-utils (default: table, or json with `-o json`).
    #[arg(long, value_enum)]
    pub format: Option<MemoryFormat>,
}

pub fn run(args: MemoryArgs, g: &GlobalArgs) -> anyhow::Result<Exit> {
    let cfg = read_config(&args)?;
    let format = args.format.unwrap_or(match g.output {
        OutputFormat::Json => MemoryFormat::Json,
        OutputFormat::Table => MemoryFormat::Table,
    });
    match args.process {
        Process::Tm => {
            let m = memory::taskmanager(&args.flink_version, &cfg).map_err(|e| input(anyhow!("TaskManager memory configuration failed: {e}")))?;
            match format {
                MemoryFormat::BashJavaUtils => print!("{}", m.bash_java_utils_output()),
                MemoryFormat::Json => print_json(&json(&m, m.jvm_args(), m.dynamic_configs()))?,
                MemoryFormat::Table => print_tm(&m),
            }
        }
        Process::Jm => {
            let m = memory::jobmanager(&args.flink_version, &cfg).map_err(|e| input(anyhow!("JobManager memory configuration failed: {e}")))?;
            match format {
                MemoryFormat::BashJavaUtils => print!("{}", m.bash_java_utils_output()),
                MemoryFormat::Json => print_json(&json(&m, m.jvm_args(), m.dynamic_configs()))?,
                MemoryFormat::Table => print_jm(&m),
            }
        }
    }
    Ok(Exit::Success)
}

/// The flat configuration: the file (if any), then the `-D` overrides.
fn read_config(args: &MemoryArgs) -> anyhow::Result<BTreeMap<String, String>> {
    let mut cfg = BTreeMap::new();
    if let Some(path) = &args.config {
        let docs = model::load_path(path, Hint::Auto).map_err(input)?;
        for doc in docs {
            cfg.extend(doc.to_map());
        }
    }
    for item in &args.dynamic {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| input(anyhow!("-D {item}: write -D key=value (e.g. -D taskmanager.memory.process.size=4g)")))?;
        if k.trim().is_empty() {
            return Err(input(anyhow!("-D {item}: the key is empty; write -D key=value")));
        }
        cfg.insert(k.to_string(), v.to_string());
    }
    Ok(cfg)
}

fn json<T: serde::Serialize>(m: &T, jvm_args: Vec<String>, dynamic: Vec<(String, String)>) -> serde_json::Value {
    serde_json::json!({
        "memory": m,
        "jvm_args": jvm_args,
        "dynamic_configs": dynamic.into_iter().map(|(k, v)| serde_json::json!({"key": k, "value": v})).collect::<Vec<_>>(),
    })
}

/// A bar of `width` cells proportional to `part / whole`.
fn bar(part: u64, whole: u64, width: usize) -> String {
    if whole == 0 {
        return String::new();
    }
    let eighths = ((part as f64 / whole as f64) * (width * 8) as f64).round() as usize;
    let full = eighths / 8;
    let rest = eighths % 8;
    let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][rest];
    let mut s = "█".repeat(full);
    s.push_str(partial);
    if s.is_empty() && part > 0 {
        s.push('▏');
    }
    s
}

/// `4.000gb` from Flink's `4.000gb (4294967296 bytes)`.
fn short_human(bytes: u64) -> String {
    let h = human_memory_size(bytes);
    h.split(" (").next().unwrap_or(&h).to_string()
}

fn rows_table(rows: &[(&str, u64, &str)], total: u64) -> comfy_table::Table {
    let mut t = table(&["Component", "Bytes", "Size", "Share of process", "Option"]);
    for (name, bytes, key) in rows {
        t.add_row(vec![
            name.to_string(),
            bytes.to_string(),
            short_human(*bytes),
            bar(*bytes, total, 30),
            key.to_string(),
        ]);
    }
    t
}

fn derived(d: Derivation) -> &'static str {
    match d {
        Derivation::FineGrained => "the explicit fine-grained sizes",
        Derivation::TotalFlink => "the total Flink memory size",
        Derivation::TotalProcess => "the total process memory size",
    }
}

fn print_tm(m: &TaskManagerMemory) {
    let rows = [
        ("Total Process Memory", m.total_process, "taskmanager.memory.process.size"),
        ("  Total Flink Memory", m.total_flink, "taskmanager.memory.flink.size"),
        ("    JVM Heap", m.jvm_heap, "-Xmx / -Xms"),
        ("      Framework Heap", m.framework_heap, "taskmanager.memory.framework.heap.size"),
        ("      Task Heap", m.task_heap, "taskmanager.memory.task.heap.size"),
        ("    Off-Heap", m.total_off_heap, ""),
        ("      Managed", m.managed, "taskmanager.memory.managed.size"),
        ("      JVM Direct", m.jvm_direct, "-XX:MaxDirectMemorySize"),
        ("        Framework Off-Heap", m.framework_off_heap, "taskmanager.memory.framework.off-heap.size"),
        ("        Task Off-Heap", m.task_off_heap, "taskmanager.memory.task.off-heap.size"),
        ("        Network", m.network, "taskmanager.memory.network.min/max"),
        ("  JVM Metaspace", m.jvm_metaspace, "taskmanager.memory.jvm-metaspace.size"),
        ("  JVM Overhead", m.jvm_overhead, "taskmanager.memory.jvm-overhead.min/max"),
    ];
    println!("TaskManager memory (Flink {}, derived from {}):", m.flink_version, derived(m.derived_from));
    println!("{}", rows_table(&rows, m.total_process));
    println!("CPU cores: {}   task slots: {}", m.cpu_cores, m.num_slots);
    for r in &m.external_resources {
        println!("external resource {}: {}", r.name, r.amount);
    }
    println!("JVM: {}", m.jvm_args().join(" "));
    println!("Total process memory as a Flink size: {}", format_memory_size(m.total_process));
}

fn print_jm(m: &JobManagerMemory) {
    let rows = [
        ("Total Process Memory", m.total_process, "jobmanager.memory.process.size"),
        ("  Total Flink Memory", m.total_flink, "jobmanager.memory.flink.size"),
        ("    JVM Heap", m.jvm_heap, "jobmanager.memory.heap.size"),
        ("    Off-Heap", m.off_heap, "jobmanager.memory.off-heap.size"),
        ("  JVM Metaspace", m.jvm_metaspace, "jobmanager.memory.jvm-metaspace.size"),
        ("  JVM Overhead", m.jvm_overhead, "jobmanager.memory.jvm-overhead.min/max"),
    ];
    println!("JobManager memory (Flink {}, derived from {}):", m.flink_version, derived(m.derived_from));
    println!("{}", rows_table(&rows, m.total_process));
    println!("JVM: {}", m.jvm_args().join(" "));
    println!("Total process memory as a Flink size: {}", format_memory_size(m.total_process));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional() {
        assert_eq!(bar(0, 100, 10), "");
        assert_eq!(bar(100, 100, 10), "█".repeat(10));
        assert_eq!(bar(50, 100, 10), "█".repeat(5));
        assert_eq!(bar(1, 1_000_000, 10), "▏");
        assert_eq!(bar(5, 0, 10), "");
    }

    #[test]
    fn short_human_units() {
        assert_eq!(short_human(4 << 30), "4.000gb");
        assert_eq!(short_human(100), "100 bytes");
    }
}
