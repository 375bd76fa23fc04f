// FindItem with a CalendarView (ExchangeService.FindAppointments): items overlapping the window,
// recurring series expanded into occurrences, MaxEntriesReturned honoured; and FindItem with an
// indexed ItemView paging through the folder.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, utc, isoUtc, uniqueSubject } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { Appointment, AppointmentType, Recurrence, DayOfTheWeek, CalendarView, ItemView, SendInvitationsMode } = ews;

const owner = MAILBOX.view;
const service = makeService(owner);
const tag = uniqueSubject('view');

async function create(name, start, end, recurrence) {
  const appointment = new Appointment(service);
  appointment.Subject = `${tag} ${name}`;
  appointment.Start = start;
  appointment.End = end;
  if (recurrence) appointment.Recurrence = recurrence;
  await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);
  return appointment;
}

async function find(from, to, max) {
  const view = new CalendarView(from, to);
  if (max) view.MaxItemsReturned = max;
  const found = await service.FindAppointments(calendarOf(owner), view);
  return found;
}

function ours(found) {
  return found.Items.filter((a) => a.Subject.startsWith(tag));
}

describe('CalendarView', () => {
  before(async () => {
    await create('inside', utc(2031, 2, 10, 9, 0), utc(2031, 2, 10, 10, 0));
    await create('overlapping start', utc(2031, 2, 9, 23, 0), utc(2031, 2, 10, 1, 0));
    await create('before', utc(2031, 2, 9, 8, 0), utc(2031, 2, 9, 9, 0));
    await create('after', utc(2031, 2, 15, 8, 0), utc(2031, 2, 15, 9, 0));
    const daily = new Recurrence.DailyPattern(utc(2031, 2, 8), 1);
    daily.NumberOfOccurrences = 10;
    await create('daily', utc(2031, 2, 8, 12, 0), utc(2031, 2, 8, 12, 30), daily);
  });

  test('returns single items that overlap the window and expands the series inside it', async () => {
    const found = ours(await find(utc(2031, 2, 10), utc(2031, 2, 13)));
    const seen = found.map((a) => `${a.Subject.slice(tag.length + 1)} ${isoUtc(a.Start)}`).sort();
    assert.deepEqual(seen, [
      'daily 2031-02-10T12:00:00.000Z',
      'daily 2031-02-11T12:00:00.000Z',
      'daily 2031-02-12T12:00:00.000Z',
      'inside 2031-02-10T09:00:00.000Z',
      'overlapping start 2031-02-09T23:00:00.000Z',
    ]);
    for (const a of found.filter((x) => x.Subject.endsWith('daily'))) {
      assert.equal(a.AppointmentType, AppointmentType.Occurrence);
      assert.equal(a.IsRecurring, true);
    }
    const single = found.find((x) => x.Subject.endsWith('inside'));
    assert.equal(single.AppointmentType, AppointmentType.Single);
    assert.equal(isoUtc(single.End), '2031-02-10T10:00:00.000Z');
  });

  test('items come back sorted by start', async () => {
    const found = ours(await find(utc(2031, 2, 1), utc(2031, 3, 1)));
    const starts = found.map((a) => a.Start.TotalMilliSeconds);
    assert.deepEqual(starts, [...starts].sort((x, y) => x - y));
    assert.equal(found.length, 14, '4 single items + 10 occurrences');
  });

  test('MaxItemsReturned limits the answer and reports that more items exist', async () => {
    const found = await find(utc(2031, 2, 8), utc(2031, 2, 18), 3);
    assert.equal(found.Items.length, 3);
    assert.equal(found.MoreAvailable, true);
  });

  test('FindItem with an ItemView pages through the folder with offsets', async () => {
    // Without a CalendarView a recurring series is one item (its master): 4 singles + 1 master.
    const seen = [];
    let offset = 0;
    for (let page = 0; page < 10; page++) {
      const found = await service.FindItems(calendarOf(owner), new ItemView(2, offset));
      assert.equal(found.TotalCount, 5);
      seen.push(...found.Items.map((item) => item.Subject));
      if (!found.MoreAvailable) break;
      assert.equal(found.NextPageOffset, offset + found.Items.length);
      offset = found.NextPageOffset;
    }
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5, 'no item twice');
    assert.ok(seen.includes(`${tag} daily`), 'the series appears once, as its master');
  });

  test('an empty window returns nothing', async () => {
    const found = ours(await find(utc(2031, 2, 20), utc(2031, 2, 21)));
    assert.deepEqual(found, []);
  });
});
