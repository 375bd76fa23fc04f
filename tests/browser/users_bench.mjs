#!/usr/bin/env node
// The users page with 5,000 users (issue 18): from navigation start to the first table row
// rendered in headless Chromium, against a real `agendasync serve`; the API's own p50/p99 for
// the page's request beside it. Prints one JSON object and writes it to BENCH_OUT (default
// <cwd>/users_bench.json). Fails when the page does not render; with --enforce-target also when
// the target (300 ms) is missed — for a run on an idle machine, never for the test suite's (a
// timing under the suite's load is not a result).
//   AGENDASYNC_BIN=... EXSIM_BIN=... node users_bench.mjs [--users 5000] [--enforce-target]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { chromium } from 'playwright-core';
import { startWorld } from './lib/world.mjs';

const TARGET_MS = 300;
const usersArg = process.argv.indexOf('--users');
const USERS = usersArg > 0 ? Number(process.argv[usersArg + 1]) : 5000;
const RUNS = 7;

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const world = await startWorld({ agendasync: process.env.AGENDASYNC_BIN, exsim: process.env.EXSIM_BIN });
let browser;
try {
  const org = 'bench';
  const created = await world.api('POST', '/api/v1/organisations', world.tokens.operator, { id: org });
  if (created.status !== 201) throw new Error(`create organisation: ${created.text}`);
  const admin = await world.api('POST', `/api/v1/organisations/${org}/tokens`, world.tokens.operator, { role: 'admin' });
  const token = admin.json.token;
  const started = Date.now();
  let next = 0;
  async function adder() {
    while (next < USERS) {
      const i = next++;
      const name = `user${String(i).padStart(5, '0')}`;
      const reply = await world.api('POST', '/api/v1/users', token, { user_name: name, display_name: `Person ${i}` });
      if (reply.status !== 201) throw new Error(`add ${name}: ${reply.text}`);
    }
  }
  await Promise.all(Array.from({ length: 8 }, adder));
  const seedSeconds = (Date.now() - started) / 1000;

  // The API alone: the request the page makes, at random offsets and with a search.
  const apiMs = [];
  for (let i = 0; i < 200; i++) {
    const query = i % 4 === 3 ? 'limit=50&offset=0&state=all&q=person%2042' : `limit=50&offset=${(i * 97) % USERS}&state=all`;
    const t0 = performance.now();
    const reply = await world.api('GET', `/api/v1/users?${query}`, token);
    apiMs.push(performance.now() - t0);
    if (reply.status !== 200) throw new Error(reply.text);
  }

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // Records when the first row appears, relative to navigation start (performance.timeOrigin);
  // injected by the DevTools protocol, so the page's CSP does not apply to it.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector('#users-table tbody tr th a')) {
        window.__firstRowMs = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(`${world.baseUrl}/admin/`);
  const signIn = await page.evaluate(async (t) => (await fetch('/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: t }),
  })).status, token);
  if (signIn !== 201) throw new Error(`sign in: ${signIn}`);
  const firstRowMs = [];
  // Reloads: a navigation in a browser that already runs the console's renderer, as an
  // administrator opening the page would (the first load also pays for starting a renderer
  // process, which says nothing about the page).
  await page.goto(`${world.baseUrl}/admin/#/users`);
  for (let run = 0; run < RUNS + 1; run++) {
    await page.reload();
    await page.waitForFunction(() => window.__firstRowMs !== undefined, null, { timeout: 10_000 });
    const ms = await page.evaluate(() => window.__firstRowMs);
    const caption = await page.locator('#users-table caption').innerText();
    if (!caption.includes(`of ${USERS}`)) throw new Error(`the table says "${caption}"`);
    if (run > 0) firstRowMs.push(ms); // the first load warms the disk cache and the browser
  }
  const median = percentile(firstRowMs, 50);
  const result = {
    benchmark: 'console_users_page',
    users: USERS,
    first_row_ms: { median: Math.round(median), max: Math.round(Math.max(...firstRowMs)), runs: firstRowMs.map(Math.round) },
    target_ms: TARGET_MS,
    met: median < TARGET_MS,
    api_users_page_ms: { p50: +percentile(apiMs, 50).toFixed(1), p99: +percentile(apiMs, 99).toFixed(1), requests: apiMs.length },
    seed_seconds: +seedSeconds.toFixed(1),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30) },
  };
  const text = JSON.stringify(result, null, 2);
  console.log(text);
  mkdirSync(dirname(process.env.BENCH_OUT || "users_bench.json"), { recursive: true });
  writeFileSync(process.env.BENCH_OUT || 'users_bench.json', `${text}\n`);
  process.exitCode = result.met || !process.argv.includes('--enforce-target') ? 0 : 1;
} finally {
  if (browser) await browser.close();
  await world.close();
}
