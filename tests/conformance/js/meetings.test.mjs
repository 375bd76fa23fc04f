// Meetings and the mail Exchange sends for them (R39: the sync must never send mail). With
// SendToNone nothing reaches the outbox; SendToAllAndSaveCopy sends a request, an update and a
// cancellation. exsim's admin outbox shows what Exchange would have sent.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, utc, uniqueSubject, admin } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const {
  Appointment,
  ItemId,
  SendInvitationsMode,
  SendInvitationsOrCancellationsMode,
  SendCancellationsMode,
  ConflictResolutionMode,
  DeleteMode,
} = ews;

const organizer = MAILBOX.meetings;
const attendee = MAILBOX.attendee;
const service = makeService(organizer);

async function outboxFor(subject) {
  const all = await admin('outbox');
  return all.filter((m) => m.subject?.includes(subject));
}

async function createMeeting(mode) {
  const meeting = new Appointment(service);
  meeting.Subject = uniqueSubject('meeting');
  meeting.Start = utc(2031, 6, 2, 13, 0);
  meeting.End = utc(2031, 6, 2, 14, 0);
  meeting.RequiredAttendees.Add(attendee);
  await meeting.Save(calendarOf(organizer), mode);
  return meeting;
}

describe('meetings and the outbox', () => {
  test('SendToNone: the meeting is saved with its attendee and no mail is sent', async () => {
    const meeting = await createMeeting(SendInvitationsMode.SendToNone);
    const read = await Appointment.Bind(service, new ItemId(meeting.Id.UniqueId));
    assert.equal(read.IsMeeting, true);
    const attendees = read.RequiredAttendees.GetEnumerator().map((a) => a.Address.toLowerCase());
    assert.deepEqual(attendees, [attendee]);
    assert.equal(read.Organizer.Address.toLowerCase(), organizer);

    read.Location = 'Changed quietly';
    await read.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
    await read.Delete(DeleteMode.HardDelete, SendCancellationsMode.SendToNone);
    assert.deepEqual(await outboxFor(meeting.Subject), [], 'nothing was sent for create, update or delete');
  });

  test('SendToAllAndSaveCopy: a request, an update and a cancellation go to the attendee', async () => {
    const meeting = await createMeeting(SendInvitationsMode.SendToAllAndSaveCopy);
    let sent = await outboxFor(meeting.Subject);
    assert.equal(sent.length, 1, `one meeting request, got ${JSON.stringify(sent)}`);
    assert.equal(sent[0].from.toLowerCase(), organizer);
    assert.ok(JSON.stringify(sent[0].to).toLowerCase().includes(attendee), 'addressed to the attendee');
    assert.match(sent[0].kind, /request/i);

    const bound = await Appointment.Bind(service, meeting.Id);
    bound.Start = utc(2031, 6, 2, 15, 0);
    bound.End = utc(2031, 6, 2, 16, 0);
    await bound.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToAllAndSaveCopy);
    sent = await outboxFor(meeting.Subject);
    assert.equal(sent.length, 2, 'an update was sent');

    await bound.Delete(DeleteMode.MoveToDeletedItems, SendCancellationsMode.SendToAllAndSaveCopy);
    sent = await outboxFor(meeting.Subject);
    assert.equal(sent.length, 3, 'a cancellation was sent');
    assert.match(sent[2].kind, /cancel/i);
  });
});
