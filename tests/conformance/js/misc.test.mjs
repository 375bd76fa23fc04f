// Smaller operations a client meets on the way: GetServerTimeZones, FindFolder, ResolveNames, and SOAP
// Autodiscover (GetUserSettings over HTTPS, as the EWS Managed API requires) pointing at EWS.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, password, requireEnv } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { AutodiscoverService, ExchangeVersion, Folder, FolderView, UserSettingName, Uri, WebCredentials, WellKnownFolderName } = ews;

const owner = MAILBOX.misc;

describe('other operations', () => {
  test('GetServerTimeZones lists the Windows zones a sync needs', async () => {
    const zones = await makeService(owner).GetServerTimeZones();
    const ids = zones.map((z) => z.Id);
    for (const id of ['W. Europe Standard Time', 'Pacific Standard Time', 'UTC']) {
      assert.ok(ids.includes(id), `${id} is listed`);
    }
  });

  test('FindFolder under the message root lists the calendar folder GetFolder returns', async () => {
    const service = makeService(owner);
    const found = await service.FindFolders(WellKnownFolderName.MsgFolderRoot, new FolderView(100));
    const calendar = await Folder.Bind(service, calendarOf(owner));
    const match = found.Folders.find((f) => f.Id.UniqueId === calendar.Id.UniqueId);
    assert.ok(match, `the calendar is among ${found.Folders.map((f) => f.DisplayName).join(', ')}`);
    assert.equal(match.DisplayName, 'Calendar');
    assert.equal(match.FolderClass, 'IPF.Appointment');
  });

  test('ResolveNames finds a mailbox by its address', async () => {
    const resolutions = await makeService(owner).ResolveName(MAILBOX.attendee);
    assert.equal(resolutions.Count, 1);
    assert.equal(resolutions._getItem(0).Mailbox.Address.toLowerCase(), MAILBOX.attendee);
  });

  test('SOAP Autodiscover over HTTPS answers the EWS URL', async () => {
    const base = requireEnv('EXSIM_TLS_URL');
    const autodiscover = new AutodiscoverService(new Uri(`${base}/autodiscover/autodiscover.svc`), ExchangeVersion.Exchange2013);
    autodiscover.Credentials = new WebCredentials(owner, password());
    const response = await autodiscover.GetUserSettings(owner, [UserSettingName.InternalEwsUrl, UserSettingName.ExternalEwsUrl]);
    const external = response.GetSettingValue(UserSettingName.ExternalEwsUrl);
    assert.equal(String(external).toLowerCase(), `${base}/EWS/Exchange.asmx`.toLowerCase());
  });
});
