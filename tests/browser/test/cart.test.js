// The cart (cohort-cart.js) and the handoff to each hosted checkout, in headless Chromium.
// Every request to another origin is intercepted and answered by the test (nothing leaves
// the machine): a visitor adds two products (one from a listing, one from its page) and a
// variant, changes a quantity, removes one, reloads, and checks out; the intercepted
// request carries exactly those SKUs, quantities, prices and the currency. Foxy's fields
// verify with the store secret and fail for a tampered price. Before any consent choice,
// the cart works and stores nothing but `cohort.cart`; after Reject it still works.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { start, stop, httpRequest } = require('../lib/harness');
const pageHelpers = require('../lib/page');

const SECRET = 'test-secret-4f1c9a';
const BOOT = `+++
title = "Cart Boot"
sku = "CB"
price = "89.00"
category = "footwear"

[options]
size = ["41", "42"]

[[variants]]
sku = "CB-41"
options = { size = "41" }

[[variants]]
sku = "CB-42"
options = { size = "42" }
price = "94.50"
+++
A boot for the cart test.
`;

const CHECKOUT = {
  paypal: '[checkout]\nprovider = "paypal"\nbusiness = "sales@shop.example.com"\n',
  foxy: '[checkout]\nprovider = "foxy"\nstore = "fernflint.foxycart.com"\nsecret_env = "COHORT_TEST_FOXY_SECRET"\n',
  snipcart: '[checkout]\nprovider = "snipcart"\npublic_api_key = "PUBLIC-TEST-KEY"\n',
  links: '[checkout]\nprovider = "links"\n',
};

// A stand-in for Snipcart's script, served by the test for cdn.snipcart.com: it records
// what the cart script hands to Snipcart's JavaScript API.
const SNIPCART_STUB = `window.__snipcart = { items: [], opened: false };
window.Snipcart = { api: { cart: { items: { add: function (i) { window.__snipcart.items.push(i); return Promise.resolve(); } } },
  theme: { cart: { open: function () { window.__snipcart.opened = true; } } } } };
document.dispatchEvent(new Event('snipcart.ready'));`;

/** Every product file of a shop (products/x.md and products/x/index.md). */
function productFiles(shop) {
  const dir = path.join(shop, 'products');
  return fs.readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? path.join(dir, e.name, 'index.md') : path.join(dir, e.name))).filter((f) => f.endsWith('.md') && fs.existsSync(f));
}

async function shopWith(provider) {
  process.env.COHORT_TEST_FOXY_SECRET = SECRET;
  return start({
    prepare: (shop) => {
      let boot = BOOT;
      if (provider === 'links') {
        // Links sells through a buy_url per product or variant: give every product one.
        for (const f of productFiles(shop)) {
          const text = fs.readFileSync(f, 'utf8');
          if (!/^buy_url\s*=/m.test(text)) fs.writeFileSync(f, text.replace(/^sku = .*$/m, (l) => `${l}\nbuy_url = "https://buy.stripe.com/test_${path.basename(f)}"`));
        }
        boot = BOOT.replace('price = "94.50"', 'price = "94.50"\nbuy_url = "https://buy.stripe.com/test_cb42"').replace('sku = "CB"', 'sku = "CB"\nbuy_url = "https://buy.stripe.com/test_cb"');
      }
      fs.writeFileSync(path.join(shop, 'products', 'cart-boot.md'), boot);
      fs.appendFileSync(path.join(shop, 'shop.toml'), '\n' + CHECKOUT[provider]);
    },
  });
}

/** A fresh context whose requests to other origins are answered here and recorded. */
async function isolated(h) {
  const ctx = await pageHelpers.fresh(h);
  ctx.outside = [];
  await ctx.context.route((url) => !url.href.startsWith(h.origin), async (route) => {
    const req = route.request();
    ctx.outside.push({ url: req.url(), method: req.method(), body: req.postData() });
    if (/snipcart\.js$/.test(req.url())) {
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: SNIPCART_STUB });
    }
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>checkout</title><p>checkout</p>' });
  });
  return ctx;
}

