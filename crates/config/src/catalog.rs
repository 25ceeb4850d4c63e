//! Flink option catalogs: every `ConfigOption` of a Flink version, generated from Flink's own
//! jars by `tools/catalog-gen` and embedded in the binary. Never typed by hand.
//!
//! CONTRACT shared by the catalog generator, the linter, `config explain` and the renderer.
//! Fields may be added; the ones here must keep their meaning.

use serde::{Deserialize, Serialize};

/// The type of an option's value, as Flink's `ConfigOption` declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptionType {
    Boolean,
    Integer,
    Long,
    Float,
    Double,
    String,
    /// `java.time.Duration`, parsed by Flink's `TimeUtils.parseDuration`.
    Duration,
    /// `org.apache.flink.configuration.MemorySize`.
    MemorySize,
    /// A Java enum: the constant names, as declared.
    Enum { values: Vec<String> },
    /// `Map<String,String>` (`k1:v1,k2:v2`).
    Map,
    /// A list of the element type (`a;b;c`).
    List { element: Box<OptionType> },
    /// Anything else, with the Java class name.
    Other { class: String },
}

/// One option of one Flink version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionInfo {
    /// The option's key, e.g. `state.backend.type`.
    pub key: String,
    #[serde(rename = "type")]
    pub ty: OptionType,
    /// The default as Flink prints it (`None` when the option has no default).
    pub default: Option<String>,
    /// Keys Flink falls back to when this one is unset (non-deprecated fallbacks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_keys: Vec<String>,
    /// Deprecated aliases of this option: still read by Flink, with a warning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deprecated_keys: Vec<String>,
    /// The option itself is `@Deprecated`.
    #[serde(default)]
    pub deprecated: bool,
    /// Description text (plain text, no HTML).
    #[serde(default)]
    pub description: String,
    /// The Java class that declares it (e.g. `org.apache.flink.configuration.CheckpointingOptions`).
    #[serde(default)]
    pub declared_in: String,
}

/// A family of keys Flink passes through by prefix (e.g. `metrics.reporter.<name>.*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixFamily {
    /// e.g. `metrics.reporter.` — a key matches when it starts with this.
    pub prefix: String,
    /// What the family is, for messages.
    pub description: String,
}

/// All options of one Flink version (or of the Kubernetes operator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// e.g. `2.3.0`, or `operator-1.15.0`.
    pub version: String,
    pub options: Vec<OptionInfo>,
    #[serde(default)]
    pub prefixes: Vec<PrefixFamily>,
}
