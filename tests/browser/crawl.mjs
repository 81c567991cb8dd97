// The crawl of words.test.mjs and sampling.test.mjs: signed in as one person, every page reachable
// from the home page (same-origin links; not sign-out, downloads, static files or the API), and what
// a person reads there (`document.body.innerText`) checked for codes: "UTC", an ISO timestamp
// (2026-12-02T…), a snake_case code (kept_at_enterprise), a dotted action code
// (announcement.publish) or "user #2". URLs, e-mail addresses, file names, usernames and the raw JSON
// of an audit record (shown on purpose, as stored) are left out.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PASSWORD, signIn } from './harness.mjs';

// Demo usernames (crates/seed/src/demo/users.rs and the two samplers of 山西国海).
export const ROLES = [
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
// The documents a page links to (PDF and Excel files, the task's printed forms): read when asked.
const DOCUMENT_PATH = /\.(pdf|xlsx)$|\/(documents|label|export|download)(\/|\.|$)/;
const NOT_DOCUMENT = /^\/(logout|static)(\/|$)|\.(zip|csv|png|jpe?g|json|mp4)$|\/(photos|content|proof)(\/|\.|$)/;

// Times and numbers are checked on the text as shown; codes after the technical text is left out.
const TIME_CHECKS = [
  ['UTC', /\bUTC\b/],
  ['ISO timestamp', /\b\d{4}-\d{2}-\d{2}T\d{2}/],
  ['user #N', /\buser #\d+/i],
];
const CODE_CHECKS = [
  ['snake_case code', /\b[a-z]+_[a-z_]+\b/],
  ['dotted code', /\b[a-z]+\.[a-z_]+\b/],
  // The words of stored codes (a custody stage "test sealed intact", a state "all received").
  [
    'English code word',
    /\b(test|backup|all|sealed|received|intact|broken|dispatched|stored|returned|disposed|pending|draft|issued|accepted|rejected|approved|prepared|reviewed|carried|shipped|none|true|false|null|undefined)\b/,
  ],
];

/** What a person reads, without what is meant to be technical text. */
function visible(text) {
  let t = text
    .replace(/\bhttps?:\/\/\S+/g, ' ')
    .replace(/\S+@\S+/g, ' ')
    .replace(/\b[\w.-]+\.(pdf|xlsx|zip|csv|png|jpe?g|json|jsonl|toml|mp4|txt)\b/gi, ' ')
    .replace(/\b[a-z0-9-]+(\.[a-z0-9-]+){2,}\b/gi, ' ')
    // File types named in a hint (.xlsx), a browser's own name (sessions), codes joined by hyphens
    // that people copy (organisation codes, a draw's seed).
    .replace(/\.(xlsx|csv|pdf|zip)\b/gi, ' ')
    .replace(/\(KHTML, like Gecko\)/g, ' ')
    .replace(/\b\w+(-\w+)+\b/g, ' ');
  for (const u of USERNAMES) t = t.split(u).join(' ');
  return t;
}

function shape(u) {
  return u.pathname.replace(/\d+/g, 'N') + '?' + [...u.searchParams.keys()].sort().join('&');
}


/** The problems of one page's text (exported for the check of the checks). */
export function problemsOf(text) {
  const shown = text.replace(/\bhttps?:\/\/\S+/g, ' ');
  const seenText = visible(text);
  const found = [];
  for (const [what, re, t] of [
    ...TIME_CHECKS.map(([w, r]) => [w, r, shown]),
    ...CODE_CHECKS.map(([w, r]) => [w, r, seenText]),
  ]) {
    const m = t.match(re);
    if (m) {
      const at = t.indexOf(m[0]);
      found.push(`${what} “${m[0]}” in “${t.slice(Math.max(0, at - 30), at + 40).replace(/\s+/g, ' ')}”`);
    }
  }
  return found;
}

/** The text of a PDF (`pdftotext -layout`) or an Excel file (its shared strings and sheets). */
export function documentText(bytes, type) {
  const dir = mkdtempSync(path.join(tmpdir(), 'choucha-doc-'));
  try {
    if (type.startsWith('application/pdf')) {
      const file = path.join(dir, 'doc.pdf');
      writeFileSync(file, bytes);
      return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    }
    if (type.includes('spreadsheetml')) {
      const file = path.join(dir, 'doc.xlsx');
      writeFileSync(file, bytes);
      const parts = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' })
        .split('\n')
        .filter((p) => /^xl\/(sharedStrings|worksheets\/sheet\d+|workbook)\.xml$/.test(p));
      const xml = parts.map((p) => execFileSync('unzip', ['-p', file, p], { encoding: 'utf8', maxBuffer: 64 << 20 })).join('\n');
      const cells = [...xml.matchAll(/<t(?:\s[^>]*)?>([^<]*)<\/t>/g)].map((m) => m[1]);
      const sheets = [...xml.matchAll(/<sheet\s[^>]*name="([^"]*)"/g)].map((m) => m[1]);
      return [...sheets, ...cells]
        .join('\n')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, '&');
    }
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Crawl as `username`; the pages visited and the problems seen. Options: `password`; `documents`
 * (also fetch every PDF and Excel file linked from the pages visited and check their text the
 * same way); `secrets` (strings that must appear on no page or document: the enterprise's name and
 * USCC for blind staff).
 */
export async function crawlAs(demo, username, { password = PASSWORD, documents = false, secrets = [] } = {}) {
  const context = await demo.browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  page.on('dialog', (d) => d.dismiss());
  const problems = [];
  let visited = 0;
  let seenAll = new Set();
  const docs = [];
  const pages = [];
  // The public pages (a published draw lists the enterprises drawn) are what anyone reads without
  // signing in, the same for everybody; the blind rule is about what a person's work serves them.
  const leaks = (where, body) => {
    if (where.startsWith('/public/')) return;
    const squeezed = body.replace(/\s+/g, '');
    for (const secret of secrets) {
      if (body.includes(secret) || squeezed.includes(secret.replace(/\s+/g, ''))) {
        problems.push(`${where}: names “${secret}”`);
      }
    }
  };
  try {
    await signIn(page, demo.base, username, password);
    const queue = [new URL('/', demo.base).href];
    const seen = new Set(queue);
    seenAll = seen;
    const shapes = new Map();
    const docQueue = [];
    const take = (u) => {
      const s = shape(u);
      const n = shapes.get(s) || 0;
      if (n >= PER_SHAPE) return false;
      shapes.set(s, n + 1);
      seen.add(u.href);
      return true;
    };
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
      pages.push(new URL(href).pathname);
      const text = await page.evaluate(() => {
        for (const e of document.querySelectorAll('pre.json')) e.style.display = 'none';
        return document.body.innerText;
      });
      const where = new URL(href);
      for (const p of problemsOf(text)) problems.push(`${where.pathname}${where.search}: ${p}`);
      if (secrets.length > 0) leaks(`${where.pathname}${where.search}`, await page.content());
      const links = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
      for (const l of links) {
        const u = new URL(l);
        u.hash = '';
        if (u.origin !== where.origin || seen.has(u.href)) continue;
        if (documents && DOCUMENT_PATH.test(u.pathname) && !NOT_DOCUMENT.test(u.pathname)) {
          if (take(u)) docQueue.push(u.href);
          continue;
        }
        if (SKIP_PATH.test(u.pathname)) continue;
        if (take(u)) queue.push(u.href);
      }
    }
    for (const href of docQueue) {
      const r = await page.request.get(href);
      const where = new URL(href);
      const at = `${where.pathname}${where.search}`;
      if (r.status() !== 200) {
        problems.push(`${at}: a linked document answers ${r.status()}`);
        continue;
      }
      const type = r.headers()['content-type'] || '';
      let text;
      if (type.startsWith('text/html')) {
        // A printable form served as a page: read as a person sees it.
        await page.goto(href, { waitUntil: 'load' });
        text = await page.evaluate(() => document.body.innerText);
        leaks(at, await page.content());
      } else {
        text = documentText(await r.body(), type);
        if (text === null) continue;
        leaks(at, text);
      }
      docs.push({ href: at, type, text });
      for (const p of problemsOf(text)) problems.push(`${at}: ${p}`);
    }
  } finally {
    await context.close();
  }
  if (process.env.WORDS_DEBUG) console.log(`crawl ${username} ${visited}: ${[...seenAll].join(" ")}`);
  return { visited, problems, documents: docs, pages };
}
