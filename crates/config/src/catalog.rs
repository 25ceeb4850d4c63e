//! Flink option catalogs: every `ConfigOption` of a Flink version, generated from Flink's own
//! jars by `tools/catalog-gen` and embedded in the binary. Never typed by hand.
//!
//! CONTRACT shared by the catalog generator, the linter, `config explain` and the renderer.
//! Fields may be added; the ones here must keep their meaning.
//!
//! Loading: [`Catalog::for_version`] (`2.3`, `2.3.0`, `1.20.1` → the `major.minor` catalog) and
//! [`Catalog::operator`] decompress and parse one embedded catalog on first use and keep it for
//! the life of the process. Lookups ([`Catalog::get`], [`Catalog::lookup`]) use a hash index
//! built lazily on the first lookup; [`Catalog::suggest`] its own tables, built on first use.
//! See docs/catalogs.md for how the data is made.

mod embedded;
mod suggest;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use suggest::levenshtein;

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
    Enum {
        values: Vec<String>,
    },
    /// `Map<String,String>` (`k1:v1,k2:v2`).
    Map,
    /// A list of the element type (`a;b;c`).
    List {
        element: Box<OptionType>,
    },
    /// Anything else, with the Java class name.
    Other {
        class: String,
    },
}

/// One option of one Flink version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionInfo {
    /// The option's key, e.g. `state.backend.type`. In [`PrefixFamily::options`] the key is
    /// relative to the family instance (`factory.class` for `metrics.reporter.<name>.`).
    pub key: String,
    #[serde(rename = "type")]
    pub ty: OptionType,
    /// The default as Flink prints it (`None` when the option has no default, or when the
    /// default depends on the machine: then [`OptionInfo::default_note`] says what it is).
    /// Durations as `50 s`, memory sizes as `256 mb`, enums by constant name, lists `a;b`,
    /// maps `k:v,k2:v2`.
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
    /// The documented default where Flink's docs override the real one
    /// (`@Documentation.OverrideDefault`, e.g. `System.getProperty("java.io.tmpdir")`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_note: Option<String>,
    /// `@Documentation.ExcludeFromDocumentation`: internal or experimental, not in Flink's docs.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// Other classes that declare an option with the same key (the chosen one is in `declared_in`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_declared_in: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A family of keys Flink passes through by prefix (e.g. `metrics.reporter.<name>.*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixFamily {
    /// e.g. `metrics.reporter.` — a key matches when it starts with this.
    pub prefix: String,
    /// What the family is, for messages.
    pub description: String,
    /// When the prefix is followed by a user-chosen name segment (`metrics.reporter.<name>.`),
    /// that placeholder's name (`name`); `None` for plain prefixes (`containerized.master.env.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_segment: Option<String>,
    /// Where the family comes from (a Java class, a plugin, or `tools/catalog-gen/prefixes.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Known parameters, keyed relative to the instance (`factory.class`, `port`); a key with a
    /// `<placeholder>` (`<parameter>`, `param.<param>`) stands for any key in that position.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionInfo>,
}

/// All options of one Flink version (or of the Kubernetes operator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// e.g. `2.3.0`, or `operator-1.15.0`.
    pub version: String,
    pub options: Vec<OptionInfo>,
    #[serde(default)]
    pub prefixes: Vec<PrefixFamily>,
    /// Lookup index, built on first use; not data (ignored by equality and serde).
    #[serde(skip)]
    pub index: CatalogIndex,
}

/// Errors of loading a catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The text is not a Flink version (`2.3`, `2.3.0`, `1.20.1`).
    #[error(
        "`{input}` is not a Flink version (expected MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 2.3 or 1.20.1)"
    )]
    InvalidVersion { input: String },
    /// No catalog for that Flink version.
    #[error("no option catalog for Flink {version}; known versions: {known}")]
    UnknownVersion { version: String, known: String },
    /// An embedded catalog failed to decompress or parse (a build problem, never user input).
    #[error("embedded catalog {name} is corrupt: {message}")]
    Corrupt { name: String, message: String },
}

