// No UTC time, English code or internal number reaches a person: signed in as each demo role, the
// crawl of crawl.mjs visits every page reachable from the home page and reads what a person sees.
// sampling.test.mjs crawls again after its flow (a sample sampled, received, tested and reported).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { skip, startDemo } from './harness.mjs';
import { ROLES, crawlAs, problemsOf } from './crawl.mjs';

let demo;

test('the checks see what must not reach a person, and leave plain Chinese alone', () => {
  for (const bad of [
    '接收时间 2026-12-02 12:43:47.188843812 UTC',
    '时间 2026-12-02T04:43:47Z',
    '环节 test sealed intact',
    '全部样品 all received',
    '状态 kept_at_enterprise',
    '操作 announcement.publish',
    '对象 user #2',
  ]) {
    assert.notDeepEqual(problemsOf(bad), [], bad);
  }
  for (const good of [
    '接收时间 2026-12-02 20:43（北京时间）',
    '检验样品 封样 完好',
    '操作人 郭海峰（gh_sampler1） 随机种子 demo-2025-datong-diesel 机构代码 sx-amr',
    '导入文件 Excel（.xlsx） 硫含量 mg/kg 报告 report-2025.pdf https://example.org/a_b',
  ]) {
    assert.deepEqual(problemsOf(good), [], good);
  }
});

describe('plain Chinese on every page, for every role', { skip }, () => {
  before(async () => {
    demo = await startDemo();
  });

  after(async () => {
    await demo?.close();
  });

  for (const username of ROLES) {
    test(`${username}: no UTC time, English code or user number on any page`, async () => {
      const { visited, problems } = await crawlAs(demo, username);
      assert.ok(visited >= 5, `${username} reached pages (${visited})`);
      assert.deepEqual(problems, [], `${username} saw codes or UTC:\n${problems.join('\n')}`);
    });
  }
});
