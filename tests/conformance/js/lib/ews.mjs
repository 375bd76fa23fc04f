/// Shared set-up for the ews-javascript-api conformance tests: how to reach exsim (from the
/// environment the driver sets), a service factory, and small helpers for dates and errors.
/// Every test file owns one mailbox so files can run in parallel without seeing each other.
import ews from 'ews-javascript-api';

export { ews };

const {
  ExchangeService,
  ExchangeVersion,
  WebCredentials,
  Uri,
  DateTime,
  ImpersonatedUserId,
  ConnectingIdType,
  FolderId,
  WellKnownFolderName,
  Mailbox,
  ServiceError,
} = ews;

/// Reads a variable the driver (run_conformance.mjs) must have set; a missing one is a broken
/// set-up, so it throws with the way to run the suite instead of skipping anything.
export function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the suite through tests/conformance/js/run_conformance.mjs ` +
        '(ctest -R conformance_js) so that exsim is started and its URL exported',
    );
  }
  return value;
}

/// The plain-HTTP EWS endpoint of the exsim instance under test.
export function ewsUrl() {
  return `${requireEnv('EXSIM_URL')}/EWS/Exchange.asmx`;
}

/// The shared password of every configured account (written into exsim's config by the driver).
export function password() {
  return requireEnv('EXSIM_PASSWORD');
}

/// A service logged on as `user` with Basic auth. `options.impersonate` adds the
/// ExchangeImpersonation header for that SMTP address; `options.url` overrides the endpoint.
export function makeService(user, options = {}) {
  const service = new ExchangeService(ExchangeVersion.Exchange2013_SP1);
  service.Credentials = new WebCredentials(user, options.password ?? password());
  service.Url = new Uri(options.url ?? ewsUrl());
  if (options.impersonate) {
    service.ImpersonatedUserId = new ImpersonatedUserId(
      ConnectingIdType.SmtpAddress,
      options.impersonate,
    );
  }
  return service;
}

/// The calendar folder of `address`, addressed explicitly (DistinguishedFolderId + Mailbox).
export function calendarOf(address) {
  return new FolderId(WellKnownFolderName.Calendar, new Mailbox(address));
}

/// A UTC DateTime; month is 1-based like everything EWS shows to people.
export function utc(year, month, day, hour = 0, minute = 0) {
  return new DateTime(Date.UTC(year, month - 1, day, hour, minute, 0));
}

/// Milliseconds since the epoch of an ews-javascript-api DateTime, for exact comparisons.
export function epochMs(dateTime) {
  return dateTime.TotalMilliSeconds;
}

/// ISO-8601 UTC text of a DateTime ("2030-01-07T09:00:00.000Z"), for readable assertions.
export function isoUtc(dateTime) {
  return new Date(dateTime.TotalMilliSeconds).toISOString();
}

/// ews-javascript-api 0.15.3 writes string values into the request without XML escaping
/// (EwsServiceXmlWriter.WriteValue), so text with & < > must be escaped by the caller, as every
/// user of the library has to; the server answers with the plain text.
export function xmlText(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/// A subject no other run or test shares, so assertions never match someone else's item.
export function uniqueSubject(prefix) {
  return `${prefix} ${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

/// The EWS response code name ("ErrorIrresolvableConflict", ...) or HTTP status carried by
/// whatever ews-javascript-api rejected with: a ServiceResponseException (per-item error), a
/// SoapFaultDetails (SOAP fault or HTTP error) or a plain Error.
export function failureOf(error) {
  // A SoapFaultDetails carries the fault's code in ResponseCode and leaves ErrorCode at NoError;
  // a ServiceResponseException carries it in ErrorCode. Take the first that names an error.
  const candidates = [error?.ErrorCode, error?.Response?.ErrorCode, error?.ResponseCode];
  const codeNumber = candidates.find((c) => c !== undefined && c !== null && c !== ServiceError.NoError);
  const code = typeof codeNumber === 'number' ? ServiceError[codeNumber] : codeNumber;
  const details = error?.ErrorDetails ?? error?.errorDetails ?? error?.Response?.ErrorDetails;
  return {
    code: code ?? null,
    httpStatus: error?.HttpStatusCode ?? null,
    backOffMilliseconds: details?.containsKey?.('BackOffMilliseconds') ? details.get('BackOffMilliseconds') : null,
    message: String(error?.message ?? error?.Message ?? error),
  };
}

/// Awaits `promise`, expects it to reject, and returns failureOf(the rejection).
export async function expectFailure(promise) {
  try {
    await promise;
  } catch (error) {
    return failureOf(error);
  }
  throw new Error('the request succeeded, but the test expected the server to refuse it');
}

/// Polls `check` (async, returns a truthy value when done) at most `attempts` times.
export async function eventually(check, { attempts = 50, delayMs = 100 } = {}) {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  return null;
}

/// Calls exsim's admin endpoint (`/exsim/admin/...`, token from the driver) on the instance at
/// `baseUrl`; answers the parsed JSON or throws with the status and body.
export async function admin(path, { method = 'GET', body, baseUrl = requireEnv('EXSIM_URL') } = {}) {
  const response = await fetch(`${baseUrl}/exsim/admin/${path}`, {
    method,
    headers: { 'X-Exsim-Admin-Token': requireEnv('EXSIM_ADMIN_TOKEN'), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`admin ${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}
