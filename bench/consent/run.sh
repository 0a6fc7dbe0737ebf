#!/bin/sh
# Load benchmark of `cohort consent-server` (not a test). Needs wrk (apt-get install -y wrk)
# and a release build (cargo build --release). Runs on loopback with a fresh database in a
# temporary directory, --rate-limit 0, logs to a file; prints wrk's summary for each run.
set -eu
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/cohort}
DURATION=${DURATION:-20s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
DIR=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT

"$BIN" consent-server --db "$DIR/consent.db" --bind 127.0.0.1:0 \
  --allow-origin https://shop.example --rate-limit 0 >"$DIR/out" 2>"$DIR/server.log" &
PID=$!
i=0
while [ ! -s "$DIR/out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL=$(sed -n 's/^listening on //p' "$DIR/out")
echo "server $URL (pid $PID), db $DIR/consent.db"

echo "== POST /v1/consent: wrk -t$THREADS -c$CONNS -d$DURATION --latency"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/consent/post_consent.lua "$URL"
echo "== GET /v1/stats: wrk -t$THREADS -c$CONNS -d$DURATION --latency"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/consent/get_stats.lua "$URL"

echo "== records stored: $(sqlite3 "$DIR/consent.db" 'SELECT count(*) FROM consent')"
echo "== 4xx/5xx answers in the log: $(grep -cE ' [45][0-9][0-9] [0-9.]+ms' "$DIR/server.log" || true)"
