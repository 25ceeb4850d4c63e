//! Typed async client for Apache Flink's REST API.
