//! A faithful port of Flink's memory derivation: `ProcessMemoryUtils` (total process ↔ total
//! Flink memory, JVM metaspace and overhead), `TaskExecutorFlinkMemoryUtils` and
//! `JobManagerFlinkMemoryUtils` (the components inside the total Flink memory), plus the legacy
//! handling Flink 1.x still does. Every option is read at the same point of the same path as in
//! Flink, so a bad value is rejected exactly when Flink rejects it.

use super::options::{Conf, Opt, jm, tm};
use super::{Generation, MemoryError, java};
use crate::units::human_memory_size as h;

const I64_MAX: u64 = i64::MAX as u64;

fn overflow(what: &str) -> MemoryError {
    MemoryError::Invalid(format!(
        "{what} adds up to more than 8 EiB (2^63-1 bytes, Java's long overflow): configure smaller sizes"
    ))
}

/// `MemorySize.add` (`Math.addExact`, non-negative operands).
pub(crate) fn add(parts: &[u64], what: &str) -> Result<u64, MemoryError> {
    let mut sum: u64 = 0;
    for p in parts {
        sum = sum.checked_add(*p).filter(|s| *s <= I64_MAX).ok_or_else(|| overflow(what))?;
    }
    Ok(sum)
}

/// `MemorySize.subtract` (a negative result is rejected by the `MemorySize` constructor).
fn sub(a: u64, b: u64, what: &str) -> Result<u64, MemoryError> {
    a.checked_sub(b).ok_or_else(|| MemoryError::Invalid(format!("{what} would be negative ({} - {})", h(a), h(b))))
}

/// Flink's `RangeFraction`: min ≤ max and 0 ≤ fraction < 1.
#[derive(Debug, Clone, Copy)]
struct RangeFraction {
    min: u64,
    max: u64,
    fraction: f64,
}

/// `ProcessMemoryUtils.getRangeFraction`.
fn range_fraction(conf: &Conf, min: u64, max: u64, fraction: &Opt) -> Result<RangeFraction, MemoryError> {
    let f = f64::from(conf.float(fraction)?);
    let inconsistent = |why: &str| {
        MemoryError::Invalid(format!(
            "Inconsistently configured {} ({}) and its min ({}), max ({}) value: {why}",
            fraction.key,
            crate::units::java_double_to_string(f),
            h(min),
            h(max)
        ))
    };
    if min > max {
        return Err(inconsistent("the min value must be less than or equal to the max value"));
    }
    if !(0.0..1.0).contains(&f) {
        return Err(inconsistent("the fraction must be in the range [0, 1)"));
    }
    Ok(RangeFraction { min, max, fraction: f })
}

fn multiply(base: u64, m: f64, what: &str) -> Result<u64, MemoryError> {
    java::multiply(base, m).ok_or_else(|| overflow(what))
}

fn cap(v: u64, rf: RangeFraction) -> u64 {
    if v > rf.max {
        rf.max
    } else if v < rf.min {
        rf.min
    } else {
        v
    }
}

/// `ProcessMemoryUtils.deriveWithFraction`.
fn derive_with_fraction(base: u64, rf: RangeFraction, what: &str) -> Result<u64, MemoryError> {
    Ok(cap(multiply(base, rf.fraction, what)?, rf))
}

/// `ProcessMemoryUtils.deriveWithInverseFraction`.
fn derive_with_inverse_fraction(base: u64, rf: RangeFraction, what: &str) -> Result<u64, MemoryError> {
    Ok(cap(multiply(base, rf.fraction / (1.0 - rf.fraction), what)?, rf))
}

/// Which options make up a process's memory (`ProcessMemoryOptions`).
pub(crate) struct ProcessOptions {
    pub required_fine_grained: &'static [Opt],
    pub total_flink: Opt,
    pub total_process: Opt,
    pub metaspace: Opt,
    pub overhead_min: Opt,
    pub overhead_max: Opt,
    pub overhead_fraction: Opt,
}

