// No UTC time, English code or internal number reaches a person: signed in as each demo role, the
// test crawls every page reachable from the home page (same-origin links; not sign-out, downloads,
// static files or the API) and reads what a person sees (`document.body.innerText`). It must hold
// no "UTC", no ISO timestamp (2026-12-02T…), no snake_case code (test_sealed, kept_at_enterprise),
// no dotted action code (announcement.publish) and no "user #2". URLs, e-mail addresses, file
// names, usernames and the raw JSON of an audit record (shown on purpose, as stored) are left out.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { signIn, skip, startDemo } from './harness.mjs';

// Demo usernames (crates/seed/src/demo/users.rs and the two samplers of 山西国海).
const ROLES = [
  'admin',
  'security',
  'auditor',
  'regulator',
  'local_regulator',
  'sampler',
  'sample_custodian',
  'tester',
  'report_approver',
  'enterprise',
];
const USERNAMES = [
  ...ROLES,
  'regulator2',
  'sampler2',
  'tj_custodian',
  'tj_tester2',
  'tj_tester',
  'tj_reviewer',
  'tj_approver',
  'sx_custodian',
  'sx_tester',
  'sx_reviewer',
  'sx_approver',
  'gh_sampler1',
  'gh_sampler2',
].sort((a, b) => b.length - a.length);

// Pages per role, and pages of one shape (numbers replaced) per role: enough to see every screen.
const MAX_PAGES = 120;
const PER_SHAPE = 2;

const SKIP_PATH = /^\/(logout|static|api)(\/|$)|\.(pdf|xlsx|zip|csv|png|jpe?g|json|mp4)$|\/(photos|documents|label|export|download)(\/|\.|$)/;

const CHECKS = [
  ['UTC', /\bUTC\b/],
  ['ISO timestamp', /\b\d{4}-\d{2}-\d{2}T\d{2}/],
  ['snake_case code', /\b[a-z]+_[a-z_]+\b/],
  ['dotted code', /\b[a-z]+\.[a-z_]+\b/],
  ['user #N', /\buser #\d+/i],
];

/** What a person reads, without what is meant to be technical text. */
function visible(text) {
  let t = text
    .replace(/\bhttps?:\/\/\S+/g, ' ')
    .replace(/\S+@\S+/g, ' ')
    .replace(/\b[\w.-]+\.(pdf|xlsx|zip|csv|png|jpe?g|json|jsonl|toml|mp4|txt)\b/gi, ' ')
    .replace(/\b[a-z0-9-]+(\.[a-z0-9-]+){2,}\b/gi, ' ');
  for (const u of USERNAMES) t = t.split(u).join(' ');
  return t;
}

function shape(u) {
  return u.pathname.replace(/\d+/g, 'N') + '?' + [...u.searchParams.keys()].sort().join('&');
}

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
      const context = await demo.browser.newContext({ locale: 'zh-CN' });
      const page = await context.newPage();
      const problems = [];
      try {
        await signIn(page, demo.base, username);
        assert.equal(new URL(page.url()).pathname, '/', `${username} signs in`);
        const queue = [new URL('/', demo.base).href];
        const seen = new Set(queue);
        const shapes = new Map();
        let visited = 0;
        while (queue.length > 0 && visited < MAX_PAGES) {
          const href = queue.shift();
          let response;
          try {
            response = await page.goto(href, { waitUntil: 'load' });
          } catch {
            continue; // a download
          }
          if (!response || !(response.headers()['content-type'] || '').startsWith('text/html')) continue;
          visited += 1;
          const text = await page.evaluate(() => {
            for (const e of document.querySelectorAll('pre.json')) e.style.display = 'none';
            return document.body.innerText;
          });
          const seenText = visible(text);
          for (const [what, re] of CHECKS) {
            const m = seenText.match(re);
            if (m) {
              const at = seenText.indexOf(m[0]);
              problems.push(`${new URL(href).pathname}${new URL(href).search}: ${what} “${m[0]}” in “${seenText.slice(Math.max(0, at - 30), at + 40).replace(/\s+/g, ' ')}”`);
            }
          }
          const links = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
          for (const l of links) {
            const u = new URL(l);
            u.hash = '';
            if (u.origin !== new URL(demo.base).origin || SKIP_PATH.test(u.pathname) || seen.has(u.href)) continue;
            const s = shape(u);
            const n = shapes.get(s) || 0;
            if (n >= PER_SHAPE) continue;
            shapes.set(s, n + 1);
            seen.add(u.href);
            queue.push(u.href);
          }
        }
        assert.ok(visited >= 3, `${username} reached pages (${visited})`);
        assert.deepEqual(problems, [], `${username} saw codes or UTC:\n${problems.join('\n')}`);
      } finally {
        await context.close();
      }
    });
  }
});
