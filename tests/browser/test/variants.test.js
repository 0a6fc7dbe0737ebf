// The variant picker of the default theme in headless Chromium: a product with
// [[variants]] shows a labelled <select> per option, and choosing options shows that
// variant's price, availability, SKU and buy link, with zero CSP violations (the picker is
// an inline script allowed by its hash in _headers).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { start, stop } = require('../lib/harness');
const pageHelpers = require('../lib/page');

const PRODUCT = `+++
title = "Picker Boot"
sku = "PB"
price = "89.00"
category = "shoes"
buy_url = "https://buy.example.com/pb"

[options]
size = ["41", "42"]
color = ["Moss", "Slate"]

[[variants]]
sku = "PB-41-MOSS"
options = { size = "41", color = "Moss" }

[[variants]]
sku = "PB-42-MOSS"
options = { size = "42", color = "Moss" }
price = "94.50"
compare_at_price = "109.00"
buy_url = "https://buy.example.com/pb-42"

[[variants]]
sku = "PB-42-SLATE"
options = { size = "42", color = "Slate" }
price = "99.00"
availability = "out_of_stock"
+++
A boot to pick a size of.
`;

let h;
before(async () => {
  h = await start({ prepare: (shop) => fs.writeFileSync(path.join(shop, 'products', 'picker-boot.md'), PRODUCT) });
});
after(async () => {
  if (h) await stop(h);
});

describe('variant picker', () => {
  it('shows the chosen variant\'s price, availability, SKU and buy link', async () => {
    const { context, page, csp } = await pageHelpers.fresh(h);
    try {
      const res = await pageHelpers.open(h, page, '/products/picker-boot/');
      assert.equal(res.status(), 200);
      const form = page.locator('[data-variant-picker]');
      assert.equal(await form.isVisible(), true, 'the script shows the picker');
      const size = page.getByLabel('Size');
      const color = page.getByLabel('Color');
      const chosen = async () => ({
        price: (await page.locator('[data-chosen-price]').innerText()).replace(/\s+/g, ' ').trim(),
        stock: await page.locator('[data-chosen-stock]').innerText(),
        sku: await page.locator('[data-chosen-sku]').innerText(),
        buy: (await page.locator('[data-chosen-buy]').isVisible()) ? await page.locator('[data-chosen-buy]').getAttribute('href') : null,
      });
      assert.deepEqual(await chosen(), { price: '€89.00', stock: 'In stock', sku: 'PB-41-MOSS', buy: 'https://buy.example.com/pb' });
      await size.selectOption('42');
      assert.deepEqual(await chosen(), { price: 'Was €109.00 Now €94.50', stock: 'In stock', sku: 'PB-42-MOSS', buy: 'https://buy.example.com/pb-42' });
      await color.selectOption('Slate');
      assert.deepEqual(await chosen(), { price: '€99.00', stock: 'Out of stock', sku: 'PB-42-SLATE', buy: null });
      await size.selectOption('41');
      const none = await chosen();
      assert.equal(none.stock, 'Not available in this combination');
      assert.equal(none.buy, null);
      assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violation');
      assert.deepEqual(csp, []);
    } finally {
      await context.close();
    }
  });

  it('without scripts, the table lists every variant with its price', async () => {
    const context = await h.browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(h.origin + '/products/picker-boot/');
      assert.equal(await page.locator('[data-variant-picker]').isVisible(), false, 'no dead controls without the script');
      const rows = await page.locator('tr[data-variant]').evaluateAll((trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
      assert.deepEqual(rows, [
        'Moss 41 €89.00 In stock Buy Picker Boot Moss / 41',
        'Moss 42 Was €109.00 Now €94.50 In stock Buy Picker Boot Moss / 42',
        'Slate 42 €99.00 Out of stock',
      ]);
    } finally {
      await context.close();
    }
  });
});
