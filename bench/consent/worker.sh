#!/bin/sh
# Requests per second of the Cloudflare Worker (`cohort consent-worker`) under `wrangler dev`
# with its local D1: a LOCAL figure of workerd and miniflare's D1 simulation on this machine,
# not a measure of Cloudflare's network. Needs wrk, tests/runtimes' wrangler (npm ci
# --prefix tests/runtimes) and a build of cohort.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${BIN:-target/release/cohort}
DURATION=${DURATION:-30s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18787}
WRANGLER=$ROOT/tests/runtimes/node_modules/.bin/wrangler
export WRANGLER_SEND_METRICS=false CI=1
DIR=$(mktemp -d)
# wrangler runs workerd as children: it gets a session of its own, ended as a group.
trap '[ -s "$DIR/pid" ] && kill -TERM -"$(cat "$DIR/pid")" 2>/dev/null; sleep 3; rm -rf "$DIR"' EXIT
"$BIN" consent-worker --out "$DIR/w" --allow-origin https://shop.example --rate-limit 0 >/dev/null
cd "$DIR/w"
"$WRANGLER" d1 migrations apply cohort-consent --local --persist-to "$DIR/state" >/dev/null
export WRANGLER DIR PORT
setsid sh -c 'echo $$ >"$DIR/pid"; exec "$WRANGLER" dev --local --ip 127.0.0.1 --port "$PORT" \
  --inspector-port $((PORT + 1)) --persist-to "$DIR/state"' >"$DIR/dev.log" 2>&1 &
i=0
until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -gt 600 ] && { echo "wrangler dev did not start" >&2; exit 1; }; sleep 0.2
done
cd "$ROOT"
echo "== LOCAL figure: POST /v1/consent on wrangler dev: wrk -t$THREADS -c$CONNS -d$DURATION --latency"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/consent/post_consent.lua "http://127.0.0.1:$PORT"
echo "== non-2xx answers in wrangler's log: $(grep -cE '\] POST /v1/consent [45][0-9][0-9]' "$DIR/dev.log" || true)"
