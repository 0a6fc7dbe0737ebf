#!/usr/bin/env bash
# Image processing: Cohort vs Hugo on the same 1,000 generated photos of 3000x2000.
#
#   bash bench/images.sh                 # from anywhere
#   PHOTOS=200 bash bench/images.sh      # a quicker run
#   WEBP_ONLY=0 bash bench/images.sh     # skip the WebP-only Cohort run
#   SKIP_BUILD=1 bash bench/images.sh    # use the release binaries already in target/
#
# Cohort publishes each photo at 320, 640, 960, 1280 and 1920 px in WebP and JPEG (10
# encodes); Hugo is asked for `.Resize "Wx webp q80"` at the same widths (5 encodes), so a
# WebP-only Cohort run ([images] formats = ["webp"]) is measured as well.
# Reports wall time and peak memory (GNU time), a rebuild with the image cache, and the same
# shop without images (what the cache adds to a rebuild). Needs hugo (extended: WebP) and
# /usr/bin/time; on Debian: apt-get install -y hugo time.
# Everything goes under $WORK (default /tmp/cohort-bench-images, removed at the end unless
# KEEP=1); disk use peaks at about 2.5 GB for 1,000 photos (printed as it goes).
set -euo pipefail

cd "$(dirname "$0")/.."
PHOTOS=${PHOTOS:-1000}
WORK=${WORK:-/tmp/cohort-bench-images}
WEBP_ONLY=${WEBP_ONLY:-1}

missing=()
command -v hugo >/dev/null || missing+=(hugo)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]}; install with: apt-get install -y ${missing[*]}" >&2
    exit 2
fi
hugo version | grep -q extended || { echo "hugo is not the extended edition (no WebP encoder)" >&2; exit 2; }

[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet --bin cohort --example gen_photos
cohort=$PWD/target/release/cohort
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT
rm -rf "$WORK"
mkdir -p "$WORK"
shop=$WORK/shop
plain=$WORK/plain
hugo_site=$WORK/hugo

echo "== generating $PHOTOS photos of 3000x2000 into $shop/static/images"
target/release/examples/gen_photos --count "$PHOTOS" --out "$shop/static/images"
du -sh "$shop/static/images"

write_shop() { # DIR WITH_IMAGES
    mkdir -p "$1/products"
    cat >"$1/shop.toml" <<TOML
title = "Photo bench"
base_url = "https://bench.example.com"
currency = "EUR"
[privacy]
policy_version = "2026-11-01"
controller = "Bench Ltd"
contact = "privacy@bench.example.com"
TOML
    for i in $(seq 0 $((PHOTOS - 1))); do
        n=$(printf %04d "$i")
        img=""
        [ "$2" = 1 ] && img="images = [\"p$n.jpg\"]"
        printf '+++\ntitle = "Photo %s"\nsku = "P-%s"\nprice = "10.00"\ncategory = "photos"\n%s\n+++\nA photo.\n' "$n" "$n" "$img" >"$1/products/p$n.md"
    done
}
write_shop "$shop" 1
write_shop "$plain" 0

measure() { # LABEL CMD...
    local label=$1; shift
    /usr/bin/time -v "$@" >"$WORK/last.log" 2>&1 || { cat "$WORK/last.log" >&2; exit 1; }
    local wall rss
    wall=$(grep "Elapsed (wall clock)" "$WORK/last.log" | awk '{print $NF}')
    rss=$(grep "Maximum resident set size" "$WORK/last.log" | awk '{print $NF}')
    printf '%-44s wall %10s   peak RSS %6d MB\n' "$label" "$wall" $((rss / 1024))
    grep -h "^Images:" "$WORK/last.log" | sed 's/^/    /' || true
}

echo "== Cohort ($(nproc) cores), WebP + JPEG at 320 640 960 1280 1920"
measure "cohort first build (empty image cache)" "$cohort" build --root "$shop"
echo "    disk: cache $(du -sh "$shop/.cohort-cache" | cut -f1), site $(du -sh "$shop/public" | cut -f1) (hard links into the cache), total $(du -sh "$WORK" | cut -f1)"
for i in 1 2 3; do measure "cohort rebuild, nothing changed ($i)" "$cohort" build --root "$shop"; done
"$cohort" build --root "$plain" >/dev/null 2>&1
for i in 1 2 3; do measure "cohort rebuild of the same shop without images ($i)" "$cohort" build --root "$plain"; done
rm -rf "$shop/.cohort-cache" "$shop/public" "$shop/.public.cohort-old" "$shop/.public.cohort-tmp"

echo "== Hugo $(hugo version | awk '{print $2}'): .Resize \"Wx webp q80\" at the same widths"
mkdir -p "$hugo_site/layouts"
cat >"$hugo_site/hugo.toml" <<TOML
baseURL = "https://bench.example.com/"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404", "section", "page"]
[imaging]
quality = 80
[[module.mounts]]
source = "$shop/static/images"
target = "assets/photos"
TOML
cat >"$hugo_site/layouts/index.html" <<'HTML'
{{ range resources.Match "photos/*.jpg" }}{{ $img := . }}<picture>{{ range slice 320 640 960 1280 1920 }}{{ with $img.Resize (printf "%dx webp q80" .) }}<img src="{{ .RelPermalink }}" width="{{ .Width }}" height="{{ .Height }}">{{ end }}{{ end }}</picture>
{{ end }}
HTML
measure "hugo first build (empty resources cache)" hugo --source "$hugo_site" --quiet
echo "    disk: resources $(du -sh "$hugo_site/resources" | cut -f1), site $(du -sh "$hugo_site/public" | cut -f1), total $(du -sh "$WORK" | cut -f1)"
measure "hugo rebuild (resources cache kept)" hugo --source "$hugo_site" --quiet
echo "    webp files: $(find "$hugo_site/public" -name '*.webp' | wc -l)"
rm -rf "$hugo_site/public" "$hugo_site/resources"

if [ "$WEBP_ONLY" = 1 ]; then
    printf '[images]\nformats = ["webp"]\n' >>"$shop/shop.toml"
    echo "== Cohort, WebP only (what Hugo is asked for)"
    measure "cohort first build, WebP only" "$cohort" build --root "$shop"
    rm -rf "$shop/.cohort-cache" "$shop/public" "$shop/.public.cohort-old" "$shop/.public.cohort-tmp"
fi

