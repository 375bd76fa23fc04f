// Recurring masters: each EWS pattern the product maps (Weekly, AbsoluteMonthly, RelativeMonthly,
// AbsoluteYearly, RelativeYearly) with each range (Numbered, EndDate, NoEnd), written by the EWS Managed API port and read back
// both as the master's Recurrence and as the occurrences a CalendarView expands.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, utc, isoUtc, uniqueSubject } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const {
  Appointment,
  AppointmentType,
  Recurrence,
  DayOfTheWeek,
  DayOfTheWeekIndex,
  Month,
  CalendarView,
  SendInvitationsMode,
  SendInvitationsOrCancellationsMode,
  ConflictResolutionMode,
  DeleteMode,
  SendCancellationsMode,
  ItemId,
  PropertySet,
  BasePropertySet,
  AppointmentSchema,
} = ews;

const owner = MAILBOX.recurrence;
const service = makeService(owner);

async function createRecurring(start, end, recurrence, subject = uniqueSubject('recurring')) {
  const appointment = new Appointment(service);
  appointment.Subject = subject;
  appointment.Start = start;
  appointment.End = end;
  appointment.Recurrence = recurrence;
  await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);
  return appointment;
}

const masterProperties = new PropertySet(BasePropertySet.FirstClassProperties, [
  AppointmentSchema.Recurrence,
  AppointmentSchema.FirstOccurrence,
  AppointmentSchema.LastOccurrence,
  AppointmentSchema.ModifiedOccurrences,
  AppointmentSchema.DeletedOccurrences,
]);

/// The starts (ISO, UTC) of `subject`'s occurrences inside [from, to).
async function occurrenceStarts(subject, from, to) {
  const view = new CalendarView(from, to);
  view.MaxItemsReturned = 1000;
  const found = await service.FindAppointments(calendarOf(owner), view);
  return found.Items.filter((a) => a.Subject === subject).map((a) => isoUtc(a.Start));
}

