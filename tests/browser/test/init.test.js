// The starter shop of `cohort init` keeps no receipts (consent_endpoint = ""): Accept and
// Reject work with no request to a consent endpoint and no console error, and the
// preferences page says that receipts are not kept instead of showing an empty receipt.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { start, stop, waitFor } = require('../lib/harness');
const { fresh, open, storage } = require('../lib/page');

let h;
before(async () => {
  h = await start({ init: true });
});
after(async () => {
  if (h) await stop(h);
});

/** A fresh context that also records every console error and failed request. */
async function watched() {
  const f = await fresh(h);
  f.errors = [];
  // Chromium asks for /favicon.ico by itself; the starter shop has none (a theme matter,
  // not the consent runtime's), so that one 404 is not counted.
  f.page.on('console', (m) => {
    if (m.type() === 'error' && !/\/favicon\.ico$/.test(m.location().url)) f.errors.push(`console: ${m.text()} at ${m.location().url}`);
  });
  f.page.on('pageerror', (e) => f.errors.push(`page error: ${e.message}`));
  f.page.on('requestfailed', (r) => f.errors.push(`request failed: ${r.url()}`));
  f.page.on('response', (r) => {
    if (r.status() >= 400) f.errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return f;
}

describe('the cohort init shop (no consent endpoint)', () => {
  for (const choice of ['accept', 'reject']) {
    it(`${choice} stores the choice with no receipt, no request and no console error`, async () => {
      const { context, page, requests, errors, csp } = await watched();
      await open(h, page, '/');
      await page.click(`[data-cohort-consent=${choice}]`);
      const c = await waitFor(async () => {
        const s = await storage(page, context);
        return s.local['cohort.consent'] && JSON.parse(s.local['cohort.consent']);
      }, 'the choice in cohort.consent');
      assert.equal(c.p.personalization, choice === 'accept');
      assert.equal(c.r, null, 'no receipt');
      await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
      assert.equal(await page.isVisible('#cohort-banner'), false, 'the banner closes');
      assert.deepEqual(requests.filter((u) => /\/v1\/|consent/.test(new URL(u).pathname)), [], 'nothing posted');
      assert.deepEqual(h.consentLog, [], 'the consent server saw nothing');
      assert.deepEqual(errors, [], `no console error; requests: ${requests.join(' ')}`);
      assert.deepEqual(csp, [], 'no CSP problem');
      await context.close();
    });
  }

  it('the preferences page says receipts are not kept', async () => {
    const { context, page, errors } = await watched();
    await open(h, page, '/preferences/');
    const text = await page.textContent('#cohort-no-receipts');
    assert.match(text, /Receipts are not kept for this shop/);
    assert.equal(await page.$('#cohort-receipt'), null, 'no empty receipt shown');
    await page.click('#cohort-personalization');
    await page.click('#cohort-prefs button[type=submit]');
    await waitFor(async () => /Saved/.test(await page.textContent('#cohort-status')), 'the saved message');
    await page.click('#cohort-delete');
    const deleted = await waitFor(async () => {
      const t = await page.textContent('#cohort-status');
      return /Deleted/.test(t) && t;
    }, 'the deleted message');
    assert.doesNotMatch(deleted, /receipt/, 'no receipt to delete');
    assert.deepEqual(errors, [], 'no console error');
    await context.close();
  });
});
