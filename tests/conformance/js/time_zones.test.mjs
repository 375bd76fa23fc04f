// Time zones as the EWS Managed API port sends them: a series created in a zone with daylight
// saving time (StartTimeZone/EndTimeZone) keeps its local wall-clock time across the DST change,
// so its UTC times shift by an hour. Reading the zones back and the TimeZoneContext default are
// in time_zone_definitions.test.mjs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, password, ewsUrl, calendarOf, utc, isoUtc, uniqueSubject } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const {
  Appointment,
  CalendarView,
  DayOfTheWeek,
  ExchangeService,
  ExchangeVersion,
  ItemId,
  Recurrence,
  SendInvitationsMode,
  TimeZoneInfo,
  Uri,
  WebCredentials,
} = ews;

const owner = MAILBOX.timeZones;

/// A service whose requests carry TimeZoneContext = `zoneId` (Windows id).
function serviceIn(zoneId) {
  const service = new ExchangeService(ExchangeVersion.Exchange2013_SP1, TimeZoneInfo.FindSystemTimeZoneById(zoneId));
  service.Credentials = new WebCredentials(owner, password());
  service.Url = new Uri(ewsUrl());
  return service;
}

/// Mondays 2030-03-18 .. 2030-04-08 at 10:00 Amsterdam time; Europe leaves winter time on
/// Sunday 2030-03-31, so the last two occurrences are at 08:00 UTC instead of 09:00 UTC.
const expectedMondayStarts = [
  '2030-03-18T09:00:00.000Z',
  '2030-03-25T09:00:00.000Z',
  '2030-04-01T08:00:00.000Z',
  '2030-04-08T08:00:00.000Z',
];

async function createMondaySeries(service, withItemZones) {
  const appointment = new Appointment(service);
  appointment.Subject = uniqueSubject('dst');
  appointment.Start = utc(2030, 3, 18, 9, 0);
  appointment.End = utc(2030, 3, 18, 10, 0);
  if (withItemZones) {
    appointment.StartTimeZone = TimeZoneInfo.FindSystemTimeZoneById('W. Europe Standard Time');
    appointment.EndTimeZone = TimeZoneInfo.FindSystemTimeZoneById('W. Europe Standard Time');
  }
  const pattern = new Recurrence.WeeklyPattern(utc(2030, 3, 18), 1, [DayOfTheWeek.Monday]);
  pattern.NumberOfOccurrences = 4;
  appointment.Recurrence = pattern;
  await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);
  return appointment;
}

async function starts(service, subject) {
  const view = new CalendarView(utc(2030, 3, 1), utc(2030, 5, 1));
  const found = await service.FindAppointments(calendarOf(owner), view);
  return found.Items.filter((a) => a.Subject === subject).map((a) => isoUtc(a.Start));
}

describe('time zones', () => {
  test('StartTimeZone/EndTimeZone W. Europe: a weekly series keeps 10:00 local across DST', async () => {
    const service = serviceIn('UTC');
    const series = await createMondaySeries(service, true);
    assert.deepEqual(await starts(service, series.Subject), expectedMondayStarts);
  });

  test('a single item in Pacific time keeps its instant', async () => {
    const service = serviceIn('UTC');
    const appointment = new Appointment(service);
    appointment.Subject = uniqueSubject('pacific');
    appointment.Start = utc(2030, 7, 1, 16, 0); // 09:00 PDT
    appointment.End = utc(2030, 7, 1, 17, 0);
    appointment.StartTimeZone = TimeZoneInfo.FindSystemTimeZoneById('Pacific Standard Time');
    appointment.EndTimeZone = TimeZoneInfo.FindSystemTimeZoneById('Pacific Standard Time');
    await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);

    const read = await Appointment.Bind(service, new ItemId(appointment.Id.UniqueId));
    assert.equal(isoUtc(read.Start), '2030-07-01T16:00:00.000Z');
    assert.equal(isoUtc(read.End), '2030-07-01T17:00:00.000Z');
  });
});