describe('recurring series', () => {
  test('Weekly on Monday and Wednesday, Numbered range of 6', async () => {
    const pattern = new Recurrence.WeeklyPattern(utc(2030, 1, 7), 1, [DayOfTheWeek.Monday, DayOfTheWeek.Wednesday]);
    pattern.NumberOfOccurrences = 6;
    const created = await createRecurring(utc(2030, 1, 7, 9, 0), utc(2030, 1, 7, 10, 0), pattern);

    const master = await Appointment.Bind(service, new ItemId(created.Id.UniqueId), masterProperties);
    assert.equal(master.AppointmentType, AppointmentType.RecurringMaster);
    assert.ok(master.Recurrence instanceof Recurrence.WeeklyPattern, `got ${master.Recurrence?.constructor?.name}`);
    assert.equal(Number(master.Recurrence.Interval), 1); // the library keeps it as read: text
    assert.deepEqual(
      master.Recurrence.DaysOfTheWeek.GetEnumerator().slice().sort(),
      [DayOfTheWeek.Monday, DayOfTheWeek.Wednesday].sort(),
    );
    assert.equal(Number(master.Recurrence.NumberOfOccurrences), 6);
    assert.equal(master.Recurrence.StartDate.Format('YYYY-MM-DD'), '2030-01-07');
    assert.equal(isoUtc(master.FirstOccurrence.Start), '2030-01-07T09:00:00.000Z');
    assert.equal(isoUtc(master.LastOccurrence.Start), '2030-01-23T09:00:00.000Z');

    const starts = await occurrenceStarts(created.Subject, utc(2030, 1, 1), utc(2030, 3, 1));
    assert.deepEqual(starts, [
      '2030-01-07T09:00:00.000Z',
      '2030-01-09T09:00:00.000Z',
      '2030-01-14T09:00:00.000Z',
      '2030-01-16T09:00:00.000Z',
      '2030-01-21T09:00:00.000Z',
      '2030-01-23T09:00:00.000Z',
    ]);
  });

  test('Weekly every 2 weeks on Friday, EndDate range', async () => {
    const pattern = new Recurrence.WeeklyPattern(utc(2030, 2, 1), 2, [DayOfTheWeek.Friday]);
    pattern.EndDate = utc(2030, 3, 15);
    const created = await createRecurring(utc(2030, 2, 1, 15, 0), utc(2030, 2, 1, 15, 30), pattern);

    const master = await Appointment.Bind(service, created.Id, masterProperties);
    assert.ok(master.Recurrence instanceof Recurrence.WeeklyPattern);
    assert.equal(Number(master.Recurrence.Interval), 2);
    assert.equal(master.Recurrence.HasEnd, true);
    assert.equal(master.Recurrence.EndDate.Format('YYYY-MM-DD'), '2030-03-15');
    assert.equal(master.Recurrence.NumberOfOccurrences ?? null, null, 'an EndDate range has no count');

    const starts = await occurrenceStarts(created.Subject, utc(2030, 1, 1), utc(2030, 6, 1));
    assert.deepEqual(starts, [
      '2030-02-01T15:00:00.000Z',
      '2030-02-15T15:00:00.000Z',
      '2030-03-01T15:00:00.000Z',
      '2030-03-15T15:00:00.000Z',
    ]);
  });

  test('RelativeMonthly on the last Friday, NoEnd range', async () => {
    const pattern = new Recurrence.RelativeMonthlyPattern(utc(2030, 1, 25), 1, DayOfTheWeek.Friday, DayOfTheWeekIndex.Last);
    pattern.NeverEnds();
    const created = await createRecurring(utc(2030, 1, 25, 16, 0), utc(2030, 1, 25, 17, 0), pattern);

    const master = await Appointment.Bind(service, created.Id, masterProperties);
    assert.ok(master.Recurrence instanceof Recurrence.RelativeMonthlyPattern, `got ${master.Recurrence?.constructor?.name}`);
    assert.equal(master.Recurrence.DayOfTheWeek, DayOfTheWeek.Friday);
    assert.equal(master.Recurrence.DayOfTheWeekIndex, DayOfTheWeekIndex.Last);
    assert.equal(Number(master.Recurrence.Interval), 1); // the library keeps it as read: text
    assert.equal(master.Recurrence.HasEnd, false, 'a NoEnd range never ends');

    const starts = await occurrenceStarts(created.Subject, utc(2030, 1, 1), utc(2030, 5, 1));
    assert.deepEqual(starts, [
      '2030-01-25T16:00:00.000Z',
      '2030-02-22T16:00:00.000Z',
      '2030-03-29T16:00:00.000Z',
      '2030-04-26T16:00:00.000Z',
    ]);
  });

  test('RelativeMonthly on the second Tuesday every 3 months, Numbered range', async () => {
    const pattern = new Recurrence.RelativeMonthlyPattern(utc(2030, 1, 8), 3, DayOfTheWeek.Tuesday, DayOfTheWeekIndex.Second);
    pattern.NumberOfOccurrences = 3;
    const created = await createRecurring(utc(2030, 1, 8, 10, 0), utc(2030, 1, 8, 11, 0), pattern);

    const starts = await occurrenceStarts(created.Subject, utc(2030, 1, 1), utc(2031, 1, 1));
    assert.deepEqual(starts, [
      '2030-01-08T10:00:00.000Z',
      '2030-04-09T10:00:00.000Z',
      '2030-07-09T10:00:00.000Z',
    ]);
  });

  test('AbsoluteYearly on 15 March, EndDate range', async () => {
    const pattern = new Recurrence.YearlyPattern(utc(2030, 3, 15), Month.March, 15);
    pattern.EndDate = utc(2033, 3, 15);
    const created = await createRecurring(utc(2030, 3, 15, 12, 0), utc(2030, 3, 15, 13, 0), pattern);

    const master = await Appointment.Bind(service, created.Id, masterProperties);
    assert.ok(master.Recurrence instanceof Recurrence.YearlyPattern, `got ${master.Recurrence?.constructor?.name}`);
    assert.equal(master.Recurrence.Month, Month.March);
    assert.equal(Number(master.Recurrence.DayOfMonth), 15);
    assert.equal(master.Recurrence.EndDate.Format('YYYY-MM-DD'), '2033-03-15');

    const starts = await occurrenceStarts(created.Subject, utc(2029, 1, 1), utc(2035, 1, 1));
    assert.deepEqual(starts, [
      '2030-03-15T12:00:00.000Z',
      '2031-03-15T12:00:00.000Z',
      '2032-03-15T12:00:00.000Z',
      '2033-03-15T12:00:00.000Z',
    ]);
  });

  test('AbsoluteYearly, NoEnd range: occurrences continue past any horizon asked for', async () => {
    const pattern = new Recurrence.YearlyPattern(utc(2030, 11, 2), Month.November, 2);
    pattern.NeverEnds();
    const created = await createRecurring(utc(2030, 11, 2, 8, 0), utc(2030, 11, 2, 9, 0), pattern);
    const starts = await occurrenceStarts(created.Subject, utc(2036, 1, 1), utc(2038, 1, 1));
    assert.deepEqual(starts, ['2036-11-02T08:00:00.000Z', '2037-11-02T08:00:00.000Z']);
  });

  test('AbsoluteMonthly on day 31 falls on the last day of shorter months, as Outlook does', async () => {
    // Outlook/CDO semantics (Microsoft's RecurrencePattern.DayOfMonth: "The last day of every
    // month can be represented by the value 31"), unlike RFC 5545, which skips such months.
    const pattern = new Recurrence.MonthlyPattern(utc(2030, 1, 31), 1, 31);
    pattern.NumberOfOccurrences = 4;
    const created = await createRecurring(utc(2030, 1, 31, 9, 0), utc(2030, 1, 31, 9, 30), pattern);

    const master = await Appointment.Bind(service, created.Id, masterProperties);
    assert.ok(master.Recurrence instanceof Recurrence.MonthlyPattern, `got ${master.Recurrence?.constructor?.name}`);
    assert.equal(Number(master.Recurrence.DayOfMonth), 31);
    const starts = await occurrenceStarts(created.Subject, utc(2030, 1, 1), utc(2030, 6, 1));
    assert.deepEqual(starts, [
      '2030-01-31T09:00:00.000Z',
      '2030-02-28T09:00:00.000Z',
      '2030-03-31T09:00:00.000Z',
      '2030-04-30T09:00:00.000Z',
    ]);
  });

  test('RelativeYearly on the first Monday of September, Numbered range', async () => {
    const pattern = new Recurrence.RelativeYearlyPattern(utc(2030, 9, 2), Month.September, DayOfTheWeek.Monday, DayOfTheWeekIndex.First);
    pattern.NumberOfOccurrences = 3;
    const created = await createRecurring(utc(2030, 9, 2, 7, 0), utc(2030, 9, 2, 8, 0), pattern);

    const master = await Appointment.Bind(service, created.Id, masterProperties);
    assert.ok(master.Recurrence instanceof Recurrence.RelativeYearlyPattern, `got ${master.Recurrence?.constructor?.name}`);
    assert.equal(master.Recurrence.Month, Month.September);
    assert.equal(master.Recurrence.DayOfTheWeek, DayOfTheWeek.Monday);
    assert.equal(master.Recurrence.DayOfTheWeekIndex, DayOfTheWeekIndex.First);
    const starts = await occurrenceStarts(created.Subject, utc(2030, 1, 1), utc(2034, 1, 1));
    assert.deepEqual(starts, ['2030-09-02T07:00:00.000Z', '2031-09-01T07:00:00.000Z', '2032-09-06T07:00:00.000Z']);
  });

  test('changing the pattern of a master re-expands the series and changes the ChangeKey', async () => {
    const pattern = new Recurrence.WeeklyPattern(utc(2030, 6, 3), 1, [DayOfTheWeek.Monday]);
    pattern.NumberOfOccurrences = 3;
    const created = await createRecurring(utc(2030, 6, 3, 9, 0), utc(2030, 6, 3, 9, 30), pattern);
    const before = created.Id.ChangeKey;

    const master = await Appointment.Bind(service, created.Id, masterProperties);
    const tuesdays = new Recurrence.WeeklyPattern(utc(2030, 6, 4), 1, [DayOfTheWeek.Tuesday]);
    tuesdays.NumberOfOccurrences = 2;
    master.Recurrence = tuesdays;
    master.Start = utc(2030, 6, 4, 9, 0);
    master.End = utc(2030, 6, 4, 9, 30);
    await master.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
    assert.notEqual(master.Id.ChangeKey, before);

    const starts = await occurrenceStarts(created.Subject, utc(2030, 6, 1), utc(2030, 7, 1));
    assert.deepEqual(starts, ['2030-06-04T09:00:00.000Z', '2030-06-11T09:00:00.000Z']);
  });

  test('deleting the master removes every occurrence', async () => {
    const pattern = new Recurrence.WeeklyPattern(utc(2030, 8, 5), 1, [DayOfTheWeek.Monday]);
    pattern.NumberOfOccurrences = 4;
    const created = await createRecurring(utc(2030, 8, 5, 9, 0), utc(2030, 8, 5, 10, 0), pattern);
    assert.equal((await occurrenceStarts(created.Subject, utc(2030, 8, 1), utc(2030, 9, 1))).length, 4);
    await created.Delete(DeleteMode.HardDelete, SendCancellationsMode.SendToNone);
    assert.deepEqual(await occurrenceStarts(created.Subject, utc(2030, 8, 1), utc(2030, 9, 1)), []);
  });
});
