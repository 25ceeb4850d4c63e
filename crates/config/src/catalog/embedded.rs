//! The catalogs embedded by build.rs (gzip-compressed `catalogs/*.json`), decompressed and
//! parsed once each on first use and kept for the life of the process.

use std::io::Read as _;
use std::sync::OnceLock;

use flate2::read::GzDecoder;

use super::{Catalog, CatalogError};

include!(concat!(env!("OUT_DIR"), "/catalogs.rs"));

/// File stem of the operator catalog.
pub(super) const OPERATOR: &str = "operator-1.15";

static LOADED: [OnceLock<Result<Catalog, CatalogError>>; EMBEDDED.len()] =
    [const { OnceLock::new() }; EMBEDDED.len()];

/// The loaded catalog with this file stem; `None` when no such catalog is embedded.
pub(super) fn load(name: &str) -> Option<Result<&'static Catalog, CatalogError>> {
    let i = EMBEDDED.iter().position(|(n, _, _)| *n == name)?;
    let slot = LOADED.get(i)?;
    Some(
        slot.get_or_init(|| parse(name))
            .as_ref()
            .map_err(Clone::clone),
    )
}

/// Decompresses and parses one embedded catalog (uncached).
pub(super) fn parse(name: &str) -> Result<Catalog, CatalogError> {
    let corrupt = |message: String| CatalogError::Corrupt {
        name: name.to_string(),
        message,
    };
    let (_, raw_len, gz) = EMBEDDED
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| corrupt("not embedded".into()))?;
    let mut text = String::with_capacity(*raw_len);
    GzDecoder::new(*gz)
        .read_to_string(&mut text)
        .map_err(|e| corrupt(e.to_string()))?;
    Catalog::from_json(&text).map_err(|e| corrupt(e.to_string()))
}

/// `major.minor` of every embedded Flink catalog, oldest first.
pub(super) fn flink_versions() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = EMBEDDED
        .iter()
        .filter_map(|(n, _, _)| n.strip_prefix("flink-"))
        .collect();
    v.sort_by_key(|s| {
        let mut it = s.split('.').map(|p| p.parse::<u32>().unwrap_or(u32::MAX));
        (it.next(), it.next())
    });
    v
}

/// (stem, raw bytes, compressed bytes) of every embedded catalog.
#[cfg(test)]
pub(super) fn sizes() -> impl Iterator<Item = (&'static str, usize, usize)> {
    EMBEDDED.iter().map(|(n, raw, gz)| (*n, *raw, gz.len()))
}
