#!/usr/bin/env bash
# The README's newcomer path on a clean clone of this repository: install with
# `cargo install --locked --path .`, `cohort init`, `cohort serve` (an edited product's new
# price arrives), `cohort check`, `cohort build`, and a look at the output and at git.
#   CARGO_TARGET_DIR        reuse a build folder (default: this checkout's target/)
#   COHORT_INSTALL_FLAGS    extra `cargo install` flags, e.g. --debug for a quicker local run
# Every wait has a deadline; the server it starts is stopped on exit.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "newcomer path: $*" >&2; exit 1; }
# Up to 15 s for a command to succeed.
within() { for _ in $(seq 150); do if "$@" >/dev/null 2>&1; then return 0; fi; sleep 0.1; done; return 1; }

echo "== clean clone and install"
git clone --quiet "$repo" "$work/clone"
# shellcheck disable=SC2086
(cd "$work/clone" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}" \
  cargo install --quiet --locked --path . --root "$work/prefix" ${COHORT_INSTALL_FLAGS:-})
export PATH="$work/prefix/bin:$PATH"
[ "$(command -v cohort)" = "$work/prefix/bin/cohort" ] || fail "cohort is not the installed binary"
cd "$work"

echo "== cohort init"
cohort init my-shop | tee init.out
grep -qx 'Next: cohort serve --root my-shop' init.out || fail "no 'Next: cohort serve --root my-shop' line"
for f in shop.toml README.md .gitignore products/linen-apron.md; do
  [ -f "my-shop/$f" ] || fail "init wrote no $f"
done

echo "== cohort serve, then edit a product"
cohort serve --root my-shop -p 0 >serve.out 2>&1 &
serve_pid=$!
within grep -q 'Serving on http://127.0.0.1:' serve.out || fail "serve did not start: $(cat serve.out)"
url="$(grep -o 'http://127.0.0.1:[0-9]*' serve.out | head -n 1)"
page() { curl -fsS --max-time 5 "$url/products/linen-apron/" | grep -q "$1"; }
within page '€34.00' || fail "the served product page shows no €34.00"
sed -i 's/^price = "34.00"/price = "36.00"/' my-shop/products/linen-apron.md
within page '€36.00' || fail "the edited price did not arrive: $(cat serve.out)"
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""

echo "== cohort check and cohort build"
cohort check --root my-shop || fail "the new shop fails its check"
cohort build --root my-shop
for f in index.html products/linen-apron/index.html privacy/index.html preferences/index.html _headers sitemap.xml cohort.js; do
  [ -f "my-shop/public/$f" ] || fail "the build wrote no $f"
done
grep -q '€36.00' my-shop/public/products/linen-apron/index.html || fail "the built page lacks the edited price"
grep -q 'Receipts are not kept for this shop' my-shop/public/preferences/index.html || fail "the preferences page does not say receipts are not kept"
cohort build --root my-shop >/dev/null   # a second build keeps .public.cohort-old beside the output

echo "== git sees the sources, not the output"
git -C my-shop init --quiet
status="$(git -C my-shop status --porcelain --untracked-files=all)"
if grep -q 'public' <<<"$status"; then fail "git sees build output: $status"; fi
grep -q 'products/linen-apron.md' <<<"$status" || fail "git does not see the products: $status"
echo "== newcomer path passed"
