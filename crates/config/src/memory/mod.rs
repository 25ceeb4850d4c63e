//! Flink's TaskManager and JobManager memory model, computed in pure Rust exactly as Flink
//! 1.18–2.3 computes it (`TaskExecutorProcessUtils`, `JobManagerProcessUtils`,
//! `ProcessMemoryUtils`, as run by `BashJavaUtils` before a Flink JVM starts).
//!
//! Input is a flat configuration (key → raw string, already merged from the file and `-D`
//! options) plus the Flink version; output is every component in bytes, the JVM flags
//! ([`TaskManagerMemory::jvm_args`]) and the `-D key=value` dynamic configs
//! ([`TaskManagerMemory::dynamic_configs`]) BashJavaUtils prints, in the same order, so a process
//! can be launched from them. Invalid configurations are rejected with Flink's reason.
//!
//! Version differences handled: Flink 1.x still maps the legacy heap keys
//! (`taskmanager.heap.size`/`.mb` → total Flink memory, `jobmanager.heap.size`/`.mb` → JVM heap)
//! and the legacy `taskmanager.network.numberOfBuffers` (× `taskmanager.memory.segment-size`);
//! Flink 2.x removed both and additionally reads `external-resources` as a YAML list
//! (`[a, b]`). The deprecated `taskmanager.network.memory.{min,max,fraction}` and
//! `taskmanager.memory.size` keys are honoured by every version.
//!
//! Fidelity notes: fractions are `f32` (`Float.parseFloat`), widened to `f64` and multiplied as
//! `BigDecimal`s of their decimal string, then truncated, as Flink does. Java 17 prints a few
//! rare doubles with one more digit than the shortest form; Rust uses the shortest form (what
//! Java 19+ prints), which can differ from a Java 17 Flink in the last byte only for such
//! doubles. Flink 1.x also reads `FLINK_TM_HEAP`/`FLINK_JM_HEAP` from the environment; this pure
//! code does not.

mod derive;
mod java;
mod options;

use std::collections::BTreeMap;

pub use derive::Derivation;
use derive::{JM_OPTIONS, JmUtils, TM_OPTIONS, TmUtils};
use options::{Conf, jm, tm};

use crate::units::java_double_to_string;

/// The line prefix BashJavaUtils puts before each result line.
pub const BASH_JAVA_UTILS_PREFIX: &str = "BASH_JAVA_UTILS_EXEC_RESULT:";

/// Why Flink would refuse to start a process with this configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    /// A value that does not parse.
    #[error("invalid value '{value}' for '{key}': {reason}")]
    InvalidValue {
        /// The key the value came from (possibly a deprecated key).
        key: String,
        /// The raw value.
        value: String,
        /// What is wrong and how to write it.
        reason: String,
    },
    /// None of the three ways to size the process is configured.
    #[error(
        "Either required fine-grained memory ({fine_grained}), or Total Flink Memory size ({total_flink}), or Total Process Memory size ({total_process}) need to be configured explicitly."
    )]
    NotConfigured {
        /// The fine-grained keys that would all have to be set.
        fine_grained: String,
        /// The total Flink memory key.
        total_flink: &'static str,
        /// The total process memory key.
        total_process: &'static str,
    },
    /// An inconsistent or impossible combination, in Flink's words.
    #[error("{0}")]
    Invalid(String),
    /// A version this model does not cover.
    #[error("unsupported Flink version '{0}': use 1.18, 1.19, 1.20 or 2.x (e.g. 2.3)")]
    UnsupportedVersion(String),
}

/// The Flink generations whose memory code differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Generation {
    /// 1.18–1.20: legacy heap keys and legacy network buffers.
    V1,
    /// 2.x.
    V2,
}

fn generation(version: &str) -> Result<Generation, MemoryError> {
    let mut parts = version.trim().split('.');
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(1), Some(m)) if m >= 18 => Ok(Generation::V1),
        (Some(2), _) => Ok(Generation::V2),
        _ => Err(MemoryError::UnsupportedVersion(version.to_string())),
    }
}

/// One external resource (e.g. GPUs) a TaskManager announces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExternalResource {
    /// The resource name from `external-resources`.
    pub name: String,
    /// `external-resource.<name>.amount`.
    pub amount: i64,
}

