// Users: one page of the directory at a time, searched and filtered on the server, so the
// table stays fast with 5,000 users; add a user.
import { api, isAdmin, isStaff, orgPath } from './api.js';
import { announce, busy, duration, field, h, notice, page, when } from './ui.js';

const PAGE_SIZE = 50;
const STATES = [['all', 'All users'], ['enabled', 'Sync on'], ['disabled', 'Sync off'], ['blocked', 'Blocked'], ['failing', 'Last sync failed']];

/// The first page's address as the session will have it: an operator works in the
/// organisation chosen in this tab, everyone else in their own.
function firstPageUrl(path) {
  return `${path}?${new URLSearchParams({ limit: String(PAGE_SIZE), offset: '0', state: 'all' })}`;
}

let prefetched = null;

/// Started before the session is known, when the page opens on #/users: the first page's
/// request then runs alongside the session's instead of after it. A wrong guess is dropped.
export function prefetchUsers() {
  const org = sessionStorage.getItem('agendasync.org');
  const url = firstPageUrl(org ? `/api/v1/organisations/${encodeURIComponent(org)}/users` : '/api/v1/users');
  prefetched = { url, answer: api('GET', url).catch(() => null) };
}

export async function renderUsers(main) {
  const state = { q: '', state: 'all', offset: 0 };
  const search = h('input', { type: 'search', name: 'q', autocomplete: 'off' });
  const filter = h('select', { name: 'state' }, STATES.map(([v, label]) => h('option', { value: v }, label)));
  const tableHolder = h('div');
  const pager = h('div', { class: 'pager' });
  const previous = h('button', { type: 'button', class: 'secondary' }, 'Previous page');
  const next = h('button', { type: 'button', class: 'secondary' }, 'Next page');
  const position = h('span', { 'aria-live': 'polite' });
  pager.append(previous, position, next);
  let loading = 0;
  const selected = new Map(); // user name -> row of the page shown
  const bulkStatus = h('div', { 'aria-live': 'polite' });

  /// Applies `change(user)` (a request) to every selected user; reports what failed and why.
  async function bulk(button, label, change) {
    if (!selected.size) { bulkStatus.replaceChildren(notice('Select users first.', 'warn')); return; }
    await busy(button, async () => {
      const failures = [];
      for (const user of selected.values()) {
        try { await change(user); } catch (error) { failures.push(`${user.user_name}: ${error.message}`); }
      }
      const done = selected.size - failures.length;
      // The table first, so the message never describes rows not yet shown.
      await load();
      bulkStatus.replaceChildren(notice(`${label}: ${done} done${failures.length ? `, ${failures.length} refused` : ''}.`, failures.length ? 'warn' : null),
        failures.length ? h('ul', {}, failures.map((f) => h('li', {}, f))) : null);
      announce(`${label}: ${done} done`);
    });
  }
  const userUrl = (u) => orgPath(`/users/${encodeURIComponent(u.user_name)}`);
  const bulkBar = h('div', { class: 'row', role: 'group', 'aria-label': 'Selected users' });
  if (isAdmin()) {
    // R11: an admin turns sync on or off only for admin-managed users; the others refuse.
    const on = h('button', { type: 'button', class: 'secondary' }, 'Turn sync on');
    on.addEventListener('click', () => bulk(on, 'Sync on', (u) => api('PUT', `${userUrl(u)}/sync`, { enabled: true })));
    const off = h('button', { type: 'button', class: 'secondary' }, 'Turn sync off');
    off.addEventListener('click', () => bulk(off, 'Sync off', (u) => api('PUT', `${userUrl(u)}/sync`, { enabled: false })));
    bulkBar.append(on, off);
  }
  if (isStaff()) {
    const block = h('button', { type: 'button', class: 'secondary' }, 'Block');
    block.addEventListener('click', () => bulk(block, 'Blocked', (u) => api('PATCH', userUrl(u), { blocked: true })));
    const unblock = h('button', { type: 'button', class: 'secondary' }, 'Unblock');
    unblock.addEventListener('click', () => bulk(unblock, 'Unblocked', (u) => api('PATCH', userUrl(u), { blocked: false })));
    bulkBar.append(block, unblock);
  }

  async function load() {
    const ticket = ++loading;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(state.offset), state: state.state });
    if (state.q) query.set('q', state.q);
    const url = `${orgPath('/users')}?${query}`;
    const early = prefetched && prefetched.url === url ? await prefetched.answer : null;
    prefetched = null;
    const result = early || await api('GET', url);
    if (ticket !== loading) return; // a newer search answered first
    const now = Date.now() / 1000;
    selected.clear();
    const rows = result.users.map((u) => h('tr', {},
      h('td', {}, h('input', { type: 'checkbox', 'aria-label': `Select ${u.user_name}`, onchange: (e) => {
        if (e.target.checked) selected.set(u.user_name, u); else selected.delete(u.user_name);
      } })),
      h('th', { scope: 'row' }, h('a', { href: `#/users/${encodeURIComponent(u.user_name)}` }, u.user_name)),
      h('td', {}, u.display_name || '—'),
      h('td', {}, u.mailbox || '—'),
      h('td', {}, u.blocked ? 'Blocked' : 'No'),
      h('td', {}, u.sync_enabled ? 'On' : 'Off'),
      h('td', {}, u.backend),
      h('td', {}, when(u.last_success)),
      h('td', {}, u.last_success ? duration(now - u.last_success) : '—'),
      h('td', {}, u.last_error || (u.last_outcome === 'error' ? 'Failed' : '—'))));
    const first = result.total === 0 ? 0 : result.offset + 1;
    const last = result.offset + result.users.length;
    tableHolder.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { id: 'users-table' },
      h('caption', {}, `Users ${first}–${last} of ${result.total}`),
      h('thead', {}, h('tr', {}, ['Select', 'User name', 'Display name', 'Mailbox', 'Blocked', 'Sync', 'Backend', 'Last sync', 'Lag', 'Last error']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 10 }, 'No user matches.'))))));
    position.textContent = `${first}–${last} of ${result.total}`;
    previous.disabled = result.offset === 0;
    next.disabled = last >= result.total;
  }

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = search.value.trim(); state.offset = 0; load(); }, 250);
  });
  filter.addEventListener('change', () => { state.state = filter.value; state.offset = 0; load(); });
  previous.addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); load(); });
  next.addEventListener('click', () => { state.offset += PAGE_SIZE; load(); });

  const controls = h('form', { role: 'search', class: 'row', onsubmit: (e) => { e.preventDefault(); state.q = search.value.trim(); state.offset = 0; load(); } },
    field('Search users', search, 'User name, display name or address.'),
    field('Show', filter));

  page(main, 'Users', controls, bulkBar, bulkStatus, tableHolder, pager, isStaff() ? addUserForm(load) : null);
  await load();
}

