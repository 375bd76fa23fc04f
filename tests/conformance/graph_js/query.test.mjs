// The OData query forms Microsoft documents on events, as @microsoft/microsoft-graph-client
// builds them (issue 15 §2): $orderby (one key, desc, several keys), $top with the nextLink it
// leads to, $select, $filter on an extended property with $expand of the same property (the
// literal `$` and `=` inside the $expand value), on /events and on calendarView.
// https://learn.microsoft.com/graph/query-parameters
// https://learn.microsoft.com/graph/api/user-list-events
// https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get
// This file owns GRAPH_OTHER_MAILBOX (the other files use GRAPH_MAILBOX).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { allPages, event, eventsPath, graphClient } from './lib/harness.mjs';

const client = graphClient();
const MAILBOX = process.env.GRAPH_OTHER_MAILBOX;
const window = 'startDateTime=2032-02-01T00:00:00Z&endDateTime=2032-03-01T00:00:00Z';
const propertyId = 'String {0c6e1f52-7b2d-4f8e-a1d3-5e9b7c2a4f60} Name JsQueryKey';
const ours = (values) => values.filter((v) => v.subject?.startsWith('Q '));
const subjects = (values) => ours(values).map((v) => v.subject);

before(async () => {
  // Three events whose start order, subject order and creation order all differ.
  for (const [subject, day] of [['Q beta', '12'], ['Q Alpha', '14'], ['Q gamma', '10']]) {
    await client.api(eventsPath(MAILBOX)).post({
      ...event(subject, `2032-02-${day}T10:00:00`, `2032-02-${day}T11:00:00`),
      singleValueExtendedProperties: [{ id: propertyId, value: `key ${subject}` }],
    });
  }
});

after(async () => {
  for (const e of ours((await allPages(client, eventsPath(MAILBOX))).values)) {
    await client.api(`${eventsPath(MAILBOX)}/${e.id}`).delete();
  }
});

test('$orderby start/dateTime, desc, and text without case', async () => {
  const ascending = await allPages(client, `${eventsPath(MAILBOX)}?$orderby=start/dateTime`);
  assert.deepEqual(subjects(ascending.values), ['Q gamma', 'Q beta', 'Q Alpha']);
  const descending = await client.api(eventsPath(MAILBOX)).orderby('start/dateTime desc').get();
  assert.deepEqual(subjects(descending.value), ['Q Alpha', 'Q beta', 'Q gamma']);
  const bySubject = await client.api(eventsPath(MAILBOX)).orderby('subject').get();
  assert.deepEqual(subjects(bySubject.value), ['Q Alpha', 'Q beta', 'Q gamma']);
  const twoKeys = await client.api(eventsPath(MAILBOX)).orderby('isAllDay,end/dateTime desc').get();
  assert.deepEqual(subjects(twoKeys.value), ['Q Alpha', 'Q beta', 'Q gamma']);
});

test('$top gives a page of that size and a nextLink that keeps $orderby', async () => {
  const first = await client.api(`/users/${MAILBOX}/calendarView?${window}`)
    .orderby('start/dateTime desc').top(2).select('subject,start').get();
  assert.deepEqual(subjects(first.value), ['Q Alpha', 'Q beta']);
  assert.equal(first.value[0].location, undefined, '$select leaves other properties out');
  assert.ok(first['@odata.nextLink'], 'a nextLink after a full $top page');
  const second = await client.api(first['@odata.nextLink']).get();
  assert.deepEqual(subjects(second.value), ['Q gamma']);
  assert.equal(second['@odata.nextLink'], undefined);
});

test('$filter on an extended property with $expand of it, as the documentation writes them', async () => {
  const found = await client.api(eventsPath(MAILBOX))
    .filter(`singleValueExtendedProperties/Any(ep: ep/id eq '${propertyId}' and ep/value eq 'key Q beta')`)
    .expand(`singleValueExtendedProperties($filter=id eq '${propertyId}')`)
    .get();
  assert.equal(found.value.length, 1, JSON.stringify(found));
  assert.equal(found.value[0].subject, 'Q beta');
  assert.deepEqual(found.value[0].singleValueExtendedProperties.map((p) => p.value), ['key Q beta']);
});

test('an unknown $orderby property is a 400', async () => {
  await assert.rejects(client.api(eventsPath(MAILBOX)).orderby('colour').get(),
    (error) => error.statusCode === 400 && error.code === 'BadRequest');
});