/// A TaskManager's memory, every component in bytes, as Flink derives it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskManagerMemory {
    /// The Flink version this was computed for.
    pub flink_version: String,
    /// Which options the sizes were derived from.
    pub derived_from: Derivation,
    /// `taskmanager.memory.framework.heap.size`.
    pub framework_heap: u64,
    /// `taskmanager.memory.task.heap.size`.
    pub task_heap: u64,
    /// `taskmanager.memory.framework.off-heap.size`.
    pub framework_off_heap: u64,
    /// `taskmanager.memory.task.off-heap.size`.
    pub task_off_heap: u64,
    /// Network buffers (`taskmanager.memory.network.*`).
    pub network: u64,
    /// Managed memory (`taskmanager.memory.managed.*`).
    pub managed: u64,
    /// `taskmanager.memory.jvm-metaspace.size`.
    pub jvm_metaspace: u64,
    /// JVM overhead (`taskmanager.memory.jvm-overhead.*`).
    pub jvm_overhead: u64,
    /// JVM heap: framework heap + task heap (`-Xmx`/`-Xms`).
    pub jvm_heap: u64,
    /// JVM direct memory: framework off-heap + task off-heap + network (`-XX:MaxDirectMemorySize`).
    pub jvm_direct: u64,
    /// Total off-heap memory: managed + direct.
    pub total_off_heap: u64,
    /// Total Flink memory (`taskmanager.memory.flink.size`).
    pub total_flink: u64,
    /// Total process memory (`taskmanager.memory.process.size`).
    pub total_process: u64,
    /// CPU cores as Flink prints them (`taskmanager.cpu.cores`).
    pub cpu_cores: String,
    /// `taskmanager.numberOfTaskSlots`.
    pub num_slots: i32,
    /// External resources, in the order Flink prints them.
    pub external_resources: Vec<ExternalResource>,
}

/// A JobManager's memory, every component in bytes, as Flink derives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobManagerMemory {
    /// The Flink version this was computed for.
    pub flink_version: String,
    /// Which options the sizes were derived from.
    pub derived_from: Derivation,
    /// `jobmanager.memory.heap.size` (`-Xmx`/`-Xms`).
    pub jvm_heap: u64,
    /// `jobmanager.memory.off-heap.size` (direct memory).
    pub off_heap: u64,
    /// `jobmanager.memory.jvm-metaspace.size`.
    pub jvm_metaspace: u64,
    /// JVM overhead (`jobmanager.memory.jvm-overhead.*`).
    pub jvm_overhead: u64,
    /// Total Flink memory: heap + off-heap.
    pub total_flink: u64,
    /// Total process memory.
    pub total_process: u64,
    /// `jobmanager.memory.enable-jvm-direct-memory-limit`: whether `-XX:MaxDirectMemorySize` is set.
    pub jvm_direct_memory_limit: bool,
}

