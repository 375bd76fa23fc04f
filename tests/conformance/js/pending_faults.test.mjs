// PENDING (exsim deviation, see README.md): exsim sleeps the injected latency before it counts
// the request against max_concurrent_per_account, so concurrent requests never overlap inside
// the counted section and ErrorExceededConnectionCount never happens. Exchange counts a request
// for its whole duration. Move back into faults.test.mjs once
// `run_conformance.mjs ... -- pending_faults` passes.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, requireEnv, failureOf, admin } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { Folder } = ews;

const owner = MAILBOX.faults;
const baseUrl = () => requireEnv('EXSIM_FAULTS_URL');
const service = () => makeService(owner, { url: `${baseUrl()}/EWS/Exchange.asmx` });
const setFaults = (body) => admin('faults', { method: 'POST', body, baseUrl: baseUrl() });

describe('injected faults (pending)', () => {
  afterEach(async () => {
    await setFaults({ latency_ms: 0, max_concurrent_per_account: 0 });
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