/// What a key is in one catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// An option's own key.
    Known(&'a OptionInfo),
    /// A deprecated alias (`state.backend`): Flink still reads it as `current`, with a warning.
    DeprecatedAlias {
        alias: &'a str,
        current: &'a OptionInfo,
    },
    /// A non-deprecated fallback key of `option`: read when `option` itself is unset.
    FallbackKey {
        key: &'a str,
        option: &'a OptionInfo,
    },
    /// A key of a pass-through family (`metrics.reporter.prom.port`); see
    /// [`PrefixFamily::parameter`] for the documented parameter, if any.
    Prefix(&'a PrefixFamily),
    /// Not a key this catalog knows.
    Unknown,
}

impl<'a> Lookup<'a> {
    /// The option the key configures, for own keys, aliases and fallback keys.
    pub fn option(&self) -> Option<&'a OptionInfo> {
        match *self {
            Lookup::Known(o)
            | Lookup::DeprecatedAlias { current: o, .. }
            | Lookup::FallbackKey { option: o, .. } => Some(o),
            Lookup::Prefix(_) | Lookup::Unknown => None,
        }
    }

    /// Whether Flink reads the key at all (anything but `Unknown`).
    pub fn is_known(&self) -> bool {
        !matches!(self, Lookup::Unknown)
    }
}

/// A 1.x key that Flink 2.0 no longer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub key: String,
    /// The last 1.x catalog (`1.20`) that knows the key.
    pub last_version: &'static str,
    /// The 2.0 key that replaces it, where derivable from the deprecated-key mappings of 1.x
    /// (`state.backend` → `state.backend.type` is not removed; `state.checkpoints.dir` →
    /// `execution.checkpointing.dir` is).
    pub replacement: Option<String>,
}

impl Catalog {
    /// A catalog from its parts (the index is built on first lookup).
    pub fn new(
        version: impl Into<String>,
        options: Vec<OptionInfo>,
        prefixes: Vec<PrefixFamily>,
    ) -> Self {
        Catalog {
            version: version.into(),
            options,
            prefixes,
            index: CatalogIndex::default(),
        }
    }

