#!/usr/bin/env bash
# Cohort (no cohorts and COHORTS cohorts), Hugo and Zola on the same generated catalog, in
# the same run.
#
#   bash bench/build-vs-generators.sh             # PRODUCTS=10000 COHORTS=8 RUNS=5 by default
#   PRODUCTS=2000 RUNS=3 bash bench/build-vs-generators.sh
#   ZOLA=/path/to/zola bash bench/build-vs-generators.sh
#
# (bench/build-vs-hugo.sh, its old name, runs this script.)
#
# Every build is a fresh one: hyperfine's --prepare removes the build's output folder before
# each run (untimed), so each timed run writes into a folder that does not exist. Measures
# wall time (hyperfine, 1 warmup + RUNS runs, with user and system CPU), peak RSS (GNU time,
# one more fresh run each), and the output's bytes (du -sb) and files (find -type f | wc -l).
#
# Installs nothing. Needs hugo, hyperfine and GNU time (/usr/bin/time); on Debian:
#   apt-get install -y hugo hyperfine time
# Zola: ZOLA names the binary; otherwise bench/out/zola-src/target/release/zola (what
# bench/zola.sh builds) or `zola` on PATH. Without one, Zola is left out and the script says so.
# Everything generated goes to bench/out/ (gitignored).
set -euo pipefail

cd "$(dirname "$0")/.."
PRODUCTS=${PRODUCTS:-10000}
COHORTS=${COHORTS:-8}
RUNS=${RUNS:-5}
OUT=bench/out

missing=()
command -v hugo >/dev/null || missing+=(hugo)
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}" >&2
    echo "install with: apt-get install -y ${missing[*]}" >&2
    exit 2
fi

zola=${ZOLA:-}
if [ -z "$zola" ]; then
    if [ -x "$OUT/zola-src/target/release/zola" ]; then
        zola=$OUT/zola-src/target/release/zola
    elif command -v zola >/dev/null; then
        zola=$(command -v zola)
    fi
fi
have_zola=1
if [ -z "$zola" ] || ! "$zola" --version >/dev/null 2>&1; then
    echo "   no Zola binary (set ZOLA, or build one with ZOLA_SRC=... bash bench/zola.sh): Zola left out" >&2
    have_zola=0
fi

echo "== generating $PRODUCTS products (0 and $COHORTS cohorts) and the Hugo and Zola copies into $OUT/"
cargo build --release --quiet --example gen_catalog
gen=target/release/examples/gen_catalog
"$gen" --products "$PRODUCTS" --cohorts 0 --out "$OUT/shop0" --hugo "$OUT/hugo" --zola "$OUT/zola"
"$gen" --products "$PRODUCTS" --cohorts "$COHORTS" --out "$OUT/shop$COHORTS"

echo "== building cohort (release)"
have_cohort=1
if ! cargo build --release --quiet --bin cohort; then
    have_cohort=0
fi
cohort=target/release/cohort
rm -rf "$OUT/public-cohort"
if [ "$have_cohort" = 1 ] && ! "$cohort" build --root "$OUT/shop0" -o "$OUT/public-cohort" >"$OUT/cohort-check.log" 2>&1; then
    echo "   'cohort build' failed on $OUT/shop0 (see $OUT/cohort-check.log); Cohort left out" >&2
    have_cohort=0
fi
if [ "$have_cohort" = 1 ] && [ ! -f "$OUT/public-cohort/index.html" ]; then
    echo "   'cohort build' wrote no $OUT/public-cohort/index.html; Cohort left out" >&2
    have_cohort=0
fi

# Hugo and Zola must build their sites cleanly: no error or warning lines.
rm -rf "$OUT/public-hugo"
if ! hugo --source "$OUT/hugo" --destination "$PWD/$OUT/public-hugo" >"$OUT/hugo-check.log" 2>&1 ||
    grep -qE 'ERROR|WARN' "$OUT/hugo-check.log"; then
    echo "hugo reported problems:" >&2
    cat "$OUT/hugo-check.log" >&2
    exit 1
fi
if [ "$have_zola" = 1 ]; then
    rm -rf "$OUT/public-zola"
    if ! "$zola" --root "$OUT/zola" build --output-dir "$PWD/$OUT/public-zola" >"$OUT/zola-check.log" 2>&1 ||
        grep -qiE 'error|warn' "$OUT/zola-check.log"; then
        echo "zola reported problems:" >&2
        cat "$OUT/zola-check.log" >&2
        exit 1
    fi
fi

cmds=()
names=()
dirs=()
if [ "$have_cohort" = 1 ]; then
    cmds+=("$cohort build --root $OUT/shop0 -o $OUT/public-cohort"
        "$cohort build --root $OUT/shop$COHORTS -o $OUT/public-cohort$COHORTS")
    names+=("cohort, 0 cohorts" "cohort, $COHORTS cohorts")
    dirs+=("$OUT/public-cohort" "$OUT/public-cohort$COHORTS")
fi
cmds+=("hugo --source $OUT/hugo --destination $PWD/$OUT/public-hugo --quiet")
names+=("hugo $(hugo version | sed -n 's/^hugo v\([0-9.]*\).*/\1/p')")
dirs+=("$OUT/public-hugo")
if [ "$have_zola" = 1 ]; then
    cmds+=("$zola --root $OUT/zola build --output-dir $PWD/$OUT/public-zola")
    names+=("zola $("$zola" --version | awk '{print $2}')")
    dirs+=("$OUT/public-zola")
fi

echo "== load before timing: $(uptime)"
echo "== timing ($RUNS runs after 1 warmup; output removed before each run by --prepare)"
hf_args=(--warmup 1 --runs "$RUNS" --export-json "$OUT/hyperfine.json" --style basic)
for i in "${!cmds[@]}"; do
    hf_args+=(--prepare "rm -rf ${dirs[$i]}")
done
for i in "${!cmds[@]}"; do
    hf_args+=(--command-name "${names[$i]}" "${cmds[$i]}")
done
hyperfine "${hf_args[@]}"

echo "== peak memory (GNU time, one more fresh run each)"
declare -A rss
for i in "${!cmds[@]}"; do
    rm -rf "${dirs[$i]}"
    # shellcheck disable=SC2086 # the command strings are meant to be split
    /usr/bin/time -v ${cmds[$i]} >/dev/null 2>"$OUT/time-$i.log" || true
    rss[$i]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time-$i.log")
done
echo "== load after: $(uptime)"

echo
echo "== summary: $PRODUCTS products, $(nproc) cores, $RUNS runs"
echo "| build | wall, mean ± σ (min) | CPU user + sys (mean) | peak RSS | files | bytes |"
echo "|---|---|---|---|---|---|"
for i in "${!cmds[@]}"; do
    times=$(python3 - "$OUT/hyperfine.json" "$i" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]
print(f"{r['mean']:.2f} s ± {r['stddev'] or 0:.2f} (min {r['min']:.2f}) | {r['user']:.2f} + {r['system']:.2f} s")
PY
)
    files=$(find "${dirs[$i]}" -type f | wc -l)
    bytes=$(du -sb "${dirs[$i]}" | cut -f1)
    printf '| %s | %s | %s MB | %s | %s |\n' "${names[$i]}" "$times" "$(( ${rss[$i]:-0} / 1024 ))" "$files" "$bytes"
done
