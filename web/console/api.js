// The console's one way to the REST API: same-origin fetch with the session cookie, the CSRF
// token on every state change, problem+json errors as ApiError.

let session = null; // {role, org, user_name, csrf_token, expires_at}
let signedOutHandler = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function currentSession() { return session; }
export function setSession(value) { session = value; }
export function onSignedOut(handler) { signedOutHandler = handler; }

/// `background`: a poll the page makes by itself (not something the user did), so an ended
/// session is reported without saying an action was lost.
export async function api(method, path, body, { background = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  // Only state changes need it; the server refuses them without it (CSRF).
  if (method !== 'GET' && session && session.csrf_token) headers['X-CSRF-Token'] = session.csrf_token;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const text = response.status === 204 ? '' : await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text }; }
  }
  if (!response.ok) {
    // A session that expired or was signed out elsewhere: back to the sign-in page.
    if (response.status === 401 && session && !path.endsWith('/session')) {
      // Past its expiry the session timed out; before it, it was ended (signed out in another
      // tab, its token revoked). The page says which.
      const ended = session;
      session = null;
      signedOutHandler(data, {
        expired: Boolean(ended.expires_at) && Date.now() / 1000 >= ended.expires_at,
        expiresAt: ended.expires_at,
        role: ended.role,
        background,
      });
    }
    throw new ApiError(response.status, data);
  }
  return data;
}

/// The organisation the pages act in: an operator chooses one; everyone else has their own.
export function currentOrg() {
  if (!session) return null;
  if (session.role === 'operator') return sessionStorage.getItem('agendasync.org');
  return session.org;
}
export function chooseOrg(id) { sessionStorage.setItem('agendasync.org', id); }

/// '/users' -> the organisation's route: the long form for an operator, the short one else.
export function orgPath(path) {
  if (session && session.role === 'operator') {
    const org = currentOrg();
    return `/api/v1/organisations/${encodeURIComponent(org || '')}${path}`;
  }
  return `/api/v1${path}`;
}

export function isAdmin() { return session && (session.role === 'admin' || session.role === 'operator'); }
export function isStaff() { return isAdmin() || (session && session.role === 'integration'); }
