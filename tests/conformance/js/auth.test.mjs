// Authentication as ews-javascript-api does it: Basic (WebCredentials) accepted with the right
// password and answered 401 with a WWW-Authenticate challenge otherwise; NTLMv2 through the
// @ewsjs/xhr transport the library ships with (its ntlm-client dependency comes from npm).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { ews, makeService, calendarOf, ewsUrl, password, expectFailure } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { Folder, ExchangeService, ExchangeVersion, Uri, WebCredentials } = ews;
const require = createRequire(import.meta.url);
const { XhrApi } = require('@ewsjs/xhr');

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

  test('the 401 carries Basic and NTLM challenges and no SOAP body is needed to read it', async () => {
    const response = await fetch(ewsUrl(), {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8' },
      body: '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>',
    });
    assert.equal(response.status, 401);
    const challenges = response.headers.get('www-authenticate') ?? '';
    assert.match(challenges, /\bBasic\b/i);
    assert.match(challenges, /\bNTLM\b/i);
  });

  test('NTLMv2 through @ewsjs/xhr logs on with the account password', async () => {
    const service = new ExchangeService(ExchangeVersion.Exchange2013_SP1);
    service.Url = new Uri(ewsUrl());
    // The library insists on Credentials even when the transport does the authentication.
    service.Credentials = new WebCredentials(owner, password());
    service.XHRApi = new XhrApi().useNtlmAuthentication(owner, password());
    const folder = await Folder.Bind(service, calendarOf(owner));
    assert.equal(folder.DisplayName, 'Calendar');
  });

  test('NTLMv2 with a wrong password is refused with HTTP 401', async () => {
    const service = new ExchangeService(ExchangeVersion.Exchange2013_SP1);
    service.Url = new Uri(ewsUrl());
    service.Credentials = new WebCredentials(owner, password() + '-wrong');
    service.XHRApi = new XhrApi().useNtlmAuthentication(owner, password() + '-wrong');
    const failure = await expectFailure(Folder.Bind(service, calendarOf(owner)));
    assert.equal(failure.httpStatus, 401, JSON.stringify(failure));
  });
});