/// Computes a TaskManager's memory as Flink `version` would (`BashJavaUtils GET_TM_RESOURCE_PARAMS`).
pub fn taskmanager(version: &str, cfg: &BTreeMap<String, String>) -> Result<TaskManagerMemory, MemoryError> {
    let generation = generation(version)?;
    let mut conf = Conf::new(cfg);
    if generation == Generation::V1 {
        derive::map_legacy_heap(&mut conf, &tm::TOTAL_FLINK, &tm::LEGACY_HEAP, &tm::LEGACY_HEAP_MB)?;
    }
    let utils = TmUtils { generation };
    let spec = derive::process_spec(&conf, &TM_OPTIONS, &utils)?;
    let f = spec.flink;

    // createMemoryProcessSpec: CPU cores, slots, external resources, in this order.
    let cpu = match conf.double(&tm::CPU_CORES)? {
        Some(c) => c,
        None => f64::from(conf.int(&tm::NUM_SLOTS)?.unwrap_or(1)),
    };
    if !cpu.is_nan() && cpu <= 0.0 {
        return Err(MemoryError::Invalid(format!(
            "TaskExecutors need to be started with a positive number of CPU cores. Please configure {} accordingly.",
            tm::CPU_CORES.key
        )));
    }
    let cpu_value = java::cpu_resource_value(cpu).ok_or_else(|| MemoryError::InvalidValue {
        key: tm::CPU_CORES.key.into(),
        value: java_double_to_string(cpu),
        reason: "the number of CPU cores must be a finite number".into(),
    })?;
    let num_slots = conf.int(&tm::NUM_SLOTS)?.unwrap_or(1);
    let external_resources = external_resources(&conf, generation)?;

    // BashJavaUtils logs every total; an overflow there fails the JVM, so it fails here too.
    let jvm_heap = derive::add(&[f.framework_heap, f.task_heap], "JVM Heap")?;
    let jvm_direct = derive::add(&[f.framework_off_heap, f.task_off_heap, f.network], "JVM Direct Memory")?;
    let total_flink = derive::add(&[jvm_heap, jvm_direct, f.managed], "Total Flink Memory")?;
    let total_off_heap = derive::add(&[f.managed, jvm_direct], "Total Off-heap Memory")?;
    let total_process = derive::add(&[total_flink, spec.metaspace, spec.overhead], "Total Process Memory")?;

    Ok(TaskManagerMemory {
        flink_version: version.to_string(),
        derived_from: spec.derivation,
        framework_heap: f.framework_heap,
        task_heap: f.task_heap,
        framework_off_heap: f.framework_off_heap,
        task_off_heap: f.task_off_heap,
        network: f.network,
        managed: f.managed,
        jvm_metaspace: spec.metaspace,
        jvm_overhead: spec.overhead,
        jvm_heap,
        jvm_direct,
        total_off_heap,
        total_flink,
        total_process,
        cpu_cores: java_double_to_string(cpu_value),
        num_slots,
        external_resources,
    })
}

/// `ExternalResourceUtils.getExternalResourcesCollection`, in the order Flink ends up printing.
fn external_resources(conf: &Conf, generation: Generation) -> Result<Vec<ExternalResource>, MemoryError> {
    let Some(raw) = conf.raw_str(tm::EXTERNAL_RESOURCES) else { return Ok(Vec::new()) };
    if raw == "none" {
        return Ok(Vec::new());
    }
    let invalid = |reason: String| MemoryError::InvalidValue {
        key: tm::EXTERNAL_RESOURCES.into(),
        value: raw.to_string(),
        reason,
    };
    let names: Vec<String> = match yaml_flow_list(raw).filter(|_| generation == Generation::V2) {
        Some(list) => list,
        None => java::split_escaped(raw, ';').map_err(invalid)?,
    };
    let names = java::hash_order(&names, java::hash_set_capacity(names.len()));
    let mut amounts: Vec<(String, i64)> = Vec::new();
    for name in names {
        let key = format!("external-resource.{name}.amount");
        if let Some(amount) = conf.long_key(&key)?
            && amount > 0
        {
            amounts.push((name, amount));
        }
    }
    // amount map (HashMap) -> collection -> spec map (HashMap): both iterate in hash order.
    let order = java::hash_order(&amounts.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), 16);
    let order = java::hash_order(&order, 16);
    Ok(order
        .into_iter()
        .filter_map(|n| {
            let amount = amounts.iter().find(|(m, _)| *m == n).map(|(_, a)| *a)?;
            Some(ExternalResource { name: n, amount: java::external_resource_long(amount) })
        })
        .collect())
}

