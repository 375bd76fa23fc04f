/// The identities exsim is started with (run_conformance.mjs writes them into its config).
/// Each test file owns one mailbox, so files never see each other's items; each mailbox is also
/// a logon account for its owner. Two service accounts differ only in the impersonation right.

/// Mailbox owners, one per test area.
export const MAILBOX = Object.freeze({
  items: 'items@exsim.test',
  recurrence: 'recurrence@exsim.test',
  occurrences: 'occurrences@exsim.test',
  conflict: 'conflict@exsim.test',
  view: 'view@exsim.test',
  sync: 'sync@exsim.test',
  impersonated: 'impersonated@exsim.test',
  auth: 'auth@exsim.test',
  streaming: 'streaming@exsim.test',
  tls: 'tls@exsim.test',
  timeZones: 'timezones@exsim.test',
  meetings: 'meetings@exsim.test',
  attendee: 'attendee@exsim.test',
  misc: 'misc@exsim.test',
  faults: 'faults@exsim.test',
});

/// Holds the ApplicationImpersonation role (ExchangeImpersonation is honoured).
export const SERVICE_WITH_IMPERSONATION = 'svc-impersonation@exsim.test';
/// Has full access to MAILBOX.impersonated as a delegate (no impersonation right): R3's
/// delegate mode, where the mailbox is named in the folder id instead.
export const SERVICE_DELEGATE = 'svc-delegate@exsim.test';
/// A valid logon without any right on other mailboxes (ErrorImpersonateUserDenied expected).
export const SERVICE_WITHOUT_IMPERSONATION = 'svc-plain@exsim.test';
/// An SMTP address no mailbox has (ErrorNonExistentMailbox expected).
export const UNKNOWN_MAILBOX = 'nobody@exsim.test';

/// The mailboxes of the "scale" exsim instance: four simulated Mailbox servers, Exchange's
/// limits on (no relaxing switch). exsim spreads them over the servers in this order (round
/// robin), but the tests find the groups the way a client must: Autodiscover's
/// GroupingInformation.
export const SCALE_MAILBOXES = Object.freeze(
  Array.from({ length: 12 }, (_, i) => `scale${String(i).padStart(2, '0')}@exsim.test`),
);
