// Product photos as a merchant has them (#19): a product of the example shop with four
// photo-like 3000 px JPEGs (three landscape, one portrait, from examples/gen_photos: sensor
// noise, so they do not compress trivially), built by the real `cohort` binary. Its page must
// keep Lighthouse (mobile) performance at 0.95 or more, load its first image eagerly with
// fetchpriority=high and the others lazily, let a phone download a resized file rather than
// the 3000 px source, and give every image the width/height of the file it serves.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { start, stop } = require('../lib/harness');
const { lighthouseRun, failedAudits, bestPerformance } = require('../lib/lighthouse');
const pageHelpers = require('../lib/page');

const REPO = path.resolve(__dirname, '..', '..', '..');
const GEN_PHOTOS = process.env.GEN_PHOTOS_BIN || path.join(REPO, 'target', 'debug', 'examples', 'gen_photos');
const SLUG = 'field-camera-bag';
const PHOTOS = ['front.jpg', 'side.jpg', 'open.jpg', 'strap.jpg'];
// Lighthouse's mobile emulation (Moto G Power): 412 x 823 CSS px at a device pixel ratio of 1.75.
const MOBILE = { viewport: { width: 412, height: 823 }, deviceScaleFactor: 1.75, isMobile: true, hasTouch: true };

/** `gen_photos` into `dir`: `count` different scenes; returns their files. */
function photos(dir, count, width, height) {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync(GEN_PHOTOS, ['--count', String(count), '--width', String(width), '--height', String(height), '--out', dir], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `${GEN_PHOTOS} failed (tests/browser/run.sh builds it: cargo build --example gen_photos): ${r.error || ''}${r.stderr}`);
  const files = fs.readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort().map((n) => path.join(dir, n));
  assert.equal(files.length, count, `${GEN_PHOTOS} wrote ${files.length} photos into ${dir}`);
  return files;
}

/** Adds products/SLUG/ to the copied example shop: four photos of 3000 px, one portrait. */
async function addPhotoProduct(shop) {
  const bundle = path.join(shop, 'products', SLUG);
  await fsp.mkdir(bundle, { recursive: true });
  // Three landscape scenes and one portrait, each a different picture.
  const files = [...photos(path.join(shop, '..', 'gen-landscape'), 3, 3000, 2000), ...photos(path.join(shop, '..', 'gen-portrait'), 1, 2000, 3000)];
  for (const [i, name] of PHOTOS.entries()) await fsp.copyFile(files[i], path.join(bundle, name));
  const images = PHOTOS.map((n, i) => `{ src = "${n}", alt = "The Field Camera Bag, photo ${i + 1}" }`).join(', ');
  await fsp.writeFile(
    path.join(bundle, 'index.md'),
    `+++
title = "Field Camera Bag"
sku = "FF-PK-CAM1"
price = "149.00"
category = "packs"
tags = ["outdoor", "packs"]
images = [${images}]
availability = "in_stock"
date = 2026-05-02
summary = "A waxed canvas camera bag with a padded insert, photographed in full size."
buy_url = "https://buy.stripe.com/test_fZe8wx9VT3su6VifZd"
+++
A waxed canvas bag for one body and two lenses, with a removable padded insert.
`,
  );
}

