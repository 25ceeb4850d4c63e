#!/usr/bin/env bash
# CLI start-up: median wall time of `flinkops --help` over N runs (default 30), against
# spawning /bin/true measured in the same run (the cost of starting any process here).
set -euo pipefail
bin=${FLINKOPS_BIN:-target/release/flinkops}
python3 - "$bin" "${1:-30}" <<'PY'
import statistics, subprocess, sys, time
bin, n = sys.argv[1], int(sys.argv[2])
def median(cmd):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts)
base = median(["/bin/true"])
help_ = median([bin, "--help"])
print(f"flinkops --help: median {help_:.2f} ms over {n} runs; /bin/true: {base:.2f} ms; ratio {help_ / base:.2f}")
PY
