// Streaming notifications: Subscribe (StreamingSubscriptionRequest) on the calendar, then
// GetStreamingEvents held open by StreamingSubscriptionConnection; creating and changing an
// item must arrive as Created / Modified events naming that item, then Unsubscribe.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, utc, uniqueSubject } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';
import { EventLog } from './lib/event_log.mjs';

const {
  Appointment,
  EventType,
  Folder,
  StreamingSubscriptionConnection,
  SendInvitationsMode,
  SendInvitationsOrCancellationsMode,
  ConflictResolutionMode,
} = ews;

const owner = MAILBOX.streaming;
describe('streaming subscription', () => {
  test('a created and then modified item arrive as Created and Modified events', async () => {
    const service = makeService(owner);
    const calendar = await Folder.Bind(service, calendarOf(owner));
    const subscription = await service.SubscribeToStreamingNotifications(
      [calendar.Id],
      EventType.Created,
      EventType.Modified,
      EventType.Deleted,
    );
    assert.ok(subscription.Id, 'Subscribe answered a SubscriptionId');

    const connection = new StreamingSubscriptionConnection(service, 1);
    connection.AddSubscription(subscription);
    const log = new EventLog(connection);
    // Open() hands back the hanging request itself, which settles only when the connection ends
    // or fails, so it is watched rather than awaited (as the library's own examples do).
    connection.Open().catch((error) => log.fail(error));
    try {
      // A second service instance writes, as another client would.
      const writer = makeService(owner);
      const appointment = new Appointment(writer);
      appointment.Subject = uniqueSubject('streamed');
      appointment.Start = utc(2031, 4, 1, 9, 0);
      appointment.End = utc(2031, 4, 1, 10, 0);
      await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);

      const created = await log.waitFor(
        (e) => e.EventType === EventType.Created && e.ItemId?.UniqueId === appointment.Id.UniqueId,
        'Created event for the new item',
      );
      assert.equal(created.ParentFolderId.UniqueId, calendar.Id.UniqueId);

      appointment.Location = 'Changed while streaming';
      await appointment.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
      await log.waitFor(
        (e) => e.EventType === EventType.Modified && e.ItemId?.UniqueId === appointment.Id.UniqueId,
        'Modified event for the changed item',
      );
    } finally {
      try {
        connection.Close();
      } catch {
        // Already closed by the server or by an error: nothing left to close.
      }
      await subscription.Unsubscribe();
    }
  });
});
