// Grouped streaming notifications against the "scale" exsim (EXSIM_SCALE_URL): four Mailbox
// servers and Exchange's limits, nothing relaxed. Done the way Microsoft's page "Maintain
// affinity between a group of subscriptions and the Mailbox server in Exchange" says, with one
// ExchangeService: Autodiscover's GroupingInformation + ExternalEwsUrl form the groups; the
// anchor (first address in alphabetical order) subscribes with X-AnchorMailbox and
// X-PreferServerAffinity: true and gets the X-BackEndOverrideCookie cookie; the other members
// subscribe with the same headers and the cookie; one StreamingSubscriptionConnection carries
// the whole group, impersonating the anchor. A change in a member's calendar must arrive. A
// client without affinity must fail.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, calendarOf, utc, uniqueSubject, password, requireEnv, failureOf } from './lib/ews.mjs';
import { SCALE_MAILBOXES, SERVICE_WITH_IMPERSONATION } from './lib/accounts.mjs';
import { EventLog } from './lib/event_log.mjs';

const {
  Appointment,
  AutodiscoverService,
  ConnectingIdType,
  EventType,
  ExchangeService,
  ExchangeVersion,
  ImpersonatedUserId,
  SendInvitationsMode,
  ServiceError,
  StreamingSubscriptionConnection,
  Uri,
  UserSettingName,
  WebCredentials,
} = ews;

const base = () => requireEnv('EXSIM_SCALE_URL');

/// GroupingInformation and ExternalEwsUrl of every scale mailbox, by SOAP Autodiscover.
async function autodiscoverAll() {
  const autodiscover = new AutodiscoverService(new Uri(`${base()}/autodiscover/autodiscover.svc`), ExchangeVersion.Exchange2013);
  autodiscover.Credentials = new WebCredentials(SERVICE_WITH_IMPERSONATION, password());
  const found = [];
  for (const address of SCALE_MAILBOXES) {
    const response = await autodiscover.GetUserSettings(address, [UserSettingName.GroupingInformation, UserSettingName.ExternalEwsUrl]);
    found.push({
      address,
      grouping: String(response.GetSettingValue(UserSettingName.GroupingInformation)),
      ewsUrl: String(response.GetSettingValue(UserSettingName.ExternalEwsUrl)),
    });
  }
  return found;
}

/// Mailboxes with the same ExternalEwsUrl + GroupingInformation, each group sorted so that its
/// anchor comes first.
function groups(settings) {
  const byKey = new Map();
  for (const s of settings) {
    const key = `${s.ewsUrl}|${s.grouping}`;
    if (!byKey.has(key)) byKey.set(key, { ewsUrl: s.ewsUrl, members: [] });
    byKey.get(key).members.push(s.address);
  }
  for (const g of byKey.values()) g.members.sort();
  return [...byKey.values()];
}

function impersonating(address) {
  return new ImpersonatedUserId(ConnectingIdType.SmtpAddress, address);
}

/// The X-BackEndOverrideCookie value from the last response's Set-Cookie, or null.
function overrideCookie(service) {
  const headers = service.HttpResponseHeaders;
  let raw = null;
  for (const key of headers.Keys) {
    if (String(key).toLowerCase() === 'set-cookie') raw = headers.get(key);
  }
  for (const cookie of [].concat(raw ?? [])) {
    const match = /X-BackEndOverrideCookie=([^;]+)/i.exec(cookie);
    if (match) return match[1];
  }
  return null;
}

function closeQuietly(connection) {
  try {
    connection.Close();
  } catch {
    // Already closed by the server or by an error.
  }
}