/// A one-line YAML flow sequence (`[a, b]`), as Flink 2.x accepts for list options.
fn yaml_flow_list(raw: &str) -> Option<Vec<String>> {
    let inner = raw.trim().strip_prefix('[')?.strip_suffix(']')?;
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    Some(
        inner
            .split(',')
            .map(|s| {
                let s = s.trim();
                s.strip_prefix('"')
                    .and_then(|x| x.strip_suffix('"'))
                    .or_else(|| s.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                    .unwrap_or(s)
                    .to_string()
            })
            .collect(),
    )
}

/// Computes a JobManager's memory as Flink `version` would (`BashJavaUtils GET_JM_RESOURCE_PARAMS`).
pub fn jobmanager(version: &str, cfg: &BTreeMap<String, String>) -> Result<JobManagerMemory, MemoryError> {
    let generation = generation(version)?;
    let mut conf = Conf::new(cfg);
    if generation == Generation::V1 {
        derive::map_legacy_heap(&mut conf, &jm::HEAP, &jm::LEGACY_HEAP, &jm::LEGACY_HEAP_MB)?;
    }
    let spec = derive::process_spec(&conf, &JM_OPTIONS, &JmUtils)?;
    let f = spec.flink;
    let total_flink = derive::add(&[f.heap, f.off_heap], "Total Flink Memory")?;
    let total_process = derive::add(&[total_flink, spec.metaspace, spec.overhead], "Total Process Memory")?;
    let jvm_direct_memory_limit = conf.bool(&jm::DIRECT_MEMORY_LIMIT)?;
    Ok(JobManagerMemory {
        flink_version: version.to_string(),
        derived_from: spec.derivation,
        jvm_heap: f.heap,
        off_heap: f.off_heap,
        jvm_metaspace: spec.metaspace,
        jvm_overhead: spec.overhead,
        total_flink,
        total_process,
        jvm_direct_memory_limit,
    })
}

fn dynamic_line(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("-D {k}={v}")).collect::<Vec<_>>().join(" ")
}

impl TaskManagerMemory {
    /// The JVM flags, exactly as BashJavaUtils prints them.
    pub fn jvm_args(&self) -> Vec<String> {
        vec![
            format!("-Xmx{}", self.jvm_heap),
            format!("-Xms{}", self.jvm_heap),
            format!("-XX:MaxDirectMemorySize={}", self.jvm_direct),
            format!("-XX:MaxMetaspaceSize={}", self.jvm_metaspace),
        ]
    }

    /// The `-D key=value` pairs BashJavaUtils prints, in its (Java `HashMap`) order.
    pub fn dynamic_configs(&self) -> Vec<(String, String)> {
        let b = |v: u64| format!("{v}b");
        let mut pairs: Vec<(String, String)> = vec![
            (tm::CPU_CORES.key.into(), self.cpu_cores.clone()),
            (tm::FRAMEWORK_HEAP.key.into(), b(self.framework_heap)),
            (tm::FRAMEWORK_OFF_HEAP.key.into(), b(self.framework_off_heap)),
            (tm::TASK_HEAP.key.into(), b(self.task_heap)),
            (tm::TASK_OFF_HEAP.key.into(), b(self.task_off_heap)),
            (tm::NETWORK_MIN.key.into(), b(self.network)),
            (tm::NETWORK_MAX.key.into(), b(self.network)),
            (tm::MANAGED_SIZE.key.into(), b(self.managed)),
            (tm::METASPACE.key.into(), b(self.jvm_metaspace)),
            (tm::OVERHEAD_MIN.key.into(), b(self.jvm_overhead)),
            (tm::OVERHEAD_MAX.key.into(), b(self.jvm_overhead)),
            (tm::NUM_SLOTS.key.into(), self.num_slots.to_string()),
        ];
        if self.external_resources.is_empty() {
            pairs.push((tm::EXTERNAL_RESOURCES.into(), "none".into()));
        } else {
            let names: Vec<&str> = self.external_resources.iter().map(|r| r.name.as_str()).collect();
            pairs.push((tm::EXTERNAL_RESOURCES.into(), format!("\"{}\"", names.join(";"))));
            for r in &self.external_resources {
                pairs.push((format!("external-resource.{}.amount", r.name), r.amount.to_string()));
            }
        }
        order_like_java(pairs)
    }

    /// The two lines BashJavaUtils prints (JVM flags, dynamic configs), with its prefix.
    pub fn bash_java_utils_output(&self) -> String {
        format!(
            "{BASH_JAVA_UTILS_PREFIX}{}\n{BASH_JAVA_UTILS_PREFIX}{}\n",
            self.jvm_args().join(" "),
            dynamic_line(&self.dynamic_configs())
        )
    }
}