pub(crate) const TM_OPTIONS: ProcessOptions = ProcessOptions {
    required_fine_grained: &[tm::TASK_HEAP, tm::MANAGED_SIZE],
    total_flink: tm::TOTAL_FLINK,
    total_process: tm::TOTAL_PROCESS,
    metaspace: tm::METASPACE,
    overhead_min: tm::OVERHEAD_MIN,
    overhead_max: tm::OVERHEAD_MAX,
    overhead_fraction: tm::OVERHEAD_FRACTION,
};

pub(crate) const JM_OPTIONS: ProcessOptions = ProcessOptions {
    required_fine_grained: &[jm::HEAP],
    total_flink: jm::TOTAL_FLINK,
    total_process: jm::TOTAL_PROCESS,
    metaspace: jm::METASPACE,
    overhead_min: jm::OVERHEAD_MIN,
    overhead_max: jm::OVERHEAD_MAX,
    overhead_fraction: jm::OVERHEAD_FRACTION,
};

/// How the sizes were derived (which options Flink started from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Derivation {
    /// From the explicit fine-grained sizes (task heap + managed, or JM heap).
    FineGrained,
    /// From the total Flink memory size.
    TotalFlink,
    /// From the total process memory size.
    TotalProcess,
}

/// The Flink-memory part of a process (TM or JM components).
pub(crate) trait FlinkMemoryUtils {
    type Memory;
    fn derive_from_fine_grained(&self, conf: &Conf) -> Result<Self::Memory, MemoryError>;
    fn derive_from_total_flink(&self, conf: &Conf, total_flink: u64) -> Result<Self::Memory, MemoryError>;
    fn total_flink(&self, m: &Self::Memory) -> Result<u64, MemoryError>;
}

/// The common result: Flink memory plus metaspace and overhead.
pub(crate) struct ProcessSpec<M> {
    pub flink: M,
    pub metaspace: u64,
    pub overhead: u64,
    pub derivation: Derivation,
}

fn overhead_range(conf: &Conf, o: &ProcessOptions) -> Result<RangeFraction, MemoryError> {
    let min = conf.memory(&o.overhead_min)?;
    let max = conf.memory(&o.overhead_max)?;
    range_fraction(conf, min, max, &o.overhead_fraction)
}

/// `ProcessMemoryUtils.memoryProcessSpecFromConfig`.
pub(crate) fn process_spec<U: FlinkMemoryUtils>(
    conf: &Conf,
    o: &ProcessOptions,
    utils: &U,
) -> Result<ProcessSpec<U::Memory>, MemoryError> {
    if o.required_fine_grained.iter().all(|r| conf.contains(r)) {
        let flink = utils.derive_from_fine_grained(conf)?;
        let total = utils.total_flink(&flink)?;
        let (metaspace, overhead) = metaspace_and_overhead_from_total_flink(conf, o, total)?;
        Ok(ProcessSpec { flink, metaspace, overhead, derivation: Derivation::FineGrained })
    } else if conf.contains(&o.total_flink) {
        let total = conf.memory(&o.total_flink)?;
        let flink = utils.derive_from_total_flink(conf, total)?;
        let (metaspace, overhead) = metaspace_and_overhead_from_total_flink(conf, o, total)?;
        Ok(ProcessSpec { flink, metaspace, overhead, derivation: Derivation::TotalFlink })
    } else if conf.contains(&o.total_process) {
        let total_process = conf.memory(&o.total_process)?;
        let metaspace = conf.memory(&o.metaspace)?;
        let overhead = derive_with_fraction(total_process, overhead_range(conf, o)?, "JVM overhead")?;
        let jvm = add(&[metaspace, overhead], "JVM metaspace and overhead")?;
        if jvm > total_process {
            return Err(MemoryError::Invalid(format!(
                "Sum of configured JVM Metaspace ({}) and JVM Overhead ({}) exceed configured Total Process Memory ({}).",
                h(metaspace),
                h(overhead),
                h(total_process)
            )));
        }
        let total_flink = sub(total_process, jvm, "Total Flink Memory")?;
        let flink = utils.derive_from_total_flink(conf, total_flink)?;
        Ok(ProcessSpec { flink, metaspace, overhead, derivation: Derivation::TotalProcess })
    } else {
        let fine: Vec<&str> = o.required_fine_grained.iter().map(|r| r.key).collect();
        Err(MemoryError::NotConfigured {
            fine_grained: fine.join(" and "),
            total_flink: o.total_flink.key,
            total_process: o.total_process.key,
        })
    }
}