    /// Parses a catalog JSON document (the format of `crates/config/catalogs/*.json`).
    pub fn from_json(text: &str) -> Result<Catalog, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The `major.minor` versions that have an embedded catalog, oldest first (`1.18` … `2.3`).
    pub fn known_versions() -> Vec<&'static str> {
        embedded::flink_versions()
    }

    /// The catalog of a Flink version: `2.3`, `2.3.0` and `2.3.1` all give the 2.3 catalog
    /// (generated from the newest patch release on hand, see [`Catalog::version`]).
    pub fn for_version(version: &str) -> Result<&'static Catalog, CatalogError> {
        let mm = major_minor(version)?;
        match embedded::load(&format!("flink-{mm}")) {
            Some(result) => result,
            None => Err(CatalogError::UnknownVersion {
                version: version.trim().to_string(),
                known: Self::known_versions().join(", "),
            }),
        }
    }

    /// The Flink Kubernetes Operator's options (`kubernetes.operator.*`, `job.autoscaler.*`).
    /// Falls back to an empty catalog should the embedded data be corrupt (the unit tests make
    /// sure it is not); [`Catalog::try_operator`] reports that instead.
    pub fn operator() -> &'static Catalog {
        static EMPTY: OnceLock<Catalog> = OnceLock::new();
        match Self::try_operator() {
            Ok(c) => c,
            Err(_) => {
                EMPTY.get_or_init(|| Catalog::new("operator-unavailable", Vec::new(), Vec::new()))
            }
        }
    }

    /// The operator catalog, or why it could not be loaded.
    pub fn try_operator() -> Result<&'static Catalog, CatalogError> {
        embedded::load(embedded::OPERATOR).unwrap_or_else(|| {
            Err(CatalogError::Corrupt {
                name: embedded::OPERATOR.into(),
                message: "not embedded".into(),
            })
        })
    }

    /// The option with exactly this key (not an alias).
    pub fn get(&self, key: &str) -> Option<&OptionInfo> {
        self.index()
            .exact
            .get(key)
            .and_then(|&i| self.options.get(i))
    }

    /// What `key` is: an option, a deprecated alias, a fallback key, a prefix-family key, or
    /// unknown (in that order of precedence).
    pub fn lookup(&self, key: &str) -> Lookup<'_> {
        let index = self.index();
        if let Some(o) = index.exact.get(key).and_then(|&i| self.options.get(i)) {
            return Lookup::Known(o);
        }
        let entry = |map: &HashMap<String, (usize, usize)>, deprecated: bool| {
            let &(i, j) = map.get(key)?;
            let o = self.options.get(i)?;
            let keys = if deprecated {
                &o.deprecated_keys
            } else {
                &o.fallback_keys
            };
            keys.get(j).map(|k| (k.as_str(), o))
        };
        if let Some((alias, current)) = entry(&index.alias, true) {
            return Lookup::DeprecatedAlias { alias, current };
        }
        if let Some((key, option)) = entry(&index.fallback, false) {
            return Lookup::FallbackKey { key, option };
        }
        for &i in &index.families {
            if let Some(f) = self.prefixes.get(i)
                && f.matches(key)
            {
                return Lookup::Prefix(f);
            }
        }
        Lookup::Unknown
    }

    /// Did-you-mean: up to three keys of this catalog close to `key` (by edit distance, or by
    /// the same dot/dash tokens in another order), best first. Deprecated aliases suggest their
    /// current key.
    pub fn suggest(&self, key: &str) -> Vec<String> {
        #[cfg(test)]
        if REFERENCE_SUGGEST.with(std::cell::Cell::get) {
            return suggest::suggest_reference(key, self.suggest_candidates(), 3);
        }
        self.index
            .suggester
            .get_or_init(|| suggest::Suggester::new(self.suggest_candidates()))
            .suggest(key, 3)
    }

    /// The `(candidate, suggested key)` pairs of did-you-mean: own keys, and deprecated aliases
    /// standing for their current key.
    fn suggest_candidates(&self) -> impl Iterator<Item = (&str, &str)> {
        self.options
            .iter()
            .map(|o| (o.key.as_str(), o.key.as_str()))
            .chain(self.options.iter().flat_map(|o| {
                o.deprecated_keys
                    .iter()
                    .map(|d| (d.as_str(), o.key.as_str()))
            }))
    }

    /// The embedded Flink catalogs (`major.minor`) in which `key` is an option's own key.
    pub fn versions_with(key: &str) -> Vec<&'static str> {
        Self::known_versions()
            .into_iter()
            .filter(|v| Self::for_version(v).is_ok_and(|c| c.get(key).is_some()))
            .collect()
    }

    /// Whether a 1.x key (own key, deprecated alias or fallback key of some 1.x catalog) is no
    /// longer read by Flink 2.0, and its replacement where the 1.x deprecated-key mappings tell
    /// it. `None` when the key still works in 2.0 (also as an alias) or is no 1.x key.
    pub fn removed_in_2(key: &str) -> Option<Removal> {
        let v2 = Self::for_version("2.0").ok()?;
        if let Lookup::Prefix(f2) = v2.lookup(key) {
            return Self::removed_family_parameter(key, f2);
        }
        if v2.lookup(key).option().is_some() {
            return None;
        }
        let versions = Self::known_versions();
        let (last_version, v1) = versions
            .iter()
            .rev()
            .filter(|v| v.starts_with("1."))
            .find_map(|v| {
                Self::for_version(v)
                    .ok()
                    .filter(|c| c.lookup(key).option().is_some())
                    .map(|c| (*v, c))
            })?;
        let replacement = match v1.lookup(key) {
            Lookup::DeprecatedAlias { current, .. } => Some(current.key.as_str()),
            Lookup::FallbackKey { option, .. } => Some(option.key.as_str()),
            _ => None,
        }
        .filter(|r| *r != key)
        .and_then(|r| v2.lookup(r).option().map(|o| o.key.clone()));
        Some(Removal {
            key: key.to_string(),
            last_version,
            replacement,
        })
    }

    /// A family key whose parameter 1.x documented (`metrics.reporter.x.class`) and 2.0 does
    /// not, other than as an open `<parameter>`: Flink 2.0 no longer reads it.
    fn removed_family_parameter(key: &str, f2: &PrefixFamily) -> Option<Removal> {
        let documented = |p: Option<&OptionInfo>| p.is_some_and(|o| !o.key.contains('<'));
        if documented(f2.parameter(key)) {
            return None;
        }
        let versions = Self::known_versions();
        let last_version = versions
            .iter()
            .rev()
            .filter(|v| v.starts_with("1."))
            .find(|v| {
                Self::for_version(v).is_ok_and(
                    |c| matches!(c.lookup(key), Lookup::Prefix(f) if documented(f.parameter(key))),
                )
            })?;
        Some(Removal {
            key: key.to_string(),
            last_version,
            replacement: None,
        })
    }

    fn index(&self) -> &Index {
        self.index.cell.get_or_init(|| Index::build(self))
    }
}

