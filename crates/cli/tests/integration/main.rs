//! The one integration-test binary (lead's mirror).
mod support;
mod cli_basics;
mod local_cluster;