/// `ProcessMemoryUtils.deriveJvmMetaspaceAndOverheadFromTotalFlinkMemory`.
fn metaspace_and_overhead_from_total_flink(
    conf: &Conf,
    o: &ProcessOptions,
    total_flink: u64,
) -> Result<(u64, u64), MemoryError> {
    let metaspace = conf.memory(&o.metaspace)?;
    let flink_and_meta = add(&[total_flink, metaspace], "Total Flink Memory plus JVM Metaspace")?;
    if conf.contains(&o.total_process) {
        let total_process = conf.memory(&o.total_process)?;
        let metaspace = conf.memory(&o.metaspace)?;
        let flink_and_meta = add(&[total_flink, metaspace], "Total Flink Memory plus JVM Metaspace")?;
        if total_process < flink_and_meta {
            return Err(MemoryError::Invalid(format!(
                "The configured Total Process Memory size ({}) is less than the sum of the derived Total Flink Memory size ({}) and the configured or default JVM Metaspace size ({}).",
                h(total_process),
                h(total_flink),
                h(metaspace)
            )));
        }
        let overhead = total_process - flink_and_meta;
        let rf = overhead_range(conf, o)?;
        if overhead > rf.max || overhead < rf.min {
            return Err(MemoryError::Invalid(format!(
                "Derived JVM Overhead size ({}) is not in configured JVM Overhead range [{}, {}]: Total Process Memory ({}) minus Total Flink Memory ({}) and JVM Metaspace ({}) must fall in [{}, {}]",
                h(overhead),
                h(rf.min),
                h(rf.max),
                h(total_process),
                h(total_flink),
                h(metaspace),
                o.overhead_min.key,
                o.overhead_max.key
            )));
        }
        Ok((metaspace, overhead))
    } else {
        let overhead = derive_with_inverse_fraction(flink_and_meta, overhead_range(conf, o)?, "JVM overhead")?;
        // sanityCheckTotalProcessMemory: only the sum (which may overflow) matters here.
        add(&[total_flink, metaspace, overhead], "Total Process Memory")?;
        Ok((metaspace, overhead))
    }
}

// ---------------------------------------------------------------------------------------------
// TaskManager

/// The components of a TaskManager's total Flink memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TmFlink {
    pub framework_heap: u64,
    pub framework_off_heap: u64,
    pub task_heap: u64,
    pub task_off_heap: u64,
    pub network: u64,
    pub managed: u64,
}

pub(crate) struct TmUtils {
    pub generation: Generation,
}

impl TmUtils {
    fn is_using_legacy_network(&self, conf: &Conf) -> bool {
        self.generation == Generation::V1
            && !(conf.contains(&tm::NETWORK_MIN) || conf.contains(&tm::NETWORK_MAX) || conf.contains(&tm::NETWORK_FRACTION))
            && conf.contains(&tm::NETWORK_NUM_BUFFERS)
    }

    /// `getNetworkMemorySizeWithLegacyConfig`: buffers × page size (Flink 1.x).
    fn legacy_network(&self, conf: &Conf) -> Result<u64, MemoryError> {
        let buffers = i64::from(conf.int(&tm::NETWORK_NUM_BUFFERS)?.unwrap_or(2048));
        let page = page_size(conf)?;
        let bytes = buffers * page;
        u64::try_from(bytes).map_err(|_| {
            MemoryError::Invalid(format!(
                "the legacy network memory ({} = {buffers} buffers x {page} bytes) is negative: configure a positive number of buffers",
                tm::NETWORK_NUM_BUFFERS.key
            ))
        })
    }