function addUserForm(reload) {
  const name = h('input', { name: 'user_name', autocomplete: 'off', required: true });
  const display = h('input', { name: 'display_name', autocomplete: 'off' });
  const address = h('input', { name: 'exchange_address', type: 'email', autocomplete: 'off' });
  const managed = h('input', { type: 'checkbox', name: 'admin_managed' });
  const nameField = field('User name', name, 'As in the host application, e.g. DMARTINA.');
  const addressField = field('Deviating mailbox address', address, 'Only when the mailbox is not USERNAME@mail domain.');
  const add = h('button', { type: 'submit' }, 'Add user');
  const status = h('div');
  const form = h('form', { novalidate: true }, h('div', { class: 'row' }, nameField, field('Display name', display), addressField),
    isAdmin() ? field('Managed by the admin (resource mode: the admin, not the user, turns sync on)', managed) : null, add, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    nameField.showError('');
    addressField.showError('');
    if (!name.value.trim()) { nameField.showError('Enter a user name.'); name.focus(); return; }
    if (address.value && !address.checkValidity()) { addressField.showError('Enter an address like name@example.com.'); address.focus(); return; }
    await busy(add, async () => {
      try {
        const body = { user_name: name.value.trim(), display_name: display.value.trim(), exchange_address: address.value.trim() };
        if (managed.checked) body.admin_managed = true;
        await api('POST', orgPath('/users'), body);
        announce(`User ${body.user_name} added`);
        status.replaceChildren(notice(`User ${body.user_name} added.`));
        name.value = ''; display.value = ''; address.value = ''; managed.checked = false;
        await reload();
      } catch (error) {
        nameField.showError(error.message);
        name.focus();
      }
    });
  });
  return h('section', { 'aria-labelledby': 'add-user' }, h('h2', { id: 'add-user' }, 'Add a user'), form);
}
