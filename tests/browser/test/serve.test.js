// `cohort serve` live reload in headless Chromium: a product page is open, its file is saved
// twice 50, 100 and 150 ms apart (as a format-on-save editor or "save all" does), and the
// page must end on the last version by a reload, whatever the second reload found the page
// doing (loading after the first one). The real binary serves a copy of tests/sites/basic;
// every wait has a deadline and every process started here is stopped.
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
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BIN = process.env.COHORT_BIN || path.join(REPO, 'target', 'debug', 'cohort');
// Generous for a busy machine; every wait ends as soon as what it waits for happens.
const PATIENCE = 60_000;
const PRODUCT = 'products/chef-knife.md';

let work;
let serve;
let output = '';
let origin;
let browser;

/** Writes `text` through a temporary file and a rename, as many editors save. */
function save(file, text) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

before(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium); the suite never skips`);
  }
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'cohort-serve-browser-'));
  await fsp.cp(path.join(REPO, 'tests', 'sites', 'basic'), work, { recursive: true });
  serve = spawn(BIN, ['serve', '--root', work, '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  serve.stdout.on('data', (d) => (output += d));
  serve.stderr.on('data', (d) => (output += d));
  const line = await waitFor(() => /Serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(output), `cohort serve to start (${output})`, PATIENCE);
  origin = line[1];
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: PATIENCE });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (serve && serve.exitCode === null && serve.signalCode === null) {
    serve.kill('SIGTERM');
    await Promise.race([new Promise((r) => serve.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
    if (serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
  }
  if (work) await fsp.rm(work, { recursive: true, force: true }).catch(() => {});
});

describe('cohort serve live reload', () => {
  for (const [round, gap] of [50, 100, 150].entries()) {
    it(`two saves ${gap} ms apart end on the last version, by a reload`, async () => {
      const file = path.join(work, PRODUCT);
      const original = fs.readFileSync(path.join(REPO, 'tests', 'sites', 'basic', PRODUCT), 'utf8');
      const first = `${80 + round}.10`;
      const last = `${80 + round}.20`;
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(PATIENCE);
        let loads = 0;
        page.on('load', () => (loads += 1));
        // The page counts as open once its live-reload stream answered.
        const stream = page.waitForResponse((r) => new URL(r.url()).pathname === '/__cohort/events', { timeout: PATIENCE });
        await page.goto(`${origin}/products/chef-knife/`);
        assert.equal((await stream).status(), 200, 'the live-reload stream is open');
        const loadsBefore = loads;

        save(file, original.replace('price = "79.00"', `price = "${first}"`));
        await new Promise((r) => setTimeout(r, gap));
        save(file, original.replace('price = "79.00"', `price = "${last}"`));

        const shown = async () => {
          const text = await page.evaluate(() => document.body.innerText);
          return text.includes(`€${last}`) ? text : null;
        };
        const text = await waitFor(shown, `the page to show €${last} (saves ${gap} ms apart; server output:\n${output})`, PATIENCE);
        assert.ok(loads > loadsBefore, 'the page reloaded');
        assert.ok(!text.includes(`€${first}`), 'the page shows the last version only');
      } finally {
        await context.close();
      }
    });
  }
});
