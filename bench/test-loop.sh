#!/usr/bin/env bash
# Runs the README's test command N times in a row (default 10) and prints one line per run:
# exit code, seconds and the load average, to show the suite holds on a busy machine (start
# another build alongside, e.g. `CARGO_TARGET_DIR=/tmp/other cargo build --release` in another
# checkout). Exits non-zero if any run failed; each run's output is kept in bench/out/.
#   bash bench/test-loop.sh [N]
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
mkdir -p bench/out
failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  cargo test --no-fail-fast > "bench/out/test-loop-$i.log" 2>&1
  rc=$?
  [ "$rc" = 0 ] || failed=$((failed + 1))
  echo "run $i: exit $rc, $(( $(date +%s) - start )) s, load $(cut -d' ' -f1 /proc/loadavg)"
done
echo "$((runs - failed)) of $runs runs passed"
[ "$failed" = 0 ]
