// SyncFolderItems: a full sync from an empty state, paging with MaxChangesReturned up to 512
// across more than 512 changes, then incremental rounds that report exactly what changed
// (Create / Update / Delete), and ErrorInvalidSyncStateData for a state Exchange never issued.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, utc, uniqueSubject, expectFailure } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const {
  Appointment,
  ChangeType,
  Folder,
  PropertySet,
  SyncFolderItemsScope,
  SendInvitationsMode,
  SendInvitationsOrCancellationsMode,
  ConflictResolutionMode,
  DeleteMode,
  SendCancellationsMode,
} = ews;

const owner = MAILBOX.sync;
const service = makeService(owner);
const SEEDED = 600; // more than one page of the largest MaxChangesReturned (512)
const BATCH = 100; // items per CreateItem call
const MAX_ROUNDS = 20; // bounds every paging loop

let folderId;
let syncState = null;
const known = new Map(); // ItemId -> ChangeKey, as the client has seen them

/// One SyncFolderItems round from the current state.
async function syncRound(max, propertySet = PropertySet.IdOnly) {
  const changes = await service.SyncFolderItems(folderId, propertySet, null, max, SyncFolderItemsScope.NormalItems, syncState);
  syncState = changes.SyncState;
  return changes;
}

/// Pages until MoreChangesAvailable is false; returns every change and each page's size.
async function syncAll(max) {
  const all = [];
  const pages = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const changes = await syncRound(max);
    pages.push(changes.Count);
    all.push(...changes.GetEnumerator());
    if (!changes.MoreChangesAvailable) return { all, pages };
  }
  throw new Error(`SyncFolderItems still reported MoreChangesAvailable after ${MAX_ROUNDS} rounds`);
}

function newItem(i) {
  const a = new Appointment(service);
  a.Subject = uniqueSubject(`sync-${i}`);
  a.Start = utc(2031, 1, 1 + (i % 28), 8 + (i % 8), 0);
  a.End = utc(2031, 1, 1 + (i % 28), 9 + (i % 8), 0);
  return a;
}

