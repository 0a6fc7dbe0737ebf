#!/usr/bin/env bash
# Writes screenshots of the example shop (home, a listing, a product page; 390 and 1280 px;
# for everyone and for one cohort) into OUT (default docs/screenshots/, not committed), with
# the real `cohort` binary and headless Chromium.
#   bash docs/screenshots.sh [OUT] [COHORT_ID]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$repo/docs/screenshots}")"
cd "$repo/tests/browser"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
if [ -z "${COHORT_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet --bin cohort)
  export COHORT_BIN="$repo/target/debug/cohort"
fi
node screenshots.js "$out" "${2:-}"
