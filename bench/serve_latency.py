#!/usr/bin/env python3
"""Measures `cohort serve` latency: from a file write to the changed bytes being served.

Usage: serve_latency.py COHORT_BINARY SHOP_DIR [--edits N]
Starts `cohort serve --root SHOP -p 0`, then (1) edits one product's summary N times (a
different product each time, written by rename as editors do) and polls the product page
until the new summary is served; (2) edits a template used by every product page and polls
until a product page shows it. Prints the figures; kills the server at the end.
"""
import argparse, os, statistics, subprocess, sys, time, urllib.request

p = argparse.ArgumentParser()
p.add_argument("binary")
p.add_argument("shop")
p.add_argument("--edits", type=int, default=30)
p.add_argument("--gap", type=float, default=0.5, help="seconds between edits (let background recommendations finish)")
p.add_argument("--no-template", action="store_true")
a = p.parse_args()

proc = subprocess.Popen([a.binary, "serve", "--root", a.shop, "-p", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    t0 = time.time()
    first = proc.stdout.readline().strip()
    port = int(first.rsplit(":", 1)[1])
    print(f"first build + listen: {time.time() - t0:.2f} s ({first})")

    def get(path):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.read().decode()

    def wait(path, needle, limit=600.0):
        start = time.perf_counter()
        while time.perf_counter() - start < limit:
            if needle in get(path):
                return
            time.sleep(0.001)
        raise SystemExit(f"timeout waiting for {needle!r} on {path}")

    def write(path, text):
        tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)

    files = sorted(f for f in os.listdir(os.path.join(a.shop, "products")) if f.endswith(".md"))
    lat = []
    for k in range(a.edits):
        name = files[(len(files) // 2 + k * 37) % len(files)]
        slug = name[:-3]
        path = os.path.join(a.shop, "products", name)
        text = open(path).read()
        start_line = [l for l in text.splitlines() if l.startswith("summary = ")][0]
        token = f"bench-edit-{k}-{time.time_ns()}"
        t = time.perf_counter()
        write(path, text.replace(start_line, f'summary = "Edited {token}."', 1))
        wait(f"/products/{slug}/", token)
        lat.append((time.perf_counter() - t) * 1000)
        time.sleep(a.gap)
    lat.sort()
    print(f"summary edit -> served: n={len(lat)} median {statistics.median(lat):.1f} ms, "
          f"min {lat[0]:.1f} ms, p90 {lat[int(len(lat) * 0.9) - 1]:.1f} ms, max {lat[-1]:.1f} ms")

    if a.no_template:
        raise SystemExit(0)
    tdir = os.path.join(a.shop, "templates")
    os.makedirs(tdir, exist_ok=True)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    base = open(os.path.join(repo, "themes/default/templates/product.html")).read()
    times = []
    for k in range(1):
        token = f"template-edit-{k}-{time.time_ns()}"
        t = time.perf_counter()
        write(os.path.join(tdir, "product.html"), base.replace("{% endblock %}", f"<!-- {token} -->{{% endblock %}}", 1))
        wait(f"/products/{files[-1][:-3]}/", token)
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(1.0)
    print(f"product template edit -> served (every product page rendered again): "
          + ", ".join(f"{x:.0f} ms" for x in times))
    os.remove(os.path.join(tdir, "product.html"))
    time.sleep(3)
finally:
    proc.kill()
    out, err = proc.communicate(timeout=30)
    lines = [l for l in err.splitlines() if "changed:" in l or "timings" in l or "Built" in l]
    print("server lines (last 12):")
    for l in lines[-12:]:
        print("  " + l)
