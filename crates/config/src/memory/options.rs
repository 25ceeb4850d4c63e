//! The memory-related Flink options (keys, deprecated keys, defaults) and a reader that resolves
//! them from a flat key → string map exactly like Flink's `Configuration.get`: the key itself
//! first, then its deprecated keys in order, then the default; a present but unparsable value is
//! an error even when a deprecated key would parse.

use std::collections::BTreeMap;

use super::MemoryError;
use crate::units;

/// A default value of an option.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Def {
    /// No default: reading an absent option is an error (memory) or `None`.
    None,
    Bytes(u64),
    Float(f32),
    Int(i32),
    Bool(bool),
}

/// One Flink option.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opt {
    pub key: &'static str,
    pub deprecated: &'static [&'static str],
    pub default: Def,
}

const fn opt(key: &'static str, default: Def) -> Opt {
    Opt { key, deprecated: &[], default }
}

const MB: u64 = 1 << 20;

/// TaskManager options (`TaskManagerOptions`, `NettyShuffleEnvironmentOptions`).
pub(crate) mod tm {
    use super::*;
    pub const TOTAL_PROCESS: Opt = opt("taskmanager.memory.process.size", Def::None);
    pub const TOTAL_FLINK: Opt = opt("taskmanager.memory.flink.size", Def::None);
    pub const FRAMEWORK_HEAP: Opt = opt("taskmanager.memory.framework.heap.size", Def::Bytes(128 * MB));
    pub const FRAMEWORK_OFF_HEAP: Opt = opt("taskmanager.memory.framework.off-heap.size", Def::Bytes(128 * MB));
    pub const TASK_HEAP: Opt = opt("taskmanager.memory.task.heap.size", Def::None);
    pub const TASK_OFF_HEAP: Opt = opt("taskmanager.memory.task.off-heap.size", Def::Bytes(0));
    pub const MANAGED_SIZE: Opt =
        Opt { key: "taskmanager.memory.managed.size", deprecated: &["taskmanager.memory.size"], default: Def::None };
    pub const MANAGED_FRACTION: Opt = opt("taskmanager.memory.managed.fraction", Def::Float(0.4));
    pub const NETWORK_MIN: Opt = Opt {
        key: "taskmanager.memory.network.min",
        deprecated: &["taskmanager.network.memory.min"],
        default: Def::Bytes(64 * MB),
    };
    pub const NETWORK_MAX: Opt = Opt {
        key: "taskmanager.memory.network.max",
        deprecated: &["taskmanager.network.memory.max"],
        default: Def::Bytes(i64::MAX as u64),
    };
    pub const NETWORK_FRACTION: Opt = Opt {
        key: "taskmanager.memory.network.fraction",
        deprecated: &["taskmanager.network.memory.fraction"],
        default: Def::Float(0.1),
    };
    pub const METASPACE: Opt = opt("taskmanager.memory.jvm-metaspace.size", Def::Bytes(256 * MB));
    pub const OVERHEAD_MIN: Opt = opt("taskmanager.memory.jvm-overhead.min", Def::Bytes(192 * MB));
    pub const OVERHEAD_MAX: Opt = opt("taskmanager.memory.jvm-overhead.max", Def::Bytes(1024 * MB));
    pub const OVERHEAD_FRACTION: Opt = opt("taskmanager.memory.jvm-overhead.fraction", Def::Float(0.1));
    pub const CPU_CORES: Opt = opt("taskmanager.cpu.cores", Def::None);
    pub const NUM_SLOTS: Opt = opt("taskmanager.numberOfTaskSlots", Def::Int(1));
    pub const EXTERNAL_RESOURCES: &str = "external-resources";
    /// Flink 1.x only: the legacy number of network buffers.
    pub const NETWORK_NUM_BUFFERS: Opt = opt("taskmanager.network.numberOfBuffers", Def::Int(2048));
    /// The memory segment (page) size; used with the legacy number of buffers.
    pub const SEGMENT_SIZE: Opt = opt("taskmanager.memory.segment-size", Def::Bytes(32 << 10));
    /// Flink 1.x only: legacy heap size, mapped to the total Flink memory.
    pub const LEGACY_HEAP: Opt = opt("taskmanager.heap.size", Def::None);
    /// Flink 1.x only: legacy heap size in MiB.
    pub const LEGACY_HEAP_MB: Opt = opt("taskmanager.heap.mb", Def::None);
}

