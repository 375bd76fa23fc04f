// PENDING (exsim deviation, see README.md): Exchange validates every request against its schema
// and answers ErrorSchemaValidation for one that breaks it. ews-javascript-api 0.15.3 does not
// escape string values, so an unescaped HTML body arrives as child elements inside t:Body, whose
// type (BodyType) only allows text; exsim accepts it and even stores the markup as elements.
// Move into items.test.mjs once `run_conformance.mjs ... -- pending_schema` passes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, utc, uniqueSubject, expectFailure } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { Appointment, BodyType, MessageBody, SendInvitationsMode } = ews;

describe('schema validation (pending)', () => {
  test('markup inside t:Body is refused with ErrorSchemaValidation and nothing is created', async () => {
    const service = makeService(MAILBOX.items);
    const appointment = new Appointment(service);
    appointment.Subject = uniqueSubject('schema');
    appointment.Start = utc(2030, 3, 6, 9, 0);
    appointment.End = utc(2030, 3, 6, 10, 0);
    appointment.Body = new MessageBody(BodyType.HTML, '<html><body><p>unescaped</p></body></html>');
    const failure = await expectFailure(appointment.Save(calendarOf(MAILBOX.items), SendInvitationsMode.SendToNone));
    assert.equal(failure.code, 'ErrorSchemaValidation', JSON.stringify(failure));
  });
});
