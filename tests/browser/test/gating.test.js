// Third parties under consent (SPEC section 5, invariants 1, 11, 12): in headless Chromium,
// with every request to another origin intercepted and answered by the test (no real
// network), nothing loads from a declared non-necessary third party before the visitor
// agrees to its purpose. The same suite runs twice: on the example shop built by
// `cohort build` (its YouTube video, plus an analytics and a marketing tag written plainly
// in a page's Markdown), and on the Hugo fixture whose theme writes the same plain tags,
// `cohort personalize`d. Both enable the Google Consent Mode v2 bridge.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fsp = require('node:fs/promises');
const path = require('node:path');
const { start, stop, waitFor, httpRequest } = require('../lib/harness');
const pageHelpers = require('../lib/page');

const ANALYTICS = 'https://analytics.example';
const ADS = 'https://ads.example';
const VIDEO = 'https://www.youtube-nocookie.com';

const DECLARATIONS = `
[[privacy.third_parties]]
name = "Example Analytics"
origin = "${ANALYTICS}"
purpose = "analytics"
kinds = ["script"]
description = "Counts page views"
stores = [{ name = "_ea", kind = "cookie", lifetime = "1 year" }]
policy_url = "${ANALYTICS}/privacy"

[[privacy.third_parties]]
name = "Example Ads"
origin = "${ADS}"
purpose = "marketing"
kinds = ["script", "image"]
description = "Measures which ads bring visitors"
policy_url = "${ADS}/privacy"
`;

// The plain tags a merchant or a theme writes, as they come from the providers.
const ANALYTICS_TAGS = `<script async src="${ANALYTICS}/a.js"></script>
<script>window.dataLayer = window.dataLayer || []; window.dataLayer.push(['config', 'EA-1']); window.__inline = (window.__inline || 0) + 1; var host = '${ANALYTICS}';</script>`;
const MARKETING_TAGS = `<script src="${ADS}/m.js"></script>
<img src="${ADS}/pixel.gif" alt="" width="1" height="1">`;
const VIDEO_FRAME = `<iframe width="560" height="315" src="${VIDEO}/embed/test" title="A product video" allowfullscreen></iframe>`;

/** shop.toml with the Consent Mode bridge on and the two tag providers declared. */
async function declare(file, { video }) {
  let toml = await fsp.readFile(file, 'utf8');
  toml = toml.replace('honor_gpc = true', 'honor_gpc = true\ngoogle_consent_mode = true');
  toml += DECLARATIONS;
  if (video) {
    toml += `\n[[privacy.third_parties]]\nname = "YouTube"\norigin = "${VIDEO}"\npurpose = "functional"\nkinds = ["frame"]\ndescription = "Product videos"\n`;
  }
  await fsp.writeFile(file, toml);
}

const MODES = {
  build: {
    opts: {
      prepare: async (shop) => {
        await declare(path.join(shop, 'shop.toml'), { video: false });
        await fsp.writeFile(
          path.join(shop, 'pages', 'tracking.md'),
          `+++\ntitle = "Trail notes"\nsummary = "Notes from the trail."\n+++\nNotes from the trail.\n\n${ANALYTICS_TAGS}\n\n${MARKETING_TAGS}\n`,
        );
      },
    },
    pages: async () => ({ home: '/', video: '/products/camp-kettle-1l/', tagged: '/pages/tracking/', next: '/pages/about/' }),
  },
  hugo: {
    opts: {
      hugo: true,
      prepare: async (site) => {
        await declare(path.join(site, 'shop.toml'), { video: true });
        const base = path.join(site, 'layouts', '_default', 'baseof.html');
        let html = await fsp.readFile(base, 'utf8');
        html = html.replace('</head>', `${ANALYTICS_TAGS}\n</head>`).replace('</body>', `${MARKETING_TAGS}\n</body>`);
        await fsp.writeFile(base, html);
        const single = path.join(site, 'layouts', 'products', 'single.html');
        let s = await fsp.readFile(single, 'utf8');
        const at = s.lastIndexOf('{{ end }}');
        s = s.slice(0, at) + `${VIDEO_FRAME}\n` + s.slice(at);
        await fsp.writeFile(single, s);
      },
    },
    pages: async (h) => {
      const products = pageHelpers.pagesUnder(h.site, 'products');
      return { home: '/', video: products[0], tagged: products[1] || '/', next: '/about/' };
    },
  },
};

