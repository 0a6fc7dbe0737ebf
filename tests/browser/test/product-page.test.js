// The product page on a phone and a laptop, in headless Chromium: title, price, availability
// and the buy control come before the gallery on a phone; every photo keeps its own aspect
// ratio (portrait and landscape alike, sizes from the files); thumbnails move the gallery by
// keyboard; and nothing shifts while the page loads.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fsp = require('node:fs/promises');
const path = require('node:path');
const zlib = require('node:zlib');
const { start, stop } = require('../lib/harness');
const pageHelpers = require('../lib/page');

/** A plain RGB PNG of w×h with a vertical gradient: a real file the build reads sizes from. */
function png(w, h) {
  const crc = (buf) => {
    let c = ~0;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return ~c >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 3);
    for (let x = 0; x < w; x++) row.set([40 + (y * 180) / h, 90, 60 + (x * 120) / w], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

const PRODUCT = '/products/fernpack-28/';
const SHAPES = [[480, 360], [300, 600], [900, 300]];

describe('the product page', () => {
  let h;
  before(async () => {
    h = await start({
      prepare: async (shop) => {
        const dir = path.join(shop, 'products', 'fernpack-28');
        const images = [];
        for (const [i, [w, ht]] of SHAPES.entries()) {
          if (i === 0) continue;
          await fsp.writeFile(path.join(dir, `shape-${i}.png`), png(w, ht));
          images.push(`{ src = "shape-${i}.png", alt = "Fernpack 28, view ${i + 1}" }`);
        }
        const md = path.join(dir, 'index.md');
        const text = await fsp.readFile(md, 'utf8');
        await fsp.writeFile(md, text.replace(/^images = \[(.*)\]$/m, (_, first) => `images = [${first}, ${images.join(', ')}]`));
      },
    });
  });
  after(async () => {
    if (h) await stop(h);
  });

  it('puts title, price, availability and buy before the gallery on a phone', async () => {
    const { context, page } = await pageHelpers.fresh(h);
    await page.setViewportSize({ width: 390, height: 844 });
    await pageHelpers.open(h, page, PRODUCT);
    const y = (sel) => page.$eval(sel, (e) => e.getBoundingClientRect().top + window.scrollY);
    const gallery = await y('.gallery-main');
    for (const sel of ['.product-info h1', '.product-price', '.product-info .stock', '.product-info .buy']) {
      assert.ok((await y(sel)) < gallery, `${sel} comes after the gallery on a phone`);
    }
    await context.close();
  });

  it('keeps every photo\'s own aspect ratio and shifts nothing while loading', async () => {
    for (const width of [390, 1280]) {
      const { context, page } = await pageHelpers.fresh(h);
      await page.setViewportSize({ width, height: 800 });
      await pageHelpers.open(h, page, PRODUCT);
      const clsBefore = await page.evaluate(() => window.__cls);
      // The photos after the first are lazy: bring each slide into the gallery's view (as a
      // swipe does) and wait until every one has loaded.
      await page.$$eval('.gallery-slide', (slides) => slides.forEach((s) => s.parentElement.scrollTo({ left: s.offsetLeft - s.parentElement.offsetLeft })));
      await page.$eval('.gallery-main', (g) => g.scrollTo({ left: 0 }));
      await page.waitForFunction(() => [...document.querySelectorAll('.gallery-slide img')].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 30000 });
      const shown = await page.$$eval('.gallery-slide img', (imgs) => imgs.map((i) => ({ attr: [Number(i.getAttribute('width')), Number(i.getAttribute('height'))], natural: [i.naturalWidth, i.naturalHeight], box: [i.getBoundingClientRect().width, i.getBoundingClientRect().height] })));
      assert.equal(shown.length, SHAPES.length);
      for (const [i, s] of shown.entries()) {
        // The browser picks a file from the srcset (and reports its size scaled by the
        // candidate's density): the attributes must give the shape of whichever was chosen.
        const attrRatio = s.attr[0] / s.attr[1];
        const fileRatio = s.natural[0] / s.natural[1];
        assert.ok(Math.abs(attrRatio - fileRatio) / fileRatio < 0.01, `${width}px image ${i + 1}: width/height attributes ${s.attr.join('x')} are not the shape of the file ${s.natural.join('x')}`);
        const ratio = s.box[0] / s.box[1];
        const want = s.natural[0] / s.natural[1];
        assert.ok(Math.abs(ratio - want) / want < 0.02, `${width}px image ${i + 1}: shown at ${s.box.join('x')}, the file is ${s.natural.join('x')} (cropped or stretched)`);
      }
      assert.ok(clsBefore < 0.01, `${width}px: layout shift ${clsBefore} while loading`);
      const cls = await page.evaluate(() => window.__cls);
      assert.ok(cls < 0.01, `${width}px: layout shift ${cls}`);
      await context.close();
    }
  });

  it('moves the gallery to a photo from its thumbnail, by keyboard', async () => {
    const { context, page } = await pageHelpers.fresh(h);
    await page.setViewportSize({ width: 390, height: 844 });
    await pageHelpers.open(h, page, PRODUCT);
    assert.equal(await page.$$eval('.gallery-thumbs a', (a) => a.length), SHAPES.length);
    await page.focus('.gallery-thumbs li:nth-child(3) a');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => {
      const g = document.querySelector('.gallery-main');
      const third = document.getElementById('image-3').getBoundingClientRect();
      const box = g.getBoundingClientRect();
      return g.scrollLeft > 0 && Math.abs(third.left - box.left) < 2;
    }, null, { timeout: 5000 });
    await context.close();
  });
});
