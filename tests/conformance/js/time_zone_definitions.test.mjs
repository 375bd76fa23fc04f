// Time zone definitions as Exchange gives them:
// - GetItem answers StartTimeZone/EndTimeZone with the full TimeZoneDefinition (Periods,
//   TransitionsGroups, Transitions); ews-javascript-api (like the EWS Managed API) rejects a
//   definition without them, so the zone would read back as null.
// - A CreateItem without StartTimeZone takes its zone from the TimeZoneContext header
//   ("used as the default when assigning the time zone for the DateTime properties of objects
//   that are created"), so a series follows DST.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, password, ewsUrl, calendarOf, utc, isoUtc, uniqueSubject } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const {
  Appointment,
  AppointmentSchema,
  BasePropertySet,
  CalendarView,
  DayOfTheWeek,
  ExchangeService,
  ExchangeVersion,
  ItemId,
  PropertySet,
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

describe('time zone definitions', () => {
  test('StartTimeZone/EndTimeZone read back as the zones written', async () => {
    const service = serviceIn('UTC');
    const series = await createMondaySeries(service, true);
    const master = await Appointment.Bind(
      service,
      new ItemId(series.Id.UniqueId),
      new PropertySet(BasePropertySet.FirstClassProperties, [AppointmentSchema.StartTimeZone, AppointmentSchema.EndTimeZone]),
    );
    assert.equal(master.StartTimeZone?.Id, 'W. Europe Standard Time');
    assert.equal(master.EndTimeZone?.Id, 'W. Europe Standard Time');
  });

  test('a single item in Pacific time keeps its zone', async () => {
    const service = serviceIn('UTC');
    const appointment = new Appointment(service);
    appointment.Subject = uniqueSubject('pacific');
    appointment.Start = utc(2030, 7, 1, 16, 0);
    appointment.End = utc(2030, 7, 1, 17, 0);
    appointment.StartTimeZone = TimeZoneInfo.FindSystemTimeZoneById('Pacific Standard Time');
    appointment.EndTimeZone = TimeZoneInfo.FindSystemTimeZoneById('Pacific Standard Time');
    await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);
    const read = await Appointment.Bind(
      service,
      new ItemId(appointment.Id.UniqueId),
      new PropertySet(BasePropertySet.FirstClassProperties, [AppointmentSchema.StartTimeZone]),
    );
    assert.equal(read.StartTimeZone?.Id, 'Pacific Standard Time');
  });

  test('TimeZoneContext W. Europe alone decides the zone of a new series', async () => {
    const service = serviceIn('W. Europe Standard Time');
    const series = await createMondaySeries(service, false);
    assert.deepEqual(await starts(service, series.Subject), expectedMondayStarts);
  });

});
