// Privacy invariants 1-4, 6, 7 and 11 (SPEC section 9) and the runtime contract (section 5),
// proved in headless Chromium against a shop built by the real `cohort` binary and a real
// `cohort consent-server`. See ../lib/harness.js for what is started and how it is stopped.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { start, stop, waitFor, httpRequest } = require('../lib/harness');

let h;
const pages = {};

before(async () => {
  h = await start();
  const first = (dir) => pageHelpers.pagesUnder(h.site, dir)[0] || null;
  Object.assign(pages, {
    home: '/',
    product: first('products'),
    category: first('categories'),
    tag: first('tags'),
    content: first('pages'),
    privacy: '/privacy/',
    preferences: '/preferences/',
    notFound: '/no-such-page/',
  });
  for (const [k, v] of Object.entries(pages)) assert.ok(v, `the built shop has no ${k} page`);
});

after(async () => {
  if (h) await stop(h);
});

/** A fresh browser context (no cookies, no storage) recording requests and CSP problems. */
const pageHelpers = require('../lib/page');
const fresh = (opts) => pageHelpers.fresh(h, opts);
const open = (page, p) => pageHelpers.open(h, page, p);
const { storage, waitReceipt, slotsShown } = pageHelpers;

function config(page) {
  return page.evaluate(() => JSON.parse(document.getElementById('cohort-config').textContent));
}

/** cohort.consent's `p` with every purpose the shop asks about (cfg.q: its third parties') false. */
function allFalse(cfg) {
  return { personalization: false, analytics: false, ...Object.fromEntries(cfg.q.map((q) => [q, false])) };
}

function consentCalls() {
  return h.consentLog.map((e) => `${e.method} ${e.path} ${e.status}`);
}

describe('every page type, before any choice', () => {
  it('loads only from its own origin, stores nothing, calls no consent API and has no CSP violation (invariants 1, 2, 11)', async () => {
    const before = h.consentLog.length;
    for (const [kind, p] of Object.entries(pages)) {
      const { context, page, requests, csp } = await fresh();
      const res = await open(page, p);
      assert.equal(res.status(), kind === 'notFound' ? 404 : 200, `${kind} ${p}`);
      assert.match(res.headers()['content-security-policy'] || '', /default-src 'self'/, `${kind}: the _headers CSP is applied`);
      const foreign = requests.filter((u) => !u.startsWith(h.origin + '/'));
      assert.deepEqual(foreign, [], `${kind}: requests to other origins`);
      assert.ok(requests.some((u) => u.endsWith('/cohort.js')), `${kind}: cohort.js is loaded`);
      assert.deepEqual(requests.filter((u) => u.includes('/v1/')), [], `${kind}: consent API requests before a choice`);
      const s = await storage(page, context);
      assert.deepEqual(s, { local: {}, session: 0, idb: [], cookies: [] }, `${kind}: storage before a choice`);
      assert.deepEqual(await page.evaluate(() => window.__csp), [], `${kind}: securitypolicyviolation events`);
      assert.deepEqual(csp, [], `${kind}: console CSP errors`);
      assert.ok(await page.isVisible('#cohort-banner'), `${kind}: the banner is shown`);
      await context.close();
    }
    assert.deepEqual(h.consentLog.slice(before), [], 'the consent server saw no request');
  });

  it('Escape does not count as a choice and the banner traps no focus', async () => {
    const { context, page } = await fresh();
    await open(page, '/');
    await page.focus('[data-cohort-consent=reject]');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.innerText.trim());
    assert.notEqual(focused, 'Reject', 'Tab moves on');
    const s = await storage(page, context);
    assert.deepEqual(s.local, {});
    assert.deepEqual(s.cookies, []);
    assert.ok(await page.isVisible('#cohort-banner'));
    await context.close();
  });
});

