// On-site sampling as a new sampler does it, on a phone-sized Chromium (issue 4, "Done means"): the
// demo's 山西国海 samplers open a drawn 车用柴油 task at a fuel station, start it, fill the record
// (what is typed survives a reload), add photos of every evidence category, both samplers and the
// enterprise sign, the seals are on the record, the record PDF holds every field; a correction shows
// what changed and waits for the enterprise; a refusal is pending until the local bureau co-signs; a
// problem report reaches both bureaus; the rules are refused by name with nothing written; and an
// upload survives the server being killed and restarted, ending with the same SHA-256.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SHOTS, VIEWPORTS, apiAs, scribble, signIn, skip, startDemo, taskIdsOf } from './harness.mjs';
import { crawlAs } from './crawl.mjs';

let demo;
/** The 车用柴油 task sampled and dispatched by the first test; the laboratory test receives it. */
let sampledTask;

async function phone(username) {
  const ctx = await demo.browser.newContext({ ...VIEWPORTS.phone, locale: 'zh-CN' });
  const page = await ctx.newPage();
  page.on('dialog', (d) => d.accept());
  await signIn(page, demo.base, username);
  return { ctx, page };
}

const api = (username) => apiAs(demo.base, username);

const taskIds = (page, label) => taskIdsOf(page, demo.base, label);


async function openTask(page, id) {
  await page.goto(`${demo.base}/tasks/${id}`);
  await page.locator('[data-testid=task-state]').waitFor();
}

async function start(page, id) {
  await openTask(page, id);
  await Promise.all([page.waitForLoadState('load'), page.locator('[data-testid=start]').click()]);
  await page.locator('#record-form').waitFor();
}

const FIELDS = {
  brand: '昆仑',
  model: '0号',
  batch: '20251008',
  grade: '国六',
  producer_name: '中国石油天然气股份有限公司大连石化分公司',
  producer_address: '辽宁省大连市甘井子区工兴路1号',
  producer_uscc: '91210200MA0QCY5X8K',
  sampling_base: '12000',
  test_quantity: '2',
  backup_quantity: '2',
  unit_price: '7.35',
  place: '山西省大同市平城区某加油站3号加油机',
  sampled_at: '2025-10-10T10:30',
  test_seals: 'SXGH-000123',
  backup_seals: 'SXGH-000124',
  contact_name: '王站长',
  contact_phone: '0352-5012345',
  remarks: '样品为1L×2瓶，现场从加油机抽取',
};

async function fillRecord(page, values) {
  for (const [k, v] of Object.entries(values)) await page.locator(`#record-form [name=${k}]`).fill(v);
}

const jpeg = (n) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(n)]);

