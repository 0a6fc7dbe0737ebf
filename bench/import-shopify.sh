#!/usr/bin/env bash
# Times `cohort import shopify` on a generated Shopify product export (classic header
# dialect): ROWS rows in products of VARIANTS variants each (default 50,000 rows, 2,000
# products of 25 variants), every product with an HTML body, tags and two images, every
# 50th barcode in scientific notation. Prints wall time and peak RSS (GNU time -v).
#
#   apt-get install -y time          # the script installs nothing itself
#   cargo build --release --bin cohort
#   bash bench/import-shopify.sh     # ROWS=50000 VARIANTS=25
#
# Writes to bench/out/import/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-50000}
VARIANTS=${VARIANTS:-25}
BIN=${BIN:-target/release/cohort}
OUT=bench/out/import
[ -x "$BIN" ] || { echo "missing $BIN: cargo build --release --bin cohort" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time: apt-get install -y time" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT/shop"
printf 'title = "Bench"\nbase_url = "https://bench.example.com"\ncurrency = "EUR"\n' > "$OUT/shop/shop.toml"
python3 - "$ROWS" "$VARIANTS" > "$OUT/export.csv" <<'PY'
import sys
rows, per = int(sys.argv[1]), int(sys.argv[2])
print("Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,"
      "Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,"
      "Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,"
      "Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,"
      "Image Position,Image Alt Text,Gift Card,SEO Title,SEO Description,Variant Image,Variant Weight Unit,"
      "Cost per item,Status")
for r in range(rows):
    p, v = divmod(r, per)
    first = v == 0
    body = '"<h2>Item %d</h2><p>Made <strong>well</strong>, with care.</p><ul><li>One</li><li>Two</li></ul>"' % p if first else ""
    image = "https://cdn.shopify.com/s/files/1/item-%d-%d.jpg?v=1" % (p, v) if v < 2 else ""
    barcode = "4.00638E+12" if r % 50 == 0 else "40063813%05d" % (r % 100000)
    print(",".join([
        "item-%d" % p, "Item %d" % p if first else "", body, "Vendor" if first else "", "",
        "Gear" if first else "", '"outdoor, gear"' if first else "", "TRUE" if first else "",
        "Size" if first else "", "S%d" % v, "", "", "", "", "SKU-%d-%d" % (p, v), "100", "shopify",
        str(v % 4), "deny", "manual", "%d.%02d" % (10 + v, p % 100), "", "TRUE", "TRUE", barcode,
        image, str(v + 1) if image else "", "Photo %d" % v if image else "", "FALSE" if first else "",
        "", "", "", "g", "1.00", "active" if first else ""]))
PY
echo "export: $(wc -l < "$OUT/export.csv") lines, $(du -h "$OUT/export.csv" | cut -f1)"
/usr/bin/time -v "$BIN" import shopify "$OUT/export.csv" --root "$OUT/shop" 2> "$OUT/time.txt" >/dev/null || { tail -20 "$OUT/time.txt"; exit 1; }
grep -E "^Imported|more warnings" "$OUT/time.txt"
grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$OUT/time.txt"
echo "product files: $(ls "$OUT/shop/products" | wc -l)"