describe('the banner', () => {
  it('offers Accept and Reject on its first layer with equal size and weight (invariant 3)', async () => {
    const { context, page } = await fresh();
    await open(page, '/');
    const m = await page.evaluate(() => {
      const banner = document.getElementById('cohort-banner');
      const get = (v) => {
        const b = banner.querySelector(`[data-cohort-consent=${v}]`);
        const r = b.getBoundingClientRect();
        const cs = getComputedStyle(b);
        return { w: r.width, h: r.height, weight: cs.fontWeight, size: cs.fontSize, bg: cs.backgroundColor, color: cs.color, text: b.innerText.trim(), visible: r.width > 0 && r.height > 0 };
      };
      const link = banner.querySelector('a[href$="/preferences/"]');
      return { accept: get('accept'), reject: get('reject'), role: banner.getAttribute('role'), label: banner.getAttribute('aria-label'), prefsLink: !!link, checked: banner.querySelectorAll('input:checked').length };
    });
    console.log(`# Accept ${m.accept.w}x${m.accept.h} weight ${m.accept.weight}; Reject ${m.reject.w}x${m.reject.h} weight ${m.reject.weight}`);
    assert.ok(m.accept.visible && m.reject.visible);
    // With third parties that need consent the first layer answers for all of them.
    const all = (await config(page)).q.length ? ' all' : '';
    assert.equal(m.accept.text, 'Accept' + all);
    assert.equal(m.reject.text, 'Reject' + all);
    for (const k of ['w', 'h', 'weight', 'size', 'bg', 'color']) assert.equal(m.accept[k], m.reject[k], `equal ${k}`);
    assert.ok(m.prefsLink, 'a link to the preferences page');
    assert.equal(m.checked, 0, 'no pre-ticked box');
    assert.ok(m.role === 'region' && m.label, 'a labelled region');
    await context.close();
  });

  it('Reject stores only cohort.consent with purposes false, and no cookie (invariant 4)', async () => {
    const { context, page } = await fresh();
    await open(page, '/?utm_campaign=' + encodeURIComponent((await cohortWithCampaign()).campaign));
    await page.click('[data-cohort-consent=reject]');
    const r = await waitReceipt(page);
    const s = await storage(page, context);
    assert.deepEqual(Object.keys(s.local), ['cohort.consent']);
    const c = JSON.parse(s.local['cohort.consent']);
    assert.deepEqual(c.p, allFalse(await config(page)));
    assert.equal(c.v, (await config(page)).v);
    assert.match(c.d, /^\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual(s.cookies, [], 'no cookie, even with a campaign link');
    assert.equal(s.session, 0);
    assert.deepEqual(s.idb, []);
    assert.equal(await page.isVisible('#cohort-banner'), false, 'the banner closes');
    await open(page, pages.product);
    assert.equal(await page.isVisible('#cohort-banner'), false, 'and is not shown again');
    assert.deepEqual(Object.keys((await storage(page, context)).local), ['cohort.consent']);
    const rec = await httpRequest(`${h.consentOrigin}/v1/consent/${r}`);
    assert.equal(rec.status, 200);
    assert.deepEqual(JSON.parse(rec.body).purposes, { personalization: false, functional: false, analytics: false, marketing: false });
    await context.close();
  });
});

/** The site's cohort list, the one file a page's config names in `c` (`FILE?VERSION`). */
function cohortList(cfg) {
  return JSON.parse(fs.readFileSync(path.join(h.site, cfg.c.split('?')[0]), 'utf8'));
}

/** A cohort that has a campaign and a fragment on the home page. */
async function cohortWithCampaign() {
  const html = fs.readFileSync(path.join(h.site, 'index.html'), 'utf8');
  const cfg = JSON.parse(html.match(/<script type="application\/json" id="cohort-config">(.*?)<\/script>/s)[1]);
  assert.ok(!html.includes('"campaigns"'), 'pages do not carry the cohort list');
  for (const c of cohortList(cfg)) {
    if (c.campaigns.length && html.includes(`"${c.id}":"`)) return { id: c.id, campaign: c.campaigns[0], cfg };
  }
  throw new Error('the shop needs a cohort with a campaign and a home-page fragment');
}

describe('consent and cohorts', () => {
  it('Accept plus a cohort choice sets the cookie, posts one receipt and swaps slots with no layout shift', async () => {
    const { id } = await cohortWithCampaign();
    const { context, page, requests, csp } = await fresh();
    const posts = () => h.consentLog.filter((e) => e.method === 'POST').length;
    const before = posts();
    await open(page, '/');
    await page.click('[data-cohort-consent=accept]');
    const receipt = await waitReceipt(page);
    await open(page, pages.preferences);
    assert.equal(await page.isChecked('#cohort-personalization'), true);
    await page.check(`#cohort-choice-${id}`);
    await page.click('#cohort-prefs button[type=submit]');
    await waitFor(async () => (await context.cookies()).some((c) => c.name === `cohort_${id}`), 'the cohort cookie');
    const cookie = (await context.cookies()).find((c) => c.name === `cohort_${id}`);
    const cfg = await config(page);
    assert.equal(cookie.value, '1');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.sameSite, 'Lax');
    assert.ok(Math.abs(cookie.expires - Date.now() / 1000 - cfg.m * 86400) < 120, 'Max-Age = consent_max_age_days');
    assert.equal((await context.cookies()).length, 1, 'one cookie');
    assert.equal(await page.textContent('#cohort-receipt'), receipt, 'the receipt is shown');
    assert.match(await page.textContent('#cohort-stored'), new RegExp(`cohort_${id}`));
    await page.waitForTimeout(300);
    assert.equal(posts() - before, 1, `one receipt posted: ${consentCalls()}`);

    // A fresh load of each page kind with slots for this cohort swaps them, with no shift.
    const withKeys = (dir) => {
      const base = path.join(h.site, dir);
      for (const n of fs.readdirSync(base).sort()) {
        const f = path.join(base, n, 'index.html');
        if (fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes(`"${id}":"`)) return `/${dir}/${n}/`;
      }
      return null;
    };
    const targets = ['/', withKeys('categories'), withKeys('products')].filter(Boolean);
    for (const target of targets) {
      await open(page, target);
      const slots = await waitFor(async () => {
        const s = await slotsShown(page, id);
        return s.length && s.every((x) => x.shown === id) && s;
      }, `slots swapped on ${target}`);
      for (const s of slots) {
        const fragment = fs.readFileSync(path.join(h.site, '_cohort', 'f', `${s.hash}.html`), 'utf8');
        assert.equal(s.html, fragment, `${target}: slot ${s.slot} holds the cohort's fragment`);
        assert.ok(requests.some((u) => u === `${h.origin}/_cohort/f/${s.hash}.html`));
      }
      await page.waitForTimeout(500);
      const cls = await page.evaluate(() => window.__cls);
      console.log(`# ${target}: swapped ${slots.map((s) => s.slot).join(', ')}; cumulative layout shift ${cls}`);
      assert.equal(cls, 0, `${target}: layout shifts ${JSON.stringify(await page.evaluate(() => window.__shifts))}`);
    }
    assert.ok(targets.length >= 2, 'slots on more than the home page');
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    assert.deepEqual(csp, []);
    // After Accept all, a page may load what shop.toml declares (the example's product video).
    const declared = pageHelpers.declaredOrigins(h);
    assert.deepEqual(requests.filter((u) => !u.startsWith(h.origin + '/') && !declared.some((o) => u.startsWith(o + '/'))), []);
    await context.close();
  });

  it('after a choice every page type still loads only from its own origin with zero CSP violations (invariants 1, 11)', async () => {
    const { id } = await cohortWithCampaign();
    const { context, page, requests, csp } = await fresh();
    await open(page, '/');
    await page.click('[data-cohort-consent=accept]');
    await waitReceipt(page);
    await open(page, pages.preferences);
    await page.check(`#cohort-choice-${id}`);
    await page.click('#cohort-prefs button[type=submit]');
    for (const [kind, p] of Object.entries(pages)) {
      await open(page, p);
      assert.deepEqual(await page.evaluate(() => window.__csp), [], `${kind}: securitypolicyviolation events`);
    }
    // Export (a Blob URL download) is allowed too.
    await open(page, pages.preferences);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#cohort-export')]);
    const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    assert.ok(exported['cohort.consent'] && exported.cookie === `cohort_${id}=1`, JSON.stringify(exported));
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    assert.deepEqual(csp, []);
    const foreign = requests.filter((u) => !u.startsWith(h.origin + '/') && !u.startsWith('blob:'));
    assert.deepEqual(foreign, []);
    await context.close();
  });

  it('a utm_campaign link selects its cohort only after consent', async () => {
    const { id, campaign } = await cohortWithCampaign();
    const { context, page } = await fresh();
    const before = h.consentLog.length;
    await open(page, '/?utm_campaign=' + encodeURIComponent(campaign));
    let s = await storage(page, context);
    assert.deepEqual(s, { local: {}, session: 0, idb: [], cookies: [] }, 'nothing before consent');
    assert.deepEqual((await slotsShown(page, id)).filter((x) => x.shown), [], 'no slot swapped before consent');
    assert.equal(h.consentLog.length, before);
    await page.click('[data-cohort-consent=accept]');
    await waitFor(async () => (await context.cookies()).some((c) => c.name === `cohort_${id}`), 'the campaign cohort cookie');
    await waitFor(async () => (await slotsShown(page, id)).every((x) => x.shown === id), 'slots swapped after Accept');
    s = await storage(page, context);
    assert.deepEqual(s.cookies, [`cohort_${id}`]);
    assert.deepEqual(await page.evaluate(() => window.__changes), [id], 'one cohort:change event');
    await context.close();
  });

  it('keeps the default content when a fragment fails and keeps browsing when the consent API fails', async () => {
    const { id, campaign } = await cohortWithCampaign();
    const { context, page } = await fresh();
    // Every slot fragment fails; the banner (a fragment too) still loads, to be clicked.
    await context.route('**/_cohort/f/**', async (r) => {
      const res = await r.fetch();
      if ((await res.text()).includes('id="cohort-banner"')) await r.fulfill({ response: res });
      else await r.abort();
    });
    await context.route('**/v1/**', (r) => r.abort());
    await open(page, '/?utm_campaign=' + encodeURIComponent(campaign));
    const defaults = await slotsShown(page, id);
    await page.click('[data-cohort-consent=accept]');
    await waitFor(async () => (await context.cookies()).some((c) => c.name === `cohort_${id}`), 'the cookie');
    await page.waitForTimeout(500);
    assert.deepEqual(await slotsShown(page, id), defaults, 'slots keep their default content');
    const c = JSON.parse((await storage(page, context)).local['cohort.consent']);
    assert.equal(c.p.personalization, true);
    assert.equal(c.r, null, 'no receipt, and nothing blocked');
    assert.equal(await page.isVisible('#cohort-banner'), false);
    await context.close();
  });

  it('infers a cohort on the device once interest counts pass the threshold', async () => {
    const { context, page } = await fresh();
    await open(page, '/');
    const cfg = await config(page);
    const cohorts = cohortList(cfg);
    await page.click('[data-cohort-consent=accept]');
    await waitReceipt(page);
    // Product pages in build order; the expected cohort mirrors the documented rule.
    const dir = path.join(h.site, 'products');
    const products = fs.readdirSync(dir).sort().map((n) => `/products/${n}/`);
    const counts = {};
    let expected = null;
    for (const p of products) {
      await open(page, p);
      const { i } = await config(page);
      // A page lists only the interests some cohort has.
      for (const x of i) {
        assert.ok(cohorts.some((c) => c.interests.includes(x)), `${p}: ${x} is no cohort's interest`);
        counts[x] = (counts[x] || 0) + 1;
      }
      if (!expected) {
        let best = 0;
        for (const c of cohorts) {
          const score = c.interests.reduce((a, x) => a + (counts[x] || 0), 0);
          if (score >= cfg.t && score > best) [best, expected] = [score, c.id];
        }
      }
      // The cookie follows once the page has the cohort list (a fetch of the site's own file).
      const want = expected ? [`cohort_${expected}`] : [];
      const cookies = await waitFor(async () => {
        const names = (await context.cookies()).map((c) => c.name);
        return JSON.stringify(names) === JSON.stringify(want) && names;
      }, `cookies ${JSON.stringify(want)} after ${p}, counts ${JSON.stringify(counts)}`);
      assert.deepEqual(cookies, want);
      const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('cohort.interests')));
      assert.deepEqual(stored, counts);
      if (expected) break;
    }
    assert.ok(expected, 'some cohort passed the threshold');
    await context.close();
  });

  it('asks again after a policy version change or consent_max_age_days', async () => {
    for (const stale of [{ v: 'an-old-version', age: 0 }, { v: null, age: 'max' }]) {
      const { context, page } = await fresh();
      await open(page, '/');
      const cfg = await config(page);
      const days = stale.age === 'max' ? cfg.m + 1 : 0;
      await page.evaluate(({ v, days, p }) => {
        const d = new Date(Date.now() - days * 864e5).toISOString().slice(0, 10);
        localStorage.setItem('cohort.consent', JSON.stringify({ v, p, r: null, d }));
        localStorage.setItem('cohort.interests', '{}');
        document.cookie = 'cohort_x=1; Path=/';
      }, { v: stale.v || cfg.v, days, p: { ...allFalse(cfg), personalization: true } });
      await open(page, '/');
      assert.ok(await page.isVisible('#cohort-banner'), `banner shown again for ${JSON.stringify(stale)}`);
      const s = await storage(page, context);
      assert.deepEqual(s.local, {}, 'the stale choice is cleared');
      assert.deepEqual(s.cookies, []);
      await context.close();
    }
  });
});

