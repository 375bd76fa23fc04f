// PENDING (exsim deviation, see README.md): GetServerTimeZones without Ids answers every time
// zone the server knows; Exchange lists the full Windows set (well over 100, e.g. every zone in
// CLDR's windowsZones.xml), exsim only a dozen. Move back into misc.test.mjs once
// `run_conformance.mjs ... -- pending_misc` passes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { makeService } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

describe('other operations (pending)', () => {
  test('GetServerTimeZones lists the full set of Windows zones', async () => {
    const zones = await makeService(MAILBOX.misc).GetServerTimeZones();
    const ids = new Set(zones.map((z) => z.Id));
    assert.ok(ids.size >= 100, `expected the full Windows zone list, got ${ids.size}`);
    for (const id of ['Romance Standard Time', 'Russian Standard Time', 'China Standard Time', 'E. South America Standard Time', 'New Zealand Standard Time']) {
      assert.ok(ids.has(id), `${id} is listed`);
    }
  });
});
