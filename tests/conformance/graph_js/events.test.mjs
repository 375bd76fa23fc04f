// @microsoft/microsoft-graph-client against exsim's Graph v1.0 calendar endpoints.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';

import { allPages, event, eventsPath, graphClient, MAILBOX, outbox, setFaults } from './lib/harness.mjs';

const client = graphClient();

test('create, read, update and delete an event; a stale etag is 412', async () => {
  const created = await client.api(eventsPath()).post({
    ...event('JS planning', '2031-03-04T10:00:00', '2031-03-04T11:00:00'),
    categories: ['Blue'], showAs: 'oof', sensitivity: 'confidential',
  });
  assert.equal(created.type, 'singleInstance');
  assert.equal(created.start.dateTime, '2031-03-04T09:00:00.0000000');
  const read = await client.api(`${eventsPath()}/${created.id}`)
    .header('Prefer', 'outlook.timezone="Pacific Standard Time"').select('subject,start,showAs').get();
  assert.equal(read.subject, 'JS planning');
  assert.equal(read.start.dateTime, '2031-03-04T01:00:00.0000000');
  assert.equal(read.showAs, 'oof');
  const updated = await client.api(`${eventsPath()}/${created.id}`)
    .header('If-Match', created['@odata.etag']).patch({ subject: 'JS planning 2' });
  assert.equal(updated.subject, 'JS planning 2');
  await assert.rejects(client.api(`${eventsPath()}/${created.id}`).header('If-Match', created['@odata.etag'])
    .patch({ subject: 'lost' }), (error) => error.statusCode === 412);
  await client.api(`${eventsPath()}/${created.id}`).delete();
  await assert.rejects(client.api(`${eventsPath()}/${created.id}`).get(),
    (error) => error.statusCode === 404 && error.code === 'ErrorItemNotFound');
});

test('a recurring series, its instances and an exception', async () => {
  const master = await client.api(eventsPath()).post({
    ...event('JS weekly', '2031-01-06T09:00:00', '2031-01-06T09:30:00'),
    recurrence: {
      pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] },
      range: { type: 'endDate', startDate: '2031-01-06', endDate: '2031-02-03' },
    },
  });
  assert.equal(master.type, 'seriesMaster');
  const instances = await allPages(client,
    `${eventsPath()}/${master.id}/instances?startDateTime=2031-01-01T00:00:00Z&endDateTime=2031-03-01T00:00:00Z`);
  assert.equal(instances.values.length, 5);
  const third = instances.values[2];
  assert.equal(third.type, 'occurrence');
  assert.equal(third.seriesMasterId, master.id);
  const exception = await client.api(`${eventsPath()}/${third.id}`).patch({ subject: 'JS weekly (moved)',
    start: { dateTime: '2031-01-20T14:00:00', timeZone: 'UTC' }, end: { dateTime: '2031-01-20T14:30:00', timeZone: 'UTC' } });
  assert.equal(exception.type, 'exception');
  const view = await allPages(client,
    `/users/${MAILBOX}/calendarView?startDateTime=2031-01-20T00:00:00Z&endDateTime=2031-01-21T00:00:00Z`);
  assert.equal(view.values.length, 1);
  assert.equal(view.values[0].subject, 'JS weekly (moved)');
  assert.equal(view.values[0].start.dateTime, '2031-01-20T14:00:00.0000000');
});

test('calendarView/delta from scratch with paging, then incrementally', async () => {
  const window = 'startDateTime=2031-06-01T00:00:00Z&endDateTime=2031-07-01T00:00:00Z';
  const ids = [];
  for (let day = 1; day <= 5; day += 1) {
    ids.push((await client.api(eventsPath()).post(event(`JS delta ${day}`, `2031-06-0${day}T10:00:00`, `2031-06-0${day}T11:00:00`))).id);
  }
  const first = await allPages(client, `/users/${MAILBOX}/calendarView/delta?${window}`, { Prefer: 'odata.maxpagesize=2' });
  assert.equal(first.values.length, 5);
  assert.equal(first.pages, 3);
  assert.match(first.deltaLink, /\$deltatoken=/);
  await client.api(`${eventsPath()}/${ids[0]}`).patch({ subject: 'JS delta changed' });
  await client.api(`${eventsPath()}/${ids[1]}`).delete();
  const next = await allPages(client, first.deltaLink);
  const byId = Object.fromEntries(next.values.map((v) => [v.id, v]));
  assert.equal(next.values.length, 2);
  assert.equal(byId[ids[0]].subject, 'JS delta changed');
  assert.equal(byId[ids[1]]['@removed'].reason, 'deleted');
  const quiet = await allPages(client, next.deltaLink);
  assert.equal(quiet.values.length, 0);
});