describe('Global Privacy Control (invariant 6)', () => {
  it('starts optional purposes off, says so in the banner, and only the preferences page turns personalization on', async () => {
    const { id } = await cohortWithCampaign();
    const { context, page } = await fresh({ gpc: true });
    await open(page, '/');
    assert.equal(await page.evaluate(() => navigator.globalPrivacyControl), true);
    assert.ok(await page.isVisible('#cohort-gpc'), 'the banner says GPC is honoured');
    assert.match(await page.textContent('#cohort-gpc'), /Global Privacy Control/);
    assert.equal(await page.isVisible('[data-cohort-consent=accept]'), false, 'no one-click opt-in against the signal');
    assert.equal(await page.isVisible('.cohort-banner-text'), false, 'under GPC the banner does not ask a question it offers no yes to');
    assert.equal((await page.innerText('[data-cohort-consent=reject]')).trim(), 'OK', 'under GPC the one button acknowledges the signal');
    assert.deepEqual(await storage(page, context), { local: {}, session: 0, idb: [], cookies: [] });
    await open(page, pages.preferences);
    assert.equal(await page.isChecked('#cohort-personalization'), false, 'personalization starts off');
    await page.click('[data-cohort-consent=reject]');
    let c = JSON.parse((await storage(page, context)).local['cohort.consent']);
    assert.deepEqual(c.p, allFalse(await config(page)));
    // An explicit choice on the preferences page.
    await page.check('#cohort-personalization');
    await page.check(`#cohort-choice-${id}`);
    await page.click('#cohort-prefs button[type=submit]');
    await waitFor(async () => (await context.cookies()).some((x) => x.name === `cohort_${id}`), 'cookie after an explicit choice');
    c = JSON.parse((await storage(page, context)).local['cohort.consent']);
    assert.equal(c.p.personalization, true);
    await context.close();
  });
});

