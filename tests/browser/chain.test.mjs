// The whole chain on a demo started on the training date 2025-10-20 (issue 16, "Done means"): a
// 车用柴油 sample of the demo's fuel stations is sampled, tested unqualified at 天津五十一站 and its
// report delivered; the station objects inside the 15-day window and the re-test runs at 山西省检验
// 检测中心 (the backup portion sent on by the first lab's custodian and received by the re-test
// lab's); the disposal is refused while the window is open and allowed once the administrator has
// moved the date past it; the case run by the district bureau turns overdue once the date passes its
// first deadline; the bureau orders the 复查 and the samplers take it (a paid sample, as the notices
// say). The state changes go through the JSON API (the pages that make them have their own tests);
// then every role crawls every page reachable from home, and every PDF and Excel file linked from
// them, for UTC times, English words, codes and user numbers, and blind staff for the enterprise.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, apiAs, signIn, skip, startDemo } from './harness.mjs';
import { ROLES, crawlAs, documentText } from './crawl.mjs';

const TODAY = '2025-10-20';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const photo = (name) => ({ file_name: name, content_type: 'image/png', data_base64: PNG });
const signed = { signature_png_base64: PNG };
const STATION_USER = 'wangzhanzhang';

let demo;
const api = (username, password) => apiAs(demo.base, username, password);
/** What the flow made, for the crawl: the enterprises blind staff must never see. */
const secrets = new Set();
let stationPassword = PASSWORD;
/** The page shapes the crawls reached and the document types they read. */
const reached = new Set();
const read = new Set();
const blindRead = new Set();

function ok(r, what, status = 200) {
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
  return r.body;
}

