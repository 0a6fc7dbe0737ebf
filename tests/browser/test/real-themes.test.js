// Plugin mode on real public themes nobody here wrote: Ananke v2.9.2 with its English and
// French example site (tests/sites/ananke) and the Hargo shop theme with its Snipcart cart,
// rating widget and Google Fonts (tests/sites/hargo), built by Debian's `hugo`, and the
// Eleventy base blog v9 (tests/sites/eleventy-base-blog), built by its own pinned Eleventy.
// Requests to other origins (Hargo's declared third parties) are answered by the test,
// never sent. The same pages are
// opened before and after `cohort personalize`, with the generated `_headers` applied by the
// test's server: zero CSP violations and zero console errors, the computed style of every
// element outside Cohort's slots and banner unchanged, the banner inside the first viewport
// and first in keyboard order, its buttons working, and a chosen cohort swapping the slots.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { start, stop, waitFor } = require('../lib/harness');
const pageHelpers = require('../lib/page');

const PROPS = ['display', 'visibility', 'backgroundImage', 'color', 'fontFamily', 'fontSize', 'fontWeight', 'width'];
const SITES = [
  {
    name: 'Ananke',
    opts: { site: 'ananke', products: 'content/en/products/*.md' },
    pages: { home: '/', listing: '/products/', product: '/products/lamp/', post: '/post/chapter-1/', french: '/fr/', frenchProduct: '/fr/products/lamp/' },
    // Ananke's hero photo is a style attribute: it still applies.
    check: (kind, styles) => kind !== 'home' || styles.some((e) => /gohugo-default-sample-hero-image\.jpg/.test(e[3])),
  },
  {
    name: 'Hargo (Snipcart)',
    opts: { site: 'hargo', products: 'content/products/*.md' },
    cohort: 'hair',
    thirdParties: true,
    pages: { home: '/', listing: '/products/', product: '/products/taba-cream/', blog: '/blog/', post: '/blog/post-1/' },
    // Its preloader fades out after load and its sliders play: sample once it is gone and
    // the sliders are paused on their first slide.
    ready: async (page) => {
      await waitFor(() => page.evaluate(() => {
        const p = document.querySelector('.preloader');
        return !p || getComputedStyle(p).display === 'none';
      }), 'the preloader gone');
      await page.evaluate(() => {
        for (const el of document.querySelectorAll('.slick-initialized')) {
          window.jQuery(el).slick('slickPause');
          window.jQuery(el).slick('slickGoTo', 0, true);
        }
      });
    },
    // Its typeface (Google Fonts' Quicksand, declared) applies, and its sections are laid out.
    check: (kind, styles) => styles.some((e) => /^header/.test(e[0]) && /quicksand/i.test(e[5])) && styles.some((e) => /^section/.test(e[0]) && e[1] === 'block'),
  },
  {
    name: 'Eleventy base blog',
    opts: { site: 'eleventy-base-blog', products: 'content/products/*.md', generator: 'eleventy' },
    pages: { home: '/', listing: '/blog/', product: '/products/lamp/', post: '/blog/firstpost/', tags: '/tags/' },
    // All of its CSS is one inline <style>: its font stack applies, not the browser's serif.
    check: (kind, styles) => styles.some((e) => /^main/.test(e[0]) && !/^"?Times/.test(e[5])),
  },
];

/** Every element outside Cohort's own (slots, banner, injected scripts), in document order. */
function styles(page) {
  return page.evaluate((props) => {
    const own = (el) =>
      el.closest('[data-cohort-slot], #cohort-banner') ||
      el.id === 'cohort-config' ||
      (el.tagName === 'SCRIPT' && /\/cohort(-gate|-consent-mode)?\.js$/.test(el.src)) ||
      (el.tagName === 'LINK' && /cohort\.css$/.test(el.href)) ||
      (el.tagName === 'META' && el.httpEquiv);
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      if (own(el)) continue;
      const cs = getComputedStyle(el);
      const id = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`;
      out.push([id, ...props.map((p) => cs[p])]);
    }
    return out;
  }, PROPS);
}

async function visitWith(h, site, p) {
  const { context, page, requests, csp } = await pageHelpers.fresh(h);
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const res = await pageHelpers.open(h, page, p);
  if (site.ready) await site.ready(page);
  return { context, page, requests, csp, errors, res };
}

// REAL_THEMES=Hargo runs only the sites whose name contains it.
for (const site of SITES.filter((s) => !process.env.REAL_THEMES || s.name.includes(process.env.REAL_THEMES))) describe(`${site.name}, personalized`, () => {
let h;
const beforeStyles = {};
const PAGES = site.pages;
const visit = (p) => visitWith(h, site, p);

before(async () => {
  h = await start({ hugo: { ...site.opts, later: true } });
  for (const [kind, p] of Object.entries(PAGES)) {
    const v = await visit(p);
    assert.equal(v.res.status(), 200, `${kind} before personalize`);
    beforeStyles[kind] = await styles(v.page);
    await v.context.close();
  }
  await h.personalize();
});

after(async () => {
  if (h) await stop(h);
});

  it('every page: the _headers policy, zero CSP violations, zero console errors, the same computed style outside Cohort', async () => {
    for (const [kind, p] of Object.entries(PAGES)) {
      const v = await visit(p);
      assert.equal(v.res.status(), 200, kind);
      assert.match(v.res.headers()['content-security-policy'] || '', /style-src 'self' 'unsafe-hashes' [^;]*'sha256-/, `${kind}: the policy from _headers`);
      assert.deepEqual(await v.page.evaluate(() => window.__csp), [], `${kind}: securitypolicyviolation events`);
      assert.deepEqual(v.csp, [], `${kind}: CSP console messages and page errors`);
      assert.deepEqual(v.errors, [], `${kind}: console errors`);
      // Only declared third parties, each answered by the test's route (never sent).
      const declared = pageHelpers.declaredOrigins(h);
      const others = v.requests.filter((u) => !u.startsWith(h.origin + '/'));
      assert.deepEqual(others.filter((u) => !declared.some((o) => u.startsWith(o + '/'))), [], `${kind}: undeclared origins`);
      if (!site.thirdParties) assert.deepEqual(others, [], `${kind}: other origins`);
      const after = await styles(v.page);
      assert.equal(after.length, beforeStyles[kind].length, `${kind}: the same elements outside Cohort's`);
      for (let i = 0; i < after.length; i++) {
        assert.deepEqual(after[i], beforeStyles[kind][i], `${kind}: element ${i} (${after[i][0]}) looks different`);
      }
      assert.ok(site.check(kind, after), `${kind}: the site's own styling applies: ${JSON.stringify(after.slice(0, 12))}`);
      await v.context.close();
    }
  });

  it("/privacy/ and /preferences/ wear the site's shell: its header, its body font, its language", async () => {
    const home = await visit('/');
    const look = (pg) => pg.evaluate(() => ({
      font: getComputedStyle(document.body).fontFamily,
      color: getComputedStyle(document.body).color,
      lang: document.documentElement.lang,
      header: !!document.querySelector('body header, body nav'),
      footer: !!document.querySelector('body footer'),
    }));
    const want = await look(home.page);
    await home.context.close();
    assert.ok(want.header && want.footer, JSON.stringify(want));
    for (const p of ['/privacy/', '/preferences/']) {
      const v = await visit(p);
      assert.equal(v.res.status(), 200, p);
      assert.deepEqual(await look(v.page), want, `${p} looks like the home page`);
      assert.deepEqual(await v.page.evaluate(() => window.__csp), [], `${p}: securitypolicyviolation events`);
      assert.deepEqual(v.csp, [], `${p}: CSP console messages and page errors`);
      assert.deepEqual(v.errors, [], `${p}: console errors`);
      await v.context.close();
    }
  });

  it('the banner is in the first viewport, first in keyboard order, and Accept works', async () => {
    const v = await visit(PAGES.product);
    await waitFor(async () => v.page.isVisible('#cohort-banner'), 'the banner');
    const box = await v.page.locator('#cohort-banner').boundingBox();
    const vp = v.page.viewportSize();
    assert.ok(box && box.y >= 0 && box.y + box.height <= vp.height && box.x >= 0 && box.x + box.width <= vp.width, `inside the viewport: ${JSON.stringify(box)} ${JSON.stringify(vp)}`);
    await v.page.keyboard.press('Tab');
    assert.equal(await v.page.evaluate(() => !!document.activeElement.closest('#cohort-banner')), true, 'the first Tab reaches the banner');
    // Accept and Reject are equally prominent: the same computed look.
    const look = (sel) => v.page.$eval(sel, (b) => { const c = getComputedStyle(b); return [c.backgroundColor, c.color, c.fontSize, c.padding]; });
    assert.deepEqual(await look('[data-cohort-consent=accept]'), await look('[data-cohort-consent=reject]'));
    await v.page.click('[data-cohort-consent=accept]');
    await pageHelpers.waitReceipt(v.page);
    assert.equal(await v.page.isVisible('#cohort-banner'), false, 'the banner closes');
    await v.context.close();
  });

  it('choosing a cohort on the preferences page swaps the home page slots', async () => {
    const id = site.cohort || 'kitchen';
    const v = await visit('/');
    await v.page.click('[data-cohort-consent=accept]');
    await pageHelpers.waitReceipt(v.page);
    await pageHelpers.open(h, v.page, '/preferences/');
    await v.page.check(`#cohort-choice-${id}`);
    await v.page.click('#cohort-prefs button[type=submit]');
    await waitFor(async () => (await v.context.cookies()).some((c) => c.name === `cohort_${id}`), 'the cohort cookie');
    await pageHelpers.open(h, v.page, '/');
    const slots = await waitFor(async () => {
      const s = await pageHelpers.slotsShown(v.page, id);
      return s.length && s.every((x) => x.shown === id) && s;
    }, 'the slots swapped');
    assert.ok(slots.some((s) => s.slot === 'picks'), JSON.stringify(slots));
    assert.deepEqual(await v.page.evaluate(() => window.__csp), []);
    assert.deepEqual(v.csp, []);
    await v.context.close();
  });
});
