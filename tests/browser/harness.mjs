// Shared set-up of the browser tests: the real binary (`choucha serve --demo` on a fresh data
// folder and a free port) and Debian's Chromium with the flags this machine needs.
//
// Environment:
//   CHOUCHA_BIN          the binary (default: <repo>/target/debug/choucha)
//   CHROMIUM_PATH        the browser (default: /usr/bin/chromium, Debian's package)
//   CHOUCHA_SCREENSHOTS  where screenshots go (default: <repo>/target/browser-screenshots)
//   CI=true              a missing Chromium fails the run instead of skipping it

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.CHOUCHA_BIN || path.join(ROOT, 'target/debug/choucha');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SHOTS = process.env.CHOUCHA_SCREENSHOTS || path.join(ROOT, 'target/browser-screenshots');
const CI = process.env.CI === 'true';
export const PASSWORD = 'Choucha2025';

export const VIEWPORTS = {
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
export const skip = chromiumMissing ? `Chromium 未安装（${CHROMIUM}），跳过浏览器测试` : false;

/**
 * A demo server and a browser; `close()` stops both and returns the server's exit code.
 * `today` (YYYY-MM-DD) starts the demo on a training date (`serve --demo --today`).
 */
export async function startDemo({ today } = {}) {
  if (!existsSync(BIN)) {
    throw new Error(`找不到 ${BIN}：请先运行 cargo build -p choucha`);
  }
  mkdirSync(SHOTS, { recursive: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'choucha-browser-'));
  let server;
  const url = await new Promise((resolve, reject) => {
    server = launch(dataDir, '127.0.0.1:0', today, resolve, reject);
  });
  await healthy(url);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });

  /** SIGTERM, and the exit code (the server stops cleanly with 0). */
  const stop = () =>
    new Promise((resolve) => {
      if (server.exitCode !== null) return resolve(server.exitCode);
      const killer = setTimeout(() => server.kill('SIGKILL'), 30_000);
      server.once('exit', (code, signal) => {
        clearTimeout(killer);
        resolve(code ?? signal);
      });
      server.kill('SIGTERM');
    });
  return {
    base: url,
    browser,
    dataDir,
    /** Kill the server at once (SIGKILL, as a crash or a power cut would). */
    async kill() {
      if (server.exitCode !== null || server.signalCode !== null) return;
      await new Promise((resolve) => {
        server.once('exit', resolve);
        server.kill('SIGKILL');
      });
    },
    /** Start the server again on the same data folder and port. */
    async restart() {
      const listen = new URL(url).host;
      await new Promise((resolve, reject) => {
        server = launch(dataDir, listen, today, resolve, reject);
      });
      await healthy(url);
    },
    async close() {
      await browser.close();
      const code = await stop();
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Start `choucha serve --demo` on `dataDir`; `resolve` gets the URL it prints. */
function launch(dataDir, listen, today, resolve, reject) {
  // Every test signs in from 127.0.0.1: the per-address sign-in quota (20 at once, then one every
  // 3 s in production) is raised for this server only; the rest of the policy is production's.
  const config = path.join(dataDir, 'browser-tests.toml');
  writeFileSync(config, '[security]\nsign_in_burst = 10000\nsign_in_refill_seconds = 1\n');
  const args = ['--config', config, 'serve', '--demo', '--data-dir', dataDir, '--listen', listen];
  if (today) args.push('--today', today);
  const server = spawn(BIN, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  const timer = setTimeout(() => reject(new Error('服务 120 秒内未启动')), 120_000);
  const early = (code) => reject(new Error(`服务提前退出，退出码 ${code}`));
  server.once('exit', early);
  createInterface({ input: server.stdout }).on('line', (line) => {
    const m = line.match(/http:\/\/\S+/);
    if (m) {
      clearTimeout(timer);
      server.off('exit', early);
      resolve(m[0]);
    }
  });
  return server;
}

async function healthy(url) {
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    try {
      const r = await fetch(`${url}/healthz`);
      up = r.ok && (await r.text()) === 'ok';
    } catch {
      // not up yet
    }
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) throw new Error(`${url}/healthz 没有响应`);
}

export async function signIn(page, base, username, password = PASSWORD) {
  await page.goto(`${base}/login`);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '登录' }).click()]);
}

/**
 * The JSON API as `username` (a bearer token): `get`, `post`, `put` answer `{status, body}` (JSON);
 * `form` posts multipart data; `bytes` answers `{status, type, data}` (a Buffer) for downloads.
 */
export async function apiAs(base, username, password = PASSWORD) {
  const r = await fetch(`${base}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (r.status !== 200) throw new Error(`${username} 无法取得令牌：${r.status} ${await r.text()}`);
  const { token } = await r.json();
  const auth = { authorization: `Bearer ${token}` };
  const answer = async (res) => {
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return { status: res.status, body };
  };
  const call = async (method, p, body) =>
    answer(
      await fetch(`${base}${p}`, {
        method,
        headers: { ...auth, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  return {
    token,
    get: (p) => call('GET', p),
    post: (p, b) => call('POST', p, b),
    put: (p, b) => call('PUT', p, b),
    form: async (p, data) => answer(await fetch(`${base}${p}`, { method: 'POST', headers: auth, body: data })),
    bytes: async (p) => {
      const res = await fetch(`${base}${p}`, { headers: auth });
      return { status: res.status, type: res.headers.get('content-type') || '', data: Buffer.from(await res.arrayBuffer()) };
    },
  };
}

/** The ids of the caller's tasks whose card shows `label`, from the task list page. */
export async function taskIdsOf(page, base, label) {
  await page.goto(`${base}/tasks`);
  const cards = page.locator('article[data-task]', { hasText: label });
  const ids = [];
  for (let i = 0; i < (await cards.count()); i++) ids.push(await cards.nth(i).getAttribute('data-task'));
  return ids;
}

/** Draw a short stroke on a signature pad. */
export async function scribble(page, testid) {
  const pad = page.locator(`[data-testid=${testid}]`);
  await pad.scrollIntoViewIfNeeded();
  const b = await pad.boundingBox();
  await page.mouse.move(b.x + 20, b.y + 30);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) await page.mouse.move(b.x + 20 + i * 25, b.y + 30 + (i % 2) * 50);
  await page.mouse.up();
}
