// The admin console in Debian's headless chromium (playwright-core) against a real
// `agendasync serve` on exsim (issue 18): sign in, organisations, an EWS connection that
// passes the connectivity test, a Graph connection with a wrong secret and its remedy, users
// (search, detail, validation), a user enabling their own sync through a login link and the
// first sync arriving in their mailbox, CSRF and ended sessions refused, sign out. axe-core
// on every page (no serious or critical violation) and screenshots of every page at 1280 and
// 390 px under BROWSER_OUT.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CLIENT, TENANT, startWorld } from './lib/world.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const OUT = process.env.BROWSER_OUT || join(process.cwd(), 'browser-out');
mkdirSync(OUT, { recursive: true });

let world;
let aliceAppointment; // the id of the appointment alice's first sync writes to Exchange
let browser;
let page;
const apiBodies = []; // every API answer the console received (secrets must never be in one)
const pageProblems = []; // script errors and CSP violations

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const opened = await context.newPage();
  opened.setDefaultTimeout(15_000);
  opened.on('response', async (response) => {
    if (!response.url().includes('/api/')) return;
    try { apiBodies.push(await response.text()); } catch { /* no body (204, redirect) */ }
  });
  opened.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  opened.on('console', (message) => {
    // 4xx answers the tests provoke on purpose are logged as "Failed to load resource".
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageProblems.push(message.text());
  });
  return opened;
}

