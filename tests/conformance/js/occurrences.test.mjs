// Occurrences of a recurring series, addressed the way the EWS Managed API does it:
// Appointment.BindToOccurrence (OccurrenceItemId: RecurringMasterId + InstanceIndex) and
// BindToRecurringMaster (RecurringMasterItemId). A modified occurrence becomes an exception
// listed in the master's ModifiedOccurrences; a deleted one is listed in DeletedOccurrences.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, utc, isoUtc, uniqueSubject, expectFailure } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const {
  Appointment,
  AppointmentType,
  Recurrence,
  DayOfTheWeek,
  CalendarView,
  SendInvitationsMode,
  SendInvitationsOrCancellationsMode,
  ConflictResolutionMode,
  DeleteMode,
  SendCancellationsMode,
  PropertySet,
  BasePropertySet,
  AppointmentSchema,
} = ews;

const owner = MAILBOX.occurrences;
const service = makeService(owner);
const masterProperties = new PropertySet(BasePropertySet.FirstClassProperties, [
  AppointmentSchema.ModifiedOccurrences,
  AppointmentSchema.DeletedOccurrences,
]);

/// A daily-on-weekdays series of five occurrences, Monday 2030-09-02 .. Friday 2030-09-06, 09:00-10:00 UTC.
async function createWeekSeries() {
  const appointment = new Appointment(service);
  appointment.Subject = uniqueSubject('series');
  appointment.Start = utc(2030, 9, 2, 9, 0);
  appointment.End = utc(2030, 9, 2, 10, 0);
  const pattern = new Recurrence.WeeklyPattern(utc(2030, 9, 2), 1, [
    DayOfTheWeek.Monday,
    DayOfTheWeek.Tuesday,
    DayOfTheWeek.Wednesday,
    DayOfTheWeek.Thursday,
    DayOfTheWeek.Friday,
  ]);
  pattern.NumberOfOccurrences = 5;
  appointment.Recurrence = pattern;
  await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);
  return appointment;
}

async function viewOf(subject) {
  const view = new CalendarView(utc(2030, 9, 1), utc(2030, 9, 9));
  const found = await service.FindAppointments(calendarOf(owner), view);
  return found.Items.filter((a) => a.Subject.startsWith(subject) || a.Subject.endsWith(subject));
}

