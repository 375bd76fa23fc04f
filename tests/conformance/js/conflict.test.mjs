// ChangeKey concurrency: an UpdateItem carrying a stale ChangeKey with
// ConflictResolution="NeverOverwrite" must fail with ErrorIrresolvableConflict and leave the item
// as the other writer left it; AlwaysOverwrite ignores the stale key.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, utc, uniqueSubject, expectFailure } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const {
  Appointment,
  SendInvitationsMode,
  SendInvitationsOrCancellationsMode,
  ConflictResolutionMode,
  ItemId,
} = ews;

const owner = MAILBOX.conflict;
const service = makeService(owner);

async function createItem() {
  const appointment = new Appointment(service);
  appointment.Subject = uniqueSubject('conflict');
  appointment.Location = 'Original';
  appointment.Start = utc(2030, 10, 1, 9, 0);
  appointment.End = utc(2030, 10, 1, 10, 0);
  await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);
  return appointment;
}

describe('stale ChangeKey', () => {
  test('NeverOverwrite with a stale ChangeKey fails with ErrorIrresolvableConflict', async () => {
    const created = await createItem();
    const first = await Appointment.Bind(service, new ItemId(created.Id.UniqueId));
    const second = await Appointment.Bind(service, new ItemId(created.Id.UniqueId));
    assert.equal(first.Id.ChangeKey, second.Id.ChangeKey);

    second.Location = 'Written by the second client';
    await second.Update(ConflictResolutionMode.NeverOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
    assert.notEqual(second.Id.ChangeKey, first.Id.ChangeKey, 'the winning update got a new ChangeKey');

    first.Location = 'Written by the first client';
    const failure = await expectFailure(
      first.Update(ConflictResolutionMode.NeverOverwrite, SendInvitationsOrCancellationsMode.SendToNone),
    );
    assert.equal(failure.code, 'ErrorIrresolvableConflict', JSON.stringify(failure));

    const read = await Appointment.Bind(service, new ItemId(created.Id.UniqueId));
    assert.equal(read.Location, 'Written by the second client', 'the refused update changed nothing');
    assert.equal(read.Id.ChangeKey, second.Id.ChangeKey);
  });

  test('NeverOverwrite with the current ChangeKey succeeds', async () => {
    const created = await createItem();
    const bound = await Appointment.Bind(service, created.Id);
    bound.Location = 'Fresh key';
    await bound.Update(ConflictResolutionMode.NeverOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
    const read = await Appointment.Bind(service, created.Id);
    assert.equal(read.Location, 'Fresh key');
  });

  test('AlwaysOverwrite with a stale ChangeKey overwrites', async () => {
    const created = await createItem();
    const stale = await Appointment.Bind(service, created.Id);
    const fresh = await Appointment.Bind(service, created.Id);
    fresh.Location = 'Intermediate';
    await fresh.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);

    stale.Location = 'Overwritten anyway';
    await stale.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
    const read = await Appointment.Bind(service, new ItemId(created.Id.UniqueId));
    assert.equal(read.Location, 'Overwritten anyway');
    assert.notEqual(read.Id.ChangeKey, fresh.Id.ChangeKey);
  });
});