    fn network_range(conf: &Conf) -> Result<RangeFraction, MemoryError> {
        let min = conf.memory(&tm::NETWORK_MIN)?;
        let max = conf.memory(&tm::NETWORK_MAX)?;
        range_fraction(conf, min, max, &tm::NETWORK_FRACTION)
    }

    fn managed(conf: &Conf, base: u64) -> Result<u64, MemoryError> {
        if conf.contains(&tm::MANAGED_SIZE) {
            conf.memory(&tm::MANAGED_SIZE)
        } else {
            let rf = range_fraction(conf, 0, I64_MAX, &tm::MANAGED_FRACTION)?;
            derive_with_fraction(base, rf, "managed memory")
        }
    }

    /// `sanityCheckNetworkMemoryWithExplicitlySetTotalFlinkAndHeapMemory`.
    fn check_network(&self, conf: &Conf, network: u64) -> Result<(), MemoryError> {
        let prefix = "If Total Flink, Task Heap and (or) Managed Memory sizes are explicitly configured then the Network Memory size is the rest of the Total Flink memory after subtracting all other configured types of memory, but the derived Network Memory is inconsistent with its configuration";
        if self.is_using_legacy_network(conf) {
            let configured = self.legacy_network(conf)?;
            if configured != network {
                return Err(MemoryError::Invalid(format!(
                    "{prefix}: derived Network Memory size ({}) does not match configured Network Memory size ({}).",
                    h(network),
                    h(configured)
                )));
            }
        } else {
            let rf = Self::network_range(conf)?;
            if network > rf.max || network < rf.min {
                return Err(MemoryError::Invalid(format!(
                    "{prefix}: derived Network Memory size ({}) is not in configured Network Memory range [{}, {}].",
                    h(network),
                    h(rf.min),
                    h(rf.max)
                )));
            }
        }
        Ok(())
    }

    fn exceeds(parts: &[(&str, u64)], total: u64) -> MemoryError {
        let list: Vec<String> = parts.iter().map(|(n, v)| format!("{n} ({})", h(*v))).collect();
        MemoryError::Invalid(format!(
            "Sum of configured {} exceed configured Total Flink Memory ({}).",
            list.join(", "),
            h(total)
        ))
    }

    /// `sanityCheckTotalFlinkMemory`.
    fn check_total(&self, conf: &Conf, m: &TmFlink) -> Result<(), MemoryError> {
        if conf.contains(&tm::TOTAL_FLINK) {
            let configured = conf.memory(&tm::TOTAL_FLINK)?;
            let derived = self.total_flink(m)?;
            if configured != derived {
                return Err(MemoryError::Invalid(format!(
                    "Configured and Derived Flink internal memory sizes (total {}) do not add up to the configured Total Flink Memory size ({}). Configured and Derived Flink internal memory sizes are: Framework Heap Memory ({}), Framework Off-Heap Memory ({}), Task Heap Memory ({}), Task Off-Heap Memory ({}), Network Memory ({}), Managed Memory ({}).",
                    h(derived),
                    h(configured),
                    h(m.framework_heap),
                    h(m.framework_off_heap),
                    h(m.task_heap),
                    h(m.task_off_heap),
                    h(m.network),
                    h(m.managed)
                )));
            }
        }
        Ok(())
    }
}

/// `ConfigurationParserUtils.getPageSize` (Flink 1.x legacy network memory).
fn page_size(conf: &Conf) -> Result<i64, MemoryError> {
    let bytes = conf.memory(&tm::SEGMENT_SIZE)?;
    let key = tm::SEGMENT_SIZE.key;
    if bytes > i32::MAX as u64 {
        return Err(MemoryError::Invalid(format!("{key} ({bytes} bytes) does not fit in a 32-bit integer")));
    }
    if bytes < 4096 {
        return Err(MemoryError::Invalid(format!("{key} ({bytes} bytes): Minimum memory segment size is 4096")));
    }
    if !bytes.is_power_of_two() {
        return Err(MemoryError::Invalid(format!("{key} ({bytes} bytes): Memory segment size must be a power of 2.")));
    }
    Ok(bytes as i64)
}

