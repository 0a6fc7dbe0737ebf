// The default theme on real screen widths: no page of the example shop or of the shop that
// `cohort init` writes scrolls sideways at phone, tablet or desktop widths, in the default
// variant and in every cohort's variant, and a hero's title stays readable over its photo.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { start, stop } = require('../lib/harness');
const pageHelpers = require('../lib/page');

const WIDTHS = [320, 360, 390, 414, 768, 1280];

/** One page of each kind the built site has, and every cohort variant of the home page. */
function pageKinds(site) {
  return [...Object.values(pageHelpers.pageKinds(site)), ...pageHelpers.pagesUnder(site, 'c')];
}

/** Elements whose right edge passes the viewport, and the page's scroll width. */
function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const e of document.querySelectorAll('body *')) {
      const r = e.getBoundingClientRect();
      if (r.width > 0 && r.right > width + 0.5 && !e.closest('.visually-hidden')) wide.push(`${e.tagName.toLowerCase()}.${e.className} (right edge ${Math.round(r.right)} px)`);
    }
    return { width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 5) };
  });
}

for (const [name, opts] of [['the example shop', {}], ['the shop cohort init writes', { init: true }]]) {
  describe(`${name} at phone, tablet and desktop widths`, () => {
    let h;
    before(async () => {
      h = await start(opts);
    });
    after(async () => {
      if (h) await stop(h);
    });

    it('has no horizontal overflow on any page kind or cohort variant', async () => {
      const pages = pageKinds(h.site);
      assert.ok(pages.length >= 8, `expected every page kind in ${h.site}, found ${pages.join(' ')}`);
      const problems = [];
      for (const w of WIDTHS) {
        const context = await h.browser.newContext({ viewport: { width: w, height: 800 }, serviceWorkers: 'block' });
        const page = await context.newPage();
        for (const p of pages) {
          await page.goto(h.origin + p, { waitUntil: 'load' });
          const o = await overflow(page);
          if (o.scrollWidth > o.width || o.wide.length) problems.push(`${w}px ${p}: scrollWidth ${o.scrollWidth} > ${o.width}; ${o.wide.join(', ')}`);
        }
        await context.close();
      }
      assert.deepEqual(problems, [], `pages scroll sideways:\n${problems.join('\n')}`);
    });

    it('puts the banner first in keyboard order, inside the first viewport, without covering the skip link', async () => {
      for (const w of [390, 1280]) {
        const { context, page } = await pageHelpers.fresh(h);
        await page.setViewportSize({ width: w, height: 800 });
        await page.goto(h.origin + '/', { waitUntil: 'load' });
        await page.waitForSelector('#cohort-banner', { state: 'visible' });
        const order = [];
        for (let i = 0; i < 3; i++) {
          await page.keyboard.press('Tab');
          order.push(await page.evaluate(() => {
            const a = document.activeElement;
            return a.closest('#cohort-banner') ? `banner:${a.dataset.cohortConsent || a.textContent.trim()}` : a.className || a.tagName;
          }));
        }
        assert.deepEqual(order, ['skip-link', 'banner:accept', 'banner:reject'], `${w}px: Tab order from the top of the page`);
        const box = await page.locator('#cohort-banner').boundingBox();
        assert.ok(box && box.y >= 0 && box.y + box.height <= 800 + 0.5, `${w}px: the banner is outside the first viewport: ${JSON.stringify(box)}`);
        await context.close();
      }
    });

    it('draws a hero title on an opaque-enough scrim, never under a faded image', async () => {
      const context = await h.browser.newContext({ viewport: { width: 390, height: 800 }, serviceWorkers: 'block' });
      const page = await context.newPage();
      const heroes = pageKinds(h.site).filter((p) => p === '/' || p.startsWith('/c/'));
      for (const p of heroes) {
        await page.goto(h.origin + p, { waitUntil: 'load' });
        const hero = await page.evaluate(() => {
          const title = document.querySelector('.hero h1');
          const img = document.querySelector('.hero .hero-image');
          if (!title) return null;
          // The title must paint above the image (not under it), and the image must not be
          // made translucent over the hero's own background.
          const t = title.getBoundingClientRect();
          const top = document.elementFromPoint(t.left + t.width / 2, t.top + t.height / 2);
          return {
            titleOnTop: !!top && (top === title || title.contains(top)),
            imageOpacity: img ? Number(getComputedStyle(img).opacity) : 1,
            scrim: getComputedStyle(title.closest('.hero-text') || title).backgroundImage,
          };
        });
        assert.ok(hero, `${p} has no hero title`);
        assert.ok(hero.titleOnTop, `${p}: the hero title is painted under another element`);
        assert.equal(hero.imageOpacity, 1, `${p}: the hero image is faded (opacity ${hero.imageOpacity}), which greys the title`);
        assert.match(hero.scrim, /gradient/, `${p}: the hero text has no scrim behind it`);
      }
      await context.close();
    });
  });
}
