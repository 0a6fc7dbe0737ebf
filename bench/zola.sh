#!/usr/bin/env bash
# Builds Zola from its public source for bench/build-vs-generators.sh.
#
#   ZOLA_SRC=DIR bash bench/zola.sh
#
# ZOLA_SRC is either a checkout of getzola/zola (built as it is: check out the tag first) or a
# git directory holding it (a bare clone or a mirror), from which ZOLA_TAG (default v0.22.1)
# is extracted with `git archive` into ZOLA_WORK (default bench/out/zola-src, gitignored).
# The extraction leaves out docs/ (Zola's own web site with its theme screenshots, which a
# partial mirror may not hold; the build does not read it on Linux). An earlier build's
# ZOLA_WORK/target is kept, so running this again only rebuilds what changed.
#
# The build is `cargo build --release --locked` with Zola's own release profile (fat LTO, one
# codegen unit: the profile its releases are built with) in the source's own target dir,
# under `nice -n ${NICE:-10}`; it takes a long time on a busy 2-core machine. Needs cargo and
# network access to crates.io. The last line printed is the binary's path.
set -euo pipefail

cd "$(dirname "$0")/.."
: "${ZOLA_SRC:?set ZOLA_SRC to a checkout or git directory of getzola/zola}"
ZOLA_TAG=${ZOLA_TAG:-v0.22.1}
ZOLA_WORK=${ZOLA_WORK:-bench/out/zola-src}
NICE=${NICE:-10}

if [ -f "$ZOLA_SRC/Cargo.toml" ]; then
    src=$ZOLA_SRC
    echo "== building the checkout $src as it is" >&2
elif git --git-dir="$ZOLA_SRC" rev-parse --verify --quiet "$ZOLA_TAG^{commit}" >/dev/null; then
    src=$ZOLA_WORK
    echo "== extracting $ZOLA_TAG from $ZOLA_SRC into $src (without docs/)" >&2
    mkdir -p "$src"
    find "$src" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
    git --git-dir="$ZOLA_SRC" archive "$ZOLA_TAG" -- . ':(exclude)docs' | tar -x -C "$src"
else
    echo "error: $ZOLA_SRC is neither a checkout (no Cargo.toml) nor a git directory with $ZOLA_TAG" >&2
    echo "  tags there: $(git --git-dir="$ZOLA_SRC" tag 2>/dev/null | grep -E '^v0\.2' | tr '\n' ' ')" >&2
    exit 2
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$src/Cargo.toml" | head -1)
if [ "v$version" != "$ZOLA_TAG" ]; then
    echo "note: $src/Cargo.toml says version $version, not $ZOLA_TAG" >&2
fi

echo "== cargo build --release --locked in $src (nice -n $NICE)" >&2
(cd "$src" && CARGO_TARGET_DIR="$PWD/target" nice -n "$NICE" cargo build --release --locked)
bin=$(cd "$src" && pwd)/target/release/zola
"$bin" --version >&2
echo "$bin"
