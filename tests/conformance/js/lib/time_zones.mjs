/// Shared set-up of the time-zone suites (time_zones.test.mjs, time_zone_definitions.test.mjs):
/// a service whose requests carry a TimeZoneContext, a weekly series across Europe's DST change,
/// and the starts a CalendarView shows for it.
import { ews, password, ewsUrl, calendarOf, utc, isoUtc, uniqueSubject } from './ews.mjs';
import { MAILBOX } from './accounts.mjs';

const {
  Appointment,
  CalendarView,
  DayOfTheWeek,
  ExchangeService,
  ExchangeVersion,
  Recurrence,
  SendInvitationsMode,
  TimeZoneInfo,
  Uri,
  WebCredentials,
} = ews;

/// The mailbox both time-zone files write to (their subjects never collide).
export const owner = MAILBOX.timeZones;

/// A service whose requests carry TimeZoneContext = `zoneId` (Windows id).
export function serviceIn(zoneId) {
  const service = new ExchangeService(ExchangeVersion.Exchange2013_SP1, TimeZoneInfo.FindSystemTimeZoneById(zoneId));
  service.Credentials = new WebCredentials(owner, password());
  service.Url = new Uri(ewsUrl());
  return service;
}

/// Mondays 2030-03-18 .. 2030-04-08 at 10:00 Amsterdam time; Europe leaves winter time on
/// Sunday 2030-03-31, so the last two occurrences are at 08:00 UTC instead of 09:00 UTC.
export const expectedMondayStarts = [
  '2030-03-18T09:00:00.000Z',
  '2030-03-25T09:00:00.000Z',
  '2030-04-01T08:00:00.000Z',
  '2030-04-08T08:00:00.000Z',
];

/// Creates that series; `withItemZones` sets StartTimeZone/EndTimeZone to W. Europe, otherwise
/// the zone comes from the service's TimeZoneContext.
export async function createMondaySeries(service, withItemZones) {
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

/// UTC starts (ISO text) of the items with `subject` a CalendarView over March-April 2030 shows.
export async function starts(service, subject) {
  const view = new CalendarView(utc(2030, 3, 1), utc(2030, 5, 1));
  const found = await service.FindAppointments(calendarOf(owner), view);
  return found.Items.filter((a) => a.Subject === subject).map((a) => isoUtc(a.Start));
}

/// A single item 2030-07-01 09:00-10:00 Pacific Daylight Time (16:00-17:00 UTC), created with
/// StartTimeZone/EndTimeZone = Pacific Standard Time.
export async function createPacificItem(service) {
  const appointment = new Appointment(service);
  appointment.Subject = uniqueSubject('pacific');
  appointment.Start = utc(2030, 7, 1, 16, 0);
  appointment.End = utc(2030, 7, 1, 17, 0);
  appointment.StartTimeZone = TimeZoneInfo.FindSystemTimeZoneById('Pacific Standard Time');
  appointment.EndTimeZone = TimeZoneInfo.FindSystemTimeZoneById('Pacific Standard Time');
  await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);
  return appointment;
}