describe('withdrawal (invariant 7)', () => {
  it('Delete everything removes the cookie, both keys and the receipt', async () => {
    const { id } = await cohortWithCampaign();
    const { context, page } = await fresh();
    await open(page, '/');
    await page.click('[data-cohort-consent=accept]');
    const receipt = await waitReceipt(page);
    await open(page, pages.product);
    await open(page, pages.preferences);
    await page.check(`#cohort-choice-${id}`);
    await page.click('#cohort-prefs button[type=submit]');
    await waitFor(async () => (await context.cookies()).length === 1, 'the cookie');
    let s = await storage(page, context);
    assert.deepEqual(Object.keys(s.local).sort(), ['cohort.consent', 'cohort.interests']);
    assert.equal((await httpRequest(`${h.consentOrigin}/v1/consent/${receipt}`)).status, 200);
    await page.click('#cohort-delete');
    s = await storage(page, context);
    assert.deepEqual(s, { local: {}, session: 0, idb: [], cookies: [] });
    await waitFor(async () => (await httpRequest(`${h.consentOrigin}/v1/consent/${receipt}`)).status === 404, 'the receipt deleted on the consent server');
    assert.ok(h.consentLog.some((e) => e.method === 'DELETE' && e.path.endsWith(receipt) && e.status === 204));
    assert.match(await page.textContent('#cohort-status'), /Deleted/);
    assert.equal(await page.textContent('#cohort-stored'), 'Nothing.');
    await context.close();
  });
});

describe('accessibility', () => {
  const axeSource = require('axe-core').source;
  for (const kind of ['home', 'product', 'preferences', 'privacy']) {
    it(`axe-core finds no violation on the ${kind} page (banner shown)`, async () => {
      const { context, page } = await fresh();
      await open(page, pages[kind]);
      await page.evaluate(axeSource);
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
      const summary = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      assert.deepEqual(summary, []);
      await context.close();
    });
  }
});
