//! Flink distributions and the supervised local Flink session cluster.