test('$batch with dependsOn', async () => {
  const answer = await client.api('/$batch').post({
    requests: [
      { id: '1', method: 'POST', url: `/users/${MAILBOX}/events`, headers: { 'Content-Type': 'application/json' },
        body: event('JS batched', '2031-09-01T10:00:00', '2031-09-01T11:00:00') },
      { id: '2', method: 'GET', url: `/users/${MAILBOX}/events?$filter=subject eq 'JS batched'`, dependsOn: ['1'] },
      { id: '3', method: 'GET', url: `/users/${MAILBOX}/events/does-not-exist` },
      { id: '4', method: 'GET', url: `/users/${MAILBOX}/calendar`, dependsOn: ['3'] },
    ],
  });
  const byId = Object.fromEntries(answer.responses.map((r) => [r.id, r]));
  assert.equal(byId['1'].status, 201);
  assert.equal(byId['2'].status, 200);
  assert.equal(byId['2'].body.value[0].subject, 'JS batched');
  assert.equal(byId['3'].status, 404);
  assert.equal(byId['4'].status, 424);
});

test('429 with Retry-After is retried by the client\'s retry middleware', async () => {
  await setFaults({ server_busy_next: 1, back_off_ms: 1000 });
  const started = Date.now();
  const answer = await client.api(eventsPath()).top(1).get();
  assert.ok(Array.isArray(answer.value));
  assert.ok(Date.now() - started >= 900, 'the client waited for Retry-After');
});

test('a subscription is validated and delivers a change notification', async () => {
  const notifications = [];
  let notified;
  const arrived = new Promise((resolve) => { notified = resolve; });
  const receiver = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      if (url.searchParams.has('validationToken')) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(url.searchParams.get('validationToken'));
        return;
      }
      notifications.push(JSON.parse(body));
      res.writeHead(202);
      res.end();
      notified();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const subscription = await client.api('/subscriptions').post({
      changeType: 'created,updated,deleted',
      notificationUrl: `http://127.0.0.1:${receiver.address().port}/notify`,
      resource: `users/${MAILBOX}/events`,
      expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      clientState: 'js-client-state',
    });
    const created = await client.api(eventsPath()).post(event('JS notify', '2031-11-01T10:00:00', '2031-11-01T11:00:00'));
    await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('no notification in 30 s')), 30_000))]);
    const first = notifications[0].value[0];
    assert.equal(first.subscriptionId, subscription.id);
    assert.equal(first.clientState, 'js-client-state');
    assert.equal(first.changeType, 'created');
    assert.equal(first.resourceData.id, created.id);
    await client.api(`/subscriptions/${subscription.id}`).delete();
  } finally {
    receiver.close();
  }
});

test('an event with attendees records the invitation Graph would send; one without records none', async () => {
  const before = (await outbox()).length;
  await client.api(eventsPath()).post(event('JS alone', '2031-12-01T10:00:00', '2031-12-01T11:00:00'));
  assert.equal((await outbox()).length, before);
  await client.api(eventsPath()).post({ ...event('JS meeting', '2031-12-02T10:00:00', '2031-12-02T11:00:00'),
    attendees: [{ type: 'required', emailAddress: { address: 'bob@example.com', name: 'Bob' } }] });
  const after = await outbox();
  assert.equal(after.length, before + 1);
  assert.equal(after.at(-1).kind, 'MeetingRequest');
});

// The query forms Microsoft's documentation writes and the client sends with literal `$` and
// `=` inside a value (issue 15 §2): an extended property read back through $expand with an
// inner $filter, $filter on subject, $select.
test('documented query forms: $expand with an inner $filter, $filter and $select', async () => {
  const propertyId = 'String {6f1c3a52-8d0e-4b7a-9e21-4a5c0d7b9e13} Name JsConformanceKey';
  const created = await client.api(eventsPath()).post({
    ...event('JS query forms', '2031-05-06T10:00:00', '2031-05-06T11:00:00'),
    singleValueExtendedProperties: [{ id: propertyId, value: 'key-42' }],
  });
  const expanded = await client.api(`${eventsPath()}/${created.id}`)
    .expand(`singleValueExtendedProperties($filter=id eq '${propertyId}')`).get();
  assert.equal(expanded.singleValueExtendedProperties?.length, 1, JSON.stringify(expanded));
  assert.equal(expanded.singleValueExtendedProperties[0].value, 'key-42');

  const found = await client.api(eventsPath()).filter("subject eq 'JS query forms'")
    .select('subject,start').get();
  assert.equal(found.value.length, 1);
  assert.equal(found.value[0].subject, 'JS query forms');
  assert.equal(found.value[0].location, undefined, '$select leaves other properties out');
  await client.api(`${eventsPath()}/${created.id}`).delete();
});