/// axe-core on the page as it is, then screenshots at 1280 and 390 px. axe is evaluated
/// through the DevTools protocol, which the page's CSP does not govern.
async function audit(p, name) {
  await p.evaluate(axeSource);
  const result = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(serious, [], `${name}: axe-core found serious or critical violations`);
  for (const width of [1280, 390]) {
    await p.setViewportSize({ width, height: 900 });
    // Usable at 390 px: nothing but a table's own scroller is wider than the screen.
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) {
      // Name what sticks out, so the failure says what to fix.
      const wide = await p.evaluate(() => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
        .slice(-3).map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className ? `.${e.className}` : ''} "${(e.textContent || '').slice(0, 60)}"`));
      assert.fail(`${name} at ${width} px is ${overflow} px wider than the screen: ${wide.join('; ')}`);
    }
    await p.screenshot({ path: join(OUT, `${name}-${width}.png`), fullPage: true });
  }
  await p.setViewportSize({ width: 1280, height: 900 });
}

async function heading(p, text) {
  await p.getByRole('heading', { level: 1, name: text }).waitFor({ timeout: 10_000 });
}

async function go(p, hash, title) {
  await p.evaluate((h) => { location.hash = h; }, hash);
  await heading(p, title);
}

async function eventually(check, what, limitMs = 30_000) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test.before(async () => {
  // A session lifetime from the configuration file ([server] console_session_minutes).
  world = await startWorld({ agendasync: process.env.AGENDASYNC_BIN, exsim: process.env.EXSIM_BIN, serverConfig: 'console_session_minutes = 45\n' });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  page = await newPage();
});

test.after(async () => {
  if (browser) await browser.close();
  if (world) await world.close({ keep: process.env.BROWSER_KEEP === '1' });
});

test('sign in: a wrong token is refused in words, an operator lands on Organisations', async () => {
  await page.goto(`${world.baseUrl}/admin/`);
  await heading(page, 'Sign in');
  await audit(page, 'signin');
  await page.getByLabel('API token', { exact: true }).fill('ast_000000000000_wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('unknown or revoked').waitFor();
  await page.getByLabel('API token', { exact: true }).fill(world.tokens.operator);
  await page.keyboard.press('Enter'); // keyboard only
  await heading(page, 'Organisations');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'agendasync_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict', 'HttpOnly SameSite=Strict session cookie');
  // It ends when [server] console_session_minutes says (45 here; 480 by default).
  const minutesLeft = (session.expires - Date.now() / 1000) / 60;
  assert.ok(minutesLeft > 44 && minutesLeft <= 45.1, `the cookie ends in ${minutesLeft.toFixed(1)} minutes`);
  assert.equal(await page.evaluate(() => document.cookie.includes('agendasync_session')), false, 'scripts cannot read the cookie');
});

test('organisations: create two', async () => {
  for (const [id, name] of [['contoso', 'Contoso Ltd'], ['fabrikam', 'Fabrikam Inc']]) {
    await page.getByLabel('Organisation id', { exact: true }).fill(id);
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('row', { name: new RegExp(`^${id}`) }).waitFor();
  }
  await audit(page, 'organisations');
});

test('connection: an EWS connection is saved write-only and passes the connectivity test', async () => {
  await page.getByRole('button', { name: 'Open contoso' }).click();
  await heading(page, 'Users');
  await go(page, '#/connection', 'Connection');
  await page.getByLabel('Backend', { exact: true }).selectOption('ews');
  await page.getByLabel('EWS URL', { exact: true }).fill(`${world.exsimUrl}/EWS/Exchange.asmx`);
  await page.getByLabel('Exchange version (with service pack)', { exact: true }).selectOption('2016');
  await page.getByLabel('NetBIOS domain', { exact: true }).fill('EXAMPLE');
  await page.getByLabel('Service account (impersonating user)', { exact: true }).fill('svc@example.com');
  await page.getByLabel('Service account password', { exact: true }).fill(world.password);
  await page.getByLabel('Mail domain ("E-mail DNS")', { exact: true }).fill('example.com');
  await page.getByRole('button', { name: 'Save connection' }).click();
  await page.getByText('Connection saved.').waitFor();
  // The password field never receives the stored value: not in the page, not on the wire.
  assert.equal(await page.getByLabel('Service account password', { exact: true }).inputValue(), '');
  await page.getByText('Set. Type a new value to replace it').first().waitFor();
  assert.ok(!(await page.content()).includes(world.password), 'the password is not in the page');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByText('Every check passed.').waitFor({ timeout: 30_000 });
  await audit(page, 'connection');
});

test('connection: a Graph connection with a wrong secret fails the test with its remedy', async () => {
  await go(page, '#/orgs', 'Organisations');
  await page.getByRole('button', { name: 'Open fabrikam' }).click();
  await heading(page, 'Users');
  await go(page, '#/connection', 'Connection');
  await page.getByLabel('Backend', { exact: true }).selectOption('graph');
  await page.getByLabel('Directory (tenant) id', { exact: true }).fill(TENANT);
  await page.getByLabel('Application (client) id', { exact: true }).fill(CLIENT);
  await page.getByLabel('Client secret', { exact: true }).fill('not-the-secret');
  await page.getByText('National cloud endpoints').click();
  await page.getByLabel('Graph URL', { exact: true }).fill(`${world.exsimUrl}/v1.0`);
  await page.getByLabel('Authority URL', { exact: true }).fill(world.exsimUrl);
  await page.getByRole('button', { name: 'Save connection' }).click();
  await page.getByText('Connection saved.').waitFor();
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByText('Some checks failed').waitFor({ timeout: 30_000 });
  const results = await page.locator('#test-results').innerText();
  assert.match(results, /Failed/);
  assert.match(results, /Remedy:/);
  assert.match(results, /secret/i, results);
  // With the national cloud fields open: their long URLs must fit at 390 px too.
  await page.evaluate(() => { for (const d of document.querySelectorAll('details')) d.open = true; });
  await audit(page, 'connection-graph');
});

test('users: add, search on the server, open one, an address is validated as you type', async () => {
  await go(page, '#/orgs', 'Organisations');
  await page.getByRole('button', { name: 'Open contoso' }).click();
  await heading(page, 'Users');
  for (const [name, display] of [['alice', 'Alice Adams'], ['bob', 'Bob Brown']]) {
    await page.getByLabel('User name', { exact: true }).fill(name);
    await page.getByLabel('Display name', { exact: true }).fill(display);
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('link', { name }).waitFor();
  }
  await page.getByLabel('Search users', { exact: true }).fill('ali');
  await eventually(async () => (await page.locator('#users-table tbody tr').count()) === 1, 'the search to leave one row');
  await audit(page, 'users');
  // Bulk actions: an admin may not turn on a user's sync (R11: the user does), but may block.
  await page.getByLabel('Search users', { exact: true }).fill('');
  await eventually(async () => (await page.locator('#users-table tbody tr').count()) === 2, 'both rows');
  await page.getByRole('checkbox', { name: 'Select bob' }).check();
  await page.getByRole('button', { name: 'Turn sync on' }).click();
  await page.getByText('Sync on: 0 done, 1 refused.').waitFor();
  await page.getByRole('checkbox', { name: 'Select bob' }).check();
  await page.getByRole('button', { name: 'Block', exact: true }).click();
  await page.getByText('Blocked: 1 done.').waitFor();
  assert.match(await page.getByRole('row', { name: /bob/ }).innerText(), /Blocked/);
  await page.getByRole('checkbox', { name: 'Select bob' }).check();
  await page.getByRole('button', { name: 'Unblock' }).click();
  await page.getByText('Unblocked: 1 done.').waitFor();
  await page.getByRole('link', { name: 'alice' }).click();
  await heading(page, 'User alice');
  const address = page.getByLabel('Deviating mailbox address', { exact: true });
  await address.fill('not an address');
  await page.getByText('Not a mailbox address').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true);
  await address.fill('');
  await audit(page, 'user');
});

test('my profile: a login link opens it and the user turns on their own sync; the first sync arrives', async () => {
  const integration = await world.api('POST', '/api/v1/organisations/contoso/tokens', world.tokens.operator, { role: 'integration' });
  assert.equal(integration.status, 201, integration.text);
  const link = await world.api('POST', '/api/v1/users/alice/login-link', integration.json.token, {});
  assert.equal(link.status, 201, link.text);
  const appointment = await world.api('POST', '/api/v1/appointments', integration.json.token, {
    subject: 'Console first sync', owner: 'alice', time_zone: 'Europe/Amsterdam',
    start: new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    end: new Date(Date.now() + 90_000_000).toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  assert.equal(appointment.status, 201, appointment.text);
  aliceAppointment = appointment.json.id;
  const user = await newPage();
  await user.goto(`${world.baseUrl}${link.json.path}`);
  await heading(user, 'My profile');
  assert.ok(!user.url().includes('/login/'), 'the spent code leaves the address bar');
  const toggle = user.getByRole('switch', { name: 'Synchronise my agenda with my Exchange calendar' });
  await toggle.check();
  await user.getByText('Calendar synchronisation is on').waitFor();
  await eventually(async () => {
    const items = await world.mailboxItems('alice@example.com');
    return JSON.stringify(items).includes('Console first sync');
  }, 'the appointment to reach alice\'s mailbox');
  await audit(user, 'profile');
  // A used link does not open a second session.
  const again = await newPage();
  await again.goto(`${world.baseUrl}${link.json.path}`);
  await heading(again, 'Sign in');
  await again.getByText('used already or has expired').waitFor();
  await again.context().close();
  await user.context().close();
});

test('my profile: a user changes their own direction where the organisation allows it; the admin sees it', async () => {
  const integration = await world.api('POST', '/api/v1/organisations/contoso/tokens', world.tokens.operator, { role: 'integration' });
  const open = async () => {
    const link = await world.api('POST', '/api/v1/users/alice/login-link', integration.json.token, {});
    assert.equal(link.status, 201, link.text);
    const opened = await newPage();
    await opened.goto(`${world.baseUrl}${link.json.path}`);
    await heading(opened, 'My profile');
    return opened;
  };
  // Not allowed yet: the direction is shown, and who decides it.
  let alice = await open();
  await alice.getByText('Only your administrator can change it.').waitFor();
  assert.equal(await alice.getByLabel('My sync direction', { exact: true }).count(), 0);
  await alice.context().close();

  await go(page, '#/settings', 'Sync settings');
  await page.getByLabel('Users choose their own direction (My profile)', { exact: true }).selectOption('true');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();

  alice = await open();
  const choice = alice.getByLabel('My sync direction', { exact: true });
  assert.equal(await choice.inputValue(), '', 'the organisation default to begin with');
  await choice.selectOption('from-exchange');
  await alice.getByRole('button', { name: 'Save direction' }).click();
  await alice.getByText('Direction saved: From Exchange to my agenda only (from-exchange).').waitFor();
  await audit(alice, 'profile-direction');
  // Saved on the server: a reload shows it.
  await alice.reload();
  await heading(alice, 'My profile');
  assert.equal(await alice.getByLabel('My sync direction', { exact: true }).inputValue(), 'from-exchange');
  await alice.context().close();

  // The admin sees the user's override in the user's detail.
  await go(page, '#/users/alice', 'User alice');
  assert.equal(await page.getByLabel('Direction for this user', { exact: true }).inputValue(), 'from-exchange');
  const shown = await world.api('GET', '/api/v1/organisations/contoso/users/alice/direction', world.tokens.operator);
  assert.equal(shown.json.effective, 'from-exchange');
  assert.equal(shown.json.source, 'user');
  // Back to the organisation's default for the tests that follow.
  const cleared = await world.api('PUT', '/api/v1/organisations/contoso/users/alice/direction', world.tokens.operator, { direction: null });
  assert.equal(cleared.status, 200, cleared.text);
});

test('quarantine: a first sync waiting for approval shows its plan and runs once approved', async () => {
  await go(page, '#/settings', 'Sync settings');
  await page.getByLabel('First sync waits for approval', { exact: true }).selectOption('true');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  const integration = await world.api('POST', '/api/v1/organisations/contoso/tokens', world.tokens.operator, { role: 'integration' });
  const created = await world.api('POST', '/api/v1/appointments', integration.json.token, {
    subject: 'Waits for approval', owner: 'bob', time_zone: 'Europe/Amsterdam',
    start: new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    end: new Date(Date.now() + 2 * 86_400_000 + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  assert.equal(created.status, 201, created.text);
  const link = await world.api('POST', '/api/v1/users/bob/login-link', integration.json.token, {});
  const bob = await newPage();
  await bob.goto(`${world.baseUrl}${link.json.path}`);
  await heading(bob, 'My profile');
  await bob.getByRole('switch', { name: 'Synchronise my agenda with my Exchange calendar' }).check();
  await bob.getByText('Calendar synchronisation is on').waitFor();
  await bob.context().close();
  await eventually(async () => {
    const status = await world.api('GET', '/api/v1/organisations/contoso/users/bob/status', world.tokens.operator);
    return status.json && status.json.last_outcome === 'quarantined';
  }, 'bob\'s first sync to wait for approval');
  assert.ok(!JSON.stringify(await world.mailboxItems('bob@example.com')).includes('Waits for approval'), 'nothing written before approval');
  await go(page, '#/users/bob', 'User bob');
  await page.getByText('sync is quarantined').waitFor();
  await page.getByRole('button', { name: 'Show plan (dry run)' }).click();
  await page.getByRole('heading', { name: 'Plan of the next sync' }).waitFor({ timeout: 30_000 });
  await audit(page, 'user-quarantined');
  await page.getByRole('button', { name: 'Approve this plan' }).click();
  await page.getByText('Approved. The sync runs now.').waitFor();
  await eventually(async () => JSON.stringify(await world.mailboxItems('bob@example.com')).includes('Waits for approval'),
    'the approved first sync to reach bob\'s mailbox');
});

test('progress: a first sync slowed by Exchange shows a progress bar on My profile until it ends', async () => {
  const ops = world.tokens.operator;
  assert.equal((await world.api('POST', '/api/v1/organisations/contoso/users', ops, { user_name: 'carol', display_name: 'Carol Clark' })).status, 201);
  assert.equal((await world.api('PUT', '/api/v1/organisations/contoso/settings', ops, { first_sync_approval: null })).status, 200);
  const integration = await world.api('POST', '/api/v1/organisations/contoso/tokens', ops, { role: 'integration' });
  for (let i = 0; i < 5; i++) {
    const created = await world.api('POST', '/api/v1/appointments', integration.json.token, {
      subject: `Carol ${i}`, owner: 'carol', time_zone: 'Europe/Amsterdam',
      start: new Date(Date.now() + (3 + i) * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      end: new Date(Date.now() + (3 + i) * 86_400_000 + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    assert.equal(created.status, 201, created.text);
  }
  const link = await world.api('POST', '/api/v1/users/carol/login-link', integration.json.token, {});
  const carol = await newPage();
  await carol.goto(`${world.baseUrl}${link.json.path}`);
  await heading(carol, 'My profile');
  await world.faults({ latency_ms: 1500 }); // every Exchange request takes 1.5 s
  try {
    await carol.getByRole('switch', { name: 'Synchronise my agenda with my Exchange calendar' }).check();
    await carol.getByText('Sync running').waitFor({ timeout: 20_000 });
    await carol.getByRole('progressbar').waitFor();
    await audit(carol, 'profile-progress');
  } finally {
    await world.faults({ latency_ms: 0 });
  }
  try {
    await carol.getByText('Sync running').waitFor({ state: 'hidden', timeout: 60_000 });
  } catch (error) {
    // What the daemon did for carol meanwhile, to tell a stuck run from a stuck page.
    console.error(world.log().split('\n').filter((l) => l.includes('"carol"') && !l.includes('http_request')).slice(-15).join('\n'));
    console.error(JSON.stringify((await world.api('GET', '/api/v1/organisations/contoso/users/carol/status', world.tokens.operator)).json));
    throw error;
  }
  const items = JSON.stringify(await world.mailboxItems('carol@example.com'));
  for (let i = 0; i < 5; i++) assert.ok(items.includes(`Carol ${i}`), `Carol ${i} reached the mailbox`);
  await carol.context().close();
});

test('item audit: an appointment\'s history names the side, the rule and the run', async () => {
  await go(page, '#/audit', 'Item audit');
  // By words of the subject, then the match.
  await page.getByLabel('Appointment id or subject', { exact: true }).fill('console FIRST');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByRole('button', { name: /^Console first sync/ }).click();
  await page.getByRole('heading', { name: 'Console first sync' }).waitFor();
  assert.match(await page.getByText(/^Appointment \d+, owner alice/).innerText(), new RegExp(`Appointment ${aliceAppointment},`));
  const rows = page.locator('table tbody tr');
  assert.ok((await rows.count()) >= 1);
  assert.match(await rows.first().innerText(), /create/);
  await audit(page, 'audit');
});

test('other pages: activity types, sync settings', async () => {
  await go(page, '#/types', 'Activity types');
  await audit(page, 'activity-types');
  await go(page, '#/settings', 'Sync settings');
  await audit(page, 'settings');
});

test('CSRF: a change without the session\'s token is refused; an ended session sends the page to sign-in', async () => {
  const refused = await page.evaluate(async () => {
    const response = await fetch('/api/v1/organisations/contoso/users', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user_name: 'mallory' }),
    });
    return response.status;
  });
  assert.equal(refused, 403);
  const users = await world.api('GET', '/api/v1/organisations/contoso/users', world.tokens.operator);
  assert.ok(!users.text.includes('mallory'));
  // Signed out in another tab: this tab's next call finds the session gone.
  const other = await page.context().newPage();
  await other.goto(`${world.baseUrl}/admin/#/orgs`);
  await heading(other, 'Organisations');
  await other.getByRole('button', { name: 'Sign out' }).click();
  await heading(other, 'Sign in');
  await other.close();
  await page.evaluate(() => { location.hash = '#/users'; });
  await page.getByText('Your session has ended').waitFor();
  await heading(page, 'Sign in');
});

test('sign out: the cookie no longer works', async () => {
  await page.getByLabel('API token', { exact: true }).fill(world.tokens.operator);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await heading(page, 'Users');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading(page, 'Sign in');
  const status = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(status, 401);
});

test('no secret reached the browser and no script or CSP error happened', () => {
  for (const secret of [world.password, world.graphSecret, 'not-the-secret']) {
    assert.ok(!apiBodies.some((body) => body.includes(secret)), 'a secret was in an API answer');
  }
  assert.ok(apiBodies.length > 20, `the network capture saw ${apiBodies.length} answers`);
  assert.deepEqual(pageProblems, []);
});