impl PrefixFamily {
    /// Whether `key` belongs to the family: it starts with the prefix and, for a named family,
    /// continues with a non-empty name and a non-empty parameter (`metrics.reporter.prom.port`).
    pub fn matches(&self, key: &str) -> bool {
        self.instance(key).is_some()
    }

    /// Splits a key of the family into (instance name, parameter): `metrics.reporter.prom.port`
    /// → (`Some("prom")`, `port`); `containerized.master.env.JAVA_HOME` → (`None`, `JAVA_HOME`).
    pub fn instance<'k>(&self, key: &'k str) -> Option<(Option<&'k str>, &'k str)> {
        let rest = key.strip_prefix(self.prefix.as_str())?;
        if rest.is_empty() {
            return None;
        }
        if self.name_segment.is_none() {
            return Some((None, rest));
        }
        let (name, param) = rest.split_once('.')?;
        (!name.is_empty() && !param.is_empty()).then_some((Some(name), param))
    }

    /// The documented parameter a key of the family sets, if any (`metrics.reporter.prom.port`
    /// → the Prometheus reporter's `port`; `metrics.reporter.prom.anything` → the open
    /// `<parameter>` entry where the family has one).
    pub fn parameter(&self, key: &str) -> Option<&OptionInfo> {
        let (_, param) = self.instance(key)?;
        self.options.iter().find(|o| o.key == param).or_else(|| {
            self.options
                .iter()
                .find(|o| o.key.contains('<') && template_matches(&o.key, param))
        })
    }
}

#[cfg(test)]
thread_local! {
    /// Test switch: [`Catalog::suggest`] on this thread uses the plain reference algorithm, so a
    /// benchmark can measure the old and the new way in one run.
    pub(crate) static REFERENCE_SUGGEST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `param.<param>` matches `param.a.b`: a placeholder matches one segment, or every remaining
/// segment when it is the template's last.
fn template_matches(template: &str, key: &str) -> bool {
    let t: Vec<&str> = template.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    let mut i = 0;
    for (n, seg) in t.iter().enumerate() {
        let placeholder = seg.starts_with('<') && seg.ends_with('>');
        if placeholder && n == t.len() - 1 {
            return i < k.len();
        }
        match k.get(i) {
            Some(ks) if placeholder || ks == seg => i += 1,
            _ => return false,
        }
    }
    i == k.len()
}

/// `2.3`, `2.3.0`, `v1.20.1`, `2.0-SNAPSHOT` → `major.minor`.
fn major_minor(version: &str) -> Result<String, CatalogError> {
    let invalid = || CatalogError::InvalidVersion {
        input: version.to_string(),
    };
    let v = version.trim();
    let v = v.strip_prefix('v').unwrap_or(v);
    let v = v.split(['-', '+']).next().unwrap_or(v);
    let parts: Vec<&str> = v.split('.').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(invalid());
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        nums.push(p.parse::<u32>().map_err(|_| invalid())?);
    }
    Ok(format!("{}.{}", nums[0], nums[1]))
}

