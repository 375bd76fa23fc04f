// Authentication as ews-javascript-api does it: Basic (WebCredentials) accepted with the right
// password and answered 401 with a WWW-Authenticate challenge otherwise; OAuth Bearer tokens
// (OAuthCredentials) likewise. NTLMv2 through the
// library's @ewsjs/xhr transport is in ntlm.test.mjs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ews, makeService, calendarOf, ewsUrl, password, expectFailure, requireEnv } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { Folder, ExchangeService, ExchangeVersion, OAuthCredentials, Uri } = ews;

const owner = MAILBOX.auth;

describe('authentication', () => {
  test('Basic with the right password is accepted', async () => {
    const folder = await Folder.Bind(makeService(owner), calendarOf(owner));
    assert.equal(folder.DisplayName, 'Calendar');
  });

  test('Basic with a wrong password is refused with HTTP 401', async () => {
    const service = makeService(owner, { password: password() + '-wrong' });
    const failure = await expectFailure(Folder.Bind(service, calendarOf(owner)));
    assert.equal(failure.httpStatus, 401, JSON.stringify(failure));
  });

  test('Basic for an unknown account is refused with HTTP 401', async () => {
    const service = makeService('stranger@exsim.test');
    const failure = await expectFailure(Folder.Bind(service, calendarOf(owner)));
    assert.equal(failure.httpStatus, 401, JSON.stringify(failure));
  });

  test('the 401 carries a challenge for each enabled scheme (Basic, NTLM, Bearer)', async () => {
    const response = await fetch(ewsUrl(), {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8' },
      body: '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>',
    });
    assert.equal(response.status, 401);
    const challenges = response.headers.get('www-authenticate') ?? '';
    assert.match(challenges, /\bBasic\b/i);
    assert.match(challenges, /\bNTLM\b/i);
    assert.match(challenges, /\bBearer\b/i);
  });

  test('a Bearer token (OAuthCredentials) is accepted for the account it was issued to', async () => {
    const service = new ExchangeService(ExchangeVersion.Exchange2013_SP1);
    service.Url = new Uri(ewsUrl());
    service.Credentials = new OAuthCredentials(requireEnv('EXSIM_BEARER_TOKEN'));
    const folder = await Folder.Bind(service, calendarOf(owner));
    const ownFolder = await Folder.Bind(makeService(owner), calendarOf(owner));
    assert.equal(folder.Id.UniqueId, ownFolder.Id.UniqueId, 'the token opened the owner\'s calendar');
  });

  test('an unknown Bearer token is refused with HTTP 401', async () => {
    const service = new ExchangeService(ExchangeVersion.Exchange2013_SP1);
    service.Url = new Uri(ewsUrl());
    service.Credentials = new OAuthCredentials(requireEnv('EXSIM_BEARER_TOKEN') + 'x');
    const failure = await expectFailure(Folder.Bind(service, calendarOf(owner)));
    assert.equal(failure.httpStatus, 401, JSON.stringify(failure));
  });
});