async function cartRows(page) {
  return page.$$eval('[data-cart-rows] tr', (trs) =>
    trs.map((tr) => ({ sku: tr.getAttribute('data-sku'), qty: Number(tr.querySelector('input').value) })),
  );
}

/** Adds a product from a listing, one from its page (twice) and a variant; edits; reloads. */
async function fillCart(h, ctx) {
  const { page, context } = ctx;
  await pageHelpers.open(h, page, '/categories/cookware/');
  let s = await pageHelpers.storage(page, context);
  assert.deepEqual(s.local, {}, 'nothing is stored before the visitor adds something');
  assert.deepEqual(s.cookies, []);
  await page.locator('form[data-sku="FF-CW-CK1"] button').first().click();
  await page.waitForFunction(() => localStorage.getItem('cohort.cart') !== null);
  s = await pageHelpers.storage(page, context);
  assert.deepEqual(Object.keys(s.local), ['cohort.cart'], 'only the cart key is stored');
  assert.deepEqual(JSON.parse(s.local['cohort.cart']), { 'FF-CW-CK1': 1 }, 'SKUs and quantities only');
  assert.deepEqual(s.cookies, []);
  assert.equal(s.session, 0);

  await pageHelpers.open(h, page, '/products/bypass-pruners/');
  const add = page.locator('form[data-sku="FF-GD-BPP"] button');
  await add.click();
  await add.click();
  await pageHelpers.open(h, page, '/products/cart-boot/');
  await page.getByLabel('Size').selectOption('42');
  await page.locator('[data-cart-chosen]').click();
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('cohort.cart') || '{}')['CB-42'] === 1);
  assert.equal(await page.locator('[data-cart-count]').innerText(), '4');

  await pageHelpers.open(h, page, '/cart/');
  assert.deepEqual(await cartRows(page), [
    { sku: 'FF-CW-CK1', qty: 1 },
    { sku: 'FF-GD-BPP', qty: 2 },
    { sku: 'CB-42', qty: 1 },
  ]);
  await page.getByLabel('Quantity of Camp Kettle 1 L').fill('3');
  await page.getByLabel('Quantity of Camp Kettle 1 L').dispatchEvent('change');
  await page.getByRole('button', { name: 'Remove Bypass Pruners' }).click();
  await page.reload();
  assert.deepEqual(await cartRows(page), [
    { sku: 'FF-CW-CK1', qty: 3 },
    { sku: 'CB-42', qty: 1 },
  ], 'the cart persists across a reload');
  // 3 × 42.00 + 94.50, summed in minor units.
  assert.equal(await page.locator('[data-cart-total]').innerText(), '€220.50');
  s = await pageHelpers.storage(page, context);
  assert.deepEqual(Object.keys(s.local), ['cohort.cart']);
  assert.deepEqual(JSON.parse(s.local['cohort.cart']), { 'FF-CW-CK1': 3, 'CB-42': 1 });
}

async function checkOut(ctx, match) {
  const { page } = ctx;
  await page.getByRole('button', { name: 'Check out' }).click();
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const hit = ctx.outside.find(match);
    if (hit) return hit;
    await page.waitForTimeout(50);
  }
  throw new Error(`no checkout request; outside requests: ${JSON.stringify(ctx.outside)}`);
}

function noViolations(ctx) {
  assert.deepEqual(ctx.csp, [], 'no CSP violation or page error');
}