describe('on-site sampling on a phone', { skip }, () => {
  before(async () => {
    demo = await startDemo();
  });

  after(async () => {
    const code = await demo?.close();
    assert.equal(code, 0, 'the server stops cleanly on SIGTERM');
  });

  test('a demo sampler samples 车用柴油: record, photos, three signatures, PDF, correction', async () => {
    const a = await phone('gh_sampler1');
    const b = await phone('gh_sampler2');
    const tmp = mkdtempSync(path.join(tmpdir(), 'choucha-pdf-'));
    try {
      const { page } = a;
      const ids = await taskIds(page, '待抽样');
      assert.ok(ids.length >= 3, `the demo draws fuel stations for 车用柴油 (${ids.length} tasks)`);
      assert.match(await page.locator(`article[data-task="${ids[0]}"]`).innerText(), /车用柴油[\s\S]*郭海峰/);
      const id = ids[0];
      await start(page, id);

      // Arrival: the notice, identity and authorisation letter are shown, and the notice printed.
      const arrival = page.locator('[data-testid=arrival-form]');
      await arrival.locator('[name=notice_shown]').check();
      await arrival.locator('[name=identity_shown]').check();
      await page.locator('[data-testid=submit-arrival]').click();
      await arrival.locator('[data-error-for=authorisation_shown]', { hasText: '授权委托书' }).waitFor();
      await arrival.locator('[name=authorisation_shown]').check();
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=submit-arrival]').click()]);
      await page.locator('[data-testid=arrival-recorded]').waitFor();
      const notice = await page.request.get(
        `${demo.base}${await page.locator('[data-doc=notice]').getAttribute('href')}`,
      );
      assert.equal(notice.status(), 200);
      writeFileSync(path.join(tmp, 'notice.pdf'), await notice.body());
      const noticeText = execFileSync('pdftotext', [path.join(tmp, 'notice.pdf'), '-'], { encoding: 'utf8' });
      assert.match(noticeText.replace(/\s+/g, ''), /监督抽查通知书/);

      // Pre-filled from the plan item, the published rules and the registry.
      const form = page.locator('#record-form');
      assert.equal(await form.locator('[name=product_name]').inputValue(), '车用柴油');
      assert.equal(await form.locator('[name=unit]').inputValue(), 'L');
      assert.equal(await form.locator('[name=test_quantity]').inputValue(), '2');
      assert.match(await form.locator('[name=standard]').inputValue(), /GB 19147-2016/);
      assert.match(await form.locator('[name=place]').inputValue(), /平城区/);
      assert.match(await form.locator('[data-testid=samplers]').innerText(), /郭海峰[\s\S]*韩晓燕/);

      // Too little for the rules: refused next to the field, the rule's quantity named.
      await fillRecord(page, { ...FIELDS, test_quantity: '1' });
      await page.locator('[data-testid=save-record]').click();
      const err = form.locator('[data-error-for=test_quantity]');
      await err.filter({ hasText: '实施细则' }).waitFor();
      assert.match(await err.innerText(), /不得少于实施细则规定的2L/);
      assert.match(await form.locator('[data-testid=save-state]').innerText(), /本机/);
      await page.screenshot({ path: path.join(SHOTS, 'sampling-record-error.png'), fullPage: true });

      // Nothing typed is lost: a reload restores the local draft and says it is not on the server.
      await form.locator('[name=test_quantity]').fill('2');
      await page.reload();
      await form.waitFor();
      assert.equal(await form.locator('[name=brand]').inputValue(), '昆仑');
      assert.equal(await form.locator('[name=test_quantity]').inputValue(), '2');
      assert.match(await form.locator('[data-testid=save-state]').innerText(), /本机.*尚未提交/);

      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=save-record]').click()]);
      await page.locator('[data-testid=record-state]').filter({ hasText: '待签字' }).waitFor();
      assert.match(await page.locator('[data-testid=save-state]').innerText(), /已保存到服务器/);

      // Photos of every category; the checklist shows what is missing until all are there.
      assert.match(await page.locator('[data-testid=evidence-missing]').innerText(), /抽样场所/);
      const cats = ['site', 'storage', 'labels', 'stock', 'process', 'seals', 'documents'];
      for (const c of cats) {
        await page.locator(`[data-testid=upload-${c}]`).setInputFiles({
          name: `${c}.jpg`,
          mimeType: 'image/jpeg',
          buffer: jpeg(2000),
        });
      }
      await page.locator('[data-testid=upload-row][data-done="1"]').nth(cats.length - 1).waitFor();
      await page.locator('[data-testid=evidence-missing]', { hasText: '实施细则要求的证据已齐全' }).waitFor();
      assert.match(await page.locator('[data-testid=upload-sha]').first().innerText(), /SHA-256 [0-9a-f]{64}/);

      // The first sampler signs, then the enterprise's representative on the same phone.
      await scribble(page, 'pad-self');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=sign-self-submit]').click()]);
      await page.locator('[data-testid=pending-samplers]', { hasText: '韩晓燕' }).waitFor();
      assert.equal(await page.locator('#record-form').count(), 0, 'signed: the record can no longer be changed');
      await page.locator('#f-ent-name').fill('王站长');
      await scribble(page, 'pad-enterprise');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=sign-enterprise-submit]').click()]);
      assert.match(await page.locator('[data-testid=signed]').innerText(), /被抽样单位：王站长/);
      assert.match(await page.locator('[data-testid=task-state]').innerText(), /抽样中/, 'not complete without 韩晓燕');

      // The second sampler signs on her own phone; the record locks and the task is sampled.
      await openTask(b.page, id);
      await scribble(b.page, 'pad-self');
      await Promise.all([b.page.waitForEvent('load'), b.page.locator('[data-testid=sign-self-submit]').click()]);
      await b.page.locator('[data-testid=all-signed]').waitFor();
      assert.match(await b.page.locator('[data-testid=task-state]').innerText(), /已抽样/);
      await b.page.screenshot({ path: path.join(SHOTS, 'sampling-signed.png'), fullPage: true });
      const width = await b.page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `no horizontal scrolling on a phone (${width}px)`);

      // The record PDF holds every field, the seals, the samplers and the enterprise's signer.
      const pdf = await page.request.get(`${demo.base}/tasks/${id}/record.pdf`);
      assert.equal(pdf.status(), 200);
      assert.equal(pdf.headers()['content-type'], 'application/pdf');
      const file = path.join(tmp, 'record.pdf');
      writeFileSync(file, await pdf.body());
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, '');
      for (const v of [
        '车用柴油',
        ...Object.entries(FIELDS)
          .filter(([k]) => !['sampled_at', 'place', 'remarks', 'producer_name', 'producer_address'].includes(k))
          .map(([, v]) => v),
        '14.70',
        '郭海峰',
        '韩晓燕',
        '王站长',
        'GB19147-2016',
        '2025',
      ]) {
        assert.ok(text.includes(v.replace(/\s+/g, '')), `the record PDF shows “${v}”`);
      }
      for (const v of [FIELDS.place, FIELDS.producer_name, FIELDS.producer_address, FIELDS.remarks]) {
        assert.ok(text.includes(v.slice(0, 8)), `the record PDF shows “${v}”`);
      }

      // A correction after signing: a new version with its changes, waiting for the enterprise.
      await openTask(page, id);
      await page.locator('[data-testid=correction] summary').click();
      const cf = page.locator('#correction-form');
      await cf.locator('[name=batch]').fill('20251009');
      await cf.locator('[name=reason]').fill('批号抄写错误，按标签更正');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=submit-correction]').click()]);
      await page.locator('[data-testid=record-state]', { hasText: '更正待企业签字确认' }).waitFor();
      const changes = await page.locator('[data-testid=changes]').innerText();
      assert.match(changes, /生产日期\/批号\s+20251008\s+20251009/);
      assert.equal(await page.locator('[data-testid=sign-self]').count(), 0, 'only the enterprise confirms');
      await page.locator('#f-ent-name').fill('王站长');
      await scribble(page, 'pad-enterprise');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=sign-enterprise-submit]').click()]);
      await page.locator('[data-testid=record-state]', { hasText: '第2版 · 已签字锁定' }).waitFor();

      // Hand-over: the documents left with the enterprise, then the dispatch to the laboratory.
      const docs = await page.locator('[data-testid=documents]').innerText();
      for (const name of ['监督抽查通知书', '抽样单', '样品付费单', '反馈单']) assert.match(docs, new RegExp(name));
      const feedback = await page.request.get(`${demo.base}/tasks/${id}/documents/feedback_form`);
      assert.equal(feedback.status(), 200);
      const dispatch = page.locator('[data-testid=dispatch]');
      await dispatch.locator('input[value=shipped]').check();
      await dispatch.locator('[name=carrier]').fill('中国邮政EMS');
      await page.locator('[data-testid=submit-dispatch]').click();
      await dispatch.locator('[data-error-for=tracking_no]', { hasText: '单号' }).waitFor();
      await dispatch.locator('[name=tracking_no]').fill('1190012345678');
      // The courier signs on this phone (issue 18), and a temperature that is no number is refused here.
      await dispatch.locator('[name=courier_name]').fill('李快递');
      await scribble(page, 'pad-courier');
      await dispatch.locator('[name=temperature_c]').fill('四度');
      await page.locator('[data-testid=submit-dispatch]').click();
      await dispatch.locator('[data-error-for=temperature_c]', { hasText: '数字' }).waitFor();
      await dispatch.locator('[name=temperature_c]').fill('4.5');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=submit-dispatch]').click()]);
      await page.locator('[data-testid=custody]', { hasText: '1190012345678' }).waitFor();
      const chain = await page.locator('[data-testid=custody-chain]').innerText();
      assert.match(chain, /4\.5 ℃/, 'the temperature is on the hand-over');
      const { body: sent } = await (await api('gh_sampler1')).get(`/api/v1/tasks/${id}/custody/chain`);
      for (const p of sent.portions) {
        assert.ok(!p.flags.some((f) => f.code === 'courier_unsigned'), 'the courier signed on the phone');
      }
      assert.equal(await page.locator('[data-testid=dispatch]').count(), 0, 'dispatched once');
      await page.screenshot({ path: path.join(SHOTS, 'sampling-dispatched.png'), fullPage: true });
      sampledTask = id;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      await a.ctx.close();
      await b.ctx.close();
    }
  });

  test('the laboratory receives that sample, tests it blind, and three people sign the report', async () => {
    assert.ok(sampledTask, 'the first test sampled and dispatched a task');
    const { body: task } = await (await api('gh_sampler1')).get(`/api/v1/tasks/${sampledTask}`);
    const secrets = [task.enterprise_name, task.enterprise_uscc];
    assert.ok(secrets.every((x) => x && x.length > 5), 'the enterprise is known');
    const desk = async (username) => {
      const ctx = await demo.browser.newContext({ ...VIEWPORTS.desktop, locale: 'zh-CN' });
      const page = await ctx.newPage();
      page.on('dialog', (d) => d.accept());
      await signIn(page, demo.base, username);
      return { ctx, page };
    };
    const tmp = mkdtempSync(path.join(tmpdir(), 'choucha-lab-'));
    const pdfText = async (page, url, name) => {
      const r = await page.request.get(url);
      assert.equal(r.status(), 200, url);
      const file = path.join(tmp, name);
      writeFileSync(file, await r.body());
      return { file, text: execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, '') };
    };
    const custodian = await desk('tj_custodian');
    const tester = await desk('tj_tester');
    const reviewer = await desk('tj_reviewer');
    const approver = await desk('tj_approver');
    try {
      // Receipt: the custodian sees where it comes from, photographs it and accepts it.
      let page = custodian.page;
      await page.goto(`${demo.base}/lab/incoming`);
      await page.locator(`a[href="/lab/incoming/${sampledTask}"]`).first().click();
      await page.locator('[data-testid=receipt-form]').waitFor();
      assert.match(await page.locator('body').innerText(), new RegExp(task.enterprise_name));
      await page.locator('[name=delivered_by]').fill('EMS快递员');
      await page.locator('[name=appearance]').fill('两瓶完好，封条无破损，标签清晰');
      await page.locator('[name=backup_location]').fill('样品库A区3架2层');
      await page.locator('[data-testid=receipt-photos]').setInputFiles([
        { name: 'seals.jpg', mimeType: 'image/jpeg', buffer: jpeg(3000) },
        { name: 'appearance.jpg', mimeType: 'image/jpeg', buffer: jpeg(4000) },
      ]);
      await Promise.all([page.waitForURL(/\/lab\/received\/\d+$/), page.locator('[data-testid=receive]').click()]);
      const code = (await page.locator('[data-testid=blind-code]').innerText()).trim();
      const sampleId = page.url().split('/').pop();
      assert.match(code, /^M\d{4}-[0-9A-Z]{8}$/);
      assert.equal(await page.locator('[data-testid=receipt-photos] img').count(), 2, 'both photos stored and shown');
      const label = await pdfText(page, `${demo.base}${await page.locator('[data-testid=print-label]').getAttribute('href')}`, 'label.pdf');
      assert.ok(label.text.includes(code), 'the label carries the blind code');
      await page.locator('select[name=tester_id]').selectOption({ label: '高强' });
      await Promise.all([page.waitForEvent('load'), page.locator('form[action$="/tester"] button').click()]);

      // The tester works by blind code only: no page or API answer names the enterprise.
      page = tester.page;
      const seen = [];
      await page.goto(`${demo.base}/lab/samples`);
      seen.push(await page.content());
      await page.locator(`a[href="/lab/samples/${code}"]`).first().click();
      await page.locator('[data-testid=items]').waitFor();
      const results = ['15.2', '65', '52', '3.1', '830', '痕迹'];
      // All items on one form, one save.
      for (let i = 0; i < results.length; i++) {
        const row = page.locator(`tr[data-item="${i}"]`);
        await row.locator(`[name=value_${i}]`).fill(results[i]);
        await row.locator(`[name=instrument_${i}]`).fill(`仪器-${i + 1}`);
      }
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=save-results]').click()]);
      assert.equal(await page.locator('[data-testid=judgement-0]').innerText(), '不符合');
      assert.equal(await page.locator('[data-testid=judgement-1]').innerText(), '符合');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=complete]').click()]);
      assert.match(await page.locator('[data-testid=conclusion]').innerText(), /硫含量[\s\S]*不合格/);
      // Preparing without a signature is stopped on the page; with one, the report is prepared.
      await page.locator('[data-testid=prepare]').click();
      await page.locator('[data-pad-error]', { hasText: '签名' }).waitFor();
      await scribble(page, 'signoff-pad');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=prepare]').click()]);
      assert.match(await page.locator('body').innerText(), /已编制，待审核/);
      seen.push(await page.content());
      const testerApi = await api('tj_tester');
      for (const p of ['/api/v1/lab/samples', `/api/v1/lab/samples/${code}`, '/api/v1/lab/reports?state=prepared']) {
        const r = await testerApi.get(p);
        assert.equal(r.status, 200, p);
        seen.push(JSON.stringify(r.body));
      }
      // The custodian's link page and its API answer are not found for the tester, naming nobody.
      const linkPage = await page.request.get(`${demo.base}/lab/received/${sampleId}`);
      assert.equal(linkPage.status(), 404);
      seen.push(await linkPage.text());
      const link = await testerApi.get(`/api/v1/lab/received/${sampleId}`);
      assert.equal(link.status, 404);
      seen.push(JSON.stringify(link.body));
      for (const body of seen) for (const secret of secrets) assert.ok(!body.includes(secret), `a tester's answer names “${secret}”`);

      // Review by a second person, approval by a third; the reviewer may not approve too (rule 15).
      page = reviewer.page;
      await page.goto(`${demo.base}/lab/reports?state=prepared`);
      const card = page.locator('article[data-report]', { hasText: code });
      await scribble(page, 'signoff-pad');
      await Promise.all([page.waitForEvent('load'), card.locator('[data-testid=review]').click()]);
      await page.goto(`${demo.base}/lab/reports?state=reviewed`);
      await scribble(page, 'signoff-pad');
      await Promise.all([page.waitForEvent('load'), page.locator('article[data-report]', { hasText: code }).locator('[data-testid=approve]').click()]);
      assert.match(await page.locator('body').innerText(), /规则15/);
      page = approver.page;
      await page.goto(`${demo.base}/lab/reports?state=reviewed`);
      await scribble(page, 'signoff-pad');
      await Promise.all([page.waitForEvent('load'), page.locator('article[data-report]', { hasText: code }).locator('[data-testid=approve]').click()]);
      assert.match(await page.locator('body').innerText(), /已批准签发，报告编号/);
      await page.screenshot({ path: path.join(SHOTS, 'lab-approved.png'), fullPage: true });

      // The tester writes the improvement letter's own part, blind (by the sample's code).
      page = tester.page;
      await page.goto(`${demo.base}/lab/samples/${code}`);
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=letter-link]').click()]);
      await page.locator('[name=cause_analysis]').fill('原料油脱硫工艺控制不当');
      await page.locator('[name=suggestions]').fill('加强进货检验，完善脱硫工艺');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=letter-save]').click()]);
      assert.match(await page.locator('body').innerText(), /已保存产品质量改进建议书的内容/);
      assert.ok(!(await page.content()).includes(task.enterprise_name), 'the tester never sees the enterprise');

      // The custodian downloads the issued report: every item, the conclusion, three signatures.
      page = custodian.page;
      await page.goto(`${demo.base}/lab/reports?state=approved`);
      const href = await page.locator('article[data-report]', { hasText: code }).locator('a', { hasText: '下载报告' }).getAttribute('href');
      const report = await pdfText(page, `${demo.base}${href}`, 'report.pdf');
      for (const v of ['硫含量', '闪点', '十六烷值', '多环芳烃', '密度', '水含量', '15.2', '不合格', code, '高强', '郭明', '何平']) {
        assert.ok(report.text.includes(v), `the report PDF shows “${v}”`);
      }
      // pdfimages lists each picture and, for a PNG with transparency, its mask: count the pictures.
      const images = execFileSync('pdfimages', ['-list', report.file], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .slice(2)
        .filter((l) => l.trim().split(/\s+/)[2] === 'image');
      assert.equal(images.length, 3, 'three handwritten signatures');

      // Delivery (rule 17): the enterprise gets the result notice and the rest; the bureau 3 copies.
      await page.goto(`${demo.base}/results`);
      const ent = page.locator('article[data-recipient=enterprise]', { hasText: task.enterprise_name });
      assert.match(await ent.innerText(), /检验结果告知书[\s\S]*产品质量改进建议书[\s\S]*抽样单/);
      assert.match(await page.locator('article[data-recipient=organising_bureau]').first().innerText(), /一式3份/);
      const notice = await pdfText(page, `${demo.base}${await ent.locator('[data-testid=result-notice]').getAttribute('href')}`, 'notice.pdf');
      for (const v of [task.enterprise_name, '硫含量', '15日内', '检验结果告知书']) {
        assert.ok(notice.text.includes(v.replace(/\s+/g, '')), `the result notice shows “${v}”`);
      }
      // The improvement letter comes pre-filled from the report, with the tester's text.
      await page.goto(`${demo.base}${await ent.locator('[data-testid=improvement-letter]').getAttribute('href')}`);
      assert.ok((await page.content()).includes('原料油脱硫工艺控制不当'), "the letter carries the tester's text");
      await page.goto(`${demo.base}/results`);
      await ent.locator('[data-testid=record-delivery] summary').click();
      await ent.locator('[name=tracking_no]').fill('1190098765432');
      await Promise.all([page.waitForEvent('load'), ent.locator('[data-testid=record-submit]').click()]);
      await page.locator('article[data-recipient=enterprise] [data-testid=delivery-state]', { hasText: '已寄出' }).first().waitFor();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      for (const x of [custodian, tester, reviewer, approver]) await x.ctx.close();
    }
  });

  test('the rules are refused by name and nothing is written', async () => {
    const reg = await api('regulator');
    const sampler = await api('gh_sampler1');
    const tasks = (await sampler.get('/api/v1/tasks?limit=100')).body.items;
    const sampled = tasks.find((t) => t.state === 'sampled');
    assert.ok(sampled, 'the first test sampled a task');
    const item = sampled.item_id;
    const before = (await reg.get(`/api/v1/plans/${sampled.plan_id}/draws`)).body.length;

    // One sampler alone: a team of one is refused (rule 2), no draw recorded.
    const alone = await reg.post('/api/v1/draws', { item_id: item, quota: 1, seed: 'alone', team_size: 1 });
    assert.ok([409, 422].includes(alone.status), `refused (${alone.status})`);
    assert.match(JSON.stringify(alone.body), /rule2_min_samplers/);
    assert.match(alone.body.message, /不得少于2名抽样人员（规则2）/);
    assert.equal((await reg.get(`/api/v1/plans/${sampled.plan_id}/draws`)).body.length, before, 'nothing written');

    // A second batch of the same product at a fuel station that has one: excluded by rule 5, named.
    const preview = await reg.get(`/api/v1/items/${item}/draw-preview?division=140213&scopes=加油站`);
    assert.equal(preview.status, 200);
    const excluded = preview.body.exclusions.find((e) => e.name === sampled.enterprise_name);
    assert.ok(excluded, `${sampled.enterprise_name} is excluded from another 车用柴油 batch`);
    assert.match(excluded.rule, /^rule5/);
    assert.match(excluded.reason, /规则5/);

    // The signed record cannot be overwritten: rule 6 by name, the record unchanged.
    const rec = (await sampler.get(`/api/v1/tasks/${sampled.id}/record`)).body;
    const again = await sampler.put(`/api/v1/tasks/${sampled.id}/record`, { ...rec.fields, batch: 'X' });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'rule6_locked');
    assert.equal((await sampler.get(`/api/v1/tasks/${sampled.id}/record`)).body.fields.batch, rec.fields.batch);
  });

  test('a refusal is pending until the local bureau co-signs; a problem report reaches both bureaus', async () => {
    const a = await phone('gh_sampler1');
    try {
      const { page } = a;
      const ids = await taskIds(page, '待抽样');
      assert.ok(ids.length >= 2);
      const [refusalTask, problemTask] = ids;

      // 拒检: the determination is recorded on site, then pending until the county bureau co-signs.
      await start(page, refusalTask);
      await page.locator('[data-testid=refusal] summary').click();
      await page.locator('[data-testid=refusal] [name=facts]').fill('加油站负责人以样品价格明显不合理为由拒绝抽样');
      await page.locator('[data-testid=refusal] [name=reasons]').fill('认为样品费用只按进价支付，低于售价');
      await page.locator('[data-testid=refusal] [name=witness_name]').fill('李某（加油站员工）');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=submit-refusal]').click()]);
      assert.match(await page.locator('[data-testid=task-state]').innerText(), /拒检待认定/);
      assert.match(await page.locator('[data-testid=refusal-pending]').innerText(), /待县局会同认定/);

      const city = await api('regulator');
      const cosignByCity = await city.post(`/api/v1/tasks/${refusalTask}/refusal/cosign`, { opinion: '同意' });
      assert.equal(cosignByCity.status, 403, 'the organising city bureau cannot co-sign (rule 11)');
      const local = await api('local_regulator');
      const inbox = (await local.get('/api/v1/inbox')).body.items;
      assert.ok(inbox.some((i) => i.kind === 'refusal' && i.ref_id === Number(refusalTask)), 'in the local inbox');
      const cosign = await local.post(`/api/v1/tasks/${refusalTask}/refusal/cosign`, { opinion: '经核实，确属拒检' });
      assert.equal(cosign.status, 200);
      await openTask(page, refusalTask);
      assert.match(await page.locator('[data-testid=task-state]').innerText(), /^拒检$/);

      // A problem found before sampling stops it and reaches both bureaus.
      await openTask(page, problemTask);
      await page.locator('[data-testid=problem] summary').click();
      await page.locator('[data-testid=problem] [name=violation]').fill('无证无照');
      await page.locator('[data-testid=problem] [name=facts]').fill('现场未能出示营业执照和成品油零售经营批准证书');
      await Promise.all([page.waitForEvent('load'), page.locator('[data-testid=submit-problem]').click()]);
      assert.match(await page.locator('[data-testid=task-state]').innerText(), /问题报送/);
      for (const who of ['regulator', 'local_regulator']) {
        const items = (await (await api(who)).get('/api/v1/inbox')).body.items;
        assert.ok(
          items.some((i) => i.kind === 'problem' && i.ref_id === Number(problemTask) && /无证无照/.test(i.title)),
          `the problem report is in ${who}'s inbox`,
        );
      }
    } finally {
      await a.ctx.close();
    }
  });

  test('after the flow, no page shows a UTC time, an English code or a user number (words.test.mjs)', async () => {
    for (const username of [
      'gh_sampler1',
      'tj_custodian',
      'tj_tester',
      'tj_reviewer',
      'tj_approver',
      'regulator',
      'local_regulator',
      'auditor',
    ]) {
      const { visited, problems } = await crawlAs(demo, username);
      assert.ok(visited >= 5, `${username} reached pages (${visited})`);
      assert.deepEqual(problems, [], `${username} saw codes or UTC:\n${problems.join('\n')}`);
    }
  });

  test('an upload resumes after the server is killed and restarted, with the same SHA-256', async () => {
    const a = await phone('gh_sampler1');
    try {
      const { page } = a;
      const [id] = await taskIds(page, '待抽样');
      await start(page, id);
      const video = randomBytes(3 * 1024 * 1024 + 12345);
      const sha = createHash('sha256').update(video).digest('hex');

      // Let four chunks through, then kill the server while the fifth is on its way.
      let chunks = 0;
      let killed = null;
      const chunk = (url) => url.pathname.includes('/uploads/') && url.searchParams.has('offset');
      await page.route(chunk, async (route) => {
        chunks += 1;
        if (chunks === 5 && !killed) {
          killed = demo.kill();
          await killed;
          return route.abort('connectionreset');
        }
        return route.continue();
      });
      await page.locator('[data-testid=upload-process]').setInputFiles({
        name: 'process.mp4',
        mimeType: 'video/mp4',
        buffer: video,
      });
      const status = page.locator('[data-testid=upload-status]').first();
      await status.filter({ hasText: '连接中断' }).waitFor({ timeout: 30_000 });
      assert.ok(killed, 'the server was killed mid-upload');
      await page.screenshot({ path: path.join(SHOTS, 'sampling-upload-interrupted.png'), fullPage: true });
      await page.unroute(chunk);

      await demo.restart();
      await page.locator('[data-testid=upload-row][data-done="1"]').waitFor({ timeout: 60_000 });
      assert.equal(await page.locator('[data-testid=upload-sha]').first().innerText(), `SHA-256 ${sha}`);

      // The server holds the file, byte for byte.
      const ev = await (await api('gh_sampler1')).get(`/api/v1/tasks/${id}/evidence`);
      const item = ev.body.items.find((i) => i.file_name === 'process.mp4');
      assert.equal(item.sha256, sha);
      assert.equal(item.size, video.length);
    } finally {
      await a.ctx.close();
    }
  });
});
