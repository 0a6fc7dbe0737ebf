#!/usr/bin/env python3
"""Idle-connection flood against `cohort consent-server` (issue 14, item 2).

Starts the server on 127.0.0.1:0 with a fresh database, opens IDLE connections that never
send a byte (default 1000), then sends POSTS valid `POST /v1/consent` requests one after
another, each on a fresh connection, and prints the status counts and the latency of each
(connect to the end of the response): p50, p99, max. Stops the server at the end.

    ulimit -n 4096   # IDLE connections + a few
    python3 bench/consent/idle_flood.py [--bin target/debug/cohort] [--idle 1000] [--posts 50]

Exit status 1 when a POST is not answered 201 or the slowest takes over --target-ms (100).
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

UI = "3fa9c1d2b07e44aa" * 4
BODY = ('{"policy_version":"2026-11-01","purposes":{"personalization":true,"analytics":false},'
        '"ui":"%s"}' % UI).encode()


def post(addr):
    """(status, ms); status 0 when the connection failed or was reset."""
    started = time.perf_counter()
    try:
        return exchange(addr, started)
    except OSError:
        return 0, (time.perf_counter() - started) * 1000


def exchange(addr, started):
    with socket.create_connection(addr, timeout=30) as s:
        s.sendall(b"POST /v1/consent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    elapsed = (time.perf_counter() - started) * 1000
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/debug/cohort")
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--posts", type=int, default=50)
    ap.add_argument("--target-ms", type=float, default=100.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = open(os.path.join(tmp, "server.log"), "w")
        server = subprocess.Popen(
            [args.bin, "consent-server", "--db", os.path.join(tmp, "consent.db"), "--bind", "127.0.0.1:0",
             "--allow-origin", "https://shop.example", "--rate-limit", "0"],
            stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            line = server.stdout.readline().strip()
            host, port = line.removeprefix("listening on http://").rsplit(":", 1)
            addr = (host, int(port))
            idle = [socket.create_connection(addr, timeout=10) for _ in range(args.idle)]
            time.sleep(0.5)  # let the server accept every one of them
            results = [post(addr) for _ in range(args.posts)]
            for s in idle:
                s.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    statuses = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    times = sorted(t for _, t in results)
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"{args.idle} idle connections open; {args.posts} POSTs: statuses {statuses}; "
          f"p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {times[-1]:.1f} ms")
    ok = statuses.get(201, 0) == args.posts and times[-1] <= args.target_ms
    print("target met" if ok else f"TARGET MISSED (every POST 201 within {args.target_ms:.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
