#!/usr/bin/env node
// Runs the ews-javascript-api conformance suite against a freshly started exsim:
//   node run_conformance.mjs --exsim /path/to/exsim [-- file-name-part ...]
// Starts four exsim instances on free loopback ports (plain HTTP, HTTPS with a generated CA, one
// for fault injection, and one with four Mailbox servers and Exchange's streaming limits),
// exports their URLs, runs every *.test.mjs here except pending_* with `node --test`, stops
// exsim and exits with the test runner's status. A missing node_modules is a failure, not a skip.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

function fail(message) {
  console.error(`conformance_js: ${message}`);
  process.exit(1);
}

function argument(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const exsimBinary = argument('--exsim') ?? process.env.EXSIM_BIN;
if (!exsimBinary || !existsSync(exsimBinary)) {
  fail(`exsim binary not found (${exsimBinary ?? 'no --exsim given'}): build it with ` +
       '`cmake --build <build dir> --target exsim` or pass --exsim <path>');
}
if (!existsSync(join(here, 'node_modules', 'ews-javascript-api', 'package.json'))) {
  fail(`${join(here, 'node_modules')} is missing ews-javascript-api: run scripts/install-deps.sh ` +
       '(it runs `npm ci` in tests/conformance/js), or `npm ci` in that folder yourself');
}

const { MAILBOX, SCALE_MAILBOXES, SERVICE_WITH_IMPERSONATION, SERVICE_WITHOUT_IMPERSONATION, SERVICE_DELEGATE } =
  await import('./lib/accounts.mjs');

const workDir = mkdtempSync(join(tmpdir(), 'exsim-js-'));
// A throw-away password for this run only; the tests read it from the environment.
const password = `pw-${randomBytes(9).toString('base64url')}`;
const adminToken = `admin-${randomBytes(9).toString('base64url')}`;
// JWT-shaped (header.payload.signature): ews-javascript-api's OAuthCredentials refuses anything
// else; exsim treats it as an opaque token mapped to an account.
const bearerToken = ['header', 'payload', 'signature'].map(() => randomBytes(18).toString('base64url')).join('.');

/// exsim's JSON config (format: tools/exsim/README.md): every test mailbox, its owner as an
/// account, two service accounts that differ only in the impersonation right, a delegate with
/// full access to one mailbox, and a Bearer token for the auth mailbox's owner.
/// EXSIM_TRACE_DIR=<dir> keeps every request/response exsim saw (one subfolder per instance,
/// emptied first so a run's traces are only that run's).
function exsimConfig(name, extra) {
  const traceRoot = process.env.EXSIM_TRACE_DIR;
  if (traceRoot) rmSync(join(traceRoot, name), { recursive: true, force: true });
  return {
    ...(traceRoot ? { trace_dir: join(traceRoot, name) } : {}),
    listen: '127.0.0.1',
    port: 0,
    version: 'Exchange2016',
    auth: ['basic', 'ntlm', 'bearer'],
    admin_token: adminToken,
    mailboxes: Object.values(MAILBOX),
    accounts: [
      ...Object.values(MAILBOX).map((address) => ({ user: address, password })),
      { user: SERVICE_WITH_IMPERSONATION, password, impersonation: true },
      { user: SERVICE_WITHOUT_IMPERSONATION, password, impersonation: false },
      { user: SERVICE_DELEGATE, password, impersonation: false, full_access: [MAILBOX.impersonated] },
    ],
    bearer_tokens: { [bearerToken]: MAILBOX.auth },
    ...extra,
  };
}

/// Starts exsim with `config`; resolves with { child, url, stderr() } once it prints its URL.
function startExsim(name, config) {
  const configPath = join(workDir, `${name}.json`);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(exsimBinary, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrText = '';
  child.stderr.on('data', (chunk) => {
    stderrText += chunk;
  });
  const stderr = () => stderrText;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} exsim printed no URL within ${STARTUP_TIMEOUT_MS} ms; stderr:\n${stderrText}`));
    }, STARTUP_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${exsimBinary}: ${error.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exsim exited early (code ${code}, signal ${signal}); stderr:\n${stderrText}`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = line.match(/https?:\/\/[^\s]+/);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, url: match[0].replace(/\/$/, ''), stderr });
    });
  });
}

