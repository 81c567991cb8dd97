// No UTC time, English code or internal number reaches a person: signed in as each demo role, the
// crawl of crawl.mjs visits every page reachable from the home page and reads what a person sees.
// sampling.test.mjs crawls again after its flow (a sample sampled, received, tested and reported).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { skip, startDemo } from './harness.mjs';
import { ROLES, crawlAs } from './crawl.mjs';

let demo;

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
