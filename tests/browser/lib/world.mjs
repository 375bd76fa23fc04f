// The world the browser tests drive: exsim (EWS + Graph on loopback), a fresh node with its
// key ring and tokens, and `agendasync serve` on port 0. Everything in one temporary folder,
// removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';

const START_LIMIT_MS = 60_000;

export const TENANT = '11111111-2222-3333-4444-555555555555';
export const CLIENT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

/// Resolves with the first stdout line matching `pattern` (rejects on exit or timeout).
function waitForLine(child, pattern, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${START_LIMIT_MS} ms`)), START_LIMIT_MS);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = line.match(pattern);
      if (match) { clearTimeout(timer); resolve(match); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}) before it was ready`)); });
  });
}

function stop(child) {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, 15_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/// `serverConfig`: more lines for the configuration's [server] section; `serveArgs`: more
/// options for `agendasync serve`.
export async function startWorld({ agendasync, exsim, users = [], serverConfig = '', serveArgs = [] }) {
  const dir = mkdtempSync(join(tmpdir(), 'agendasync-browser-'));
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const graphSecret = `gs-${randomBytes(9).toString('base64url')}`;
  const adminToken = `admin-${randomBytes(9).toString('base64url')}`;
  const mailboxes = ['alice@example.com', 'bob@example.com', 'carol@example.com', ...users.map((u) => `${u}@example.com`)];
  writeFileSync(join(dir, 'exsim.json'), JSON.stringify({
    listen: '127.0.0.1', port: 0, auth: ['basic', 'ntlm', 'bearer'], domain: 'EXAMPLE',
    mailboxes,
    accounts: [{ user: 'svc@example.com', password, impersonation: true }],
    admin_token: adminToken,
    graph: { apps: [{ tenant: TENANT, client_id: CLIENT, secret: graphSecret, roles: ['Calendars.ReadWrite', 'User.Read.All', 'MailboxSettings.Read'] }] },
  }));
  const exsimChild = spawn(exsim, ['--config', join(dir, 'exsim.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  exsimChild.stderr.resume();
  const [exsimUrl] = await waitForLine(exsimChild, /^https?:\/\/\S+/, 'exsim');

  const config = join(dir, 'agendasync.toml');
  const env = { ...process.env, AGENDASYNC_CONFIG: config };
  const run = (...args) => execFileSync(agendasync, args, { cwd: dir, env, encoding: 'utf8' }).trim();
  run('init', '--mail-domain', 'example.com');
  writeFileSync(config, `database = "${join(dir, 'agenda.db')}"\n[server]\nlisten = "127.0.0.1"\nport = 0\n${serverConfig}`);
  run('secrets', 'new-key', '--file', join(dir, 'secret.key'));
  const tokens = {
    operator: run('tokens', 'create', '--role', 'operator', '--label', 'browser-ops'),
  };
  const serveLog = join(dir, 'serve.log');
  const serve = spawn(agendasync, ['serve', '--listen', '127.0.0.1:0', '--secret-key-file', join(dir, 'secret.key'), '--safety-net-minutes', '0', ...serveArgs],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logLines = [];
  serve.stderr.on('data', (chunk) => logLines.push(chunk.toString()));
  const [, baseUrl] = await waitForLine(serve, /listening on (http:\/\/\S+)/, 'agendasync serve');

  /// The API with a bearer token (setup and checks beside the browser).
  async function api(method, path, token, body) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: response.status, json, text };
  }

  /// exsim's admin endpoint: a mailbox's items.
  async function mailboxItems(address) {
    const response = await fetch(`${exsimUrl}/exsim/admin/mailboxes/${address}/items`, { headers: { 'X-Exsim-Admin-Token': adminToken } });
    return response.json();
  }

  /// exsim's fault injection (tools/exsim/README.md), e.g. { latency_ms: 1500 }.
  async function faults(patch) {
    const response = await fetch(`${exsimUrl}/exsim/admin/faults`, {
      method: 'POST', headers: { 'X-Exsim-Admin-Token': adminToken, 'Content-Type': 'application/json' }, body: JSON.stringify(patch),
    });
    if (!response.ok) throw new Error(`exsim faults: ${response.status} ${await response.text()}`);
  }

  return {
    dir, baseUrl, exsimUrl, password, graphSecret, tokens, api, mailboxItems, faults,
    log: () => logLines.join(''),
    async close({ keep = false } = {}) {
      await stop(serve);
      await stop(exsimChild);
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}
