// Smaller operations a client meets on the way: GetServerTimeZones (the full Windows set with
// each zone's rules, and Ids), FindFolder, ResolveNames, and SOAP Autodiscover (GetUserSettings
// over HTTPS, as the EWS Managed API requires) pointing at EWS.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, password, requireEnv } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { AutodiscoverService, ExchangeVersion, Folder, FolderView, GetServerTimeZonesRequest, UserSettingName, Uri, WebCredentials, WellKnownFolderName } = ews;

const owner = MAILBOX.misc;

/// A TimeZoneInfo's DST rules; the port keeps them in a field (.NET's GetAdjustmentRules()).
function adjustmentRules(zone) {
  return zone._adjustmentRules ?? [];
}

describe('other operations', () => {
  test('GetServerTimeZones lists the full Windows set with each zone\'s current rules', async () => {
    const zones = await makeService(owner).GetServerTimeZones();
    const byId = new Map(zones.map((z) => [z.Id, z]));
    assert.ok(byId.size >= 100, `expected the full Windows zone list, got ${byId.size}`);
    for (const id of ['UTC', 'W. Europe Standard Time', 'Pacific Standard Time', 'Romance Standard Time', 'Russian Standard Time', 'China Standard Time', 'E. South America Standard Time', 'New Zealand Standard Time']) {
      assert.ok(byId.has(id), `${id} is listed`);
    }
    // The library turns each full definition into a TimeZoneInfo: base offset and DST rule.
    const europe = byId.get('W. Europe Standard Time');
    assert.equal(europe.DisplayName, '(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna');
    assert.equal(europe.BaseUtcOffset.TotalMinutes, 60);
    assert.equal(europe.SupportsDaylightSavingTime, true);
    const rule = adjustmentRules(europe)[0];
    assert.deepEqual(
      [rule.DaylightTransitionStart.Month, rule.DaylightTransitionStart.Week, rule.DaylightTransitionEnd.Month, rule.DaylightTransitionEnd.Week, rule.DaylightDelta.TotalMinutes],
      [3, 5, 10, 5, 60], // last Sunday of March .. last Sunday of October, one hour
    );
    const sydney = adjustmentRules(byId.get('AUS Eastern Standard Time'))[0];
    assert.deepEqual([sydney.DaylightTransitionStart.Month, sydney.DaylightTransitionEnd.Month], [10, 4]);
    const india = byId.get('India Standard Time');
    assert.equal(india.BaseUtcOffset.TotalMinutes, 330);
    assert.equal(india.SupportsDaylightSavingTime, false);
    assert.equal(adjustmentRules(byId.get('Lord Howe Standard Time'))[0].DaylightDelta.TotalMinutes, 30);
  });

  test('GetServerTimeZones with Ids answers exactly those zones', async () => {
    // ExchangeService.GetServerTimeZones() takes no ids in this port; its request class does.
    const request = new GetServerTimeZonesRequest(makeService(owner));
    request.Ids = ['Tokyo Standard Time', 'Pacific Standard Time', 'No Such Standard Time'];
    const zones = (await request.Execute()).Responses[0].TimeZones;
    assert.deepEqual(zones.map((z) => z.Id).sort(), ['Pacific Standard Time', 'Tokyo Standard Time']);
    assert.equal(zones.find((z) => z.Id === 'Pacific Standard Time').BaseUtcOffset.TotalMinutes, -480);
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