/// JobManager options (`JobManagerOptions`).
pub(crate) mod jm {
    use super::*;
    pub const TOTAL_PROCESS: Opt = opt("jobmanager.memory.process.size", Def::None);
    pub const TOTAL_FLINK: Opt = opt("jobmanager.memory.flink.size", Def::None);
    pub const HEAP: Opt = opt("jobmanager.memory.heap.size", Def::None);
    pub const OFF_HEAP: Opt = opt("jobmanager.memory.off-heap.size", Def::Bytes(128 * MB));
    pub const METASPACE: Opt = opt("jobmanager.memory.jvm-metaspace.size", Def::Bytes(256 * MB));
    pub const OVERHEAD_MIN: Opt = opt("jobmanager.memory.jvm-overhead.min", Def::Bytes(192 * MB));
    pub const OVERHEAD_MAX: Opt = opt("jobmanager.memory.jvm-overhead.max", Def::Bytes(1024 * MB));
    pub const OVERHEAD_FRACTION: Opt = opt("jobmanager.memory.jvm-overhead.fraction", Def::Float(0.1));
    pub const DIRECT_MEMORY_LIMIT: Opt = opt("jobmanager.memory.enable-jvm-direct-memory-limit", Def::Bool(false));
    /// Flink 1.x only: legacy heap size, mapped to the JVM heap.
    pub const LEGACY_HEAP: Opt = opt("jobmanager.heap.size", Def::None);
    /// Flink 1.x only: legacy heap size in MiB.
    pub const LEGACY_HEAP_MB: Opt = opt("jobmanager.heap.mb", Def::None);
}

/// A raw value: a string from the user, or a size Flink itself set while mapping legacy keys.
#[derive(Debug, Clone, Copy)]
enum Raw<'a> {
    Str(&'a str),
    Bytes(u64),
}

/// The configuration as Flink's `Configuration` sees it: user strings plus Flink's own overrides.
pub(crate) struct Conf<'a> {
    map: &'a BTreeMap<String, String>,
    overrides: Vec<(&'static str, u64)>,
}

impl<'a> Conf<'a> {
    pub fn new(map: &'a BTreeMap<String, String>) -> Self {
        Conf { map, overrides: Vec::new() }
    }

    /// `Configuration.set(option, MemorySize)` on a copy (legacy heap mapping).
    pub fn set_bytes(&mut self, o: &Opt, bytes: u64) {
        self.overrides.push((o.key, bytes));
    }

