#!/usr/bin/env bash
# Builds the reference book in docs/ with MkDocs (pinned below) into a temporary folder, or
# into $1 if given. `strict: true` in mkdocs.yml turns every warning into a failure, so a
# broken link or anchor between pages, or a page left out of the navigation, fails it.
# MkDocs is installed with pip into a virtual environment the first time
# (COHORT_DOCS_VENV, default target/docs-venv).
set -euo pipefail
MKDOCS_VERSION=1.6.1
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${COHORT_DOCS_VENV:-$repo/target/docs-venv}"
if [ "$("$venv/bin/mkdocs" --version 2>/dev/null | awk '{print $3}')" != "$MKDOCS_VERSION" ]; then
  echo "== installing mkdocs $MKDOCS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "mkdocs==$MKDOCS_VERSION"
fi
out="${1:-}"
if [ -z "$out" ]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
cd "$repo"
"$venv/bin/mkdocs" build --strict --clean --config-file mkdocs.yml --site-dir "$out"
echo "docs built into $out"
