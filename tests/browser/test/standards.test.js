// Web standards, checked by the real clients: the Nu Html Checker (vnu.jar, on Java) on every
// page, axe-core on every page kind with the banner open and after a choice, and Lighthouse
// (mobile emulation, system Chromium) on the home, a listing, a product, /preferences/ and
// /privacy/, for the example shop and for the shop `cohort init` writes. Never skips: a
// missing Java or package fails with how to install it.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { start, stop } = require('../lib/harness');
const { lighthouseRun, failedAudits, bestPerformance } = require('../lib/lighthouse');
const pageHelpers = require('../lib/page');

/** Every full HTML page of a built site (fragments under /_cohort/ are not documents). */
function htmlPages(site) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (path.relative(site, p) !== '_cohort') walk(p);
      } else if (e.name.endsWith('.html')) out.push(p);
    }
  };
  walk(site);
  return out.sort();
}

function nuChecker(files) {
  const jar = require.resolve('vnu-jar/build/dist/vnu.jar');
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  assert.equal(java.status, 0, 'java is required by the Nu Html Checker: apt-get install -y default-jre-headless');
  const r = spawnSync('java', ['-jar', jar, '--errors-only', '--format', 'json', ...files], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
  assert.ok(r.stderr !== null, `vnu.jar did not run: ${r.error}`);
  const messages = JSON.parse(r.stderr || '{"messages":[]}').messages;
  return messages.filter((m) => m.type === 'error' || m.subType === 'fatal');
}

for (const [name, opts] of [['the example shop', {}], ['the shop cohort init writes', { init: true }]]) {
  describe(`web standards on ${name}`, () => {
    let h;
    let pages;
    before(async () => {
      h = await start(opts);
      pages = pageHelpers.pageKinds(h.site);
    });
    after(async () => {
      if (h) await stop(h);
    });

    it('the Nu Html Checker finds no error on any page', () => {
      const files = htmlPages(h.site);
      assert.ok(files.length >= 8, `too few pages in ${h.site}`);
      const errors = nuChecker(files).map((m) => `${path.relative(h.site, new URL(m.url).pathname)}:${m.lastLine}: ${m.message}`);
      assert.deepEqual(errors, []);
    });

    it('axe-core finds no violation on any page kind, banner open and after a choice', async () => {
      const axeSource = require('axe-core').source;
      const problems = [];
      for (const [kind, p] of Object.entries(pages)) {
        const { context, page } = await pageHelpers.fresh(h);
        await pageHelpers.open(h, page, p);
        for (const state of ['banner open', 'after Reject']) {
          if (state === 'after Reject') {
            await page.click('[data-cohort-consent="reject"]');
            await page.waitForSelector('#cohort-banner', { state: 'hidden' });
          } else {
            await page.waitForSelector('#cohort-banner', { state: 'visible' });
          }
          await page.evaluate(axeSource);
          const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
          for (const v of result.violations) problems.push(`${kind} (${state}): ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        }
        await context.close();
      }
      assert.deepEqual(problems, []);
    });

    it('Lighthouse (mobile): accessibility, best practices and SEO 1.0, performance at least 0.95', async () => {
      const targets = ['home', 'category', 'product', 'preferences', 'privacy'].filter((k) => pages[k]).map((k) => h.origin + pages[k]);
      assert.equal(targets.length, 5, `missing page kinds: ${JSON.stringify(pages)}`);
      const problems = [];
      for (const { url, lhr } of await lighthouseRun(targets)) {
        const noindex = url.endsWith('/preferences/');
        for (const cat of ['accessibility', 'best-practices', 'seo']) {
          // A deliberately noindex page may lose only the crawlability audit.
          const failed = failedAudits(lhr, cat).filter((id) => !(noindex && cat === 'seo' && id === 'is-crawlable'));
          if (failed.length) problems.push(`${url} ${cat} ${lhr.categories[cat].score}: ${failed.join(', ')}`);
        }
        // Timing varies with machine load: up to two more runs, the best kept (lib/lighthouse.js).
        const { score: perf, last } = await bestPerformance(url, lhr);
        if (perf < 0.95) problems.push(`${url} performance ${perf}: ${failedAudits(last, 'performance').join(', ')}`);
      }
      assert.deepEqual(problems, []);
    });
  });
}