describe('affinity on a four-server Exchange (no relaxing switch)', () => {
  test('a group subscribes with the anchor cookie and streams on one connection', async () => {
    const settings = await autodiscoverAll();
    assert.ok(settings.every((s) => s.grouping && s.grouping !== 'undefined'), 'every mailbox has GroupingInformation');
    const all = groups(settings);
    assert.equal(all.length, 4, `four Mailbox servers, four groups: ${JSON.stringify(all)}`);
    const group = all.find((g) => g.members.length >= 3);
    assert.ok(group, 'a group of at least three mailboxes');
    const [anchor, ...others] = group.members;

    const service = new ExchangeService(ExchangeVersion.Exchange2013_SP1);
    service.Credentials = new WebCredentials(SERVICE_WITH_IMPERSONATION, password());
    service.Url = new Uri(group.ewsUrl);
    service.HttpHeaders.Add('X-AnchorMailbox', anchor);
    service.HttpHeaders.Add('X-PreferServerAffinity', 'true');

    service.ImpersonatedUserId = impersonating(anchor);
    const subscriptions = [
      await service.SubscribeToStreamingNotifications([calendarOf(anchor)], EventType.Created, EventType.Modified),
    ];
    const cookie = overrideCookie(service);
    assert.ok(cookie, 'the anchor\'s Subscribe response sets X-BackEndOverrideCookie');
    // ews-javascript-api keeps no cookies: the client caches the value and sends it with
    // every later request of the group, as the page says.
    service.HttpHeaders.Add('Cookie', `X-BackEndOverrideCookie=${cookie}`);
    for (const member of others) {
      service.ImpersonatedUserId = impersonating(member);
      subscriptions.push(await service.SubscribeToStreamingNotifications([calendarOf(member)], EventType.Created, EventType.Modified));
    }

    // GetStreamingEvents impersonates the anchor: the hanging connection is charged to it.
    service.ImpersonatedUserId = impersonating(anchor);
    const connection = new StreamingSubscriptionConnection(service, 1);
    for (const s of subscriptions) connection.AddSubscription(s);
    const log = new EventLog(connection);
    connection.Open().catch((error) => log.fail(error));
    try {
      // Item operations need no affinity: another client writes in the last member's calendar.
      const member = others.at(-1);
      const writer = new ExchangeService(ExchangeVersion.Exchange2013_SP1);
      writer.Credentials = new WebCredentials(member, password());
      writer.Url = new Uri(group.ewsUrl);
      const appointment = new Appointment(writer);
      appointment.Subject = uniqueSubject('grouped');
      appointment.Start = utc(2031, 6, 2, 9, 0);
      appointment.End = utc(2031, 6, 2, 10, 0);
      await appointment.Save(calendarOf(member), SendInvitationsMode.SendToNone);

      const created = await log.waitFor(
        (e) => e.EventType === EventType.Created && e.ItemId?.UniqueId === appointment.Id.UniqueId,
        'Created event for the member\'s new item',
      );
      assert.equal(created.subscriptionId, subscriptions.at(-1).Id, 'reported by that member\'s subscription');
      assert.equal(log.errors.length, 0, 'no subscription of the group failed');
    } finally {
      closeQuietly(connection);
    }
  });

  test('a client without affinity fails within two requests', async () => {
    const owner = SCALE_MAILBOXES[5];
    const service = new ExchangeService(ExchangeVersion.Exchange2013_SP1);
    service.Credentials = new WebCredentials(owner, password());
    service.Url = new Uri(`${base()}/EWS/Exchange.asmx`);
    const subscription = await service.SubscribeToStreamingNotifications([calendarOf(owner)], EventType.Created);
    const connection = new StreamingSubscriptionConnection(service, 1);
    connection.AddSubscription(subscription);
    const log = new EventLog(connection);
    connection.Open().catch((error) => log.fail(error));
    try {
      // The GetStreamingEvents lands on another server than the Subscribe did.
      const error = await log.waitForError(() => true, 'an error for the subscription');
      assert.equal(error.subscription?.Id, subscription.Id, 'the error names the subscription (ErrorSubscriptionIds)');
      assert.equal(failureOf(error.exception).code, ServiceError[ServiceError.ErrorSubscriptionNotFound]);
    } finally {
      closeQuietly(connection);
    }
  });
});
