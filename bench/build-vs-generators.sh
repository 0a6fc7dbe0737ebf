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
# Every build is a fresh one: each timed run starts by removing the previous run's output
# (inside the timing, as a merchant's clean build would), and for Cohort its kept previous
# output and the shop's .cohort-cache/, so nothing is reused. Each
# generator first builds once under GNU time (/usr/bin/time -v): that run checks the build
# (Hugo and Zola must print no error or warning) and gives the peak RSS; then hyperfine times
# WARMUP (default 1) + RUNS runs of each, with user and system CPU. Output size: bytes
# (du -sb) and files (find -type f | wc -l) of the last run's folder.
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
WARMUP=${WARMUP:-1}
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

cmds=()
names=()
dirs=()
shops=()
if [ "$have_cohort" = 1 ]; then
    cmds+=("$cohort build --root $OUT/shop0 -o $OUT/public-cohort"
        "$cohort build --root $OUT/shop$COHORTS -o $OUT/public-cohort$COHORTS")
    names+=("cohort, 0 cohorts" "cohort, $COHORTS cohorts")
    dirs+=("$OUT/public-cohort" "$OUT/public-cohort$COHORTS")
    shops+=("$OUT/shop0" "$OUT/shop$COHORTS")
fi
cmds+=("hugo --source $OUT/hugo --destination $PWD/$OUT/public-hugo")
names+=("hugo $(hugo version | sed -n 's/^hugo v\([0-9.]*\).*/\1/p')")
dirs+=("$OUT/public-hugo")
if [ "$have_zola" = 1 ]; then
    cmds+=("$zola --root $OUT/zola build --output-dir $PWD/$OUT/public-zola")
    names+=("zola $("$zola" --version | awk '{print $2}')")
    dirs+=("$OUT/public-zola")
fi

echo "== load before the first builds: $(uptime)"
echo "== one fresh build each under GNU time (the check, and the peak RSS)"
declare -A rss
keep=()
for i in "${!cmds[@]}"; do
    rm -rf "${dirs[$i]}"
    case ${names[$i]} in
    cohort*) rm -rf "$(dirname "${dirs[$i]}")/.$(basename "${dirs[$i]}").cohort-old" "${shops[$i]}/.cohort-cache" ;;
    esac
    log=$OUT/check-$i.log
    ok=1
    # shellcheck disable=SC2086 # the command strings are meant to be split
    /usr/bin/time -v -o "$OUT/time-$i.log" ${cmds[$i]} >"$log" 2>&1 || ok=0
    case ${names[$i]} in
    cohort*) [ -f "${dirs[$i]}/index.html" ] || ok=0 ;;
    *) if grep -qiE 'error|warn' "$log"; then ok=0; fi ;;
    esac
    if [ "$ok" = 0 ]; then
        echo "${names[$i]} failed or reported problems ($log):" >&2
        tail -20 "$log" >&2
        case ${names[$i]} in
        cohort*) echo "   Cohort left out" >&2; continue ;;
        *) exit 1 ;;
        esac
    fi
    rss[$i]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time-$i.log")
    echo "   ${names[$i]}: $(awk -F': ' '/Elapsed \(wall/ {print $2}' "$OUT/time-$i.log") wall, peak RSS ${rss[$i]} kB"
    keep+=("$i")
done

echo "== timing ($WARMUP warmup + $RUNS runs each; the previous output removed inside the timing)"
hf_args=(--warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/hyperfine.json" --style basic)
for i in "${keep[@]}"; do
    # Each timed run starts by removing what the previous one wrote: for Cohort also the
    # kept previous output and the shop's .cohort-cache/ (a fresh build computes everything).
    clean="rm -rf ${dirs[$i]}"
    case ${names[$i]} in
    cohort*) clean="$clean $(dirname "${dirs[$i]}")/.$(basename "${dirs[$i]}").cohort-old ${shops[$i]}/.cohort-cache" ;;
    esac
    hf_args+=(--command-name "${names[$i]}" "$clean && ${cmds[$i]}")
done
hyperfine "${hf_args[@]}"
echo "== load after: $(uptime)"

echo
echo "== summary: $PRODUCTS products, $(nproc) cores, $RUNS runs"
echo "| build | wall, mean ± σ (min) | CPU user + sys (mean) | peak RSS | files | bytes |"
echo "|---|---|---|---|---|---|"
for k in "${!keep[@]}"; do
    i=${keep[$k]}
    times=$(python3 - "$OUT/hyperfine.json" "$k" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]
print(f"{r['mean']:.2f} s ± {r['stddev'] or 0:.2f} (min {r['min']:.2f}) | {r['user']:.2f} + {r['system']:.2f} s")
PY
)
    files=$(find "${dirs[$i]}" -type f | wc -l)
    bytes=$(du -sb "${dirs[$i]}" | cut -f1)
    printf '| %s | %s | %s MB | %s | %s |\n' "${names[$i]}" "$times" "$(( ${rss[$i]:-0} / 1024 ))" "$files" "$bytes"
done