describe('occurrences of a recurring series', () => {
  test('BindToOccurrence reads the n-th occurrence; BindToRecurringMaster finds the master again', async () => {
    const master = await createWeekSeries();
    const third = await Appointment.BindToOccurrence(service, master.Id, 3);
    assert.equal(third.AppointmentType, AppointmentType.Occurrence);
    assert.equal(third.Subject, master.Subject);
    assert.equal(isoUtc(third.Start), '2030-09-04T09:00:00.000Z');
    assert.equal(isoUtc(third.End), '2030-09-04T10:00:00.000Z');
    assert.notEqual(third.Id.UniqueId, master.Id.UniqueId, 'an occurrence has its own ItemId');

    const again = await Appointment.BindToRecurringMaster(service, third.Id);
    assert.equal(again.Id.UniqueId, master.Id.UniqueId);
    assert.equal(again.AppointmentType, AppointmentType.RecurringMaster);
  });

  test('an occurrence index past the end answers ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange', async () => {
    const master = await createWeekSeries();
    const failure = await expectFailure(Appointment.BindToOccurrence(service, master.Id, 6));
    assert.equal(failure.code, 'ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange');
  });

  test('modifying one occurrence makes an exception listed in ModifiedOccurrences', async () => {
    const master = await createWeekSeries();
    const second = await Appointment.BindToOccurrence(service, master.Id, 2);
    second.Subject = 'Moved ' + master.Subject;
    second.Location = 'Elsewhere';
    second.Start = utc(2030, 9, 3, 14, 0);
    second.End = utc(2030, 9, 3, 15, 30);
    await second.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);

    const exception = await Appointment.BindToOccurrence(service, master.Id, 2);
    assert.equal(exception.AppointmentType, AppointmentType.Exception);
    assert.equal(exception.Subject, 'Moved ' + master.Subject);
    assert.equal(exception.Location, 'Elsewhere');
    assert.equal(isoUtc(exception.Start), '2030-09-03T14:00:00.000Z');

    const reread = await Appointment.Bind(service, master.Id, masterProperties);
    assert.equal(reread.AppointmentType, AppointmentType.RecurringMaster);
    const modified = reread.ModifiedOccurrences?.GetEnumerator() ?? [];
    assert.equal(modified.length, 1, 'one modified occurrence');
    assert.equal(isoUtc(modified[0].OriginalStart), '2030-09-03T09:00:00.000Z');
    assert.equal(isoUtc(modified[0].Start), '2030-09-03T14:00:00.000Z');
    assert.equal(isoUtc(modified[0].End), '2030-09-03T15:30:00.000Z');
    assert.ok(!reread.DeletedOccurrences || reread.DeletedOccurrences.Count === 0);

    // The calendar view shows the moved instance at its new time and the rest untouched.
    const items = await viewOf(master.Subject);
    const byStart = Object.fromEntries(items.map((a) => [isoUtc(a.Start), a]));
    assert.deepEqual(Object.keys(byStart).sort(), [
      '2030-09-02T09:00:00.000Z',
      '2030-09-03T14:00:00.000Z',
      '2030-09-04T09:00:00.000Z',
      '2030-09-05T09:00:00.000Z',
      '2030-09-06T09:00:00.000Z',
    ]);
    assert.equal(byStart['2030-09-03T14:00:00.000Z'].AppointmentType, AppointmentType.Exception);
    assert.equal(byStart['2030-09-02T09:00:00.000Z'].AppointmentType, AppointmentType.Occurrence);
  });

  test('deleting one occurrence lists it in DeletedOccurrences and drops it from the view', async () => {
    const master = await createWeekSeries();
    const fourth = await Appointment.BindToOccurrence(service, master.Id, 4);
    await fourth.Delete(DeleteMode.HardDelete, SendCancellationsMode.SendToNone);

    const reread = await Appointment.Bind(service, master.Id, masterProperties);
    const deleted = reread.DeletedOccurrences?.GetEnumerator() ?? [];
    assert.equal(deleted.length, 1, 'one deleted occurrence');
    assert.equal(isoUtc(deleted[0].OriginalStart), '2030-09-05T09:00:00.000Z');
    assert.notEqual(reread.Id.ChangeKey, master.Id.ChangeKey, 'deleting an occurrence changes the master');

    const starts = (await viewOf(master.Subject)).map((a) => isoUtc(a.Start)).sort();
    assert.deepEqual(starts, [
      '2030-09-02T09:00:00.000Z',
      '2030-09-03T09:00:00.000Z',
      '2030-09-04T09:00:00.000Z',
      '2030-09-06T09:00:00.000Z',
    ]);

    const gone = await expectFailure(Appointment.BindToOccurrence(service, master.Id, 4));
    assert.equal(gone.code, 'ErrorCalendarOccurrenceIsDeletedFromRecurrence');
  });

  test('deleting a modified occurrence moves it from ModifiedOccurrences to DeletedOccurrences', async () => {
    const master = await createWeekSeries();
    const first = await Appointment.BindToOccurrence(service, master.Id, 1);
    first.Subject = 'Changed then deleted ' + master.Subject;
    await first.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
    let reread = await Appointment.Bind(service, master.Id, masterProperties);
    assert.equal(reread.ModifiedOccurrences?.Count ?? 0, 1);

    const exception = await Appointment.BindToOccurrence(service, master.Id, 1);
    await exception.Delete(DeleteMode.HardDelete, SendCancellationsMode.SendToNone);
    reread = await Appointment.Bind(service, master.Id, masterProperties);
    assert.equal(reread.ModifiedOccurrences?.Count ?? 0, 0, 'no longer a modified occurrence');
    const deleted = reread.DeletedOccurrences?.GetEnumerator() ?? [];
    assert.deepEqual(deleted.map((d) => isoUtc(d.OriginalStart)), ['2030-09-02T09:00:00.000Z']);
    const starts = (await viewOf(master.Subject)).map((a) => isoUtc(a.Start)).sort();
    assert.equal(starts.length, 4);
    assert.ok(!starts.includes('2030-09-02T09:00:00.000Z'));
  });

  test('an occurrence found through the calendar view can be updated by its own ItemId', async () => {
    const master = await createWeekSeries();
    const items = await viewOf(master.Subject);
    const friday = items.find((a) => isoUtc(a.Start) === '2030-09-06T09:00:00.000Z');
    assert.ok(friday, 'the Friday occurrence is in the view');
    const bound = await Appointment.Bind(service, friday.Id);
    bound.Subject = 'Friday ' + master.Subject;
    await bound.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);

    const exception = await Appointment.BindToOccurrence(service, master.Id, 5);
    assert.equal(exception.Subject, 'Friday ' + master.Subject);
    assert.equal(exception.AppointmentType, AppointmentType.Exception);
  });
});
