import { chromium } from 'playwright-core';
const base = process.argv[2];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
async function login(user, w, h) {
  const ctx = await browser.newContext({ viewport: { width: w, height: h } });
  const p = await ctx.newPage();
  p.on('dialog', d => d.accept());
  await p.goto(base + '/login');
  await p.fill('#username', user); await p.fill('#password', 'Choucha2025');
  await p.click('button[type=submit]'); await p.waitForLoadState('networkidle');
  return [ctx, p];
}
let [ctx, p] = await login('regulator', 1280, 800);
await p.goto(base + '/items/1/draw'); await p.waitForLoadState('networkidle');
await p.screenshot({ path: '/tmp/shots/draw-form.png', fullPage: true });
const quota = await p.$('input[name=quota]'); if (quota) { await quota.fill('4'); }
const btns = await p.$$('form button[type=submit]');
console.log('buttons', await Promise.all(btns.map(b => b.innerText())));
for (const b of btns) { if ((await b.innerText()).includes('抽取') && !(await b.innerText()).includes('预览')) { await b.click(); break; } }
await p.waitForLoadState('networkidle');
console.log('after draw', p.url());
await p.screenshot({ path: '/tmp/shots/draw-result.png', fullPage: true });
await ctx.close();
[ctx, p] = await login('gh_sampler1', 390, 844);
await p.goto(base + '/tasks'); await p.waitForLoadState('networkidle');
await p.screenshot({ path: '/tmp/shots/tasks-phone.png', fullPage: true });
await ctx.close();
await browser.close();
