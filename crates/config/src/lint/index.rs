//! Key lookups for the linter over one [`Catalog`] (own keys, deprecated aliases, fallback keys,
//! prefix families with their documented parameters) and did-you-mean suggestions, all through
//! the catalog's own index.

use crate::catalog::{Catalog, Lookup, OptionInfo, PrefixFamily};

/// What a key is in one catalog.
#[derive(Debug, Clone)]
pub enum Hit<'c> {
    /// An option's own key.
    Known(&'c OptionInfo),
    /// A deprecated alias; Flink still reads it as `current`.
    Alias { current: &'c OptionInfo },
    /// A (non-deprecated) fallback key of `option`.
    Fallback(&'c OptionInfo),
    /// A key of a prefix family; `option` when a documented sub-option matches.
    Family { family: &'c PrefixFamily, option: Option<&'c OptionInfo>, name: Option<String> },
    Unknown,
}

/// The index: a view of one catalog through [`Catalog::lookup`], with results that live as
/// long as the catalog.
pub struct Index<'c> {
    pub catalog: &'c Catalog,
}

impl<'c> Index<'c> {
    pub fn new(catalog: &'c Catalog) -> Self {
        Self { catalog }
    }

    /// Looks a key up.
    pub fn lookup(&self, key: &str) -> Hit<'c> {
        let cat: &'c Catalog = self.catalog;
        match cat.lookup(key) {
            Lookup::Known(o) => cat.get(&o.key).map_or(Hit::Unknown, Hit::Known),
            Lookup::DeprecatedAlias { current, .. } => cat.get(&current.key).map_or(Hit::Unknown, |current| Hit::Alias { current }),
            Lookup::FallbackKey { option, .. } => cat.get(&option.key).map_or(Hit::Unknown, Hit::Fallback),
            Lookup::Prefix(f) => match cat.prefixes.iter().find(|p| p.prefix == f.prefix) {
                Some(family) => Hit::Family {
                    family,
                    option: family.parameter(key),
                    name: family.instance(key).and_then(|(n, _)| n).map(str::to_string),
                },
                None => Hit::Unknown,
            },
            Lookup::Unknown => Hit::Unknown,
        }
    }

    /// The option a key configures (own key, alias, fallback, or documented family parameter).
    pub fn option(&self, key: &str) -> Option<&'c OptionInfo> {
        match self.lookup(key) {
            Hit::Known(o) | Hit::Alias { current: o } | Hit::Fallback(o) => Some(o),
            Hit::Family { option, .. } => option,
            Hit::Unknown => None,
        }
    }

    /// The key Flink reads for this one: the current key for an alias, else the key itself.
    pub fn canonical<'k>(&self, key: &'k str) -> std::borrow::Cow<'k, str> {
        match self.lookup(key) {
            Hit::Alias { current } => std::borrow::Cow::Owned(current.key.clone()),
            _ => std::borrow::Cow::Borrowed(key),
        }
    }

    /// Up to three known keys close to `key`, best first.
    pub fn suggest(&self, key: &str) -> Vec<String> {
        self.catalog.suggest(key)
    }
}

pub use crate::catalog::levenshtein;
