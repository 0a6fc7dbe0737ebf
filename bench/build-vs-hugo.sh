#!/usr/bin/env bash
# Cohort vs Hugo on the same 10,000-product catalog.
#
#   bash bench/build-vs-hugo.sh            # from anywhere; works in the repository root
#   PRODUCTS=2000 RUNS=3 bash bench/build-vs-hugo.sh
#
# Installs nothing. Needs hugo, hyperfine and GNU time (/usr/bin/time); on Debian:
#   apt-get install -y hugo hyperfine time
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

echo "== generating $PRODUCTS products (0 and $COHORTS cohorts) and the Hugo copy into $OUT/"
cargo build --release --quiet --example gen_catalog
gen=target/release/examples/gen_catalog
"$gen" --products "$PRODUCTS" --cohorts 0 --out "$OUT/shop0" --hugo "$OUT/hugo"
"$gen" --products "$PRODUCTS" --cohorts "$COHORTS" --out "$OUT/shop$COHORTS"

echo "== building cohort (release)"
have_cohort=1
if ! cargo build --release --quiet --bin cohort; then
    have_cohort=0
fi
cohort=target/release/cohort
if [ "$have_cohort" = 1 ] && ! "$cohort" build --root "$OUT/shop0" -o "$OUT/public-cohort" >"$OUT/cohort-check.log" 2>&1; then
    echo "   'cohort build' failed on $OUT/shop0 (see $OUT/cohort-check.log); benchmarking Hugo only" >&2
    have_cohort=0
fi
if [ "$have_cohort" = 1 ] && [ ! -f "$OUT/public-cohort/index.html" ]; then
    echo "   'cohort build' wrote no $OUT/public-cohort/index.html; benchmarking Hugo only" >&2
    have_cohort=0
fi

# Hugo must build the site cleanly: no ERROR or WARN lines.
rm -rf "$OUT/public-hugo"
if ! hugo --source "$OUT/hugo" --destination "$PWD/$OUT/public-hugo" >"$OUT/hugo-check.log" 2>&1 ||
    grep -qE 'ERROR|WARN' "$OUT/hugo-check.log"; then
    echo "hugo reported problems:" >&2
    cat "$OUT/hugo-check.log" >&2
    exit 1
fi

hugo_cmd="hugo --source $OUT/hugo --destination $PWD/$OUT/public-hugo --quiet"
cohort0_cmd="$cohort build --root $OUT/shop0 -o $OUT/public-cohort"
cohortN_cmd="$cohort build --root $OUT/shop$COHORTS -o $OUT/public-cohort$COHORTS"

cmds=()
names=()
if [ "$have_cohort" = 1 ]; then
    cmds+=("$cohort0_cmd" "$cohortN_cmd")
    names+=("cohort, 0 cohorts" "cohort, $COHORTS cohorts")
fi
cmds+=("$hugo_cmd")
names+=("hugo")

echo "== timing ($RUNS runs after 1 warmup)"
hf_args=(--warmup 1 --runs "$RUNS" --export-json "$OUT/hyperfine.json" --style basic)
for i in "${!cmds[@]}"; do
    hf_args+=(--command-name "${names[$i]}" "${cmds[$i]}")
done
hyperfine "${hf_args[@]}"

echo "== peak memory (GNU time, one run each)"
declare -A rss
for i in "${!cmds[@]}"; do
    # shellcheck disable=SC2086 # the command strings are meant to be split
    /usr/bin/time -v ${cmds[$i]} >/dev/null 2>"$OUT/time-$i.log" || true
    rss[$i]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time-$i.log")
done

echo
echo "== summary: $PRODUCTS products, $(nproc) cores"
printf '%-22s %12s %12s %14s\n' "build" "mean (s)" "stddev (s)" "peak RSS (MB)"
for i in "${!cmds[@]}"; do
    read -r mean sd < <(python3 - "$OUT/hyperfine.json" "$i" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]
print(f"{r['mean']:.2f} {r['stddev'] or 0:.2f}")
EOF
)
    printf '%-22s %12s %12s %14s\n' "${names[$i]}" "$mean" "$sd" "$(( ${rss[$i]:-0} / 1024 ))"
done
if [ "$have_cohort" = 1 ]; then
    for d in public-cohort "public-cohort$COHORTS" public-hugo; do
        printf '%-22s %s files, %s\n' "$d" "$(find "$OUT/$d" -type f | wc -l)" "$(du -sh "$OUT/$d" | cut -f1)"
    done
else
    printf '%-22s %s files, %s\n' public-hugo "$(find "$OUT/public-hugo" -type f | wc -l)" "$(du -sh "$OUT/public-hugo" | cut -f1)"
fi
