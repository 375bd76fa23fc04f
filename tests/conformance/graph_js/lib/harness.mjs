// Shared set-up of the Graph suite: msal-node apps and Graph clients pointed at exsim, as an
// application would point them at login.microsoftonline.com and graph.microsoft.com.
import { readFileSync } from 'node:fs';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client } from '@microsoft/microsoft-graph-client';

export const BASE = process.env.EXSIM_BASE;
export const TENANT = process.env.GRAPH_TENANT;
export const MAILBOX = process.env.GRAPH_MAILBOX;
export const SCOPES = ['https://graph.microsoft.com/.default'];
const host = new URL(BASE).hostname;

/// An msal-node confidential client for `clientId` with a secret or a certificate.
export function msalApp({ clientId = process.env.GRAPH_CLIENT_ID, secret, certificate } = {}) {
  return new ConfidentialClientApplication({
    auth: {
      clientId,
      authority: `${BASE}/${TENANT}`,
      knownAuthorities: [new URL(BASE).host],
      ...(secret ? { clientSecret: secret } : {}),
      ...(certificate ? { clientCertificate: certificate } : {}),
    },
  });
}

export function certificateCredential() {
  return {
    thumbprint: process.env.GRAPH_CERT_THUMBPRINT,
    privateKey: readFileSync(process.env.GRAPH_CERT_KEY, 'utf8'),
  };
}

/// A Graph client whose token comes from msal-node (client credentials).
export function graphClient(app = msalApp({ secret: process.env.GRAPH_SECRET }), options = {}) {
  return Client.initWithMiddleware({
    baseUrl: BASE,
    customHosts: new Set([host]),
    defaultVersion: 'v1.0',
    authProvider: {
      getAccessToken: async () => (await app.acquireTokenByClientCredential({ scopes: SCOPES })).accessToken,
    },
    ...options,
  });
}

/// Changes exsim's fault injection through its admin endpoint.
export async function setFaults(faults) {
  const res = await fetch(`${BASE}/exsim/admin/faults`, {
    method: 'POST',
    headers: { 'X-Exsim-Admin-Token': process.env.GRAPH_ADMIN_TOKEN, 'Content-Type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!res.ok) throw new Error(`faults: ${res.status} ${await res.text()}`);
}

export async function outbox() {
  const res = await fetch(`${BASE}/exsim/admin/outbox`, {
    headers: { 'X-Exsim-Admin-Token': process.env.GRAPH_ADMIN_TOKEN },
  });
  return res.json();
}

export const eventsPath = (mailbox = MAILBOX) => `/users/${mailbox}/events`;

/// An event body in Graph's shape.
export function event(subject, start, end, timeZone = 'W. Europe Standard Time') {
  return {
    subject,
    body: { contentType: 'text', content: `${subject} notes` },
    start: { dateTime: start, timeZone },
    end: { dateTime: end, timeZone },
  };
}

/// Every page of a collection or delta round: values and the deltaLink at the end.
export async function allPages(client, first, headers = {}) {
  const values = [];
  let url = first;
  for (let page = 0; page < 200; page += 1) {
    const body = await client.api(url).headers(headers).get();
    values.push(...body.value);
    if (body['@odata.nextLink']) {
      url = body['@odata.nextLink'];
      continue;
    }
    return { values, deltaLink: body['@odata.deltaLink'], pages: page + 1 };
  }
  throw new Error('more than 200 pages');
}
