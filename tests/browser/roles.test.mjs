// Sign-in, home page and sign-out for every demo role, on a desktop and a phone viewport, in
// headless Chromium against the real binary (see harness.mjs).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { PASSWORD, SHOTS, VIEWPORTS, signIn, skip, startDemo } from './harness.mjs';

// Demo usernames (crates/seed/src/demo/users.rs), their role codes and the labels of the home
// page; the three administrators of 三权分立 are `admin`, `security` and `auditor`.
const ROLES = [
  ['admin', 'system_admin', '系统管理员'],
  ['security', 'security_admin', '安全管理员'],
  ['auditor', 'audit_admin', '审计管理员'],
  ['regulator', 'regulator', '监管人员'],
  ['local_regulator', 'local_regulator', '县局人员'],
  ['sampler', 'sampler', '抽样人员'],
  ['sample_custodian', 'sample_custodian', '样品管理员'],
  ['tester', 'tester', '检验人员'],
  ['report_approver', 'report_approver', '审核/批准人'],
  ['enterprise', 'enterprise', '企业用户'],
];

let demo;
let base;
let browser;

describe('demo roles in the browser', { skip }, () => {
  before(async () => {
    demo = await startDemo();
    base = demo.base;
    browser = demo.browser;
  });

  after(async () => {
    const code = await demo?.close();
    assert.equal(code, 0, 'the server stops cleanly on SIGTERM');
  });

  for (const [username, code, label] of ROLES) {
    for (const [vpName, vp] of Object.entries(VIEWPORTS)) {
      test(`${username} signs in, sees the ${label}工作台 and signs out (${vpName})`, async () => {
        const context = await browser.newContext({ ...vp, locale: 'zh-CN' });
        const page = await context.newPage();
        try {
          // A wrong password is refused with the Chinese message.
          await signIn(page, base, username, `${PASSWORD}x`);
          const err = page.locator('[data-testid=login-error]');
          await err.waitFor();
          assert.match(await err.innerText(), /用户名或密码错误/);
          assert.equal(new URL(page.url()).pathname, '/login');

          // The right one opens the home page with this role's section.
          await signIn(page, base, username, PASSWORD);
          assert.equal(new URL(page.url()).pathname, '/');
          await page.locator('h1[data-testid=home-title]').waitFor();
          const section = page.locator(`section[data-role="${code}"]`);
          await section.waitFor();
          assert.equal((await section.locator('h2').innerText()).trim(), `${label}工作台`);
          assert.equal(await page.locator('section[data-role]').count(), 1, 'one role, one section');
          if (vpName === 'phone') {
            const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
            assert.ok(scrollWidth <= 390, `no horizontal scrolling on a phone (page is ${scrollWidth}px wide)`);
          }
          await page.screenshot({ path: path.join(SHOTS, `${code}-${vpName}.png`), fullPage: true });

          // Signing out returns to the sign-in page, and the home page is closed again.
          await Promise.all([page.waitForURL(/\/login/), page.getByRole('button', { name: '退出' }).click()]);
          await page.locator('#username').waitFor();
          await page.goto(`${base}/`);
          assert.equal(new URL(page.url()).pathname, '/login');
        } finally {
          await context.close();
        }
      });
    }
  }
});

if (skip) {
  test('browser tests need Chromium', { skip }, () => {});
}
