// @azure/msal-node against exsim's Entra ID v2.0 token endpoint: secret, certificate, errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { certificateCredential, graphClient, MAILBOX, msalApp, SCOPES, TENANT } from './lib/harness.mjs';

const claimsOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

test('a client secret gets a token with the app\'s roles', async () => {
  const result = await msalApp({ secret: process.env.GRAPH_SECRET }).acquireTokenByClientCredential({ scopes: SCOPES });
  const claims = claimsOf(result.accessToken);
  assert.equal(claims.tid, TENANT);
  assert.equal(claims.appid, process.env.GRAPH_CLIENT_ID);
  assert.deepEqual([...claims.roles].sort(), ['Calendars.ReadWrite', 'User.Read.All']);
});

test('a certificate gets a token that Graph accepts', async () => {
  const app = msalApp({ clientId: process.env.GRAPH_CERT_CLIENT_ID, certificate: certificateCredential() });
  const result = await app.acquireTokenByClientCredential({ scopes: SCOPES });
  assert.equal(claimsOf(result.accessToken).appid, process.env.GRAPH_CERT_CLIENT_ID);
  const events = await graphClient(app).api(`/users/${MAILBOX}/events`).get();
  assert.ok(Array.isArray(events.value));
});

test('a wrong secret is refused with AADSTS7000215', async () => {
  await assert.rejects(
    msalApp({ secret: 'wrong' }).acquireTokenByClientCredential({ scopes: SCOPES }),
    (error) => error.errorCode === 'invalid_client' && error.errorMessage.includes('AADSTS7000215'),
  );
});

test('a missing role is 403 ErrorAccessDenied from Graph', async () => {
  const app = msalApp({ clientId: process.env.GRAPH_NO_ROLE_CLIENT_ID, secret: process.env.GRAPH_SECRET });
  await assert.rejects(graphClient(app).api(`/users/${MAILBOX}/events`).get(),
    (error) => error.statusCode === 403 && error.code === 'ErrorAccessDenied');
});
