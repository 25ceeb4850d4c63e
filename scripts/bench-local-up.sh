#!/usr/bin/env bash
# Measures `flinkops local up` from start to every TaskManager registered, on a warm cache
# (Flink installed, SQL runner compiled): N runs (default 5), prints each and the median.
# Usage: scripts/bench-local-up.sh [RUNS] [FLINK_VERSION]   (uses $FLINKOPS_HOME; binary: target/release/flinkops or $FLINKOPS_BIN)
set -euo pipefail
runs=${1:-5}; version=${2:-2.3.0}
bin=${FLINKOPS_BIN:-target/release/flinkops}
name="bench-up-$$"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" flink install "$version" >/dev/null
trap '"$bin" local down --name "$name" >/dev/null 2>&1 || true' EXIT
times=()
for i in $(seq 1 "$runs"); do
  ms=$("$bin" local up --name "$name" --rest-port "$port" --flink-version "$version" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster"]["elapsed_ms"])')
  echo "run $i: ${ms} ms"
  times+=("$ms")
  "$bin" local down --name "$name" >/dev/null
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print "median: " m " ms over " NR " runs"}'
