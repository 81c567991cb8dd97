import { chromium } from 'playwright-core';
const base = process.argv[2];
const pages = JSON.parse(process.argv[3]);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
for (const [user, path, name, w, h] of pages) {
  const ctx = await browser.newContext({ viewport: { width: w, height: h } });
  const p = await ctx.newPage();
  await p.goto(base + '/login');
  await p.fill('#username', user); await p.fill('#password', 'Choucha2025');
  await p.click('button[type=submit]');
  await p.waitForLoadState('networkidle');
  await p.goto(base + path); await p.waitForLoadState('networkidle');
  await p.screenshot({ path: `/tmp/shots/${name}.png`, fullPage: true });
  console.log(name, p.url(), (await p.title()));
  await ctx.close();
}
await browser.close();
