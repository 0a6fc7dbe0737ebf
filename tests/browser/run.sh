#!/usr/bin/env bash
# Runs the browser suite: installs its npm packages if needed, builds the cohort binary,
# and the photo generator (examples/gen_photos.rs, for test/images.test.js), and runs every
# test in headless Chromium. Fails (never skips) when Chromium is missing.
#   CHROMIUM=/path/to/chromium   another Chromium (default /usr/bin/chromium)
#   COHORT_BIN=/path/to/cohort   use this binary instead of building one
#   COHORT_SHOP=/path/to/shop    test another shop (default example-shop/, else the fixture)
#   GEN_PHOTOS_BIN=/path/to/gen_photos   use this photo generator instead of building one
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "error: Chromium not found at $chromium; install it with: apt-get install -y chromium" >&2
  exit 1
fi
command -v node >/dev/null || { echo "error: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is not installed" >&2; exit 1; }
cd "$here"
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# The vendored Eleventy site's own pinned Eleventy (tests/sites/eleventy-base-blog/package-lock.json).
eleventy_site="$repo/tests/sites/eleventy-base-blog"
if [ ! -d "$eleventy_site/node_modules/@11ty/eleventy" ] || [ "$eleventy_site/package-lock.json" -nt "$eleventy_site/node_modules/.package-lock.json" ]; then
  (cd "$eleventy_site" && npm ci --no-audit --no-fund)
fi
if [ -z "${COHORT_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet --bin cohort)
  export COHORT_BIN="$repo/target/debug/cohort"
fi
# test/images.test.js writes its 3000 px photos with examples/gen_photos.rs.
if [ -z "${GEN_PHOTOS_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet --example gen_photos)
  export GEN_PHOTOS_BIN="$repo/target/debug/examples/gen_photos"
fi
export CHROMIUM="$chromium"
exec node --test --test-concurrency=1 --test-timeout=600000 test/