/// Sends SIGTERM and waits (bounded) for exit. Answers null when exsim stopped cleanly, else what
/// went wrong: it died during the tests, ignored SIGTERM, or exited non-zero (a sanitizer report
/// at exit, a crash while shutting down).
async function stopExsim(instance) {
  const { child } = instance;
  if (child.exitCode !== null || child.signalCode !== null) {
    return `died during the tests (code ${child.exitCode}, signal ${child.signalCode})`;
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  const { code, signal } = await exited;
  clearTimeout(timer);
  if (forced) return `did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM`;
  if (code !== 0) return `exited with code ${code}, signal ${signal} after SIGTERM`;
  return null;
}

/// Test files to run: every *.test.mjs except pending_*, or, after `--`, the names given there
/// (a pending_ file can be run that way to see whether exsim has been fixed).
function testFiles() {
  const separator = process.argv.indexOf('--');
  const wanted = separator >= 0 ? process.argv.slice(separator + 1) : null;
  return readdirSync(here).filter((name) =>
    wanted ? wanted.some((w) => name.includes(w)) : name.endsWith('.test.mjs') && !name.startsWith('pending_'));
}

function runNodeTests(env) {
  const files = testFiles()
    .sort()
    .map((name) => join(here, name));
  if (files.length === 0) fail(`no *.test.mjs files in ${here}`);
  const args = ['--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=120000',
                '--test-force-exit', ...files];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: here, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/// The "scale" instance: four simulated Mailbox servers and every streaming limit at Exchange's
/// default (HangingConnectionLimit 3, EWSMaxSubscriptions 5000, 200 ids per
/// GetStreamingEvents, affinity required); nothing relaxed, so grouping must work as against
/// Exchange.
function scaleConfig() {
  return exsimConfig('scale', {
    mailboxes: SCALE_MAILBOXES,
    accounts: [
      ...SCALE_MAILBOXES.map((address) => ({ user: address, password })),
      { user: SERVICE_WITH_IMPERSONATION, password, impersonation: true },
    ],
    mailbox_servers: 4,
  });
}

let plain;
let secure;
let faulty;
let scale;
let status = 1;
try {
  plain = await startExsim('plain', exsimConfig('plain', {}));
  scale = await startExsim('scale', scaleConfig());
  // Injected faults are server-wide, so faults.test.mjs gets an instance of its own.
  faulty = await startExsim('faults', exsimConfig('faults', {}));
  const caPath = join(workDir, 'exsim-ca.pem');
  secure = await startExsim('tls', exsimConfig('tls', { tls: { enabled: true, min_version: '1.2', ca_out: caPath } }));
  if (!existsSync(caPath)) throw new Error(`TLS exsim did not write its CA certificate to ${caPath}`);
  console.log(`conformance_js: exsim at ${plain.url}, ${secure.url}, ${faulty.url} and ${scale.url}`);
  status = await runNodeTests({
    ...process.env,
    EXSIM_URL: plain.url,
    EXSIM_TLS_URL: secure.url,
    EXSIM_FAULTS_URL: faulty.url,
    EXSIM_SCALE_URL: scale.url,
    EXSIM_CA_FILE: caPath,
    EXSIM_PASSWORD: password,
    EXSIM_ADMIN_TOKEN: adminToken,
    EXSIM_BEARER_TOKEN: bearerToken,
    // The generated CA is trusted the way an integrator would: through Node's extra CA list.
    NODE_EXTRA_CA_CERTS: caPath,
    TZ: process.env.TZ ?? 'UTC',
  });
} catch (error) {
  console.error(`conformance_js: ${error.message}`);
  status = 1;
} finally {
  for (const instance of [plain, secure, faulty, scale]) {
    if (!instance) continue;
    const problem = await stopExsim(instance);
    if (problem) {
      console.error(`conformance_js: exsim at ${instance.url} ${problem}; stderr:\n${instance.stderr()}`);
      status = 1;
    }
  }
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(status);
