// The spot check's start in the browser, on the demo: the organising bureau opens the Datong plan
// (Annex 1 as the notice prints it), draws enterprises and teams for 车用柴油, verifies and publishes
// the draw; a visitor sees it without signing in; a sampler of 山西国海 sees the tasks on a phone.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SHOTS, VIEWPORTS, signIn, skip, startDemo } from './harness.mjs';

let demo;

describe('plans and the random draw in the browser', { skip }, () => {
  before(async () => {
    demo = await startDemo();
  });

  after(async () => {
    const code = await demo?.close();
    assert.equal(code, 0, 'the server stops cleanly on SIGTERM');
  });

  test('regulator draws for 车用柴油, verifies and publishes; the public and the samplers see it', async () => {
    const { base, browser } = demo;
    const ctx = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'zh-CN' });
    const page = await ctx.newPage();
    page.on('dialog', (d) => d.accept());
    try {
      await signIn(page, base, 'regulator');
      await page.getByRole('link', { name: '抽查计划' }).first().click();
      await page.getByRole('link', { name: /2025年车用柴油/ }).first().click();
      const annex = page.locator('[data-testid=annex1]');
      await annex.waitFor();
      assert.match(await annex.innerText(), /电冰箱[\s\S]*家用电动洗衣机/);
      assert.equal(await annex.locator('td[rowspan="2"]').count() >= 2, true, 'shared quotas are merged cells');
      assert.match(await page.locator('[data-testid=total-quota]').innerText(), /190/);

      // The draw page of 车用柴油: candidates from the registry, the seed shown before drawing.
      await page.locator('tr', { hasText: '车用柴油' }).getByRole('link', { name: '随机抽取' }).click();
      await page.locator('input[name=seed]').waitFor();
      assert.ok((await page.locator('input[name=seed]').inputValue()).length > 10, 'a seed is proposed');
      await page.locator('input[name=quota]').fill('3');
      await Promise.all([page.waitForURL(/\/draws\/\d+/), page.getByRole('button', { name: '抽取', exact: true }).click()]);
      const drawUrl = page.url();
      await page.screenshot({ path: path.join(SHOTS, 'draw-record.png'), fullPage: true });
      const rows = page.locator('table', { hasText: '抽样组' }).locator('tbody tr');
      assert.equal(await rows.count(), 3);
      assert.match(await rows.first().innerText(), /郭海峰|韩晓燕/, 'teams come from 山西国海');

      await page.getByRole('button', { name: '复核' }).click();
      await page.getByText('复核一致').first().waitFor();
      await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '公开' }).click()]);

      // A visitor, not signed in, finds the published draw from the public plan page and re-runs it.
      const visitor = await browser.newContext({ ...VIEWPORTS.phone, locale: 'zh-CN' });
      const v = await visitor.newPage();
      const id = new URL(drawUrl).pathname.split('/').pop();
      await v.goto(`${base}/public`);
      await v.getByRole('link', { name: /2025年车用柴油/ }).first().click();
      await v.locator(`a[href="/public/draws/${id}"]`).click();
      await v.getByRole('button', { name: '复核' }).or(v.getByRole('link', { name: '复核' })).first().click();
      await v.getByText('复核一致').first().waitFor();
      assert.doesNotMatch(await v.locator('body').innerText(), /郭海峰|韩晓燕/, 'teams are not published');
      await visitor.close();
    } finally {
      await ctx.close();
    }

    // The sampler's phone lists the tasks with the published rules, and opens one.
    const phone = await browser.newContext({ ...VIEWPORTS.phone, locale: 'zh-CN' });
    const p = await phone.newPage();
    try {
      await signIn(p, base, 'gh_sampler1');
      await p.goto(`${base}/tasks`);
      const cards = p.getByRole('link', { name: '打开任务' });
      assert.ok((await cards.count()) >= 3);
      await p.screenshot({ path: path.join(SHOTS, 'tasks-phone.png'), fullPage: true });
      const width = await p.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `no horizontal scrolling on a phone (${width}px)`);
    } finally {
      await phone.close();
    }
  });
});
