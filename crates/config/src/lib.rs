//! Flink configuration intelligence: option catalogs, the config model, lint, migrate and the exact memory model.
//! Pure code over plain data: nothing here talks to a network or starts a process.

pub mod memory;
pub mod units;
pub mod catalog;
pub mod model;
pub mod lint;
pub mod migrate;
pub mod diff;
