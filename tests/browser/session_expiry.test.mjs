// Session expiry in the browser (issue 18): a daemon whose console sessions last a few seconds
// (`serve --console-session-seconds`). An operator signed in fills a form while the session
// lives and sends it after: refused, nothing created, the sign-in page says the session
// expired and the action was not carried out. A user's My profile (opened by a login link)
// notices the expiry with its next status poll and says how to come back. axe-core and
// screenshots of the sign-in page with the message.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startWorld } from './lib/world.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const OUT = process.env.BROWSER_OUT || join(process.cwd(), 'browser-out');
mkdirSync(OUT, { recursive: true });
// Long enough to sign in and open a page on a loaded machine, short enough to wait out.
const LIFETIME_S = 8;

let world;
let browser;
const pageProblems = [];

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const opened = await context.newPage();
  opened.setDefaultTimeout(15_000);
  opened.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  opened.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageProblems.push(message.text());
  });
  return opened;
}

async function heading(p, text) {
  await p.getByRole('heading', { level: 1, name: text }).waitFor({ timeout: 10_000 });
}

/// Waits until the session `p` holds has passed its expiry (read from the server).
async function waitOut(p) {
  const expiresAt = await p.evaluate(async () => (await (await fetch('/api/v1/session')).json()).expires_at);
  const nowS = Date.now() / 1000;
  assert.ok(expiresAt - nowS <= LIFETIME_S + 1, `the session ends in ${expiresAt - nowS} s, not ${LIFETIME_S}`);
  await new Promise((r) => setTimeout(r, Math.max(0, (expiresAt - nowS) * 1000) + 1200));
}

async function audit(p, name) {
  await p.evaluate(axeSource);
  const result = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(serious, [], `${name}: axe-core found serious or critical violations`);
  for (const width of [1280, 390]) {
    await p.setViewportSize({ width, height: 900 });
    await p.screenshot({ path: join(OUT, `${name}-${width}.png`), fullPage: true });
  }
  await p.setViewportSize({ width: 1280, height: 900 });
}

test.before(async () => {
  world = await startWorld({
    agendasync: process.env.AGENDASYNC_BIN, exsim: process.env.EXSIM_BIN,
    serveArgs: ['--console-session-seconds', String(LIFETIME_S)],
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
});

test.after(async () => {
  if (browser) await browser.close();
  if (world) await world.close({ keep: process.env.BROWSER_KEEP === '1' });
});

test('an expired operator session refuses the next change and the sign-in page says it expired', async () => {
  const page = await newPage();
  await page.goto(`${world.baseUrl}/admin/`);
  await heading(page, 'Sign in');
  await page.getByLabel('API token', { exact: true }).fill(world.tokens.operator);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await heading(page, 'Organisations');
  // The form is filled while the session lives; it is sent after it has ended.
  await page.getByLabel('Organisation id', { exact: true }).fill('late');
  await page.getByLabel('Name', { exact: true }).fill('Too late Ltd');
  await waitOut(page);
  await page.getByRole('button', { name: 'Create organisation' }).click();
  await heading(page, 'Sign in');
  const message = page.getByText(/^Your session expired at .+, so that last action was not carried out\. Sign in again to continue\.$/);
  await message.waitFor();
  assert.equal(await message.getAttribute('role'), 'status', 'announced to screen readers');
  await audit(page, 'signin-expired');
  // Refused by the server, not just hidden by the page: nothing was created.
  const organisations = await world.api('GET', '/api/v1/organisations', world.tokens.operator);
  assert.equal(organisations.status, 200, organisations.text);
  assert.ok(!organisations.text.includes('late'), organisations.text);
  assert.equal(await page.evaluate(async () => (await fetch('/api/v1/session')).status), 401);
  // Signing in again works, with a fresh session.
  await page.getByLabel('API token', { exact: true }).fill(world.tokens.operator);
  await page.keyboard.press('Enter');
  await heading(page, 'Organisations');
  await page.context().close();
});

test('My profile notices an expired login-link session by itself and says how to come back', async () => {
  const created = await world.api('POST', '/api/v1/organisations/default/users', world.tokens.operator, { user_name: 'alice', display_name: 'Alice Adams' });
  assert.equal(created.status, 201, created.text);
  const link = await world.api('POST', '/api/v1/organisations/default/users/alice/login-link', world.tokens.operator, {});
  assert.equal(link.status, 201, link.text);
  const page = await newPage();
  await page.goto(`${world.baseUrl}${link.json.path}`);
  await heading(page, 'My profile');
  await waitOut(page);
  // The page polls the user's status; the first poll after the expiry ends the page.
  await heading(page, 'Sign in');
  await page.getByText(/^Your session expired at [^,]+\. Sign in again to continue\. To come back to My profile, open it again from your application/).waitFor();
  // The cookie the browser still has is refused for a change too.
  const refused = await page.evaluate(async () => (await fetch('/api/v1/users/alice/sync', {
    method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ enabled: true }),
  })).status);
  assert.equal(refused, 401);
  const alice = await world.api('GET', '/api/v1/organisations/default/users/alice', world.tokens.operator);
  assert.equal(alice.json.sync_enabled, false, 'sync stayed off');
  await page.context().close();
});

test('no script or CSP error happened', () => {
  assert.deepEqual(pageProblems, []);
});
