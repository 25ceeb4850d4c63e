#!/usr/bin/env bash
# The tuning benchmark: every workload of bench/workloads on a real local Flink with Flink's
# defaults, the seed's preset, `flinkops tune`'s config and the best of a grid search; writes
# docs/bench/tuning.{md,json,png}. Needs Flink installed in $FLINKOPS_HOME (flinkops flink
# install 2.3.0) and a JDK. Options: --quick, --only stateless,agg-low, --flink-version V,
# --out DIR, --warmup S, --measure S, --repeat N, --ablate | --ab K=V, --jfr, --fresh,
# --report-from FILE (--help). Not part of scripts/test.sh (~75 min in full with --repeat 3);
# its unit tests are.
set -euo pipefail
cd "$(dirname "$0")"
export BENCH_COMMAND="bench/run.sh${*:+ $*}"
exec cargo run --quiet --manifest-path Cargo.toml -- "$@"
