// The field app with no network (issue 18): a demo sampler opens her task list online on a phone (the
// service worker keeps the day's pages), then the network goes (the context offline AND the server
// killed, so that neither the page nor the worker reaches it): the list, a task page and its
// implementation rules still open; she fills the record, adds photos of every evidence category,
// signs, the enterprise signs — all 待同步 on the phone, surviving a reload. The network returns:
// the writes reach the server in order and the task has its record, photos and signatures; the
// second sampler signs on her own phone, also offline, and the task is sampled. A conflict: the
// record changed on the server while the phone was offline; syncing shows both versions, and the
// sampler re-applies hers onto the server's.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { SHOTS, VIEWPORTS, apiAs, scribble, signIn, skip, startDemo, taskIdsOf } from './harness.mjs';

let demo;

async function phone(username) {
  const ctx = await demo.browser.newContext({ ...VIEWPORTS.phone, locale: 'zh-CN' });
  const page = await ctx.newPage();
  page.on('dialog', (d) => d.accept());
  await signIn(page, demo.base, username);
  return { ctx, page };
}

const taskIds = (page, label) => taskIdsOf(page, demo.base, label);

async function start(page, id) {
  await page.goto(`${demo.base}/tasks/${id}`);
  await Promise.all([page.waitForLoadState('load'), page.locator('[data-testid=start]').click()]);
  await page.locator('#record-form').waitFor();
}

/** The task list online: the worker keeps the day's pages; answers how many. */
async function precache(page) {
  await page.goto(`${demo.base}/tasks`);
  const ready = page.locator('[data-testid=offline-ready][data-kept]');
  await ready.waitFor({ timeout: 30_000 });
  return Number(await ready.getAttribute('data-kept'));
}

/** No network: the phone is offline and the server is gone too. */
async function cut(ctx) {
  await ctx.setOffline(true);
  await demo.kill();
}

async function restore(ctx) {
  await demo.restart();
  await ctx.setOffline(false);
}

const FIELDS = {
  brand: '昆仑',
  model: '0号',
  batch: '20251008',
  grade: '国六',
  sampling_base: '12000',
  test_quantity: '2',
  backup_quantity: '2',
  unit_price: '7.35',
  place: '山西省大同市平城区某加油站3号加油机',
  sampled_at: '2025-10-10T10:30',
  test_seals: 'SXGH-000223',
  backup_seals: 'SXGH-000224',
  contact_name: '王站长',
  contact_phone: '0352-5012345',
};

async function fillRecord(page, values) {
  for (const [k, v] of Object.entries(values)) await page.locator(`#record-form [name=${k}]`).fill(v);
}

const jpeg = (n) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(n)]);
const CATS = ['site', 'storage', 'labels', 'stock', 'process', 'seals', 'documents'];