function day(offset) {
  const d = new Date(`${TODAY}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
}

/** The record of a 车用柴油 sample as the samplers type it; `n` makes its seals unique. */
function record(n, unitPrice = 7.35) {
  return {
    product_name: '车用柴油',
    brand: '昆仑',
    model: '0号',
    batch: '20251018',
    standard: 'GB 19147-2016',
    grade: '国六',
    producer_name: '中国石油天然气股份有限公司大连石化分公司',
    producer_address: '辽宁省大连市甘井子区工兴路1号',
    producer_uscc: '91210200MA0QCY5X8K',
    sampling_base: 12000,
    test_quantity: 2,
    backup_quantity: 2,
    unit: 'L',
    unit_price: unitPrice,
    place: '山西省大同市平城区加油站2号加油机',
    domain: 'circulation',
    sampled_at: `${TODAY} 09:30`,
    test_seals: [`SXGH-10${n}01`],
    backup_seals: [`SXGH-10${n}02`],
    contact_name: '王站长',
    contact_phone: '0352-5012345',
    remarks: '样品为1L×2瓶，现场从加油机抽取',
  };
}

/** The two 山西国海 samplers take task `id` on site: arrival, record, evidence, signatures, dispatch. */
async function sample(id, fields, { started = false } = {}) {
  const s1 = await api('gh_sampler1');
  const s2 = await api('gh_sampler2');
  if (!started) ok(await s1.post(`/api/v1/tasks/${id}/start`, {}), 'start');
  ok(
    await s1.post(`/api/v1/tasks/${id}/arrival`, { notice_shown: true, identity_shown: true, authorisation_shown: true }),
    'arrival',
  );
  ok(await s1.put(`/api/v1/tasks/${id}/record`, fields), 'record');
  const { missing } = ok(await s1.get(`/api/v1/tasks/${id}/evidence`), 'evidence');
  for (const category of missing) {
    const form = new FormData();
    form.append('category', category);
    form.append('file', new Blob([Buffer.from(PNG, 'base64')], { type: 'image/png' }), `${category}.png`);
    ok(await s1.form(`/api/v1/tasks/${id}/evidence`, form), `evidence ${category}`, 201);
  }
  const sign = `/api/v1/tasks/${id}/record/signatures`;
  ok(await s1.post(sign, { signer: 'self', image_png_base64: PNG }), 'first sampler signs');
  ok(await s2.post(sign, { signer: 'self', image_png_base64: PNG }), 'second sampler signs');
  ok(await s2.post(sign, { signer: 'enterprise', name: '王站长', image_png_base64: PNG }), 'the enterprise signs');
  ok(
    await s1.post(`/api/v1/tasks/${id}/dispatch`, { mode: 'shipped', carrier: '中国邮政EMS', tracking_no: '1190012345678' }),
    'dispatch',
  );
}

/**
 * 天津五十一站 receives task `id`, tests it (硫含量 15.2 mg/kg: unqualified) and issues the report;
 * with `issue: false` the report stays prepared, waiting for its reviewer.
 */
async function testAndIssue(id, fields, { issue = true } = {}) {
  const keeper = await api('tj_custodian');
  const received = ok(
    await keeper.post(`/api/v1/lab/incoming/${id}/receipt`, {
      delivered_by: 'EMS快递员',
      carrier: 'EMS',
      tracking_no: '1190012345678',
      observed: {
        test_seals: fields.test_seals,
        backup_seals: fields.backup_seals,
        test_quantity: fields.test_quantity,
        backup_quantity: fields.backup_quantity,
        seals_intact: true,
        labels_match: true,
        appearance: '两瓶完好，封条无破损',
      },
      decision: 'accept',
      reason: '',
      backup_location: '样品库A区3架2层',
      photos: [photo('seals.png')],
    }),
    'receipt',
  );
  const code = received.blind_code;
  const tester = await api('tj_tester');
  const blind = ok(await tester.get(`/api/v1/lab/samples/${code}`), 'the blind sample');
  const values = [15.2, 65, 52, 3.1, 830];
  for (let i = 0; i < blind.items.length; i++) {
    const result = i < values.length ? { value: values[i] } : { text: '痕迹' };
    ok(await tester.put(`/api/v1/lab/samples/${code}/results`, { item_index: i, instrument: `仪器-${i + 1}`, ...result }), `result ${i}`);
  }
  const done = ok(await tester.post(`/api/v1/lab/samples/${code}/complete`, {}), 'complete');
  assert.equal(done.qualified, false);
  const report = ok(await tester.post(`/api/v1/lab/samples/${code}/reports`, signed), 'prepare');
  if (!issue) return { code, reportId: report.id, sampleId: received.sample_id };
  ok(await (await api('tj_reviewer')).post(`/api/v1/lab/reports/${report.id}/review`, signed), 'review');
  ok(await (await api('tj_approver')).post(`/api/v1/lab/reports/${report.id}/approve`, signed), 'approve');
  return { code, reportId: report.id, sampleId: received.sample_id };
}

/** The administrator moves the training date to `date` on the training page. */
async function moveDate(date) {
  const ctx = await demo.browser.newContext({ locale: 'zh-CN' });
  try {
    const page = await ctx.newPage();
    await signIn(page, demo.base, 'admin');
    await page.goto(`${demo.base}/admin/training`);
    await page.locator('[data-testid=move-form] [name=date]').fill(date);
    await Promise.all([page.waitForLoadState('load'), page.locator('[data-testid=move-form] button').click()]);
    assert.match(await page.locator('body').innerText(), new RegExp(`培训模式：系统日期为 ${date}`));
  } finally {
    await ctx.close();
  }
}

describe('the whole chain on a training date, then every page and document for every role', { skip }, () => {
  before(async () => {
    demo = await startDemo({ today: TODAY });
  });

  after(async () => {
    await demo?.close();
  });

  test('a sample through objection, re-test, disposal, a case turning overdue and its 复查', async () => {
    const sampler = await api('gh_sampler1');
    const tasks = ok(await sampler.get('/api/v1/tasks?limit=100'), 'tasks').items.filter((t) => t.state === 'assigned');
    assert.ok(tasks.length >= 2, `the demo draws fuel stations for 车用柴油 (${tasks.length})`);
    const [a, b] = tasks;
    for (const t of [a, b]) {
      const task = ok(await sampler.get(`/api/v1/tasks/${t.id}`), 'task');
      secrets.add(task.enterprise_name);
      secrets.add(task.enterprise_uscc);
    }
    const task = ok(await sampler.get(`/api/v1/tasks/${a.id}`), 'task');

    // Sampling, testing and the report on the training date.
    const fields = record(1);
    await sample(a.id, fields);
    const { reportId } = await testAndIssue(a.id, fields);
    // A second sample's report waits for its reviewer (who reads it before signing, blind).
    await sample(b.id, record(2));
    await testAndIssue(b.id, record(2), { issue: false });

    // Delivery: the enterprise receives the result notice today; the objection window opens.
    const keeper = await api('tj_custodian');
    const deliveries = ok(await keeper.get(`/api/v1/lab/reports/${reportId}/deliveries`), 'deliveries');
    for (const d of deliveries.filter((x) => x.recipient === 'enterprise')) {
      ok(
        await keeper.post(`/api/v1/deliveries/${d.id}`, {
          method: 'ems',
          tracking_no: '1190098765432',
          sent_on: TODAY,
          received_on: TODAY,
        }),
        `delivery to ${d.recipient}`,
      );
    }

    // The station's quality manager gets an account (the administrator creates it, the security
    // administrator grants the role, the first sign-in changes the password).
    const admin = await api('admin');
    const created = ok(
      await admin.post('/api/v1/users', {
        username: STATION_USER,
        display_name: '王站长',
        password: 'Temp-2025-Station!',
        enterprise_uscc: task.enterprise_uscc,
        phone: '0352-5012345',
      }),
      'the station user',
      201,
    );
    ok(await (await api('security')).put(`/api/v1/users/${created.id}/roles`, { roles: ['enterprise'] }), 'role');
    stationPassword = 'Station-2025-Chain!';
    const first = await api(STATION_USER, 'Temp-2025-Station!');
    ok(
      await first.post('/api/v1/me/password', { old_password: 'Temp-2025-Station!', new_password: stationPassword }),
      'password',
      204,
    );

    // The objection inside the window: accepted, the re-test at the other institution.
    const station = await api(STATION_USER, stationPassword);
    const objection = ok(
      await station.post(`/api/v1/my/results/${reportId}/objections`, {
        kind: 'retest',
        items: ['硫含量'],
        reason: '对硫含量结果有异议，申请复检',
      }),
      'objection',
      201,
    );
    const reg = await api('regulator');
    ok(await reg.post(`/api/v1/objections/${objection.id}/decision`, { accept: true, reason: '受理' }), 'accepted');
    const institutions = ok(await reg.get(`/api/v1/objections/${objection.id}/retest-institutions`), 'institutions');
    const list = Array.isArray(institutions) ? institutions : institutions.items;
    const shanxi = list.find((i) => /山西省检验检测中心/.test(i.name));
    assert.ok(shanxi, `the re-test institution is offered: ${JSON.stringify(institutions)}`);
    const retest = ok(
      await reg.post(`/api/v1/objections/${objection.id}/retest`, { institution_id: shanxi.id, fee_advance: '1200' }),
      'retest',
      201,
    );
    ok(
      await keeper.post(`/api/v1/retests/${retest.id}/dispatch`, {
        carrier: '专人送样（马丽）',
        seals: fields.backup_seals,
        seal_intact: true,
      }),
      'backup dispatch',
    );
    ok(
      await (await api('sx_custodian')).post(`/api/v1/retests/${retest.id}/receipt`, {
        seal_intact: true,
        seal_note: '封条完好',
        seals_seen: fields.backup_seals,
        photos: [photo('seal.png')],
      }),
      're-test receipt',
    );
    const sxTester = await api('sx_tester');
    ok(await sxTester.post(`/api/v1/retests/${retest.id}/results`, { results: [{ item_name: '硫含量', value: 14.8 }] }), 'results');
    ok(await sxTester.post(`/api/v1/retests/${retest.id}/prepare`, signed), 're-test prepared');
    ok(await (await api('sx_reviewer')).post(`/api/v1/retests/${retest.id}/review`, signed), 're-test reviewed');
    const concluded = ok(await (await api('sx_approver')).post(`/api/v1/retests/${retest.id}/approve`, signed), 'approved');
    assert.equal(concluded.qualified, false, 'the re-test confirms the result');

    // The disposal is refused while the objection window is open …
    const open = ok(await keeper.get('/api/v1/disposals?filter=open'), 'disposals').items.filter(
      (d) => d.report_id === reportId,
    );
    assert.ok(open.length >= 1, 'the first lab holds a portion to dispose of');
    const dispose = (d) => {
      const handOver = d.required === 'hand_over_to_bureau';
      return keeper.post(`/api/v1/disposals/${d.id}`, {
        method: handOver ? 'handed_over' : 'destroyed',
        recipient: handOver ? '大同市平城区市场监督管理局 张科长' : '',
        note: '按规定处置',
        proof: photo('proof.png'),
      });
    };
    const early = await dispose(open[0]);
    assert.equal(early.status, 409, JSON.stringify(early.body));
    assert.equal(early.body.code, 'rule19_window_open');

    // The case opened with the unqualified report, at the district bureau; not overdue yet.
    const county = await api('local_regulator');
    const cases = ok(await county.get('/api/v1/cases'), 'cases').items;
    const kase = cases.find((c) => c.report_no && c.enterprise_name === task.enterprise_name);
    assert.ok(kase, `the case of ${task.enterprise_name}: ${JSON.stringify(cases)}`);
    for (const action of ['stop_order', 'correction_order']) {
      ok(await county.post(`/api/v1/cases/${kase.id}/steps`, { action }), action);
    }
    const overdue = async () => ok(await county.get('/api/v1/cases?filter=overdue'), 'overdue').items.map((c) => c.id);
    assert.ok(!(await overdue()).includes(kase.id), 'not overdue on the day it is ordered');

    // … and allowed once the date is past it (15 days after the receipt).
    await moveDate(day(16));
    for (const d of ok(await keeper.get('/api/v1/disposals?filter=open'), 'disposals').items.filter(
      (x) => x.report_id === reportId,
    )) {
      const done = ok(await dispose(d), `disposal of the ${d.portion_label}`);
      assert.equal(done.state, 'done');
    }
    assert.ok(!(await overdue()).includes(kase.id), 'the 复查 is not due yet');

    // Past the case's first deadline (the 复查 within 75 days of the correction order): overdue.
    await moveDate(day(76));
    assert.ok((await overdue()).includes(kase.id), 'the case shows as overdue');

    // The 复查: a sampling task of the item's samplers, its sample paid for like any other.
    const detail = ok(await county.get(`/api/v1/cases/${kase.id}`), 'case');
    const team = detail.follow_up_samplers.map((u) => u.id);
    const ordered = ok(await county.post(`/api/v1/cases/${kase.id}/follow-up-checks`, { team }), 'follow-up');
    const followUp = ordered.follow_ups[0].task_id;
    const free = record(3, 0);
    const s1 = await api('gh_sampler1');
    ok(await s1.post(`/api/v1/tasks/${followUp}/start`, {}), 'start the 复查');
    const refused = await s1.put(`/api/v1/tasks/${followUp}/record`, free);
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'rule8_price', 'the 复查 sample is bought too (rule 8)');
    await sample(followUp, { ...record(3), sampled_at: `${day(76)} 09:30` }, { started: true });
    const pdf = await s1.bytes(`/api/v1/tasks/${followUp}/record.pdf`);
    assert.equal(pdf.status, 200);
    const text = documentText(pdf.data, pdf.type).replace(/\s+/g, '');
    assert.match(text, /复查抽样单/);
    assert.ok(text.includes('7.35') && text.includes('14.70'), `the 复查 record prints the price paid: ${text}`);
  });

  const blind = ['tj_tester', 'tj_reviewer', 'tj_approver', 'sx_tester', 'sx_reviewer', 'sx_approver'];
  const seeing = [
    ...ROLES,
    'gh_sampler1',
    'tj_custodian',
    'sx_custodian',
    STATION_USER,
  ];
  for (const username of [...seeing, ...blind]) {
    test(`${username}: every page and document in plain Chinese and Beijing time${blind.includes(username) ? ', never naming the enterprise' : ''}`, async () => {
      assert.ok(secrets.size >= 2, 'the flow ran');
      const password = username === STATION_USER ? stationPassword : PASSWORD;
      const { visited, problems, documents, pages } = await crawlAs(demo, username, {
        password,
        documents: true,
        secrets: blind.includes(username) ? [...secrets] : [],
      });
      assert.ok(visited >= 3, `${username} reached pages (${visited})`);
      for (const p of pages) reached.add(p.replace(/\d+/g, 'N'));
      for (const d of documents) read.add(d.type.split(';')[0]);
      if (blind.includes(username)) for (const d of documents) blindRead.add(d.href.replace(/\d+/g, 'N'));
      if (process.env.WORDS_DEBUG) console.log(`${username}: ${documents.map((d) => d.href).join(' ')}`);
      assert.deepEqual(problems, [], `${username} saw codes, UTC or the enterprise:\n${problems.join('\n')}`);
    });
  }

  test('the crawls reached every screen of the chain and read PDF and Excel files', () => {
    for (const shape of [
      '/tasks/N',
      '/lab/received/N',
      '/results',
      '/my/results',
      '/retests',
      '/retests/N',
      '/disposals',
      '/cases',
      '/cases/N',
      '/my/cases',
    ]) {
      assert.ok(reached.has(shape), `a crawl reached ${shape}: ${[...reached].sort().join(' ')}`);
    }
    assert.ok(blindRead.has('/lab/reports/N/review.pdf'), `a blind reviewer read a report: ${[...blindRead].join(' ')}`);
    for (const type of ['application/pdf', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']) {
      assert.ok(read.has(type), `a crawl read a ${type} file: ${[...read].join(' ')}`);
    }
  });
});