    /// The raw string under `key` (no deprecated keys), for ad-hoc keys.
    pub fn raw_str(&self, key: &str) -> Option<&'a str> {
        self.map.get(key).map(String::as_str)
    }

    fn lookup(&self, o: &Opt) -> Option<(&'static str, Raw<'a>)> {
        if let Some((k, b)) = self.overrides.iter().rev().find(|(k, _)| *k == o.key) {
            return Some((k, Raw::Bytes(*b)));
        }
        std::iter::once(&o.key)
            .chain(o.deprecated.iter())
            .find_map(|k| self.map.get(*k).map(|v| (*k, Raw::Str(v.as_str()))))
    }

    /// `Configuration.contains(option)`: the key or any deprecated key is present.
    pub fn contains(&self, o: &Opt) -> bool {
        self.lookup(o).is_some()
    }

    fn invalid(key: &str, value: &str, reason: impl std::fmt::Display) -> MemoryError {
        MemoryError::InvalidValue { key: key.to_string(), value: value.to_string(), reason: reason.to_string() }
    }

    /// A memory size, like `ProcessMemoryUtils.getMemorySizeFromConfig`: absent without a
    /// default is an error.
    pub fn memory(&self, o: &Opt) -> Result<u64, MemoryError> {
        match self.lookup(o) {
            Some((_, Raw::Bytes(b))) => Ok(b),
            Some((k, Raw::Str(v))) => units::parse_memory_size(v).map_err(|e| Self::invalid(k, v, e)),
            None => match o.default {
                Def::Bytes(b) => Ok(b),
                _ => Err(MemoryError::Invalid(format!(
                    "Cannot read memory size from config option '{}': the option is not set and has no default value.",
                    o.key
                ))),
            },
        }
    }

    /// A `float` option (fractions), parsed with `Float.parseFloat`.
    pub fn float(&self, o: &Opt) -> Result<f32, MemoryError> {
        match self.lookup(o) {
            Some((k, Raw::Str(v))) => units::parse_java_float(v).map_err(|e| Self::invalid(k, v, e)),
            Some((k, Raw::Bytes(b))) => Err(Self::invalid(k, &b.to_string(), "not a float")),
            None => match o.default {
                Def::Float(f) => Ok(f),
                _ => Err(MemoryError::Invalid(format!("'{}' is not set and has no default value", o.key))),
            },
        }
    }

    /// An `int` option, parsed with `Integer.parseInt`; `None` when absent without default.
    pub fn int(&self, o: &Opt) -> Result<Option<i32>, MemoryError> {
        match self.lookup(o) {
            Some((k, Raw::Str(v))) => units::parse_java_int(v).map(Some).map_err(|e| Self::invalid(k, v, e)),
            Some((k, Raw::Bytes(b))) => Err(Self::invalid(k, &b.to_string(), "not an integer")),
            None => Ok(match o.default {
                Def::Int(i) => Some(i),
                _ => None,
            }),
        }
    }

    /// A `double` option, parsed with `Double.parseDouble`; `None` when absent.
    pub fn double(&self, o: &Opt) -> Result<Option<f64>, MemoryError> {
        match self.lookup(o) {
            Some((k, Raw::Str(v))) => units::parse_java_double(v).map(Some).map_err(|e| Self::invalid(k, v, e)),
            Some((k, Raw::Bytes(b))) => Err(Self::invalid(k, &b.to_string(), "not a number")),
            None => Ok(None),
        }
    }

    /// A boolean option (`true`/`false`, any case).
    pub fn bool(&self, o: &Opt) -> Result<bool, MemoryError> {
        match self.lookup(o) {
            Some((k, Raw::Str(v))) => units::parse_bool(v).map_err(|e| Self::invalid(k, v, e)),
            Some((k, Raw::Bytes(b))) => Err(Self::invalid(k, &b.to_string(), "not a boolean")),
            None => Ok(matches!(o.default, Def::Bool(true))),
        }
    }

    /// A `long` under an ad-hoc key, parsed with `Long.parseLong`; `None` when absent.
    pub fn long_key(&self, key: &str) -> Result<Option<i64>, MemoryError> {
        match self.map.get(key) {
            Some(v) => units::parse_java_long(v).map(Some).map_err(|e| Self::invalid(key, v, e)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn key_wins_over_deprecated_key_and_default() {
        let m = map(&[("taskmanager.memory.network.min", "1m"), ("taskmanager.network.memory.min", "2m")]);
        assert_eq!(Conf::new(&m).memory(&tm::NETWORK_MIN).unwrap(), 1 << 20);
        let m = map(&[("taskmanager.network.memory.min", "2m")]);
        assert_eq!(Conf::new(&m).memory(&tm::NETWORK_MIN).unwrap(), 2 << 20);
        let m = map(&[]);
        assert_eq!(Conf::new(&m).memory(&tm::NETWORK_MIN).unwrap(), 64 << 20);
        assert!(Conf::new(&m).memory(&tm::TASK_HEAP).is_err());
    }

    #[test]
    fn bad_primary_value_is_an_error_even_with_good_deprecated_key() {
        let m = map(&[("taskmanager.memory.network.fraction", "x"), ("taskmanager.network.memory.fraction", "0.2")]);
        let err = Conf::new(&m).float(&tm::NETWORK_FRACTION).unwrap_err().to_string();
        assert!(err.contains("taskmanager.memory.network.fraction"), "{err}");
    }

    #[test]
    fn overrides_act_like_flink_set() {
        let m = map(&[]);
        let mut c = Conf::new(&m);
        assert!(!c.contains(&tm::TOTAL_FLINK));
        c.set_bytes(&tm::TOTAL_FLINK, 42);
        assert!(c.contains(&tm::TOTAL_FLINK));
        assert_eq!(c.memory(&tm::TOTAL_FLINK).unwrap(), 42);
    }
}
