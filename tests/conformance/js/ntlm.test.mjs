// NTLMv2 through @ewsjs/xhr, the transport ews-javascript-api ships with. Its NTLM provider
// sends the Type 1 message as a GET to /EWS/Exchange.asmx and expects the 401 +
// "WWW-Authenticate: NTLM <challenge>" IIS gives for any verb.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { ews, calendarOf, ewsUrl, password, expectFailure } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { Folder, ExchangeService, ExchangeVersion, Uri, WebCredentials } = ews;
const require = createRequire(import.meta.url);
const { XhrApi } = require('@ewsjs/xhr');

const owner = MAILBOX.auth;

describe('NTLMv2 authentication', () => {
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
