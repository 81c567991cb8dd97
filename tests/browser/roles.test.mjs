// Sign-in, home page and sign-out for every demo role, on a desktop and a phone viewport, in
// headless Chromium against the real binary (`choucha serve --demo` on a fresh data folder).
//
// Environment:
//   CHOUCHA_BIN          the binary (default: <repo>/target/debug/choucha)
//   CHROMIUM_PATH        the browser (default: /usr/bin/chromium, Debian's package)
//   CHOUCHA_SCREENSHOTS  where screenshots go (default: <repo>/target/browser-screenshots)
//   CI=true              a missing Chromium fails the run instead of skipping it

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.CHOUCHA_BIN || path.join(ROOT, 'target/debug/choucha');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = process.env.CHOUCHA_SCREENSHOTS || path.join(ROOT, 'target/browser-screenshots');
const CI = process.env.CI === 'true';
const PASSWORD = 'Choucha2025';

// Demo usernames are the role codes (crates/service/src/demo.rs); labels as on the home page.
const ROLES = [
  ['admin', '管理员'],
  ['regulator', '监管人员'],
  ['local_regulator', '县局人员'],
  ['sampler', '抽样人员'],
  ['sample_custodian', '样品管理员'],
  ['tester', '检验人员'],
  ['report_approver', '审核/批准人'],
  ['enterprise', '企业用户'],
];

const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

// The flags this machine needs (no network but loopback); Playwright adds a fresh profile folder.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing && CI) {
  throw new Error(`Chromium 未安装（${CHROMIUM}）：CI 中浏览器测试不能跳过。请运行 apt-get install -y chromium`);
}
const skip = chromiumMissing ? `Chromium 未安装（${CHROMIUM}），跳过浏览器测试` : false;

let server;
let base;
let dataDir;
let browser;

/** Start the server on a free port and return its base URL once /healthz answers. */
async function startServer() {
  if (!existsSync(BIN)) {
    throw new Error(`找不到 ${BIN}：请先运行 cargo build -p choucha`);
  }
  dataDir = mkdtempSync(path.join(tmpdir(), 'choucha-browser-'));
  server = spawn(BIN, ['serve', '--demo', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('服务 120 秒内未启动')), 120_000);
    server.once('exit', (code) => reject(new Error(`服务提前退出，退出码 ${code}`)));
    createInterface({ input: server.stdout }).on('line', (line) => {
      const m = line.match(/http:\/\/\S+/);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
  });
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok && (await r.text()) === 'ok') return url;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}/healthz 没有响应`);
}

/** SIGTERM, and the exit code (the server stops cleanly with 0). */
function stopServer() {
  return new Promise((resolve) => {
    if (!server || server.exitCode !== null) return resolve(server?.exitCode ?? null);
    const killer = setTimeout(() => server.kill('SIGKILL'), 30_000);
    server.once('exit', (code, signal) => {
      clearTimeout(killer);
      resolve(code ?? signal);
    });
    server.kill('SIGTERM');
  });
}

async function signIn(page, username, password) {
  await page.goto(`${base}/login`);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '登录' }).click()]);
}

describe('demo roles in the browser', { skip }, () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    base = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    const code = await stopServer();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    assert.equal(code, 0, 'the server stops cleanly on SIGTERM');
  });

  for (const [code, label] of ROLES) {
    for (const [vpName, vp] of Object.entries(VIEWPORTS)) {
      test(`${code} signs in, sees the ${label}工作台 and signs out (${vpName})`, async () => {
        const context = await browser.newContext({ ...vp, locale: 'zh-CN' });
        const page = await context.newPage();
        try {
          // A wrong password is refused with the Chinese message.
          await signIn(page, code, `${PASSWORD}x`);
          const err = page.locator('[data-testid=login-error]');
          await err.waitFor();
          assert.match(await err.innerText(), /用户名或密码错误/);
          assert.equal(new URL(page.url()).pathname, '/login');

          // The right one opens the home page with this role's section.
          await signIn(page, code, PASSWORD);
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
