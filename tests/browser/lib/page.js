// Page helpers the browser tests share: a fresh browser context that records requests,
// CSP violations, cohort changes and layout shifts; opening a page; what it stored.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { waitFor } = require('./harness');

async function fresh(h, { gpc = false } = {}) {
  const context = await h.browser.newContext({ serviceWorkers: 'block' });
  context.setDefaultTimeout(10_000);
  const requests = [];
  const csp = [];
  context.on('request', (r) => requests.push(r.url()));
  if (gpc) {
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
    });
  }
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`), true);
    window.__changes = [];
    document.addEventListener('cohort:change', (e) => window.__changes.push(e.detail.cohort));
    window.__cls = 0;
    window.__shifts = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        window.__shifts.push({ value: e.value, input: e.hadRecentInput });
        if (!e.hadRecentInput) window.__cls += e.value;
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
  // No test reaches the real network: a request to any other origin (a declared third
  // party, once the visitor agreed) is answered here, empty. A test may route more closely.
  await context.route((url) => !/^https?:\/\/127\.0\.0\.1(:\d+)?\//.test(url.href), (route) => route.fulfill({ status: 204, body: '' }));
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) csp.push(m.text());
  });
  page.on('pageerror', (e) => csp.push(`page error: ${e.message}`));
  return { context, page, requests, csp };
}

/** The origins (and companions) declared in the shop's `[[privacy.third_parties]]`. */
function declaredOrigins(h) {
  const file = path.join(h.shop, 'shop.toml');
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:origin|companions)\s*=\s*(.+)$/gm)].flatMap((m) => [...m[1].matchAll(/"(https?:\/\/[^"]+)"/g)].map((x) => x[1]));
}

async function open(h, page, p) {
  const res = await page.goto(h.origin + p, { waitUntil: 'load' });
  // cohort.js is deferred; give its fetches a moment to settle.
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
  // The default theme's pages carry a placeholder for the banner, which cohort.js fetches
  // when the banner has to be shown (its `data-cohort-banner` is emptied meanwhile): wait
  // until the banner is in place or not needed.
  await page
    .waitForFunction(() => {
      const b = document.getElementById('cohort-banner');
      return !b || b.dataset.cohortBanner !== '';
    }, null, { timeout: 5000 })
    .catch(() => {});
  return res;
}

async function storage(page, context) {
  const s = await page.evaluate(async () => ({
    local: Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)])),
    session: sessionStorage.length,
    idb: (await indexedDB.databases()).map((d) => d.name),
  }));
  s.cookies = (await context.cookies()).map((c) => c.name);
  return s;
}

async function waitReceipt(page) {
  return waitFor(
    () => page.evaluate(() => (JSON.parse(localStorage.getItem('cohort.consent') || 'null') || {}).r),
    'a receipt in cohort.consent',
  );
}

async function slotsShown(page, cohort) {
  return page.evaluate((c) => {
    const out = [];
    for (const s of document.querySelectorAll('[data-cohort-slot]')) {
      const keys = JSON.parse(s.dataset.cohortKeys);
      if (keys[c]) out.push({ slot: s.dataset.cohortSlot, hash: keys[c], shown: s.dataset.cohortShown || null, html: s.innerHTML });
    }
    return out;
  }, cohort);
}

/** URL paths of the pages in the folders of `site/dir` that hold an index.html, sorted. */
function pagesUnder(site, dir) {
  const base = path.join(site, dir);
  if (!fs.existsSync(base)) return [];
  return fs.readdirSync(base).filter((n) => fs.existsSync(path.join(base, n, 'index.html'))).sort().map((n) => `/${dir}/${n}/`);
}

/** One page of each kind a built site has, by kind (kinds the site lacks are left out). */
function pageKinds(site) {
  const k = {
    home: '/',
    product: pagesUnder(site, 'products')[0],
    category: pagesUnder(site, 'categories')[0],
    tag: pagesUnder(site, 'tags')[0],
    content: pagesUnder(site, 'pages')[0],
    privacy: '/privacy/',
    preferences: '/preferences/',
    notFound: '/no-such-page/',
  };
  for (const [name, p] of Object.entries(k)) if (!p) delete k[name];
  return k;
}

module.exports = { declaredOrigins, fresh, open, storage, waitReceipt, slotsShown, pagesUnder, pageKinds };
