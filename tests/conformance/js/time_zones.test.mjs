// Time zones as the EWS Managed API port sends them: a series created in a zone with daylight
// saving time (StartTimeZone/EndTimeZone) keeps its local wall-clock time across the DST change,
// so its UTC times shift by an hour. Reading the zones back and the TimeZoneContext default are
// in time_zone_definitions.test.mjs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, isoUtc } from './lib/ews.mjs';
import { serviceIn, expectedMondayStarts, createMondaySeries, createPacificItem, starts } from './lib/time_zones.mjs';

const {
  Appointment,
  ItemId,
} = ews;

describe('time zones', () => {
  test('StartTimeZone/EndTimeZone W. Europe: a weekly series keeps 10:00 local across DST', async () => {
    const service = serviceIn('UTC');
    const series = await createMondaySeries(service, true);
    assert.deepEqual(await starts(service, series.Subject), expectedMondayStarts);
  });

  test('a single item in Pacific time keeps its instant', async () => {
    const service = serviceIn('UTC');
    const appointment = await createPacificItem(service);

    const read = await Appointment.Bind(service, new ItemId(appointment.Id.UniqueId));
    assert.equal(isoUtc(read.Start), '2030-07-01T16:00:00.000Z');
    assert.equal(isoUtc(read.End), '2030-07-01T17:00:00.000Z');
  });
});
