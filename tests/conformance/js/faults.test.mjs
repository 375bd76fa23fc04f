// Faults exsim injects on request, as Exchange produces them under load, and how the EWS
// Managed API port surfaces them: ErrorServerBusy with BackOffMilliseconds, HTTP 503 and
// ErrorExceededConnectionCount. Runs on its own exsim instance (EXSIM_FAULTS_URL) so no other
// test file sees the injected faults.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, requireEnv, expectFailure, failureOf, admin } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { Folder } = ews;

const owner = MAILBOX.faults;
const baseUrl = () => requireEnv('EXSIM_FAULTS_URL');
const service = () => makeService(owner, { url: `${baseUrl()}/EWS/Exchange.asmx` });
const setFaults = (body) => admin('faults', { method: 'POST', body, baseUrl: baseUrl() });

describe('injected faults', () => {
  afterEach(async () => {
    await setFaults({ latency_ms: 0, server_busy_next: 0, http_error_next: 0, max_concurrent_per_account: 0 });
  });

  test('ErrorServerBusy carries BackOffMilliseconds; the next request succeeds', async () => {
    await setFaults({ server_busy_next: 1, back_off_ms: 1500 });
    const failure = await expectFailure(Folder.Bind(service(), calendarOf(owner)));
    assert.equal(failure.code, 'ErrorServerBusy', JSON.stringify(failure));
    assert.equal(failure.httpStatus, 500);
    assert.equal(String(failure.backOffMilliseconds), '1500');
    const folder = await Folder.Bind(service(), calendarOf(owner));
    assert.equal(folder.DisplayName, 'Calendar');
  });

  test('HTTP 503 is reported with its status; the next request succeeds', async () => {
    await setFaults({ http_error_next: 1, http_error_status: 503 });
    const failure = await expectFailure(Folder.Bind(service(), calendarOf(owner)));
    assert.equal(failure.httpStatus, 503, JSON.stringify(failure));
    await Folder.Bind(service(), calendarOf(owner));
  });

  test('more concurrent requests than allowed get ErrorExceededConnectionCount', async () => {
    await setFaults({ latency_ms: 300, max_concurrent_per_account: 1 });
    const outcomes = await Promise.allSettled([0, 1, 2, 3].map(() => Folder.Bind(service(), calendarOf(owner))));
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.ok(outcomes.some((o) => o.status === 'fulfilled'), 'at least one request got through');
    assert.ok(refused.length >= 1, 'at least one request was refused');
    for (const r of refused) assert.equal(failureOf(r.reason).code, 'ErrorExceededConnectionCount');
  });
});