describe('cart with PayPal', () => {
  let h;
  before(async () => (h = await shopWith('paypal')));
  after(async () => h && stop(h));

  it('uploads exactly the cart to PayPal', async () => {
    const ctx = await isolated(h);
    try {
      await fillCart(h, ctx);
      const hit = await checkOut(ctx, (r) => r.url === 'https://www.paypal.com/cgi-bin/webscr' && r.method === 'POST');
      const form = Object.fromEntries(new URLSearchParams(hit.body));
      assert.deepEqual(form, {
        cmd: '_cart', upload: '1', business: 'sales@shop.example.com', currency_code: 'EUR',
        item_name_1: 'Camp Kettle 1 L', item_number_1: 'FF-CW-CK1', amount_1: '42.00', quantity_1: '3',
        item_name_2: 'Cart Boot (42)', item_number_2: 'CB-42', amount_2: '94.50', quantity_2: '1',
      });
      const before = ctx.outside.filter((r) => r !== hit);
      assert.deepEqual(before, [], 'no other request left the site');
      noViolations(ctx);
    } finally {
      await ctx.context.close();
    }
  });

  it('works after Reject, storing only the choice and the cart', async () => {
    const ctx = await isolated(h);
    try {
      const { page, context } = ctx;
      await pageHelpers.open(h, page, '/products/camp-kettle-1l/');
      await page.getByRole('button', { name: 'Reject' }).click();
      await page.waitForFunction(() => localStorage.getItem('cohort.consent') !== null);
      await page.locator('form[data-sku="FF-CW-CK1"] button').click();
      await page.waitForFunction(() => localStorage.getItem('cohort.cart') !== null);
      await pageHelpers.open(h, page, '/cart/');
      assert.deepEqual(await cartRows(page), [{ sku: 'FF-CW-CK1', qty: 1 }]);
      const s = await pageHelpers.storage(page, context);
      assert.deepEqual(Object.keys(s.local).sort(), ['cohort.cart', 'cohort.consent']);
      assert.deepEqual(s.cookies, []);
      assert.equal(ctx.outside.length, 0);
      noViolations(ctx);
    } finally {
      await ctx.context.close();
    }
  });

  it('passes the Nu Html Checker and axe-core on the pages the cart adds to', async () => {
    const files = ['products/camp-kettle-1l', 'products/cart-boot', 'categories/cookware', 'cart'].map((p) => path.join(h.site, p, 'index.html'));
    const jar = require.resolve('vnu-jar/build/dist/vnu.jar');
    const r = spawnSync('java', ['-jar', jar, '--errors-only', '--format', 'json', ...files], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
    assert.equal(r.error, undefined, 'java and vnu.jar run (apt-get install -y default-jre-headless)');
    const errors = JSON.parse(r.stderr || '{"messages":[]}').messages.filter((m) => m.type === 'error').map((m) => `${m.url}:${m.lastLine}: ${m.message}`);
    assert.deepEqual(errors, []);
    const ctx = await isolated(h);
    try {
      const { page } = ctx;
      const axeSource = require('axe-core').source;
      const problems = [];
      await pageHelpers.open(h, page, '/products/cart-boot/');
      await page.click('[data-cohort-consent="reject"]');
      await page.locator('[data-cart-chosen]').click();
      for (const p of ['/products/cart-boot/', '/categories/cookware/', '/cart/']) {
        await pageHelpers.open(h, page, p);
        await page.evaluate(axeSource);
        const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
        for (const v of result.violations) problems.push(`${p}: ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
      assert.deepEqual(problems, []);
      noViolations(ctx);
    } finally {
      await ctx.context.close();
    }
  });

  it('does not scroll sideways at phone widths with a full cart', async () => {
    const problems = [];
    for (const width of [320, 390, 1280]) {
      const context = await h.browser.newContext({ viewport: { width, height: 800 }, serviceWorkers: 'block' });
      await context.route((url) => !url.href.startsWith(h.origin), (route) => route.abort());
      const page = await context.newPage();
      await page.goto(h.origin + '/products/cart-boot/', { waitUntil: 'load' });
      await page.locator('[data-cart-chosen]').click();
      await page.goto(h.origin + '/products/camp-kettle-1l/', { waitUntil: 'load' });
      await page.locator('form[data-sku="FF-CW-CK1"] button').click();
      for (const p of ['/products/cart-boot/', '/categories/cookware/', '/cart/']) {
        await page.goto(h.origin + p, { waitUntil: 'load' });
        const o = await page.evaluate(() => {
          const w = document.documentElement.clientWidth;
          const wide = [...document.querySelectorAll('body *')].filter((e) => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.right > w + 0.5 && !e.closest('.visually-hidden');
          }).map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
          return { w, scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 5) };
        });
        if (o.scroll > o.w || o.wide.length) problems.push(`${width}px ${p}: ${o.scroll} > ${o.w}; ${o.wide.join(', ')}`);
      }
      await context.close();
    }
    assert.deepEqual(problems, []);
  });

  it('Delete everything on the preferences page empties the cart too', async () => {
    const ctx = await isolated(h);
    try {
      const { page, context } = ctx;
      await pageHelpers.open(h, page, '/products/camp-kettle-1l/');
      await page.locator('form[data-sku="FF-CW-CK1"] button').click();
      await page.waitForFunction(() => localStorage.getItem('cohort.cart') !== null);
      await pageHelpers.open(h, page, '/preferences/');
      await page.click('#cohort-delete');
      const s = await pageHelpers.storage(page, context);
      assert.deepEqual(s, { local: {}, session: 0, idb: [], cookies: [] });
      noViolations(ctx);
    } finally {
      await ctx.context.close();
    }
  });

  it('lists the cart key in the privacy notice as strictly necessary', async () => {
    const html = fs.readFileSync(path.join(h.site, 'privacy', 'index.html'), 'utf8');
    assert.match(html, /<code>cohort\.cart<\/code><\/th><td[^>]*>Local storage<\/td><td[^>]*>Necessary<\/td>/);
  });

  it('posts to PayPal\'s own cart without the script', async () => {
    const ctx = await isolated(h);
    try {
      await ctx.context.route('**/cohort-cart.js', (route) => route.abort());
      await pageHelpers.open(h, ctx.page, '/products/camp-kettle-1l/');
      await ctx.page.locator('form[data-sku="FF-CW-CK1"] button').click();
      const hit = await (async () => {
        const end = Date.now() + 10_000;
        while (Date.now() < end) {
          const r = ctx.outside.find((x) => x.method === 'POST');
          if (r) return r;
          await ctx.page.waitForTimeout(50);
        }
        throw new Error('no fallback post');
      })();
      const form = Object.fromEntries(new URLSearchParams(hit.body));
      assert.equal(hit.url, 'https://www.paypal.com/cgi-bin/webscr');
      assert.deepEqual(form, { cmd: '_cart', add: '1', business: 'sales@shop.example.com', item_name: 'Camp Kettle 1 L', item_number: 'FF-CW-CK1', amount: '42.00', currency_code: 'EUR' });
    } finally {
      await ctx.context.close();
    }
  });
});

describe('cart with Foxy', () => {
  let h;
  before(async () => (h = await shopWith('foxy')));
  after(async () => h && stop(h));

  const sign = (code, name, value) => crypto.createHmac('sha256', SECRET).update(code + name + value).digest('hex');

  it('hands Foxy signed fields that verify with the secret, and fail for a tampered price', async () => {
    const ctx = await isolated(h);
    try {
      await fillCart(h, ctx);
      const hit = await checkOut(ctx, (r) => r.url === 'https://fernflint.foxycart.com/cart' && r.method === 'POST');
      const fields = [...new URLSearchParams(hit.body)];
      // Group by prefix: "1:name||HASH" → product 1.
      const products = {};
      for (const [key, value] of fields) {
        const m = /^(\d+):([a-z_]+)\|\|([0-9a-f]{64})(\|\|open)?$/.exec(key);
        assert.ok(m, `every field is prefixed and signed: ${key}`);
        (products[m[1]] ||= {})[m[2]] = { value, hash: m[3], open: !!m[4] };
      }
      const seen = Object.values(products).map((p) => {
        const code = p.code.value;
        for (const [name, f] of Object.entries(p)) {
          const signed = f.open ? '--OPEN--' : f.value;
          assert.equal(f.hash, sign(code, name, signed), `${code} ${name} verifies`);
        }
        assert.notEqual(p.price.hash, sign(code, 'price', '0.01'), 'a tampered price fails verification');
        return { code, name: p.name.value, price: p.price.value, quantity: p.quantity.value };
      });
      assert.deepEqual(seen, [
        { code: 'FF-CW-CK1', name: 'Camp Kettle 1 L', price: '42.00', quantity: '3' },
        { code: 'CB-42', name: 'Cart Boot (42)', price: '94.50', quantity: '1' },
      ]);
      noViolations(ctx);
    } finally {
      await ctx.context.close();
    }
  });

  it('never writes the secret to the output', () => {
    const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const file of walk(h.site)) {
      assert.ok(!fs.readFileSync(file).includes(SECRET), `${file} holds the secret`);
    }
  });
});

describe('cart with Snipcart', () => {
  let h;
  before(async () => (h = await shopWith('snipcart')));
  after(async () => h && stop(h));

  it('loads Snipcart only on checkout and hands it exactly the cart', async () => {
    const ctx = await isolated(h);
    try {
      await fillCart(h, ctx);
      assert.deepEqual(ctx.outside, [], 'Snipcart is not loaded before Check out');
      await checkOut(ctx, (r) => /^https:\/\/cdn\.snipcart\.com\/themes\/v[\d.]+\/default\/snipcart\.js$/.test(r.url));
      await ctx.page.waitForFunction(() => window.__snipcart && window.__snipcart.opened);
      const items = await ctx.page.evaluate(() => window.__snipcart.items);
      assert.deepEqual(items, [
        { id: 'FF-CW-CK1', name: 'Camp Kettle 1 L', price: 42, url: 'https://shop.example.com/products/camp-kettle-1l/', quantity: 3 },
        { id: 'CB-42', name: 'Cart Boot (42)', price: 94.5, url: 'https://shop.example.com/products/cart-boot/', quantity: 1 },
      ]);
      noViolations(ctx);
    } finally {
      await ctx.context.close();
    }
  });

  it('gives Snipcart\'s crawler the same id and price on the page, without a cookie', async () => {
    for (const [url, id, price] of [['/products/camp-kettle-1l/', 'FF-CW-CK1', '42.00'], ['/products/cart-boot/', 'CB-42', '94.50']]) {
      const res = await httpRequest(h.origin + url);
      assert.equal(res.status, 200);
      assert.match(res.body, new RegExp(`data-item-id="${id}" data-item-price="${price.replace('.', '\\.')}" data-item-url="https://shop.example.com${url}"`));
    }
  });
});

describe('links (Stripe Payment Links or any hosted link)', () => {
  let h;
  before(async () => (h = await shopWith('links')));
  after(async () => h && stop(h));

  it('has no cart: the chosen variant\'s own buy_url is the checkout', async () => {
    const ctx = await isolated(h);
    try {
      const { page, context, requests } = ctx;
      await pageHelpers.open(h, page, '/products/cart-boot/');
      await page.getByLabel('Size').selectOption('42');
      await page.locator('[data-chosen-buy]').click();
      const end = Date.now() + 10_000;
      while (!ctx.outside.length && Date.now() < end) await page.waitForTimeout(50);
      assert.deepEqual(ctx.outside.map((r) => `${r.method} ${r.url}`), ['GET https://buy.stripe.com/test_cb42']);
      assert.ok(!requests.some((u) => u.includes('cohort-cart.js')), 'no cart script');
      assert.equal((await pageHelpers.storage(page, context)).local['cohort.cart'], undefined);
      assert.ok(!fs.existsSync(path.join(h.site, 'cart')), 'no cart page');
      noViolations(ctx);
    } finally {
      await ctx.context.close();
    }
  });
});