impl JobManagerMemory {
    /// The JVM flags, exactly as BashJavaUtils prints them (no `-XX:MaxDirectMemorySize` unless
    /// `jobmanager.memory.enable-jvm-direct-memory-limit` is true).
    pub fn jvm_args(&self) -> Vec<String> {
        let mut args = vec![format!("-Xmx{}", self.jvm_heap), format!("-Xms{}", self.jvm_heap)];
        if self.jvm_direct_memory_limit {
            args.push(format!("-XX:MaxDirectMemorySize={}", self.off_heap));
        }
        args.push(format!("-XX:MaxMetaspaceSize={}", self.jvm_metaspace));
        args
    }

    /// The `-D key=value` pairs BashJavaUtils prints, in its order.
    pub fn dynamic_configs(&self) -> Vec<(String, String)> {
        let b = |v: u64| format!("{v}b");
        order_like_java(vec![
            (jm::HEAP.key.into(), b(self.jvm_heap)),
            (jm::OFF_HEAP.key.into(), b(self.off_heap)),
            (jm::METASPACE.key.into(), b(self.jvm_metaspace)),
            (jm::OVERHEAD_MIN.key.into(), b(self.jvm_overhead)),
            (jm::OVERHEAD_MAX.key.into(), b(self.jvm_overhead)),
        ])
    }

    /// The two lines BashJavaUtils prints (JVM flags, dynamic configs), with its prefix.
    pub fn bash_java_utils_output(&self) -> String {
        format!(
            "{BASH_JAVA_UTILS_PREFIX}{}\n{BASH_JAVA_UTILS_PREFIX}{}\n",
            self.jvm_args().join(" "),
            dynamic_line(&self.dynamic_configs())
        )
    }
}