describe('the field app with no network', { skip }, () => {
  before(async () => {
    demo = await startDemo();
  });

  after(async () => {
    const code = await demo?.close();
    assert.equal(code, 0, 'the server stops cleanly on SIGTERM');
  });

  test('installable: a Chinese manifest, icons and a root-scoped worker from the binary', async () => {
    const m = await fetch(`${demo.base}/app.webmanifest`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type'), /application\/manifest\+json/);
    const manifest = await m.json();
    assert.match(manifest.name, /抽查/);
    assert.equal(manifest.start_url, '/tasks');
    assert.equal(manifest.display, 'standalone');
    for (const icon of manifest.icons) {
      const r = await fetch(`${demo.base}${icon.src}`);
      assert.equal(r.status, 200, icon.src);
      assert.equal(r.headers.get('content-type'), 'image/png');
    }
    const sw = await fetch(`${demo.base}/sw.js`);
    assert.equal(sw.status, 200);
    assert.equal(sw.headers.get('cache-control'), 'no-cache');
    assert.match(sw.headers.get('content-type'), /javascript/);
    const text = await sw.text();
    assert.match(text, /var VERSION = "[0-9.]+-[0-9a-f]{16}";/, 'the cache name carries the build');
    assert.ok(!text.includes('__CACHE_VERSION__'));
  });

  test('a whole sampling offline: record, photos, signatures wait on the phone and sync in order', async () => {
    const a = await phone('gh_sampler1');
    const b = await phone('gh_sampler2');
    try {
      const { page, ctx } = a;
      const [id] = await taskIds(page, '待抽样');
      assert.ok(id, 'a task to sample');
      // Not started: the sampler starts it on site, with no network.
      const kept = await precache(page);
      assert.ok(kept >= 3, `the list, the open tasks and their rules are kept (${kept})`);
      const rules = await page.request.get(`${demo.base}/tasks/${id}`);
      const rulesHref = (await rules.text()).match(/href="(\/public\/rules\/\d+)"/)[1];

      await cut(ctx);
      await page.goto(`${demo.base}/tasks`);
      await page.locator('[data-testid=offline-banner]').waitFor();
      assert.ok(await page.locator(`article[data-task="${id}"]`).isVisible(), 'the task list opens offline');
      await page.goto(`${demo.base}${rulesHref}`);
      assert.match(await page.locator('body').innerText(), /实施细则/, 'the rules open offline');
      await page.goto(`${demo.base}/tasks/${id}`);
      await page.locator('[data-testid=offline-banner]').waitFor();
      assert.ok(!(await page.locator('#record-form').isVisible()), 'the record waits for the start');
      await page.locator('[data-testid=start]').click();
      await page.locator('[data-testid=queued]', { hasText: '开始抽样' }).waitFor();
      await page.locator('[data-testid=outbox-count]', { hasText: '1' }).waitFor();
      await page.locator('#record-form').waitFor();
      await page.screenshot({ path: path.join(SHOTS, 'offline-task.png'), fullPage: true });

      // The record: queued, and the signatures open on what the phone will send.
      await fillRecord(page, FIELDS);
      await page.locator('[data-testid=save-record]').click();
      await page.locator('[data-testid=save-state]', { hasText: '待同步' }).waitFor();
      await page.locator('[data-testid=outbox-count]', { hasText: '2' }).waitFor();
      for (const c of CATS) {
        await page.locator(`[data-testid=upload-${c}]`).setInputFiles({ name: `${c}.jpg`, mimeType: 'image/jpeg', buffer: jpeg(3000) });
      }
      await page.locator('[data-testid=outbox-count]', { hasText: '9' }).waitFor();
      await scribble(page, 'pad-self');
      await page.locator('[data-testid=sign-self-submit]').click();
      await page.locator('[data-testid=queued]', { hasText: '抽样人员签字' }).waitFor();
      await page.locator('#f-ent-name').fill('王站长');
      await scribble(page, 'pad-enterprise');
      await page.locator('[data-testid=sign-enterprise-submit]').click();
      await page.locator('[data-testid=queued]', { hasText: '被抽样单位签字' }).waitFor();
      await page.locator('[data-testid=outbox-count]', { hasText: '11' }).waitFor();

      // Nothing is lost by a reload with no network.
      await page.reload();
      await page.locator('[data-testid=outbox-count]', { hasText: '11' }).waitFor();
      await page.locator('#record-form').waitFor();
      assert.equal(await page.locator('#record-form [name=brand]').inputValue(), '昆仑');
      assert.equal(await page.locator('[data-testid=queued]').count(), 3, 'the start and both signatures still queued');
      await page.screenshot({ path: path.join(SHOTS, 'offline-queued.png'), fullPage: true });

      // The network returns: everything reaches the server, in order.
      await restore(ctx);
      // The online event starts the sync; the button too (it may already be gone when all is synced).
      await page.locator('[data-testid=sync-now]').click({ timeout: 2000 }).catch(() => {});
      await page.locator('[data-testid=record-state]', { hasText: '待签字' }).waitFor({ timeout: 90_000 });
      await page.locator('[data-testid=outbox]').waitFor({ state: 'hidden' });
      const api = await apiAs(demo.base, 'gh_sampler1');
      const rec = (await api.get(`/api/v1/tasks/${id}/record`)).body;
      assert.equal(rec.fields.brand, '昆仑');
      assert.deepEqual(rec.fields.test_seals, ['SXGH-000223']);
      assert.equal(rec.signatures.length, 2, 'the first sampler and the enterprise signed');
      assert.ok(rec.signatures.some((g) => g.signer === 'enterprise' && g.signer_name === '王站长'));
      assert.ok(rec.signatures.some((g) => g.signer.startsWith('sampler:')));
      assert.ok(rec.signatures.every((g) => g.record_hash === rec.record_hash), 'the signatures sign the synced record');
      const ev = (await api.get(`/api/v1/tasks/${id}/evidence`)).body;
      assert.equal(ev.items.length, CATS.length, 'every photo reached the server');
      assert.deepEqual(ev.missing, []);

      // The second sampler signs on her own phone, offline too.
      await precache(b.page);
      await b.page.goto(`${demo.base}/tasks/${id}`);
      await b.page.locator('[data-testid=pad-self]').waitFor();
      await b.ctx.setOffline(true);
      await b.page.reload();
      await scribble(b.page, 'pad-self');
      await b.page.locator('[data-testid=sign-self-submit]').click();
      await b.page.locator('[data-testid=queued]', { hasText: '抽样人员签字' }).waitFor();
      await b.page.locator('[data-testid=outbox-count]', { hasText: '1' }).waitFor();
      await b.ctx.setOffline(false);
      await b.page.locator('[data-testid=all-signed]').waitFor({ timeout: 60_000 });
      assert.match(await b.page.locator('[data-testid=task-state]').innerText(), /已抽样/);
      const task = (await api.get(`/api/v1/tasks/${id}`)).body;
      assert.equal(task.state, 'sampled');
    } finally {
      await a.ctx.close();
      await b.ctx.close();
    }
  });

  test('a conflict: the record changed on the server meanwhile; shown, re-applied, nothing lost', async () => {
    const a = await phone('gh_sampler1');
    try {
      const { page, ctx } = a;
      const [id] = await taskIds(page, '待抽样');
      await start(page, id);
      await precache(page);
      await cut(ctx);
      await page.goto(`${demo.base}/tasks/${id}`);
      await fillRecord(page, { ...FIELDS, test_seals: 'SXGH-000423', backup_seals: 'SXGH-000424' });
      await page.locator('[data-testid=save-record]').click();
      await page.locator('[data-testid=outbox-count]', { hasText: '1' }).waitFor();

      // Meanwhile the team mate saves another record on the server.
      await demo.restart();
      const mate = await apiAs(demo.base, 'gh_sampler2');
      const theirs = await mate.put(`/api/v1/tasks/${id}/record`, {
        product_name: '车用柴油', brand: '中国石化', model: '0号', batch: '20251008', standard: 'GB 19147-2016',
        sampling_base: 12000, test_quantity: 2, backup_quantity: 2, unit: 'L', unit_price: 7.35, place: '3号枪',
        domain: 'circulation', sampled_at: '2025-10-10 10:30', test_seals: ['SXGH-000323'], backup_seals: ['SXGH-000324'],
      });
      assert.equal(theirs.status, 200, JSON.stringify(theirs.body));

      await ctx.setOffline(false);
      await page.locator('[data-testid=sync-now]').click({ timeout: 2000 }).catch(() => {});
      const conflict = page.locator('[data-testid=conflict]');
      await conflict.waitFor({ timeout: 30_000 });
      assert.match(await conflict.innerText(), /服务器上已被修改/);
      assert.match(await conflict.locator('[data-testid=conflict-diff]').innerText(), /商标\s+昆仑\s+中国石化/);
      assert.equal(await page.locator('[data-testid=outbox-count]').innerText(), '1', 'kept on the phone');
      await page.screenshot({ path: path.join(SHOTS, 'offline-conflict.png'), fullPage: true });
      const api = await apiAs(demo.base, 'gh_sampler1');
      assert.equal((await api.get(`/api/v1/tasks/${id}/record`)).body.fields.brand, '中国石化', 'nothing overwritten');

      // Re-applied onto the server's version, after seeing it.
      await conflict.locator('[data-testid=conflict-reapply]').click();
      await page.locator('[data-testid=record-state]', { hasText: '待签字' }).waitFor({ timeout: 30_000 });
      await page.locator('[data-testid=outbox]').waitFor({ state: 'hidden' });
      const rec = (await api.get(`/api/v1/tasks/${id}/record`)).body;
      assert.equal(rec.fields.brand, '昆仑');
      assert.deepEqual(rec.fields.test_seals, ['SXGH-000423']);
    } finally {
      await a.ctx.close();
    }
  });
});