describe('SyncFolderItems', () => {
  test(`full sync pages through ${SEEDED} items in pages of at most 512`, async () => {
    folderId = (await Folder.Bind(service, calendarOf(owner))).Id;
    for (let first = 0; first < SEEDED; first += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, k) => newItem(first + k));
      const result = await service.CreateItems(batch, folderId, null, SendInvitationsMode.SendToNone);
      assert.equal(result.OverallResult, ews.ServiceResult.Success, `batch at ${first} failed`);
    }

    const { all, pages } = await syncAll(512);
    assert.ok(pages.length >= 2, `more than one page expected, got pages ${pages}`);
    assert.equal(pages[0], 512, 'a full first page has MaxChangesReturned changes');
    assert.ok(pages.every((n) => n <= 512));
    assert.equal(all.length, SEEDED);
    for (const change of all) {
      assert.equal(change.ChangeType, ChangeType.Create);
      known.set(change.ItemId.UniqueId, change.ItemId.ChangeKey);
    }
    assert.equal(known.size, SEEDED, 'every item reported exactly once');
  });

  test('an incremental sync with nothing changed reports nothing', async () => {
    const changes = await syncRound(512);
    assert.equal(changes.Count, 0);
    assert.equal(changes.MoreChangesAvailable, false);
  });

  test('incremental sync reports a create, an update and a delete', async () => {
    const [updatedId, deletedId] = [...known.keys()].slice(0, 2);

    const created = newItem(9999);
    await created.Save(folderId, SendInvitationsMode.SendToNone);
    const toUpdate = await Appointment.Bind(service, new ews.ItemId(updatedId));
    toUpdate.Subject = 'updated ' + toUpdate.Subject;
    await toUpdate.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
    const toDelete = await Appointment.Bind(service, new ews.ItemId(deletedId));
    await toDelete.Delete(DeleteMode.HardDelete, SendCancellationsMode.SendToNone);

    const { all } = await syncAll(512);
    const byId = new Map(all.map((c) => [c.ItemId.UniqueId, c]));
    assert.equal(all.length, 3, `exactly three changes, got ${all.map((c) => ChangeType[c.ChangeType])}`);
    assert.equal(byId.get(created.Id.UniqueId)?.ChangeType, ChangeType.Create);
    const update = byId.get(updatedId);
    assert.equal(update?.ChangeType, ChangeType.Update);
    assert.notEqual(update.ItemId.ChangeKey, known.get(updatedId), 'the update carries the new ChangeKey');
    assert.equal(update.ItemId.ChangeKey, toUpdate.Id.ChangeKey);
    assert.equal(byId.get(deletedId)?.ChangeType, ChangeType.Delete);
  });

  test('incremental paging with a small MaxChangesReturned loses nothing', async () => {
    const batch = Array.from({ length: 25 }, (_, k) => newItem(20000 + k));
    await service.CreateItems(batch, folderId, null, SendInvitationsMode.SendToNone);
    const { all, pages } = await syncAll(10);
    assert.deepEqual(pages, [10, 10, 5]);
    assert.deepEqual(
      new Set(all.map((c) => c.ItemId.UniqueId)),
      new Set(batch.map((a) => a.Id.UniqueId)),
    );
  });

  test('an old sync state replays the changes made since it was issued', async () => {
    const saved = syncState;
    const later = newItem(30000);
    await later.Save(folderId, SendInvitationsMode.SendToNone);
    const first = await syncRound(512);
    assert.equal(first.Count, 1);
    syncState = saved;
    const replay = await syncRound(512);
    assert.equal(replay.Count, 1, 'the same change is reported again from the older state');
    assert.equal(replay._getItem(0).ItemId.UniqueId, later.Id.UniqueId);
  });

  test('with FirstClassProperties a change carries the item itself', async () => {
    const item = newItem(40000);
    await item.Save(folderId, SendInvitationsMode.SendToNone);
    const changes = await syncRound(512, PropertySet.FirstClassProperties);
    assert.equal(changes.Count, 1);
    const change = changes._getItem(0);
    assert.equal(change.ChangeType, ChangeType.Create);
    assert.equal(change.Item.Subject, item.Subject);
    assert.equal(change.Item.Start.TotalMilliSeconds, item.Start.TotalMilliSeconds);
    assert.equal(change.Item.Id.ChangeKey, item.Id.ChangeKey);
  });

  test('a recurring series syncs as its master; editing one occurrence reports the master updated', async () => {
    const series = newItem(50000);
    const pattern = new ews.Recurrence.DailyPattern(series.Start, 1);
    pattern.NumberOfOccurrences = 5;
    series.Recurrence = pattern;
    await series.Save(folderId, SendInvitationsMode.SendToNone);
    let { all } = await syncAll(512);
    assert.deepEqual(all.map((c) => [ChangeType[c.ChangeType], c.ItemId.UniqueId]), [['Create', series.Id.UniqueId]],
      'one change for the whole series, none per occurrence');

    const occurrence = await Appointment.BindToOccurrence(service, series.Id, 3);
    occurrence.Subject = 'moved ' + series.Subject;
    await occurrence.Update(ConflictResolutionMode.AlwaysOverwrite, SendInvitationsOrCancellationsMode.SendToNone);
    ({ all } = await syncAll(512));
    assert.deepEqual(all.map((c) => [ChangeType[c.ChangeType], c.ItemId.UniqueId]), [['Update', series.Id.UniqueId]]);
    assert.notEqual(all[0].ItemId.ChangeKey, series.Id.ChangeKey, 'the master has a new ChangeKey');
  });

  test('a sync state Exchange never issued answers ErrorInvalidSyncStateData', async () => {
    const failure = await expectFailure(
      service.SyncFolderItems(folderId, PropertySet.IdOnly, null, 100, SyncFolderItemsScope.NormalItems, 'H4sIAAAAAAAEAO29B2AcSZYlJi9tynt/SvVK1+B0gQBIgGATJNiQQBAk2JBAEGjvbm'),
    );
    assert.equal(failure.code, 'ErrorInvalidSyncStateData', JSON.stringify(failure));
  });
});
