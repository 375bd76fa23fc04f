// HTTPS: exsim's generated CA, trusted through NODE_EXTRA_CA_CERTS (as an integrator would trust
// a private CA), lets ews-javascript-api work with certificate verification on; the same
// client without that CA refuses the server; TLS below 1.2 is refused by the server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:tls';

import { ews, makeService, calendarOf, utc, isoUtc, uniqueSubject, requireEnv } from './lib/ews.mjs';
import { MAILBOX } from './lib/accounts.mjs';

const { Appointment, Folder, SendInvitationsMode, ItemId } = ews;

const owner = MAILBOX.tls;
const tlsUrl = () => `${requireEnv('EXSIM_TLS_URL')}/EWS/Exchange.asmx`;

describe('TLS', () => {
  test('the TLS endpoint is https and the CA is trusted only through NODE_EXTRA_CA_CERTS', () => {
    assert.match(requireEnv('EXSIM_TLS_URL'), /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(process.env.NODE_EXTRA_CA_CERTS, requireEnv('EXSIM_CA_FILE'));
    assert.notEqual(process.env.NODE_TLS_REJECT_UNAUTHORIZED, '0', 'verification must stay on');
  });

  test('create and read back an item over HTTPS with certificate verification on', async () => {
    const service = makeService(owner, { url: tlsUrl() });
    const appointment = new Appointment(service);
    appointment.Subject = uniqueSubject('over-tls');
    appointment.Start = utc(2031, 5, 6, 7, 0);
    appointment.End = utc(2031, 5, 6, 8, 0);
    await appointment.Save(calendarOf(owner), SendInvitationsMode.SendToNone);
    const read = await Appointment.Bind(service, new ItemId(appointment.Id.UniqueId));
    assert.equal(read.Subject, appointment.Subject);
    assert.equal(isoUtc(read.Start), '2031-05-06T07:00:00.000Z');
  });

  test('without the CA the same request fails certificate verification', () => {
    // A fresh process: NODE_EXTRA_CA_CERTS is read only at start-up.
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const script = `
      import('ews-javascript-api').then(async ({ default: ews }) => {
        const s = new ews.ExchangeService(ews.ExchangeVersion.Exchange2013_SP1);
        s.Credentials = new ews.WebCredentials(${JSON.stringify(owner)}, process.env.EXSIM_PASSWORD);
        s.Url = new ews.Uri(${JSON.stringify(tlsUrl())});
        try { await ews.Folder.Bind(s, ews.WellKnownFolderName.Calendar); console.log('CONNECTED'); }
        catch (e) { console.log('REFUSED ' + (e.message || e)); }
      });`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('.', import.meta.url).pathname,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /^REFUSED .*(self[- ]signed|certificate|verify)/im, child.stdout);
  });

  test('a TLS 1.1 handshake is refused (minimum 1.2)', async () => {
    const { hostname, port } = new URL(requireEnv('EXSIM_TLS_URL'));
    const outcome = await new Promise((resolve) => {
      const socket = connect({ host: hostname, port: Number(port), minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
      socket.setTimeout(10_000, () => {
        socket.destroy();
        resolve('timeout');
      });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error) => resolve(`refused: ${error.code ?? error.message}`));
    });
    assert.match(outcome, /^refused/);
  });

  test('a TLS 1.2 handshake verifies the certificate for 127.0.0.1', async () => {
    const service = makeService(owner, { url: tlsUrl() });
    const folder = await Folder.Bind(service, calendarOf(owner));
    assert.equal(folder.DisplayName, 'Calendar');
  });
});
