// Plugin mode in a real browser: the Hugo fixture (tests/sites/hugo-shop) built by Debian's
// `hugo`, then `cohort personalize`d, served with its `_headers` and a real consent server.
// The runtime checks of privacy.test.js that matter for a foreign site: nothing stored or
// sent before a choice, same-origin only, Reject, GPC, slot swap, zero CSP violations
// (including Hugo's own inline script, allowed by its hash).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { start, stop, waitFor, httpRequest } = require('../lib/harness');

let h;
const pages = {
  home: '/',
  product: '/products/trail-runner/',
  category: '/categories/shoes/',
  content: '/about/',
  privacy: '/privacy/',
  preferences: '/preferences/',
  notFound: '/no-such-page/',
};

before(async () => {
  h = await start({ hugo: true });
  for (const [k, p] of Object.entries(pages)) {
    if (k === 'notFound') continue;
    assert.ok(fs.existsSync(path.join(h.site, p, 'index.html')), `the personalized Hugo site has no ${k} page at ${p}`);
  }
});

after(async () => {
  if (h) await stop(h);
});

const pageHelpers = require('../lib/page');
const fresh = (opts) => pageHelpers.fresh(h, opts);
const open = (page, p) => pageHelpers.open(h, page, p);
const { storage, waitReceipt, slotsShown } = pageHelpers;

const receipt = waitReceipt;

describe('personalized Hugo site, before any choice', () => {
  it('every page type loads only from its own origin, stores nothing, sends nothing, has zero CSP violations', async () => {
    const before = h.consentLog.length;
    for (const [kind, p] of Object.entries(pages)) {
      const { context, page, requests, csp } = await fresh();
      const res = await open(page, p);
      assert.equal(res.status(), kind === 'notFound' ? 404 : 200, `${kind} ${p}`);
      assert.match(res.headers()['content-security-policy'] || '', /default-src 'self'/, `${kind}: the CSP from _headers`);
      assert.deepEqual(requests.filter((u) => !u.startsWith(h.origin + '/')), [], `${kind}: other origins`);
      assert.ok(requests.some((u) => u.endsWith('/cohort.js')), `${kind}: cohort.js is loaded`);
      assert.deepEqual(requests.filter((u) => u.includes('/v1/')), [], `${kind}: consent API before a choice`);
      assert.deepEqual(await storage(page, context), { local: {}, session: 0, idb: [], cookies: [] }, `${kind}: storage`);
      assert.deepEqual(await page.evaluate(() => window.__csp), [], `${kind}: securitypolicyviolation events`);
      assert.deepEqual(csp, [], `${kind}: console CSP errors`);
      assert.ok(await page.isVisible('#cohort-banner'), `${kind}: the banner is shown`);
      // Hugo's own inline script ran: its hash is in the CSP.
      assert.equal(await page.evaluate(() => document.documentElement.className), 'js', `${kind}: Hugo's inline script ran`);
      await context.close();
    }
    assert.deepEqual(h.consentLog.slice(before), [], 'the consent server saw no request');
  });
});

describe('personalized Hugo site, choices', () => {
  it('Reject stores only cohort.consent with purposes false and no cookie, even after a campaign link', async () => {
    const { context, page } = await fresh();
    await open(page, '/?utm_campaign=spring-trail');
    await page.click('[data-cohort-consent=reject]');
    const r = await receipt(page);
    const s = await storage(page, context);
    assert.deepEqual(Object.keys(s.local), ['cohort.consent']);
    assert.deepEqual(JSON.parse(s.local['cohort.consent']).p, { personalization: false, analytics: false });
    assert.deepEqual(s.cookies, []);
    assert.equal(await page.isVisible('#cohort-banner'), false);
    await open(page, pages.product);
    assert.equal(await page.isVisible('#cohort-banner'), false, 'not asked again');
    assert.deepEqual((await storage(page, context)).cookies, []);
    assert.equal((await httpRequest(`${h.consentOrigin}/v1/consent/${r}`)).status, 200);
    await context.close();
  });

  it('Accept and a cohort chosen on the preferences page swap the slots of home, category and product pages', async () => {
    const id = 'outdoor';
    const { context, page, requests, csp } = await fresh();
    await open(page, '/');
    await page.click('[data-cohort-consent=accept]');
    await receipt(page);
    await open(page, pages.preferences);
    await page.check(`#cohort-choice-${id}`);
    await page.click('#cohort-prefs button[type=submit]');
    await waitFor(async () => (await context.cookies()).some((c) => c.name === `cohort_${id}`), 'the cohort cookie');
    assert.equal((await context.cookies()).length, 1, 'one cookie');
    for (const target of [pages.home, pages.category, pages.product]) {
      await open(page, target);
      const slots = await waitFor(async () => {
        const s = await slotsShown(page, id);
        return s.length && s.every((x) => x.shown === id) && s;
      }, `slots swapped on ${target}`);
      for (const s of slots) {
        const fragment = fs.readFileSync(path.join(h.site, '_cohort', 'f', `${s.hash}.html`), 'utf8');
        assert.equal(s.html, fragment, `${target}: slot ${s.slot} holds the cohort's fragment`);
      }
      console.log(`# ${target}: swapped ${slots.map((s) => s.slot).join(', ')}`);
    }
    assert.match(await page.textContent('.product-copy .summary'), /Grippy lugs for wet trails/);
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    assert.deepEqual(csp, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith(h.origin + '/')), []);
    await context.close();
  });

  it('Global Privacy Control: optional purposes start off, the banner says so, nothing is stored', async () => {
    const { context, page } = await fresh({ gpc: true });
    await open(page, '/');
    assert.ok(await page.isVisible('#cohort-gpc'), 'the banner says GPC is honoured');
    assert.equal(await page.isVisible('[data-cohort-consent=accept]'), false, 'no one-click opt-in against the signal');
    assert.deepEqual(await storage(page, context), { local: {}, session: 0, idb: [], cookies: [] });
    await open(page, pages.preferences);
    assert.equal(await page.isChecked('#cohort-personalization'), false, 'personalization starts off');
    await page.click('[data-cohort-consent=reject]');
    const c = JSON.parse((await storage(page, context)).local['cohort.consent']);
    assert.deepEqual(c.p, { personalization: false, analytics: false });
    assert.deepEqual((await storage(page, context)).cookies, []);
    await context.close();
  });

  it('Delete everything on the preferences page removes the cookie, both keys and the receipt', async () => {
    const { context, page } = await fresh();
    await open(page, '/?utm_campaign=spring-trail');
    await page.click('[data-cohort-consent=accept]');
    const r = await receipt(page);
    await waitFor(async () => (await context.cookies()).some((c) => c.name === 'cohort_outdoor'), 'the campaign cookie');
    await open(page, pages.preferences);
    await page.click('#cohort-delete');
    assert.deepEqual(await storage(page, context), { local: {}, session: 0, idb: [], cookies: [] });
    await waitFor(async () => (await httpRequest(`${h.consentOrigin}/v1/consent/${r}`)).status === 404, 'the receipt deleted');
    await context.close();
  });
});
