// The public pages fit a phone (issue 16): no page is wider than the screen, long hashes and
// codes wrap; wide tables scroll inside their own box.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VIEWPORTS, skip, startDemo } from './harness.mjs';

let demo;

describe('public pages on a phone', { skip }, () => {
  before(async () => {
    demo = await startDemo();
  });

  after(async () => {
    const code = await demo?.close();
    assert.equal(code, 0, 'the server stops cleanly on SIGTERM');
  });

  test('no public page is wider than the phone', async () => {
    const { base, browser } = demo;
    const ctx = await browser.newContext({ ...VIEWPORTS.phone, locale: 'zh-CN' });
    const page = await ctx.newPage();
    await page.goto(`${base}/public`);
    const links = await page
      .locator('main a[href^="/public/"]')
      .evaluateAll((as) => [...new Set(as.map((a) => a.getAttribute('href')))]);
    const seen = [];
    for (const path of ['/public', ...links.slice(0, 12)]) {
      await page.goto(`${base}${path}`);
      const { scroll, client } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      }));
      assert.ok(scroll <= client + 1, `${path}: the page is ${scroll} px wide on a ${client} px screen`);
      seen.push(path);
    }
    assert.ok(seen.length >= 2, `public pages visited: ${seen.join(', ')}`);
    await ctx.close();
  });
});