impl FlinkMemoryUtils for TmUtils {
    type Memory = TmFlink;

    fn total_flink(&self, m: &TmFlink) -> Result<u64, MemoryError> {
        add(
            &[m.framework_heap, m.framework_off_heap, m.task_heap, m.task_off_heap, m.network, m.managed],
            "Total Flink Memory",
        )
    }

    fn derive_from_fine_grained(&self, conf: &Conf) -> Result<TmFlink, MemoryError> {
        let task_heap = conf.memory(&tm::TASK_HEAP)?;
        let managed = conf.memory(&tm::MANAGED_SIZE)?;
        let framework_heap = conf.memory(&tm::FRAMEWORK_HEAP)?;
        let framework_off_heap = conf.memory(&tm::FRAMEWORK_OFF_HEAP)?;
        let task_off_heap = conf.memory(&tm::TASK_OFF_HEAP)?;
        let excl = add(
            &[framework_heap, framework_off_heap, task_heap, task_off_heap, managed],
            "Framework, task and managed memory",
        )?;
        let network = if conf.contains(&tm::TOTAL_FLINK) {
            let total = conf.memory(&tm::TOTAL_FLINK)?;
            if excl > total {
                return Err(Self::exceeds(
                    &[
                        ("Framework Heap Memory", framework_heap),
                        ("Framework Off-Heap Memory", framework_off_heap),
                        ("Task Heap Memory", task_heap),
                        ("Task Off-Heap Memory", task_off_heap),
                        ("Managed Memory", managed),
                    ],
                    total,
                ));
            }
            let network = total - excl;
            self.check_network(conf, network)?;
            network
        } else if self.is_using_legacy_network(conf) {
            self.legacy_network(conf)?
        } else {
            derive_with_inverse_fraction(excl, Self::network_range(conf)?, "network memory")?
        };
        let m = TmFlink { framework_heap, framework_off_heap, task_heap, task_off_heap, network, managed };
        self.check_total(conf, &m)?;
        Ok(m)
    }

    fn derive_from_total_flink(&self, conf: &Conf, total: u64) -> Result<TmFlink, MemoryError> {
        let framework_heap = conf.memory(&tm::FRAMEWORK_HEAP)?;
        let framework_off_heap = conf.memory(&tm::FRAMEWORK_OFF_HEAP)?;
        let task_off_heap = conf.memory(&tm::TASK_OFF_HEAP)?;
        let m = if conf.contains(&tm::TASK_HEAP) {
            let task_heap = conf.memory(&tm::TASK_HEAP)?;
            let managed = Self::managed(conf, total)?;
            let excl = add(
                &[framework_heap, framework_off_heap, task_heap, task_off_heap, managed],
                "Framework, task and managed memory",
            )?;
            if excl > total {
                return Err(Self::exceeds(
                    &[
                        ("Framework Heap Memory", framework_heap),
                        ("Framework Off-Heap Memory", framework_off_heap),
                        ("Task Heap Memory", task_heap),
                        ("Task Off-Heap Memory", task_off_heap),
                        ("Managed Memory", managed),
                    ],
                    total,
                ));
            }
            let network = total - excl;
            self.check_network(conf, network)?;
            TmFlink { framework_heap, framework_off_heap, task_heap, task_off_heap, network, managed }
        } else {
            let managed = Self::managed(conf, total)?;
            let network = if self.is_using_legacy_network(conf) {
                self.legacy_network(conf)?
            } else {
                derive_with_fraction(total, Self::network_range(conf)?, "network memory")?
            };
            let excl = add(
                &[framework_heap, framework_off_heap, task_off_heap, managed, network],
                "Framework, task off-heap, managed and network memory",
            )?;
            if excl > total {
                return Err(Self::exceeds(
                    &[
                        ("Framework Heap Memory", framework_heap),
                        ("Framework Off-Heap Memory", framework_off_heap),
                        ("Task Off-Heap Memory", task_off_heap),
                        ("Managed Memory", managed),
                        ("Network Memory", network),
                    ],
                    total,
                ));
            }
            TmFlink { framework_heap, framework_off_heap, task_heap: total - excl, task_off_heap, network, managed }
        };
        self.check_total(conf, &m)?;
        Ok(m)
    }
}

