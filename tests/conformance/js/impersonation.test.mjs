// ExchangeImpersonation (ImpersonatedUserId): honoured for an account holding the
// ApplicationImpersonation role, refused with ErrorImpersonateUserDenied for one that does not,
// and ErrorNonExistentMailbox for an address no mailbox has. Delegate access (full access,
// mailbox named in the folder id) works without the impersonation right.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, utc, isoUtc, uniqueSubject, expectFailure } from './lib/ews.mjs';
import {
  MAILBOX,
  SERVICE_WITH_IMPERSONATION,
  SERVICE_WITHOUT_IMPERSONATION,
  SERVICE_DELEGATE,
  UNKNOWN_MAILBOX,
} from './lib/accounts.mjs';

const { Appointment, CalendarView, Folder, SendInvitationsMode, WellKnownFolderName, ItemId } = ews;

const target = MAILBOX.impersonated;

function newAppointment(service, subject) {
  const appointment = new Appointment(service);
  appointment.Subject = subject;
  appointment.Start = utc(2030, 12, 2, 9, 0);
  appointment.End = utc(2030, 12, 2, 9, 45);
  return appointment;
}

describe('impersonation', () => {
  test('a service account with the impersonation right writes into the user\'s calendar', async () => {
    const impersonating = makeService(SERVICE_WITH_IMPERSONATION, { impersonate: target });
    const subject = uniqueSubject('impersonated');
    const appointment = newAppointment(impersonating, subject);
    // Saved to the well-known calendar with no mailbox: impersonation decides whose it is.
    await appointment.Save(WellKnownFolderName.Calendar, SendInvitationsMode.SendToNone);

    // The owner, logging on directly, sees it in their own calendar.
    const ownerService = makeService(target);
    const read = await Appointment.Bind(ownerService, new ItemId(appointment.Id.UniqueId));
    assert.equal(read.Subject, subject);
    assert.equal(isoUtc(read.Start), '2030-12-02T09:00:00.000Z');
    const view = await ownerService.FindAppointments(calendarOf(target), new CalendarView(utc(2030, 12, 1), utc(2030, 12, 3)));
    assert.ok(view.Items.some((a) => a.Subject === subject), 'the owner\'s calendar view shows it');

    // And the impersonating account reads it back through the same identity.
    const folder = await Folder.Bind(impersonating, WellKnownFolderName.Calendar);
    const ownerFolder = await Folder.Bind(ownerService, WellKnownFolderName.Calendar);
    assert.equal(folder.Id.UniqueId, ownerFolder.Id.UniqueId, 'the impersonated calendar is the user\'s calendar');
  });

  test('a service account without the right gets ErrorImpersonateUserDenied', async () => {
    const denied = makeService(SERVICE_WITHOUT_IMPERSONATION, { impersonate: target });
    const failure = await expectFailure(Folder.Bind(denied, WellKnownFolderName.Calendar));
    assert.equal(failure.code, 'ErrorImpersonateUserDenied', JSON.stringify(failure));

    const write = await expectFailure(
      newAppointment(denied, uniqueSubject('denied')).Save(WellKnownFolderName.Calendar, SendInvitationsMode.SendToNone),
    );
    assert.equal(write.code, 'ErrorImpersonateUserDenied', JSON.stringify(write));

    // Nothing was written behind the refusal.
    const ownerService = makeService(target);
    const view = await ownerService.FindAppointments(calendarOf(target), new CalendarView(utc(2030, 12, 1), utc(2030, 12, 3)));
    assert.ok(!view.Items.some((a) => a.Subject.startsWith('denied')), 'no item was created');
  });

  test('the same account without the impersonation header cannot open the user\'s calendar either', async () => {
    const plain = makeService(SERVICE_WITHOUT_IMPERSONATION);
    const failure = await expectFailure(Folder.Bind(plain, calendarOf(target)));
    assert.ok(
      ['ErrorAccessDenied', 'ErrorItemNotFound', 'ErrorFolderNotFound'].includes(failure.code),
      `expected an access refusal, got ${JSON.stringify(failure)}`,
    );
  });

  test('a delegate with full access writes into the calendar it names, without impersonation', async () => {
    const delegate = makeService(SERVICE_DELEGATE);
    const subject = uniqueSubject('delegated');
    const appointment = newAppointment(delegate, subject);
    await appointment.Save(calendarOf(target), SendInvitationsMode.SendToNone);
    const read = await Appointment.Bind(makeService(target), new ItemId(appointment.Id.UniqueId));
    assert.equal(read.Subject, subject);

    // Full access is not impersonation: the impersonation header is still refused.
    const impersonating = makeService(SERVICE_DELEGATE, { impersonate: target });
    const failure = await expectFailure(Folder.Bind(impersonating, WellKnownFolderName.Calendar));
    assert.equal(failure.code, 'ErrorImpersonateUserDenied', JSON.stringify(failure));
  });

  test('impersonating an address without a mailbox gets ErrorNonExistentMailbox', async () => {
    const service = makeService(SERVICE_WITH_IMPERSONATION, { impersonate: UNKNOWN_MAILBOX });
    const failure = await expectFailure(Folder.Bind(service, WellKnownFolderName.Calendar));
    assert.equal(failure.code, 'ErrorNonExistentMailbox', JSON.stringify(failure));
  });
});