for (const [mode, { opts, pages: pagesOf }] of Object.entries(MODES)) {
  describe(`third parties under consent (${mode === 'build' ? 'cohort build' : 'cohort personalize on Hugo'})`, () => {
    let h;
    let pages;

    before(async () => {
      h = await start(opts);
      pages = await pagesOf(h);
    });

    after(async () => {
      if (h) await stop(h);
    });

    /** A fresh context whose requests to other origins are answered here, and recorded. */
    async function fresh(o) {
      const f = await pageHelpers.fresh(h, o);
      f.foreign = [];
      await f.context.route((url) => !url.href.startsWith(h.origin + '/'), (route) => {
        const url = route.request().url();
        f.foreign.push(url);
        if (url.endsWith('.js')) {
          const name = url.startsWith(ANALYTICS) ? 'analytics' : 'marketing';
          const body = `(window.__tags = window.__tags || []).push('${name}'); window.__seen = (window.dataLayer || []).map(function (a) { return a[0] + ':' + a[1]; });`;
          return route.fulfill({ status: 200, contentType: 'text/javascript', body });
        }
        if (url.endsWith('.gif')) {
          return route.fulfill({ status: 200, contentType: 'image/gif', body: Buffer.from('R0lGODlhAQABAAAAACw=', 'base64') });
        }
        return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><p>video</p>' });
      });
      return f;
    }
    const open = (page, p) => pageHelpers.open(h, page, p);
    const tags = (page) => page.evaluate(() => window.__tags || []);
    const noViolations = async (page, csp, where) => {
      assert.deepEqual(await page.evaluate(() => window.__csp), [], `${where}: CSP violations`);
      assert.deepEqual(csp, [], `${where}: console CSP errors`);
    };

    it('before a choice: no request to any third party on home, a video page and a tagged page; zero CSP violations', async () => {
      for (const [kind, p] of Object.entries(pages)) {
        const { context, page, foreign, csp } = await fresh();
        const res = await open(page, p);
        assert.equal(res.status(), 200, `${kind} ${p}`);
        assert.deepEqual(foreign, [], `${kind} ${p}: third-party requests before a choice`);
        assert.deepEqual(await tags(page), [], `${kind}: no tag ran`);
        assert.deepEqual(await pageHelpers.storage(page, context), { local: {}, session: 0, idb: [], cookies: [] }, `${kind}: nothing stored`);
        await noViolations(page, csp, kind);
        if (kind === 'tagged') {
          const html = await page.content();
          assert.match(html, /<script type="text\/plain" data-cohort-purpose="analytics"[^>]*src="https:\/\/analytics\.example\/a\.js"/, 'the plain analytics tag was rewritten into the gated form');
          assert.ok(await page.evaluate(() => !!document.querySelector('script[src$="/cohort-gate.js"]')), 'the gated page loads cohort-gate.js');
        }
        await context.close();
      }
    });

    it('a frame is a click-to-load placeholder naming provider and purpose; a click loads it, nothing is stored', async () => {
      const { context, page, foreign, csp } = await fresh();
      await open(page, pages.video);
      const note = await page.textContent('[data-cohort-embed]');
      assert.match(note, /YouTube/);
      assert.match(note, /functional/);
      assert.equal(await page.locator('iframe').count(), 0, 'no live frame before the click');
      await page.click('[data-cohort-load]');
      await waitFor(() => foreign.some((u) => u.startsWith(VIDEO + '/embed/')), 'the video frame loads after the click');
      assert.equal(await page.locator(`iframe[src^="${VIDEO}"]`).count(), 1);
      assert.deepEqual((await pageHelpers.storage(page, context)).local, {}, 'loading once stores no choice');
      await noViolations(page, csp, 'after click-to-load');
      await context.close();
    });

    it('Accept all on the first layer activates the gated tags without a reload, in order after Consent Mode default and update', async () => {
      const { context, page, foreign, csp } = await fresh();
      await open(page, pages.tagged);
      const first = await page.evaluate(() => (window.dataLayer || []).map((a) => [a[0], a[1], a[2] && a[2].analytics_storage]));
      assert.deepEqual(first[0], ['consent', 'default', 'denied'], 'Consent Mode default (denied) is the first dataLayer entry');
      const navigations = [];
      page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
      await page.click('[data-cohort-consent=accept]');
      await waitFor(async () => (await tags(page)).length === 2, 'both tags run after Accept all');
      assert.deepEqual(navigations, [], 'no reload');
      assert.ok(foreign.some((u) => u.startsWith(ANALYTICS)) && foreign.some((u) => u.startsWith(ADS)));
      const seen = await page.evaluate(() => window.__seen);
      const def = seen.indexOf('consent:default');
      const upd = seen.indexOf('consent:update');
      assert.ok(def === 0 && upd > def, `default first, update after the choice, both before the tag ran: ${seen}`);
      const last = await page.evaluate(() => { const u = window.dataLayer.filter((a) => a[0] === 'consent' && a[1] === 'update').pop(); return u && u[2]; });
      assert.equal(last.analytics_storage, 'granted');
      assert.equal(last.ad_storage, 'granted');
      assert.equal(await page.evaluate(() => window.__inline), 1, 'the gated inline script ran once, allowed by its CSP hash');
      await noViolations(page, csp, 'after Accept all');
      // The next page: the stored choice is passed to Consent Mode before the tags run.
      await open(page, pages.tagged);
      await waitFor(async () => (await tags(page)).length === 2, 'tags on the next page');
      const seen2 = await page.evaluate(() => window.__seen);
      assert.ok(seen2.indexOf('consent:default') === 0 && seen2.indexOf('consent:update') > 0, `next page: ${seen2}`);
      await context.close();
    });

    it('analytics only: the analytics script loads, nothing marketing does', async () => {
      const { context, page, foreign, csp } = await fresh();
      await open(page, '/preferences/');
      for (const q of ['functional', 'marketing', 'personalization']) {
        if (await page.locator(`#cohort-${q}`).count()) assert.equal(await page.isChecked(`#cohort-${q}`), false, `${q} starts off`);
      }
      assert.match(await page.textContent('#cohort-prefs'), /Example Analytics[\s\S]*_ea/, 'the preferences page lists the provider and what it stores');
      await page.check('#cohort-analytics');
      await page.click('#cohort-prefs button[type=submit]');
      const c = JSON.parse((await pageHelpers.storage(page, context)).local['cohort.consent']);
      assert.equal(c.p.analytics, true);
      assert.equal(c.p.marketing, false);
      // The receipt records each purpose.
      const r = await pageHelpers.waitReceipt(page);
      const rec = JSON.parse((await httpRequest(`${h.consentOrigin}/v1/consent/${r}`)).body);
      assert.deepEqual(rec.purposes, { personalization: false, functional: false, analytics: true, marketing: false });
      await open(page, pages.tagged);
      await waitFor(async () => (await tags(page)).includes('analytics'), 'the analytics script runs');
      assert.deepEqual(await tags(page), ['analytics']);
      assert.ok(foreign.every((u) => u.startsWith(ANALYTICS)), `only analytics requests: ${foreign}`);
      await open(page, pages.video);
      assert.ok(foreign.every((u) => u.startsWith(ANALYTICS)), 'no frame without functional consent');
      await noViolations(page, csp, 'analytics only');
      await context.close();
    });

    it('after Reject all: nothing on that page or the next', async () => {
      const { context, page, foreign } = await fresh();
      await open(page, pages.tagged);
      await page.click('[data-cohort-consent=reject]');
      await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
      for (const p of [pages.next, pages.video, pages.tagged]) await open(page, p);
      assert.deepEqual(foreign, []);
      assert.deepEqual(await tags(page), []);
      await context.close();
    });

    it('after withdrawal on /preferences/: nothing on the next page', async () => {
      const { context, page, foreign } = await fresh();
      await open(page, pages.tagged);
      await page.click('[data-cohort-consent=accept]');
      await waitFor(async () => (await tags(page)).length === 2, 'tags after Accept all');
      await open(page, '/preferences/');
      await page.click('#cohort-delete');
      foreign.length = 0;
      for (const p of [pages.tagged, pages.video]) await open(page, p);
      assert.deepEqual(foreign, [], 'nothing loads after withdrawal');
      assert.deepEqual(await tags(page), []);
      await context.close();
    });

    it('with GPC: nothing optional until an explicit choice on /preferences/', async () => {
      const { context, page, foreign } = await fresh({ gpc: true });
      await open(page, pages.tagged);
      assert.equal(await page.isVisible('[data-cohort-consent=accept]'), false);
      await page.click('[data-cohort-consent=reject]');
      await open(page, pages.video);
      assert.deepEqual(foreign, [], 'nothing before an explicit choice');
      await open(page, '/preferences/');
      assert.equal(await page.isChecked('#cohort-analytics'), false);
      await page.check('#cohort-analytics');
      await page.click('#cohort-prefs button[type=submit]');
      await open(page, pages.tagged);
      await waitFor(async () => (await tags(page)).includes('analytics'), 'analytics after the explicit choice');
      assert.ok(foreign.every((u) => u.startsWith(ANALYTICS)));
      await context.close();
    });

    it('the notice and banner say what the declarations say', async () => {
      const { context, page } = await fresh();
      await open(page, '/privacy/');
      const text = await page.textContent('main, body');
      assert.match(text, /This shop uses analytics \(Example Analytics\) and advertising services \(Example Ads\), but only if you agree/);
      assert.match(text, /legal basis for personalization, functional, analytics, marketing is your consent/);
      assert.doesNotMatch(text, /no analytics/);
      assert.match(await page.textContent('#cohort-banner'), /Example Analytics/);
      assert.equal((await page.innerText('[data-cohort-consent=accept]')).trim(), 'Accept all');
      await context.close();
    });
  });
}
