// The Content-Security-Policy in a real browser (等保三级, issue 15 item 7): on the key pages of
// several demo users no violation is reported and no script fails, and the scripts moved out of the
// templates (rows.js) still work under the policy.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VIEWPORTS, signIn, skip, startDemo } from './harness.mjs';

let demo;

/** A page that records CSP violations (console and DOM event) and script errors. */
async function watchedPage(browser) {
  const ctx = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'zh-CN' });
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return { ctx, page, problems };
}

/** Visit `path` and every link of the main navigation. */
async function visitNav(page, base, paths) {
  await page.goto(`${base}/`);
  const nav = await page.locator('nav.main a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  for (const p of [...paths, ...nav]) {
    const r = await page.goto(`${base}${p}`);
    assert.ok(r.status() < 500, `${p}: ${r.status()}`);
    assert.equal(r.headers()['x-frame-options'], 'DENY', p);
    await page.waitForLoadState('load');
  }
}

describe('the Content-Security-Policy in the browser', { skip }, () => {
  before(async () => {
    demo = await startDemo();
  });

  after(async () => {
    const code = await demo?.close();
    assert.equal(code, 0, 'the server stops cleanly on SIGTERM');
  });

  test('no violation on the key pages of the regulator, a sampler and a tester; rows.js works', async () => {
    const { base, browser } = demo;
    for (const [user, paths] of [
      ['regulator', ['/plans', '/plans/new', '/api/docs/']],
      ['sampler', ['/tasks']],
      ['tester', []],
      ['admin', []],
    ]) {
      const { ctx, page, problems } = await watchedPage(browser);
      try {
        await signIn(page, base, user);
        await visitNav(page, base, paths);
        if (user === 'regulator') {
          // The plan form's rows come from rows.js (moved out of the template).
          await page.goto(`${base}/plans/new`);
          const rows = page.locator('#item-rows > tr');
          const before = await rows.count();
          await page.locator('[data-testid=add-row]').click();
          assert.equal(await rows.count(), before + 1, 'a row is added');
          await rows.last().locator('.remove-row').click();
          assert.equal(await rows.count(), before, 'and removed');
        }
        if (user === 'sampler') {
          // A task's page runs sampling.js and signoff.js.
          await page.goto(`${base}/tasks`);
          const first = page.locator('a[href^="/tasks/"]').first();
          if ((await first.count()) > 0) {
            await Promise.all([page.waitForLoadState('load'), first.click()]);
          }
        }
        assert.deepEqual(problems, [], `${user}: ${problems.join('\n')}`);
      } finally {
        await ctx.close();
      }
    }
  });
});
