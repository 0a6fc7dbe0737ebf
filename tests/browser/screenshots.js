// Screenshots of the example shop as a shopper sees it: the home page, a listing and a
// product page at 390 px (a phone) and 1280 px (a laptop), for everyone (no choice made) and
// for one cohort chosen on /preferences/ the way a visitor chooses it.
//   node screenshots.js OUT_DIR [COHORT_ID]     (run by docs/screenshots.sh)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { start, stop } = require('./lib/harness');
const { pagesUnder } = require('./lib/page');

async function main() {
  const out = path.resolve(process.argv[2] || 'screenshots');
  fs.mkdirSync(out, { recursive: true });
  const h = await start();
  try {
    const pages = { home: '/', listing: pagesUnder(h.site, 'categories')[0], product: pagesUnder(h.site, 'products')[0] };
    const cohorts = pagesUnder(h.site, 'c').map((p) => p.split('/')[2]);
    const cohort = process.argv[3] || cohorts[0];
    for (const who of ['everyone', cohort].filter(Boolean)) {
      for (const width of [390, 1280]) {
        const context = await h.browser.newContext({ viewport: { width, height: width < 800 ? 844 : 800 }, serviceWorkers: 'block' });
        const page = await context.newPage();
        if (who !== 'everyone') {
          await page.goto(h.origin + '/preferences/', { waitUntil: 'load' });
          await page.check('#cohort-personalization');
          await page.check(`#cohort-choice-${who}`);
          await page.click('#cohort-prefs button[type=submit]');
          await page.waitForFunction((c) => document.cookie.includes(`cohort_${c}=`), who);
        }
        for (const [kind, p] of Object.entries(pages)) {
          await page.goto(h.origin + p, { waitUntil: 'networkidle' });
          const file = path.join(out, `${kind}-${who}-${width}.png`);
          await page.screenshot({ path: file, fullPage: true });
          console.log(file);
        }
        await context.close();
      }
    }
  } finally {
    await stop(h);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
