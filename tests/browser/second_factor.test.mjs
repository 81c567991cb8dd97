// Two-factor sign-in in a real browser (等保三级, issue 15 item 2): a regulator enrols an
// authenticator on the account page (QR code drawn by the server, recovery codes shown once), and
// from then on the password alone does not sign in: the code is asked for, a wrong one is refused,
// the right one (computed here as an authenticator app would, RFC 6238) signs in.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { SHOTS, VIEWPORTS, signIn, skip, startDemo } from './harness.mjs';

let demo;

function base32(secret) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of secret.replace(/=+$/, '').toUpperCase()) {
    value = ((value << 5) | alphabet.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code an authenticator app shows for `secret`, `steps` 30-second steps from now. */
function totp(secret, steps = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + steps));
  const h = createHmac('sha1', base32(secret)).update(counter).digest();
  const o = h[19] & 15;
  const n = (((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]) % 1_000_000;
  return String(n).padStart(6, '0');
}

describe('two-factor sign-in', { skip }, () => {
  before(async () => {
    demo = await startDemo();
  });

  after(async () => {
    const code = await demo?.close();
    assert.equal(code, 0, 'the server stops cleanly on SIGTERM');
  });

  test('a regulator enrols on a phone and then cannot sign in without the code', async () => {
    const { base, browser } = demo;
    const ctx = await browser.newContext({ ...VIEWPORTS.phone, locale: 'zh-CN' });
    const page = await ctx.newPage();
    await signIn(page, base, 'regulator');
    await page.goto(`${base}/account/password`);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: '动态验证码' }).click()]);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '开始绑定验证器' }).click()]);
    const qr = page.locator('[data-testid=second-factor-qr]');
    await qr.waitFor();
    const width = await qr.evaluate((img) => img.naturalWidth);
    assert.ok(width > 50, `the QR code is drawn (${width} px)`);
    await page.screenshot({ path: path.join(SHOTS, 'second-factor-enrol-phone.png'), fullPage: true });
    const secret = (await page.locator('[data-testid=second-factor-secret]').innerText()).trim();
    await page.locator('#code').fill(totp(secret));
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '完成绑定' }).click()]);
    const codes = page.locator('[data-testid=recovery-codes] li');
    assert.equal(await codes.count(), 10, 'ten recovery codes');
    assert.match(await page.locator('[data-testid=recovery-codes]').innerText(), /只显示这一次/);
    await ctx.close();

    // A fresh browser: the password alone leaves the user on the sign-in page, asked for the code.
    const ctx2 = await browser.newContext({ ...VIEWPORTS.desktop, locale: 'zh-CN' });
    const p2 = await ctx2.newPage();
    await signIn(p2, base, 'regulator');
    await p2.locator('[data-testid=code-form]').waitFor();
    const wrong = totp(secret, 1) === '000000' ? '111111' : '000000';
    await p2.locator('#code').fill(wrong);
    await Promise.all([p2.waitForLoadState('load'), p2.getByRole('button', { name: '验证并登录' }).click()]);
    assert.match(await p2.locator('[data-testid=login-error]').innerText(), /动态验证码不正确/);
    await p2.locator('#code').fill(totp(secret, 1));
    await Promise.all([p2.waitForLoadState('load'), p2.getByRole('button', { name: '验证并登录' }).click()]);
    assert.ok(!new URL(p2.url()).pathname.startsWith('/login'), `signed in: ${p2.url()}`);
    await p2.goto(`${base}/account/second-factor`);
    assert.match(await p2.locator('[data-testid=second-factor-status]').innerText(), /已启用/);
    await ctx2.close();
  });
});
