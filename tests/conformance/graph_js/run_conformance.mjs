#!/usr/bin/env node
// Runs the Graph conformance suite against a freshly started exsim:
//   node run_conformance.mjs --exsim /path/to/exsim
// Creates a certificate (openssl) for the certificate app, starts exsim over HTTPS on a free
// loopback port with two mailboxes and three app registrations, runs every *.test.mjs here with
// `node --test` (NODE_EXTRA_CA_CERTS = exsim's generated CA, so msal-node and the Graph client's
// fetch trust it like a public CA), stops exsim and exits with the runner's status.
// A missing node_modules is a failure, not a skip.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;

function fail(message) {
  console.error(`conformance_graph_js: ${message}`);
  process.exit(1);
}

const exsimIndex = process.argv.indexOf('--exsim');
const exsimBinary = exsimIndex >= 0 ? process.argv[exsimIndex + 1] : process.env.EXSIM_BIN;
if (!exsimBinary || !existsSync(exsimBinary)) {
  fail(`exsim binary not found (${exsimBinary ?? 'no --exsim given'}): build the exsim target`);
}
for (const module of ['@azure/msal-node', '@microsoft/microsoft-graph-client']) {
  if (!existsSync(join(here, 'node_modules', module, 'package.json'))) {
    fail(`${module} is missing: run scripts/install-deps.sh (it runs \`npm ci\` in ${here})`);
  }
}

const work = mkdtempSync(join(tmpdir(), 'exsim-graph-js-'));
const cert = (name, days) => {
  const key = join(work, `${name}-key.pem`);
  const crt = join(work, `${name}-cert.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt,
    '-days', String(days), '-subj', '/CN=agendasync-graph-js'], { stdio: 'ignore' });
  return { key, crt };
};
const good = cert('good', 30);

const env = {
  GRAPH_TENANT: '11111111-2222-3333-4444-555555555555',
  GRAPH_CLIENT_ID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  GRAPH_CERT_CLIENT_ID: 'cccccccc-bbbb-cccc-dddd-eeeeeeeeeeee',
  GRAPH_NO_ROLE_CLIENT_ID: 'eeeeeeee-bbbb-cccc-dddd-eeeeeeeeeeee',
  GRAPH_SECRET: `s-${randomBytes(12).toString('base64url')}`,
  GRAPH_CERT_KEY: good.key,
  GRAPH_CERT_THUMBPRINT: new X509Certificate(readFileSync(good.crt)).fingerprint.replaceAll(':', ''),
  GRAPH_ADMIN_TOKEN: `admin-${randomBytes(9).toString('base64url')}`,
  GRAPH_MAILBOX: 'alice@example.com',
  GRAPH_OTHER_MAILBOX: 'bob@example.com',
};
const ca = join(work, 'ca.pem');
const config = {
  listen: '127.0.0.1',
  port: 0,
  admin_token: env.GRAPH_ADMIN_TOKEN,
  tls: { enabled: true, ca_out: ca },
  mailboxes: [env.GRAPH_MAILBOX, env.GRAPH_OTHER_MAILBOX],
  graph: {
    apps: [
      { tenant: env.GRAPH_TENANT, client_id: env.GRAPH_CLIENT_ID, secret: env.GRAPH_SECRET,
        roles: ['Calendars.ReadWrite', 'User.Read.All'] },
      { tenant: env.GRAPH_TENANT, client_id: env.GRAPH_CERT_CLIENT_ID, certificates: [good.crt],
        roles: ['Calendars.ReadWrite'] },
      { tenant: env.GRAPH_TENANT, client_id: env.GRAPH_NO_ROLE_CLIENT_ID, secret: env.GRAPH_SECRET,
        roles: ['User.Read.All'] },
    ],
  },
};
const configPath = join(work, 'exsim.json');
writeFileSync(configPath, JSON.stringify(config));

const exsim = spawn(exsimBinary, ['--config', configPath], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve) => {
  const timer = setTimeout(() => resolve(null), STARTUP_TIMEOUT_MS);
  createInterface({ input: exsim.stdout }).once('line', (line) => {
    clearTimeout(timer);
    resolve(line.trim());
  });
  exsim.once('exit', () => resolve(null));
});
if (!base || !base.startsWith('https://')) {
  exsim.kill();
  fail(`exsim did not print its https base URL within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

const files = readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort();
const runner = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-force-exit', ...files], {
  cwd: here,
  stdio: 'inherit',
  env: { ...process.env, ...env, EXSIM_BASE: base, NODE_EXTRA_CA_CERTS: ca },
});
const status = await new Promise((resolve) => runner.once('exit', (code) => resolve(code ?? 1)));
console.error(`conformance_graph_js: tests done in ${Math.round(performance.now())} ms`);
exsim.kill('SIGTERM');
await new Promise((resolve) => {
  const timer = setTimeout(() => { exsim.kill('SIGKILL'); resolve(); }, 10_000);
  exsim.once('exit', () => { clearTimeout(timer); resolve(); });
});
rmSync(work, { recursive: true, force: true });
process.exit(status);
