#!/usr/bin/env bash
# Issue #3's benchmark: the 10,000-product catalog with 8 cohorts against the same catalog
# with none, in two ways:
#   fresh    each run builds into an output folder that does not exist yet
#   rebuild  each run replaces the previous build's output (what `cohort build` does in a
#            shop folder day to day: it recycles the kept previous tree, see
#            src/output/writer.rs)
# and the output of each (files, bytes, variants, fragments).
#
#   bash bench/cohort-ratio.sh              # PRODUCTS=10000 COHORTS=8 RUNS=5 SETTLE=5
#
# Needs hyperfine (apt-get install -y hyperfine). Writes to bench/out/ (gitignored).
#
# Between fresh runs the previous output is renamed into bench/out/trash/, not deleted, and
# the trash is deleted only at the end. On an ext4 file system without a journal (this
# project's VM), inodes freed in the last 5 minutes whose inode-table block is dirty are
# skipped one by one when new files are created (ext4's `recently_deleted`), so a build
# that starts right after 20,000 files were removed spends most of its time in the kernel's
# inode allocator (`perf` shows find_get_block_common + recently_deleted at half the
# samples). Journaled ext4, XFS, btrfs, APFS and tmpfs do not do this. Run nothing else on
# the machine; wait 5 minutes after a large deletion before you start.
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS=${PRODUCTS:-10000}
COHORTS=${COHORTS:-8}
RUNS=${RUNS:-5}
SETTLE=${SETTLE:-5}
OUT=bench/out
command -v hyperfine >/dev/null || { echo "missing: hyperfine (apt-get install -y hyperfine)" >&2; exit 2; }

cargo build --release --quiet --bin cohort --example gen_catalog
gen=target/release/examples/gen_catalog
cohort=target/release/cohort
"$gen" --products "$PRODUCTS" --cohorts 0 --out "$OUT/shop0"
"$gen" --products "$PRODUCTS" --cohorts "$COHORTS" --out "$OUT/shop$COHORTS"

echo "== machine: $(nproc) cores; $(uptime)"
echo "== fresh output folder"
trash="$OUT/trash"
mkdir -p "$trash"
hyperfine --runs "$RUNS" --export-json "$OUT/ratio-fresh.json" \
    --prepare "for d in $OUT/fresh0 $OUT/fresh$COHORTS $OUT/.fresh0.cohort-old $OUT/.fresh$COHORTS.cohort-old; do if [ -e \$d ]; then mv \$d $trash/\$(date +%s%N); fi; done; sync; sleep $SETTLE" \
    -n "no cohorts" "$cohort build --root $OUT/shop0 -o $OUT/fresh0" \
    -n "$COHORTS cohorts" "$cohort build --root $OUT/shop$COHORTS -o $OUT/fresh$COHORTS"
if [ -d /dev/shm ]; then
    # The same, with the output in memory (tmpfs): Cohort's own work without this disk.
    echo "== fresh output folder on tmpfs (/dev/shm)"
    shm=/dev/shm/cohort-ratio
    mkdir -p "$shm/trash"
    hyperfine --runs "$RUNS" --export-json "$OUT/ratio-tmpfs.json" \
        --prepare "for d in $shm/fresh0 $shm/fresh$COHORTS; do if [ -e \$d ]; then mv \$d $shm/trash/\$(date +%s%N); fi; done; sleep 1" \
        -n "no cohorts" "$cohort build --root $OUT/shop0 -o $shm/fresh0" \
        -n "$COHORTS cohorts" "$cohort build --root $OUT/shop$COHORTS -o $shm/fresh$COHORTS"
    rm -rf "$shm"
fi
echo "== rebuild over the previous output"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/ratio-rebuild.json" --prepare "sync; sleep $SETTLE" \
    -n "no cohorts" "$cohort build --root $OUT/shop0 -o $OUT/ratio0" \
    -n "$COHORTS cohorts" "$cohort build --root $OUT/shop$COHORTS -o $OUT/ratio$COHORTS"
echo "== $(uptime)"

for mode in fresh tmpfs rebuild; do
    [ -f "$OUT/ratio-$mode.json" ] || continue
    python3 - "$OUT/ratio-$mode.json" "$mode" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = r[0], r[1]
print(f"{sys.argv[2]:8} no cohorts {a['mean']:.2f} s ± {a['stddev']:.2f} (median {a['median']:.2f}, user {a['user']:.2f} s, sys {a['system']:.2f} s)")
print(f"{'':8} {b['command']:10} {b['mean']:.2f} s ± {b['stddev']:.2f} (median {b['median']:.2f}, user {b['user']:.2f} s, sys {b['system']:.2f} s)")
print(f"{'':8} ratio of means {b['mean']/a['mean']:.2f}, of medians {b['median']/a['median']:.2f}, of CPU {(b['user']+b['system'])/(a['user']+a['system']):.2f}")
PY
done
# The rebuild outputs: the same bytes as the fresh builds (hyperfine's prepare step moves a
# fresh output away before every run of either command).
for d in "$OUT/ratio0" "$OUT/ratio$COHORTS"; do
    files=$(find "$d" -type f | wc -l)
    bytes=$(find "$d" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
    variants=$( [ -d "$d/c" ] && find "$d/c" -type f | wc -l || echo 0)
    fragments=$( [ -d "$d/_cohort/f" ] && find "$d/_cohort/f" -type f | wc -l || echo 0)
    echo "$d: $files files, $bytes bytes, $variants variants, $fragments fragments"
done
echo "== removing $trash (the next 5 minutes of file creation on this file system are slower)"
rm -rf "$trash"
