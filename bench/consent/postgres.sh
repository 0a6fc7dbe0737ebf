#!/bin/sh
# Load benchmark of `cohort consent-server --db postgres://...` (not a test): a private
# PostgreSQL cluster in a temporary folder (initdb; run as the postgres user when started as
# root; Unix socket only; fsync and synchronous_commit on), then wrk POST /v1/consent on
# loopback. SERVERS=2 runs two servers on the one database and loads both (wrk on each, half
# the connections each). Needs wrk, PostgreSQL (Debian `postgresql`) and a release build.
set -eu
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/cohort}
DURATION=${DURATION:-30s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort | tail -n 1)}
DIR=$(mktemp -d)
AS=""
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR"; AS="runuser -u postgres --"; fi
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  $AS "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
$AS "$PG_BIN/initdb" -D "$DIR/data" -U cohort --auth=trust -E UTF8 >/dev/null
$AS "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/pg.log" -w \
  -o "-k $DIR -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=200" start >/dev/null
"$PG_BIN/psql" -h "$DIR" -U cohort -d postgres -qc 'CREATE DATABASE cohort'
URL="postgresql://cohort@localhost/cohort?host=$DIR"

# Not in a command substitution: the server must be a child of this shell (PIDS, cleanup).
start_server() {
  "$BIN" consent-server --db "$URL" --bind 127.0.0.1:0 --allow-origin https://shop.example \
    --rate-limit 0 >"$DIR/out$1" 2>"$DIR/server$1.log" &
  PIDS="$PIDS $!"
  i=0
  while [ ! -s "$DIR/out$1" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
}
SERVERS=${SERVERS:-1}
start_server 1
URL1=$(sed -n 's/^listening on //p' "$DIR/out1")
echo "PostgreSQL $("$PG_BIN/postgres" --version), server $URL1"
if [ "$SERVERS" = 2 ]; then
  start_server 2
  URL2=$(sed -n 's/^listening on //p' "$DIR/out2")
  echo "second server $URL2; $((CONNS / 2)) connections each"
  wrk -t1 -c$((CONNS / 2)) -d"$DURATION" --latency -s bench/consent/post_consent.lua "$URL1" >"$DIR/wrk1" &
  W1=$!
  wrk -t1 -c$((CONNS / 2)) -d"$DURATION" --latency -s bench/consent/post_consent.lua "$URL2" >"$DIR/wrk2"
  wait "$W1"
  cat "$DIR/wrk1" "$DIR/wrk2"
else
  echo "== POST /v1/consent: wrk -t$THREADS -c$CONNS -d$DURATION --latency"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/consent/post_consent.lua "$URL1"
fi
echo "== records stored: $("$PG_BIN/psql" -h "$DIR" -U cohort -d cohort -tAc 'SELECT count(*) FROM consent')"
echo "== 4xx/5xx answers in the logs: $(cat "$DIR"/server*.log | grep -cE ' [45][0-9][0-9] [0-9.]+ms' || true)"
