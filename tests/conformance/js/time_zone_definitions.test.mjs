// Time zone definitions as Exchange gives them:
// - GetItem answers StartTimeZone/EndTimeZone with the full TimeZoneDefinition (Periods,
//   TransitionsGroups, Transitions); ews-javascript-api (like the EWS Managed API) rejects a
//   definition without them, so the zone would read back as null.
// - A CreateItem without StartTimeZone takes its zone from the TimeZoneContext header
//   ("used as the default when assigning the time zone for the DateTime properties of objects
//   that are created"), so a series follows DST.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews } from './lib/ews.mjs';
import { serviceIn, expectedMondayStarts, createMondaySeries, createPacificItem, starts } from './lib/time_zones.mjs';

const {
  Appointment,
  AppointmentSchema,
  BasePropertySet,
  ItemId,
  PropertySet,
} = ews;

describe('time zone definitions', () => {
  test('StartTimeZone/EndTimeZone read back as the zones written', async () => {
    const service = serviceIn('UTC');
    const series = await createMondaySeries(service, true);
    const master = await Appointment.Bind(
      service,
      new ItemId(series.Id.UniqueId),
      new PropertySet(BasePropertySet.FirstClassProperties, [AppointmentSchema.StartTimeZone, AppointmentSchema.EndTimeZone]),
    );
    assert.equal(master.StartTimeZone?.Id, 'W. Europe Standard Time');
    assert.equal(master.EndTimeZone?.Id, 'W. Europe Standard Time');
  });

  test('a single item in Pacific time keeps its zone', async () => {
    const service = serviceIn('UTC');
    const appointment = await createPacificItem(service);
    const read = await Appointment.Bind(
      service,
      new ItemId(appointment.Id.UniqueId),
      new PropertySet(BasePropertySet.FirstClassProperties, [AppointmentSchema.StartTimeZone]),
    );
    assert.equal(read.StartTimeZone?.Id, 'Pacific Standard Time');
  });

  test('TimeZoneContext W. Europe alone decides the zone of a new series', async () => {
    const service = serviceIn('W. Europe Standard Time');
    const series = await createMondaySeries(service, false);
    assert.deepEqual(await starts(service, series.Subject), expectedMondayStarts);
  });

});
