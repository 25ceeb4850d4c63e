#!/usr/bin/env bash
# The test command (README): builds flinkops, installs the Flink versions the tests run
# against (through `flinkops flink install`, cached in target/test-home), then runs every
# test: unit tests of all crates and the one integration-test binary, which starts real
# local Flink clusters and stops them by pid, then the benchmark's unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLINKOPS_HOME="${FLINKOPS_TEST_HOME:-$PWD/target/test-home}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$FLINKOPS_HOME"

cargo build --locked -p flinkops
for v in ${FLINKOPS_TEST_FLINK_VERSIONS:-2.3.0 1.20.3}; do
  target/debug/flinkops flink install "$v"
done
status=0
cargo test --locked --workspace --no-fail-fast "$@" || status=$?
# The benchmark's unit tests (report, JFR summary): its own workspace, built in the same
# target directory so it reuses the workspace's artifacts.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" cargo test --locked --manifest-path bench/Cargo.toml || status=$?
exit $status
