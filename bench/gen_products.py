#!/usr/bin/env python3
"""Writes a synthetic shop for the serve benchmark: N products, C cohorts, 8 categories.

Stand-in for `cargo run --release --example gen_catalog` (not on main when the benchmark
was written). Usage: gen_products.py OUT_DIR [--products N] [--cohorts C]
"""
import argparse, os, random, shutil

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--products", type=int, default=10000)
p.add_argument("--cohorts", type=int, default=8)
a = p.parse_args()
rng = random.Random(7)
cats = ["tents", "packs", "shoes", "jackets", "kitchen", "textiles", "tools", "lights"]
tags = ["outdoor", "hiking", "camping", "running", "winter", "summer", "kitchen", "home", "travel", "kids",
        "wool", "steel", "light", "heavy", "rain", "sun", "gift", "sale", "new", "classic"]
words = "light strong warm dry quick quiet small large bright dark soft hard simple honest sturdy packable".split()
if os.path.exists(a.out):
    shutil.rmtree(a.out)
os.makedirs(os.path.join(a.out, "products"))
os.makedirs(os.path.join(a.out, "pages"))
with open(os.path.join(a.out, "shop.toml"), "w") as f:
    f.write('title = "Bench Shop"\nbase_url = "https://bench.example.com"\nlanguage = "en"\ncurrency = "EUR"\n'
            'description = "Synthetic catalog."\npaginate_by = 24\n\n[privacy]\npolicy_version = "2026-11-01"\n'
            'controller = "Bench Ltd"\ncontact = "privacy@bench.example.com"\n\n[personalization]\n'
            'page_variants = ["home", "category"]\n')
    for c in range(a.cohorts):
        interests = [cats[c % len(cats)], tags[c % len(tags)]]
        f.write(f'\n[[cohorts]]\nid = "cohort-{c}"\nlabel = "Cohort {c}"\ninterests = {interests!r}\n'.replace("'", '"'))
with open(os.path.join(a.out, "pages", "about.md"), "w") as f:
    f.write('+++\ntitle = "About"\n+++\nAbout the bench shop.\n')
for i in range(a.products):
    cat = cats[i % len(cats)]
    t = sorted(set(rng.sample(tags, 3)))
    month = 1 + (i % 12)
    day = 1 + (i % 28)
    summary = " ".join(rng.sample(words, 5)).capitalize() + "."
    extra = ""
    if i % 10 == 0:
        c = i % a.cohorts
        extra = f'\n[cohort.cohort-{c}]\nsummary = "Picked for cohort {c}: {summary}"\n'
    with open(os.path.join(a.out, "products", f"product-{i:05}.md"), "w") as f:
        f.write(f'+++\ntitle = "Product {i:05}"\nsku = "SKU-{i:05}"\nprice = "{10 + i % 90}.{i % 100:02}"\n'
                f'category = "{cat}"\ntags = {t!r}\ndate = 2025-{month:02}-{day:02}\nsummary = "{summary}"\n{extra}+++\n'
                .replace("'", '"') + f"Product {i} body. " + " ".join(rng.sample(words, 8)) + "\n")
print(f"wrote {a.products} products and {a.cohorts} cohorts to {a.out}")