/// The lookup index of one catalog (opaque; built lazily, never serialized or compared).
#[derive(Default)]
pub struct CatalogIndex {
    cell: OnceLock<Index>,
    /// Did-you-mean tables, built on the first [`Catalog::suggest`].
    suggester: OnceLock<suggest::Suggester>,
}

impl Clone for CatalogIndex {
    fn clone(&self) -> Self {
        CatalogIndex::default()
    }
}

impl PartialEq for CatalogIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for CatalogIndex {}

impl std::fmt::Debug for CatalogIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.cell.get().is_some() {
            "CatalogIndex(built)"
        } else {
            "CatalogIndex"
        })
    }
}

struct Index {
    /// key → option position
    exact: HashMap<String, usize>,
    /// alias → (option position, position in its deprecated_keys)
    alias: HashMap<String, (usize, usize)>,
    /// fallback key → (option position, position in its fallback_keys)
    fallback: HashMap<String, (usize, usize)>,
    /// family positions, longest prefix first
    families: Vec<usize>,
}

impl Index {
    fn build(c: &Catalog) -> Index {
        let mut exact = HashMap::with_capacity(c.options.len());
        let mut alias = HashMap::new();
        let mut fallback = HashMap::new();
        for (i, o) in c.options.iter().enumerate() {
            exact.entry(o.key.clone()).or_insert(i);
            for (j, d) in o.deprecated_keys.iter().enumerate() {
                alias.entry(d.clone()).or_insert((i, j));
            }
            for (j, f) in o.fallback_keys.iter().enumerate() {
                fallback.entry(f.clone()).or_insert((i, j));
            }
        }
        let mut families: Vec<usize> = (0..c.prefixes.len()).collect();
        families.sort_by_key(|&i| std::cmp::Reverse(c.prefixes[i].prefix.len()));
        Index {
            exact,
            alias,
            fallback,
            families,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(version: &str) -> &'static Catalog {
        match Catalog::for_version(version) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn every_embedded_catalog_parses_and_is_sorted() {
        let versions = Catalog::known_versions();
        assert_eq!(
            versions,
            ["1.18", "1.19", "1.20", "2.0", "2.1", "2.2", "2.3"]
        );
        for ver in versions {
            let c = v(ver);
            assert!(c.version.starts_with(ver), "{} vs {ver}", c.version);
            assert!(c.options.len() > 700, "{ver}: {}", c.options.len());
            assert!(
                c.options.windows(2).all(|w| w[0].key < w[1].key),
                "{ver} not sorted/unique"
            );
            assert!(
                c.options.iter().all(|o| !o.key.contains('<')),
                "{ver}: templated key outside a family"
            );
        }
        let op = Catalog::try_operator().map_err(|e| e.to_string());
        assert!(op.is_ok_and(|c| c.version == "operator-1.15.0" && c.options.len() > 100));
    }

    #[test]
    fn state_backend_type_in_2_3() {
        let c = v("2.3");
        let o = c
            .get("state.backend.type")
            .map(|o| (o.ty.clone(), o.default.clone()));
        assert_eq!(o, Some((OptionType::String, Some("hashmap".to_string()))));
        assert_eq!(c.get("state.backend"), None);
    }

    #[test]
    fn state_backend_is_a_deprecated_alias_in_1_20() {
        let c = v("1.20");
        match c.lookup("state.backend") {
            Lookup::DeprecatedAlias { alias, current } => {
                assert_eq!(alias, "state.backend");
                assert_eq!(current.key, "state.backend.type");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn types_and_defaults_in_flinks_string_form() {
        let c = v("2.3");
        let get = |k: &str| {
            c.get(k)
                .map(|o| (o.ty.clone(), o.default.clone().unwrap_or_default()))
        };
        assert_eq!(
            get("taskmanager.memory.jvm-metaspace.size"),
            Some((OptionType::MemorySize, "256 mb".into()))
        );
        assert_eq!(
            get("heartbeat.timeout"),
            Some((OptionType::Duration, "50 s".into()))
        );
        assert_eq!(
            get("taskmanager.memory.managed.fraction"),
            Some((OptionType::Float, "0.4".into()))
        );
        assert_eq!(
            get("parallelism.default"),
            Some((OptionType::Integer, "1".into()))
        );
        match c
            .get("execution.runtime-mode")
            .map(|o| (&o.ty, o.default.as_deref()))
        {
            Some((OptionType::Enum { values }, Some("STREAMING"))) => {
                assert_eq!(values, &["STREAMING", "BATCH", "AUTOMATIC"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            c.get("pipeline.jars").map(|o| &o.ty),
            Some(OptionType::List { element }) if **element == OptionType::String
        ));
        assert_eq!(
            c.get("kubernetes.jobmanager.annotations").map(|o| &o.ty),
            Some(&OptionType::Map)
        );
        // Machine-dependent default: documented, not recorded.
        let tmp = c.get("io.tmp.dirs");
        assert!(tmp.is_some_and(|o| o.default.is_none() && o.default_note.is_some()));
    }

    #[test]
    fn prefix_families() {
        let c = v("2.3");
        let Lookup::Prefix(f) = c.lookup("metrics.reporter.prom.port") else {
            panic!("{:?}", c.lookup("metrics.reporter.prom.port"));
        };
        assert_eq!(f.prefix, "metrics.reporter.");
        assert_eq!(
            f.instance("metrics.reporter.prom.port"),
            Some((Some("prom"), "port"))
        );
        assert!(f.parameter("metrics.reporter.prom.port").is_some());
        assert!(
            f.parameter("metrics.reporter.prom.filterLabelValueCharacters")
                .is_some()
        );
        assert!(
            f.parameter("metrics.reporter.prom.factory.class")
                .is_some_and(|o| o.key == "factory.class")
        );
        assert!(
            f.parameter("metrics.reporter.prom.scope.variables.excludes")
                .is_some()
        );
        // open family: any parameter is passed to the reporter
        assert!(
            f.parameter("metrics.reporter.prom.whatever")
                .is_some_and(|o| o.key.contains('<'))
        );
        assert!(matches!(
            c.lookup("containerized.master.env.JAVA_HOME"),
            Lookup::Prefix(_)
        ));
        assert!(matches!(
            c.lookup("containerized.taskmanager.env.X"),
            Lookup::Prefix(_)
        ));
        assert!(matches!(
            c.lookup("flink.hadoop.dfs.replication"),
            Lookup::Prefix(_)
        ));
        assert!(matches!(c.lookup("s3.access-key"), Lookup::Prefix(_)));
        assert!(matches!(c.lookup("fs.s3a.endpoint"), Lookup::Prefix(_)));
        assert!(matches!(
            c.lookup("external-resource.gpu.amount"),
            Lookup::Prefix(_)
        ));
        // no instance name / no parameter: not a family key
        assert_eq!(c.lookup("metrics.reporter.prom"), Lookup::Unknown);
        assert_eq!(c.lookup("metrics.reporter."), Lookup::Unknown);
        // exact keys win over families
        assert!(matches!(c.lookup("metrics.reporters"), Lookup::Known(_)));
    }

    #[test]
    fn fallback_keys_and_unknown() {
        let op = Catalog::operator();
        assert!(matches!(
            op.lookup("kubernetes.operator.job.autoscaler.enabled"),
            Lookup::FallbackKey { option, .. } if option.key == "job.autoscaler.enabled"
        ));
        assert!(
            matches!(op.lookup("job.autoscaler.enabled"), Lookup::Known(o) if o.default.as_deref() == Some("false"))
        );
        assert!(matches!(
            op.lookup("kubernetes.operator.plugins.listeners.mine.class"),
            Lookup::Prefix(_)
        ));
        assert_eq!(v("2.3").lookup("no.such.key"), Lookup::Unknown);
        assert_eq!(v("2.3").lookup(""), Lookup::Unknown);
    }

    #[test]
    fn version_parsing() {
        assert_eq!(major_minor("2.3"), Ok("2.3".into()));
        assert_eq!(major_minor("2.3.0"), Ok("2.3".into()));
        assert_eq!(major_minor(" v1.20.1 "), Ok("1.20".into()));
        assert_eq!(major_minor("2.1-SNAPSHOT"), Ok("2.1".into()));
        for bad in [
            "", "2", "2.", "x.y", "2.3.4.5", "2..3", "99999.1", "-1.2", "2.3a",
        ] {
            assert!(
                matches!(major_minor(bad), Err(CatalogError::InvalidVersion { .. })),
                "{bad}"
            );
        }
        assert_eq!(v("1.20.1").version, "1.20.3");
        assert_eq!(v("2.3.0").version, "2.3.0");
        match Catalog::for_version("1.17") {
            Err(e @ CatalogError::UnknownVersion { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("1.17") && msg.contains("1.18, 1.19, 1.20, 2.0, 2.1, 2.2, 2.3"),
                    "{msg}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Catalog::for_version("banana"),
            Err(CatalogError::InvalidVersion { .. })
        ));
    }

    #[test]
    fn suggestions() {
        let c = v("2.3");
        assert_eq!(
            c.suggest("state.backend.typ").first().map(String::as_str),
            Some("state.backend.type")
        );
        assert_eq!(
            c.suggest("taskmanager.numberOfTaskslots")
                .first()
                .map(String::as_str),
            Some("taskmanager.numberOfTaskSlots")
        );
        assert_eq!(
            c.suggest("checkpointing.execution.interval")
                .first()
                .map(String::as_str),
            Some("execution.checkpointing.interval")
        );
        // an alias suggests the key it stands for
        assert_eq!(
            c.suggest("state.backendd").first().map(String::as_str),
            Some("state.backend.type")
        );
        assert!(c.suggest("zzzzzzzzzzzzzzzzzzzz").is_empty());
        assert!(c.suggest("").is_empty());
    }

    #[test]
    fn versions_and_removals() {
        assert_eq!(
            Catalog::versions_with("state.backend.type"),
            ["1.18", "1.19", "1.20", "2.0", "2.1", "2.2", "2.3"]
        );
        assert_eq!(
            Catalog::versions_with("execution.checkpointing.dir"),
            ["1.20", "2.0", "2.1", "2.2", "2.3"]
        );
        assert!(Catalog::versions_with("no.such.key").is_empty());
        // still an alias in 2.0: not removed
        assert_eq!(Catalog::removed_in_2("state.backend"), None);
        // a real 2.x key: not removed
        assert_eq!(Catalog::removed_in_2("state.backend.type"), None);
        assert_eq!(Catalog::removed_in_2("no.such.key"), None);
        let gone: Vec<Removal> = v("1.20")
            .options
            .iter()
            .filter_map(|o| Catalog::removed_in_2(&o.key))
            .collect();
        assert!(gone.len() > 20, "{}", gone.len());
        assert!(gone.iter().all(|r| r.last_version == "1.20"));
        // MetricOptions' 1.x `metrics.reporter.<name>.class` is gone in 2.0 (factory.class stays)
        assert!(
            Catalog::removed_in_2("metrics.reporter.prom.class")
                .is_some_and(|r| r.replacement.is_none())
        );
        assert_eq!(
            Catalog::removed_in_2("metrics.reporter.prom.factory.class"),
            None
        );
        assert_eq!(
            Catalog::removed_in_2("metrics.reporter.prom.anything"),
            None
        );
        // a deprecated 1.x alias whose option survives in 2.0 under its new key
        let with_replacement: Vec<Removal> = v("1.20")
            .options
            .iter()
            .flat_map(|o| o.deprecated_keys.iter())
            .filter_map(|k| Catalog::removed_in_2(k))
            .filter(|r| r.replacement.is_some())
            .collect();
        assert!(!with_replacement.is_empty());
        for r in &with_replacement {
            let repl = r.replacement.as_deref().unwrap_or_default();
            assert!(v("2.0").get(repl).is_some(), "{r:?}");
        }
    }

    #[test]
    fn template_matching() {
        assert!(template_matches("<parameter>", "a.b.c"));
        assert!(template_matches("param.<param>", "param.a.b"));
        assert!(!template_matches("param.<param>", "param"));
        assert!(!template_matches("param.<param>", "other.a"));
        assert!(template_matches("a.<x>.c", "a.b.c"));
        assert!(!template_matches("a.<x>.c", "a.b.d"));
    }

    #[test]
    fn hand_built_catalog_indexes_lazily() {
        let opt = |key: &str, deprecated: &[&str]| OptionInfo {
            key: key.into(),
            ty: OptionType::String,
            default: None,
            fallback_keys: Vec::new(),
            deprecated_keys: deprecated.iter().map(|s| s.to_string()).collect(),
            deprecated: false,
            description: String::new(),
            declared_in: String::new(),
            default_note: None,
            hidden: false,
            also_declared_in: Vec::new(),
        };
        let c = Catalog::new("test", vec![opt("a.b", &["old.a"])], Vec::new());
        assert!(
            matches!(c.lookup("old.a"), Lookup::DeprecatedAlias { current, .. } if current.key == "a.b")
        );
        let cloned = c.clone();
        assert_eq!(cloned, c);
        let json = serde_json::to_string(&c).map_err(|e| e.to_string());
        assert!(json.is_ok_and(|j| !j.contains("index")));
    }

    /// Figures for docs/catalogs.md: `cargo test -p flinkops-config --lib catalog::tests::figures
    /// -- --ignored --nocapture`. Prints, per catalog, keys, deprecated aliases, deprecated
    /// options, sizes, and the median time to decompress + parse + index one catalog.
    #[test]
    #[ignore]
    fn figures() {
        let mut raw_total = 0;
        let mut gz_total = 0;
        for (name, raw, gz) in embedded::sizes() {
            raw_total += raw;
            gz_total += gz;
            let Some(Ok(c)) = embedded::load(name) else {
                continue;
            };
            let aliases: usize = c.options.iter().map(|o| o.deprecated_keys.len()).sum();
            let deprecated = c.options.iter().filter(|o| o.deprecated).count();
            let mut times: Vec<std::time::Duration> = (0..7)
                .map(|_| {
                    let t = std::time::Instant::now();
                    let fresh = embedded::parse(name);
                    let _ = fresh.as_ref().map(|c| c.get("x"));
                    t.elapsed()
                })
                .collect();
            times.sort();
            println!(
                "{name}: {} keys, {aliases} deprecated aliases, {deprecated} deprecated options, {} families, \
                 {raw} B raw, {gz} B gz, load median {:?}",
                c.options.len(),
                c.prefixes.len(),
                times[times.len() / 2]
            );
        }
        let c120 = v("1.20");
        let own: Vec<Removal> = c120
            .options
            .iter()
            .filter_map(|o| Catalog::removed_in_2(&o.key))
            .collect();
        let aliases: Vec<Removal> = c120
            .options
            .iter()
            .flat_map(|o| o.deprecated_keys.iter().chain(&o.fallback_keys))
            .filter_map(|k| Catalog::removed_in_2(k))
            .collect();
        let with_repl = aliases.iter().filter(|r| r.replacement.is_some()).count();
        println!(
            "1.20 keys removed in 2.0: {} own keys, {} aliases/fallback keys ({with_repl} with a derivable replacement)",
            own.len(),
            aliases.len()
        );
        println!("total: {raw_total} B raw, {gz_total} B compressed");
    }
}