describe('product page with four 3000 px photos', () => {
  let h;
  const url = () => `${h.origin}/products/${SLUG}/`;
  before(async () => {
    h = await start({ prepare: addPhotoProduct });
    assert.ok(fs.existsSync(path.join(h.site, 'products', SLUG, 'index.html')), `no page for ${SLUG}:\n${h.buildOutput}`);
  });
  after(async () => {
    if (h) await stop(h);
  });

  it('the first image is eager with fetchpriority=high, every other image lazy', async () => {
    const { context, page } = await pageHelpers.fresh(h);
    await pageHelpers.open(h, page, `/products/${SLUG}/`);
    const imgs = await page.$$eval('img', (els) => els.map((e) => ({ src: e.getAttribute('src'), loading: e.getAttribute('loading'), priority: e.getAttribute('fetchpriority'), main: !!e.closest('.gallery-main') })));
    await context.close();
    const main = imgs.filter((i) => i.main);
    assert.equal(main.length, PHOTOS.length, `gallery images: ${JSON.stringify(imgs)}`);
    assert.match(main[0].src, /\/_images\/front-1920-[0-9a-f]+\.jpg$/, `first gallery image: ${main[0].src}`);
    assert.deepEqual({ loading: imgs[0].loading, priority: imgs[0].priority, src: imgs[0].src }, { loading: null, priority: 'high', src: main[0].src }, 'the page\'s first image is the first photo, eager and high priority');
    const others = imgs.slice(1).filter((i) => i.loading !== 'lazy' || i.priority !== null);
    assert.deepEqual(others, [], 'every image after the first is lazy, without fetchpriority');
  });

  it('a phone downloads a resized file for the first (LCP) image, never the 3000 px source', async () => {
    // A context with Lighthouse's phone, routed like pageHelpers.fresh: loopback only.
    const phone = await h.browser.newContext({ ...MOBILE, serviceWorkers: 'block' });
    phone.setDefaultTimeout(10_000);
    const seen = [];
    phone.on('requestfinished', (r) => seen.push(r.url()));
    await phone.route((u) => !/^https?:\/\/127\.0\.0\.1(:\d+)?\//.test(u.href), (route) => route.fulfill({ status: 204, body: '' }));
    await phone.addInitScript(() => {
      window.__lcp = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__lcp.push({ url: e.url, size: e.size, element: e.element ? e.element.tagName : null });
      }).observe({ type: 'largest-contentful-paint', buffered: true });
    });
    const p = await phone.newPage();
    await pageHelpers.open(h, p, `/products/${SLUG}/`);
    const first = await p.$eval('.gallery-main img', async (e) => {
      // naturalWidth of a srcset image is in CSS pixels (divided by its density): the file's
      // own pixels come from decoding it alone.
      const file = new Image();
      file.src = e.currentSrc;
      await file.decode();
      return { current: e.currentSrc, pixels: [file.naturalWidth, file.naturalHeight], box: e.getBoundingClientRect().width, dpr: window.devicePixelRatio, complete: e.complete };
    });
    const lcp = await p.evaluate(() => window.__lcp);
    await phone.close();
    assert.equal(first.dpr, MOBILE.deviceScaleFactor);
    assert.ok(first.complete, 'the first image loaded');
    const last = lcp[lcp.length - 1];
    assert.ok(last, 'a largest-contentful-paint entry');
    assert.equal(last.url, first.current, `the LCP element is the first photo (LCP entries: ${JSON.stringify(lcp)})`);
    const file = new URL(first.current).pathname;
    const m = /^\/_images\/front-(\d+)-[0-9a-f]+\.webp$/.exec(file);
    assert.ok(m, `the phone took a resized WebP of _images/, not ${file}`);
    const width = Number(m[1]);
    assert.ok(seen.includes(first.current), `${file} was downloaded (requests: ${seen.join(', ')})`);
    console.log(`phone (${MOBILE.viewport.width} px at ${first.dpr}x, slot ${first.box} px): first image ${file}, ${first.pixels.join('x')}`);
    assert.equal(first.pixels[0], width, 'the file is as wide as its name says');
    assert.ok(width < 3000 && width < 1920, `a ${first.box} px wide slot at ${first.dpr}x got a ${width} px file`);
    assert.ok(width >= first.box * first.dpr * 0.75, `the ${width} px file is not sharp enough for a ${first.box} px slot at ${first.dpr}x`);
    const sources = seen.filter((u) => /\/products\/field-camera-bag\/[^/]+\.jpg$/.test(new URL(u).pathname));
    assert.deepEqual(sources, [], 'no source path (the largest fallback) is downloaded');
    const big = seen.filter((u) => /-(1920|1280)-[0-9a-f]+\.(webp|jpg)$/.test(u));
    assert.deepEqual(big, [], 'no 1280 or 1920 px file is downloaded on a phone');
  });

  it('width and height of every image are those of the files it serves', async () => {
    const { context, page } = await pageHelpers.fresh(h);
    await pageHelpers.open(h, page, `/products/${SLUG}/`);
    // Every candidate of every <img> and <source>, decoded by the browser itself.
    const problems = await page.evaluate(async () => {
      const out = [];
      const size = async (u) => {
        const i = new Image();
        i.src = u;
        await i.decode();
        return [i.naturalWidth, i.naturalHeight];
      };
      for (const img of document.querySelectorAll('.product-media img')) {
        const w = Number(img.getAttribute('width'));
        const h = Number(img.getAttribute('height'));
        const [sw, sh] = await size(img.getAttribute('src'));
        if (sw !== w || sh !== h) out.push(`${img.getAttribute('src')}: attributes ${w}x${h}, file ${sw}x${sh}`);
        const sets = [img.getAttribute('srcset'), ...[...(img.closest('picture') || img).querySelectorAll('source')].map((s) => s.getAttribute('srcset'))];
        for (const set of sets.filter(Boolean)) {
          for (const c of set.split(',').map((s) => s.trim().split(/\s+/))) {
            const [cw, ch] = await size(c[0]);
            if (`${cw}w` !== c[1]) out.push(`${c[0]}: descriptor ${c[1]}, file ${cw} px wide`);
            // Same shape as the attributes say, to the pixel the resize rounds to.
            if (Math.abs(ch - (cw * h) / w) > 1) out.push(`${c[0]}: ${cw}x${ch}, not the shape of ${w}x${h}`);
          }
        }
      }
      return out;
    });
    const dims = await page.$$eval('.gallery-main img', (els) => els.map((e) => [Number(e.getAttribute('width')), Number(e.getAttribute('height'))]));
    await context.close();
    assert.deepEqual(problems, []);
    // The largest width is 1920 (`[images] widths`): 1920 x 1280 from 3000 x 2000, and the
    // portrait keeps its shape, 1920 x 2880 from 2000 x 3000.
    assert.deepEqual(dims, [[1920, 1280], [1920, 1280], [1920, 1280], [1920, 2880]]);
  });

  it('Lighthouse (mobile) performance at least 0.95 on the product page', async () => {
    const [{ lhr }] = await lighthouseRun([url()], ['performance']);
    const { score, scores, last } = await bestPerformance(url(), lhr);
    const lcp = last.audits['largest-contentful-paint'];
    const summary = `scores ${scores.join(', ')}; LCP ${lcp.displayValue}, CLS ${last.audits['cumulative-layout-shift'].displayValue}, TBT ${last.audits['total-blocking-time'].displayValue}; not passed: ${failedAudits(last, 'performance').join(', ')}`;
    console.log(`Lighthouse ${url()}: ${summary}`);
    assert.ok(score >= 0.95, `performance ${score} (${summary})`);
  });
});