/// Orders `-D` pairs the way Java's `HashMap` iterates them.
fn order_like_java(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let keys: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
    java::hash_order(&keys, 16)
        .into_iter()
        .filter_map(|k| pairs.iter().find(|(p, _)| *p == k).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn default_taskmanager_matches_bash_java_utils() {
        // Real BashJavaUtils output of Flink 2.3.0 and 1.20.3 for process.size=1728m.
        for v in ["2.3.0", "1.20.3"] {
            let m = taskmanager(v, &cfg(&[("taskmanager.memory.process.size", "1728m")])).unwrap();
            assert_eq!(
                m.jvm_args().join(" "),
                "-Xmx536870902 -Xms536870902 -XX:MaxDirectMemorySize=268435458 -XX:MaxMetaspaceSize=268435456"
            );
            assert_eq!(
                dynamic_line(&m.dynamic_configs()),
                "-D taskmanager.memory.network.min=134217730b -D taskmanager.cpu.cores=1.0 -D taskmanager.memory.task.off-heap.size=0b -D taskmanager.memory.jvm-metaspace.size=268435456b -D external-resources=none -D taskmanager.memory.jvm-overhead.min=201326592b -D taskmanager.memory.framework.off-heap.size=134217728b -D taskmanager.memory.network.max=134217730b -D taskmanager.memory.framework.heap.size=134217728b -D taskmanager.memory.managed.size=536870920b -D taskmanager.memory.task.heap.size=402653174b -D taskmanager.numberOfTaskSlots=1 -D taskmanager.memory.jvm-overhead.max=201326592b"
            );
            assert_eq!(m.total_process, 1728 << 20);
        }
    }

    #[test]
    fn default_jobmanager_matches_bash_java_utils() {
        let m = jobmanager("2.3", &cfg(&[("jobmanager.memory.process.size", "1600m")])).unwrap();
        assert_eq!(m.jvm_args().join(" "), "-Xmx1073741824 -Xms1073741824 -XX:MaxMetaspaceSize=268435456");
        assert_eq!(
            dynamic_line(&m.dynamic_configs()),
            "-D jobmanager.memory.off-heap.size=134217728b -D jobmanager.memory.jvm-overhead.min=201326592b -D jobmanager.memory.jvm-metaspace.size=268435456b -D jobmanager.memory.heap.size=1073741824b -D jobmanager.memory.jvm-overhead.max=201326592b"
        );
        let m = jobmanager(
            "2.3",
            &cfg(&[("jobmanager.memory.process.size", "1600m"), ("jobmanager.memory.enable-jvm-direct-memory-limit", "TRUE")]),
        )
        .unwrap();
        assert!(m.jvm_args().contains(&"-XX:MaxDirectMemorySize=134217728".to_string()));
    }

    #[test]
    fn nothing_configured_is_rejected_with_flinks_reason() {
        let e = taskmanager("2.3", &cfg(&[])).unwrap_err().to_string();
        assert!(e.contains("taskmanager.memory.task.heap.size and taskmanager.memory.managed.size"), "{e}");
        let e = jobmanager("1.20", &cfg(&[])).unwrap_err().to_string();
        assert!(e.contains("jobmanager.memory.process.size"), "{e}");
    }

    #[test]
    fn legacy_keys_only_in_1x() {
        let c = cfg(&[("taskmanager.heap.size", "1g")]);
        assert_eq!(taskmanager("1.20", &c).unwrap().total_flink, 1 << 30);
        assert!(taskmanager("2.3", &c).is_err());
        let c = cfg(&[("jobmanager.heap.mb", "1024")]);
        assert_eq!(jobmanager("1.19", &c).unwrap().jvm_heap, 1 << 30);
        assert!(jobmanager("2.0", &c).is_err());
        let c = cfg(&[("taskmanager.memory.flink.size", "1g"), ("taskmanager.network.numberOfBuffers", "1000")]);
        assert_eq!(taskmanager("1.20", &c).unwrap().network, 1000 * 32 * 1024);
        assert_ne!(taskmanager("2.3", &c).unwrap().network, 1000 * 32 * 1024);
    }

    #[test]
    fn deprecated_network_keys_are_honoured() {
        let c = cfg(&[("taskmanager.memory.flink.size", "1g"), ("taskmanager.network.memory.fraction", "0.2")]);
        let m = taskmanager("2.3", &c).unwrap();
        assert_eq!(m.network, java::multiply(1 << 30, f64::from(0.2f32)).unwrap());
    }

    #[test]
    fn inconsistent_configs_are_rejected() {
        let c = cfg(&[("taskmanager.memory.process.size", "1g"), ("taskmanager.memory.flink.size", "2g")]);
        assert!(taskmanager("2.3", &c).is_err());
        let c = cfg(&[("taskmanager.memory.process.size", "1g"), ("taskmanager.memory.network.fraction", "1.0")]);
        assert!(taskmanager("2.3", &c).unwrap_err().to_string().contains("[0, 1)"));
        let c = cfg(&[("taskmanager.memory.process.size", "1g"), ("taskmanager.cpu.cores", "0")]);
        assert!(taskmanager("2.3", &c).unwrap_err().to_string().contains("positive number of CPU cores"));
        let c = cfg(&[("jobmanager.memory.flink.size", "100m")]);
        assert!(jobmanager("2.3", &c).is_err());
        assert!(matches!(taskmanager("1.9", &cfg(&[])), Err(MemoryError::UnsupportedVersion(_))));
    }

    #[test]
    fn external_resources_in_java_order() {
        let c = cfg(&[
            ("taskmanager.memory.process.size", "1728m"),
            ("external-resources", "gpu;fpga;zz"),
            ("external-resource.gpu.amount", "2"),
            ("external-resource.fpga.amount", "9007199254740993"),
            ("external-resource.zz.amount", "0"),
        ]);
        let m = taskmanager("2.3", &c).unwrap();
        let d = m.dynamic_configs();
        assert!(d.contains(&("external-resources".into(), "\"fpga;gpu\"".into())));
        assert!(d.contains(&("external-resource.fpga.amount".into(), "9007199254740992".into())));
        let c = cfg(&[("taskmanager.memory.process.size", "1728m"), ("external-resources", "[gpu, x]"), ("external-resource.x.amount", "1")]);
        assert_eq!(taskmanager("2.3", &c).unwrap().external_resources.len(), 1);
        assert!(taskmanager("1.20", &c).unwrap().external_resources.is_empty());
    }

    #[test]
    fn serializes_to_json() {
        let m = taskmanager("2.3", &cfg(&[("taskmanager.memory.process.size", "4g")])).unwrap();
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["total_process"], 4u64 << 30);
        assert_eq!(v["derived_from"], "total-process");
    }
}
