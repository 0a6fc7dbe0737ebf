#!/usr/bin/env bash
# Plugin mode: how long `cohort personalize` takes on a Hugo output, compared with the Hugo
# build that produced it (acceptance 5 of issue #9). Results: bench/personalize.md.
#
#   bash bench/personalize.sh                       # 10,000 products, 8 cohorts, 5 runs
#   PRODUCTS=2000 RUNS=3 bash bench/personalize.sh
#
# Installs nothing. Needs hugo, hyperfine and GNU time (apt-get install -y hugo hyperfine time).
# Everything generated goes to bench/out/personalize/ (gitignored via bench/out/).
set -euo pipefail

cd "$(dirname "$0")/.."
PRODUCTS=${PRODUCTS:-10000}
COHORTS=${COHORTS:-8}
RUNS=${RUNS:-5}
OUT=bench/out/personalize

for tool in hugo hyperfine; do
    command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install -y $tool)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "missing: GNU time (apt-get install -y time)" >&2; exit 2; }

echo "== generating $PRODUCTS products, $COHORTS cohorts and the Hugo site into $OUT/"
cargo build --release --quiet --example gen_catalog --bin cohort
rm -rf "$OUT"
target/release/examples/gen_catalog --products "$PRODUCTS" --cohorts "$COHORTS" --out "$OUT/shop" --hugo "$OUT/hugo"

# Mark slots in the benchmark's Hugo theme with the documented partial (docs/plugin-mode.md, "Already on
# Hugo or Zola?"): hero and picks on the home page, copy and picks on product pages, grid on
# category and tag listings.
layouts="$OUT/hugo/layouts"
cp tests/sites/hugo-shop/layouts/partials/cohort-slot.html "$layouts/partials/"
slot() { printf '{{ partial "cohort-slot.html" (dict "name" "%s") }}\n' "$1"; }
sed -i "s|{{ define \"main\" }}|{{ define \"main\" }}\n$(slot hero)$(slot picks)|" "$layouts/index.html"
sed -i "s|{{ define \"main\" }}|{{ define \"main\" }}\n$(slot copy)$(slot picks)|" "$layouts/_default/single.html"
sed -i "s|{{ define \"main\" }}|{{ define \"main\" }}\n$(slot grid)|" "$layouts/_default/term.html"

hugo_cmd="hugo --source $OUT/hugo --destination $PWD/$OUT/public-hugo --quiet"
echo "== checking the Hugo build and one personalize run"
$hugo_cmd
cp -a "$OUT/public-hugo" "$OUT/public-clean"
personalize="target/release/cohort personalize --site $OUT/site --root $OUT/shop --products '$OUT/hugo/content/products/*.md'"
rm -rf "$OUT/site" && cp -a "$OUT/public-clean" "$OUT/site"
bash -c "$personalize" | tee "$OUT/personalize.log"

echo "== load before timing: $(uptime)"
hyperfine --warmup 1 --runs "$RUNS" --style basic --export-json "$OUT/hyperfine.json" \
    --command-name "hugo build" "$hugo_cmd" \
    --command-name "cohort personalize (fresh Hugo output)" --prepare "rm -rf $OUT/site && cp -a $OUT/public-clean $OUT/site" "$personalize" \
    --command-name "cohort personalize (second run, nothing to change)" "$personalize"
echo "== load after timing: $(uptime)"

echo "== peak memory (GNU time, one run each)"
# shellcheck disable=SC2086
/usr/bin/time -v $hugo_cmd 2>"$OUT/time-hugo.log" >/dev/null
rm -rf "$OUT/site" && cp -a "$OUT/public-clean" "$OUT/site"
/usr/bin/time -v bash -c "exec $personalize" 2>"$OUT/time-personalize.log" >/dev/null
for t in hugo personalize; do
    printf '%-12s peak RSS %s MB\n' "$t" "$(( $(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time-$t.log") / 1024 ))"
done
printf 'Hugo output: %s files, %s; personalized: %s files, %s\n' \
    "$(find "$OUT/public-clean" -type f | wc -l)" "$(du -sh "$OUT/public-clean" | cut -f1)" \
    "$(find "$OUT/site" -type f | wc -l)" "$(du -sh "$OUT/site" | cut -f1)"
echo "$(nproc) cores"
