// `cohort serve`'s cohort preview bar, in headless Chromium against the real dev server: it
// never covers the consent banner or any control of the page at phone and laptop widths,
// and it says what the page shows (a previewed cohort, the visitor's own cohort cookie, or
// everyone's default).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { waitFor, CHROMIUM_ARGS } = require('../lib/harness');

const REPO = path.resolve(__dirname, '..', '..', '..');
const BIN = process.env.COHORT_BIN || path.join(REPO, 'target', 'debug', 'cohort');

let work, serve, origin, browser;
let output = '';

before(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'cohort-serve-preview-'));
  const shop = path.join(work, 'shop');
  await fsp.cp(path.join(REPO, 'example-shop'), shop, { recursive: true, filter: (src) => !/[/\\](public|\.public\.cohort-old|consent-records)$/.test(src) });
  serve = spawn(BIN, ['serve', '--root', shop, '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  serve.stdout.on('data', (d) => (output += d));
  serve.stderr.on('data', (d) => (output += d));
  origin = await waitFor(() => (output.match(/http:\/\/127\.0\.0\.1:\d+/) || [])[0], `cohort serve's address (${output})`, 60_000);
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30_000 });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (serve && serve.exitCode === null) {
    serve.kill('SIGTERM');
    await Promise.race([new Promise((r) => serve.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
    if (serve.exitCode === null) serve.kill('SIGKILL');
  }
  if (work) await fsp.rm(work, { recursive: true, force: true }).catch(() => {});
});

/** Boxes of the bar and of every visible control and of the banner, in page coordinates. */
function overlaps(page) {
  return page.evaluate(() => {
    const bar = document.getElementById('cohort-preview-switcher');
    if (!bar) return { missing: true };
    const b = bar.getBoundingClientRect();
    const hits = [];
    for (const e of document.querySelectorAll('#cohort-banner, a, button, select, input, summary')) {
      if (bar.contains(e)) continue;
      const r = e.getBoundingClientRect();
      if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
      if (r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom) hits.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className}`);
    }
    return { hits };
  });
}

describe('the dev preview bar', () => {
  it('covers neither the banner nor any control, at 390 and 1280 px, scrolled or not', async () => {
    for (const width of [390, 1280]) {
      const context = await browser.newContext({ viewport: { width, height: 800 } });
      const page = await context.newPage();
      for (const p of ['/', '/products/fernpack-28/', '/preferences/']) {
        await page.goto(origin + p, { waitUntil: 'load' });
        await page.waitForSelector('#cohort-preview-switcher');
        await page.waitForSelector('#cohort-banner', { state: 'visible' });
        for (const y of [0, 600, 100000]) {
          await page.evaluate((y) => window.scrollTo(0, y), y);
          const o = await overlaps(page);
          assert.deepEqual(o.hits, [], `${width}px ${p} scrolled to ${y}: the preview bar covers ${o.hits.join(', ')}`);
        }
      }
      await context.close();
    }
  });

  it('says what is shown: a previewed cohort, the visitor\'s cohort cookie, or everyone', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(origin + '/', { waitUntil: 'load' });
    await page.waitForSelector('#cohort-preview-status');
    assert.equal(await page.textContent('#cohort-preview-status'), 'Showing: everyone (default)');
    await page.goto(origin + '/?cohort=kitchen', { waitUntil: 'load' });
    await page.waitForSelector('#cohort-preview-status');
    assert.match(await page.textContent('#cohort-preview-status'), /^Previewing: Kitchen/);
    // The visitor's own choice, made on the preferences page.
    await page.goto(origin + '/preferences/', { waitUntil: 'load' });
    await page.check('#cohort-personalization');
    await page.check('#cohort-choice-outdoor');
    await page.click('#cohort-prefs button[type=submit]');
    await waitFor(async () => (await context.cookies()).some((c) => c.name === 'cohort_outdoor'), 'the cohort cookie');
    await page.goto(origin + '/', { waitUntil: 'load' });
    await page.waitForSelector('#cohort-preview-status');
    assert.match(await page.textContent('#cohort-preview-status'), /^Showing: Outdoor.*your cohort cookie/);
    assert.equal(await page.$eval('#cohort-preview-switcher select', (s) => s.value), 'outdoor');
    await context.close();
  });
});
