#!/usr/bin/env bash
# The tuning benchmark: every workload of bench/workloads on a real local Flink with Flink's
# defaults, the seed's preset, `flinkops tune`'s config and the best of a grid search; writes
# docs/bench/tuning.{md,json,png}. Needs Flink installed in $FLINKOPS_HOME (flinkops flink
# install 2.3.0) and a JDK. Options: --quick, --only stateless,agg-low, --flink-version V,
# --out DIR, --warmup S, --measure S. Not part of scripts/test.sh (it takes ~40 min in full).
set -euo pipefail
cd "$(dirname "$0")"
export BENCH_COMMAND="bench/run.sh${*:+ $*}"
exec cargo run --quiet --manifest-path Cargo.toml -- "$@"