/// Flink 1.x `MemoryBackwardsCompatibilityUtils`: when `target` is not set, a legacy heap size
/// (`*.heap.size`, else `*.heap.mb`) is copied into it. (Flink also reads the environment
/// variables `FLINK_TM_HEAP` / `FLINK_JM_HEAP` first; this pure function does not.)
pub(crate) fn map_legacy_heap(conf: &mut Conf, target: &Opt, heap: &Opt, heap_mb: &Opt) -> Result<(), MemoryError> {
    if conf.contains(target) {
        return Ok(());
    }
    if conf.contains(heap) {
        let bytes = conf.memory(heap)?;
        conf.set_bytes(target, bytes);
    } else if conf.contains(heap_mb) {
        let mb = i64::from(conf.int(heap_mb)?.unwrap_or(0));
        if mb < 0 {
            return Err(MemoryError::Invalid(format!(
                "Configured total process memory size ({mb}MB) must not be less than 0 ({}).",
                heap_mb.key
            )));
        }
        conf.set_bytes(target, (mb << 20) as u64);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// JobManager

/// The components of a JobManager's total Flink memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JmFlink {
    pub heap: u64,
    pub off_heap: u64,
}

pub(crate) struct JmUtils;

impl FlinkMemoryUtils for JmUtils {
    type Memory = JmFlink;

    fn total_flink(&self, m: &JmFlink) -> Result<u64, MemoryError> {
        add(&[m.heap, m.off_heap], "Total Flink Memory")
    }

    fn derive_from_fine_grained(&self, conf: &Conf) -> Result<JmFlink, MemoryError> {
        let heap = conf.memory(&jm::HEAP)?;
        let mut off_heap = conf.memory(&jm::OFF_HEAP)?;
        if conf.contains(&jm::TOTAL_FLINK) {
            let total = conf.memory(&jm::TOTAL_FLINK)?;
            if conf.contains(&jm::OFF_HEAP) {
                let sum = add(&[heap, off_heap], "JVM Heap plus Off-heap Memory")?;
                if sum != total {
                    return Err(MemoryError::Invalid(format!(
                        "Sum of the configured JVM Heap Memory ({}) and the configured Off-heap Memory ({}) does not match the configured Total Flink Memory ({}). Please, make the configuration consistent or configure only one option: either JVM Heap or Total Flink Memory.",
                        h(heap),
                        h(off_heap),
                        h(total)
                    )));
                }
            } else {
                if total < heap {
                    return Err(MemoryError::Invalid(format!(
                        "The configured JVM Heap Memory ({}) exceeds the configured Total Flink Memory ({}). Please, make the configuration consistent or configure only one option: either JVM Heap or Total Flink Memory.",
                        h(heap),
                        h(total)
                    )));
                }
                off_heap = total - heap;
            }
        }
        Ok(JmFlink { heap, off_heap })
    }

    fn derive_from_total_flink(&self, conf: &Conf, total: u64) -> Result<JmFlink, MemoryError> {
        let off_heap = conf.memory(&jm::OFF_HEAP)?;
        if total <= off_heap {
            return Err(MemoryError::Invalid(format!(
                "The configured Total Flink Memory ({}) is less than the configured Off-heap Memory ({}): the JVM heap would be empty.",
                h(total),
                h(off_heap)
            )));
        }
        Ok(JmFlink { heap: total - off_heap, off_heap })
    }
}
