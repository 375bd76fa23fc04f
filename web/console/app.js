// The console's shell: who is signed in, the navigation for their role, and the hash router
// (#/users, #/users/alice, ...). Pages live in page_*.js and use only the public REST API.
import { api, ApiError, currentOrg, currentSession, onSignedOut, setSession } from './api.js';
import { announce, errorNotice, field, h, notice, page } from './ui.js';
import { prefetchUsers } from './page_users.js';

const main = () => document.getElementById('main');

/// The pages each role reaches, in menu order. `org: true` pages need an organisation. A page's
/// module is imported when it is first opened (index.html preloads them all in parallel), so
/// the first page does not wait for the others to evaluate.
const PAGES = [
  { path: '/orgs', label: 'Organisations', roles: ['operator'], load: async () => (await import('./page_orgs.js')).renderOrganisations },
  { path: '/connection', label: 'Connection', roles: ['operator', 'admin'], org: true, load: async () => (await import('./page_connection.js')).renderConnection },
  { path: '/types', label: 'Activity types', roles: ['operator', 'admin', 'integration'], org: true, load: async () => (await import('./page_types.js')).renderActivityTypes },
  { path: '/settings', label: 'Sync settings', roles: ['operator', 'admin'], org: true, load: async () => (await import('./page_settings.js')).renderSettings },
  { path: '/users', label: 'Users', roles: ['operator', 'admin', 'integration'], org: true, load: async () => (await import('./page_users.js')).renderUsers },
  { path: '/audit', label: 'Item audit', roles: ['operator', 'admin', 'integration'], org: true, load: async () => (await import('./page_audit.js')).renderAudit },
  { path: '/profile', label: 'My profile', roles: ['user'], load: async () => (await import('./page_profile.js')).renderProfile },
];

function roleKind() {
  const session = currentSession();
  if (!session) return null;
  return session.role.startsWith('user:') ? 'user' : session.role;
}

function visiblePages() {
  const role = roleKind();
  return PAGES.filter((p) => p.roles.includes(role) && (!p.org || currentOrg()));
}

function renderChrome(activePath) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const session = currentSession();
  if (!session) {
    nav.replaceChildren();
    who.replaceChildren();
    return;
  }
  const items = visiblePages().map((p) => h('li', {},
    h('a', { href: `#${p.path}`, 'aria-current': activePath.startsWith(p.path) ? 'page' : null }, p.label)));
  nav.replaceChildren(h('ul', {}, items));
  const org = currentOrg();
  who.replaceChildren(
    h('span', {}, `Signed in as ${session.role}${org ? ` · organisation ${org}` : ''}`),
    h('button', { type: 'button', class: 'secondary', id: 'sign-out', onclick: signOut }, 'Sign out'),
  );
}

async function signOut() {
  try { await api('DELETE', '/api/v1/session'); } catch (error) { /* signed out anyway */ }
  setSession(null);
  sessionStorage.removeItem('agendasync.org');
  announce('Signed out');
  location.hash = '#/signin';
}

function defaultPath() {
  const role = roleKind();
  if (role === 'operator') return currentOrg() ? '/users' : '/orgs';
  if (role === 'user') return '/profile';
  return '/users';
}

function renderSignIn(message) {
  renderChrome('');
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false' });
  const tokenField = field('API token', token, 'An admin, integration, operator or user token (agendasync tokens create).');
  const status = h('div');
  const form = h('form', { novalidate: true }, tokenField, h('button', { type: 'submit' }, 'Sign in'), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    tokenField.showError('');
    if (!token.value.trim()) {
      tokenField.showError('Enter a token.');
      token.focus();
      return;
    }
    try {
      const session = await api('POST', '/api/v1/session', { token: token.value.trim() });
      token.value = '';
      setSession(session);
      announce('Signed in');
      location.hash = `#${defaultPath()}`;
      route();
    } catch (error) {
      tokenField.showError(error.message);
      token.focus();
    }
  });
  page(main(), 'Sign in', message ? notice(message, 'warn') : null, form);
}

async function redeemLoginLink(code) {
  try {
    const session = await api('POST', '/api/v1/session', { login_code: code });
    setSession(session);
    // The code is spent: keep it out of the history.
    history.replaceState(null, '', '#/profile');
    route();
  } catch (error) {
    history.replaceState(null, '', '#/signin');
    renderSignIn(error instanceof ApiError ? error.message : 'The login link did not work.');
  }
}

async function route() {
  const hash = location.hash || '#/';
  if (!hash.startsWith('#/')) return; // in-page anchors such as the skip link
  const path = decodeURIComponent(hash.slice(1));
  if (path.startsWith('/login/')) return redeemLoginLink(path.slice('/login/'.length));
  if (!currentSession() || path === '/signin') {
    if (currentSession() && path === '/signin') { location.hash = `#${defaultPath()}`; return; }
    return renderSignIn();
  }
  if (path === '/') { location.hash = `#${defaultPath()}`; return; }
  const match = visiblePages().find((p) => path === p.path || path.startsWith(`${p.path}/`));
  renderChrome(path);
  if (!match) {
    page(main(), 'Not found', notice('There is no such page for your role. Use the menu above.', 'warn'));
    return;
  }
  try {
    if (match.path === '/users' && path.length > '/users/'.length) {
      const { renderUser } = await import('./page_user.js');
      await renderUser(main(), path.slice('/users/'.length), { refreshChrome: () => renderChrome(path) });
    } else {
      const render = await match.load();
      await render(main(), { refreshChrome: () => renderChrome(path) });
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // signed out: handled
    page(main(), 'Something went wrong', errorNotice(error));
  }
}

onSignedOut((problem, { expired, expiresAt, role, background } = {}) => {
  const byLink = role && role.startsWith('user:')
    ? ' To come back to My profile, open it again from your application (a new login link).' : '';
  if (expired) {
    const at = new Date(expiresAt * 1000).toLocaleTimeString();
    const lost = background ? '' : ', so that last action was not carried out';
    renderSignIn(`Your session expired at ${at}${lost}. Sign in again to continue.${byLink}`);
  } else {
    renderSignIn(`Your session has ended (signed out in another window, or its token was revoked). Sign in again.${byLink}`);
  }
});

async function start() {
  if (location.hash === '#/users') prefetchUsers();
  try {
    setSession(await api('GET', '/api/v1/session'));
  } catch (error) {
    setSession(null);
  }
  window.addEventListener('hashchange', route);
  route();
}

start();
