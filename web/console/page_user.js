// One user: the record (display name, deviating address validated as you type, blocked),
// status and error history, sync now, the plan of the next sync (dry run, R37), quarantine
// approval with the plan shown (R38), offboarding (R40).
import { api, isAdmin, isStaff, orgPath } from './api.js';
import { announce, busy, errorNotice, field, h, notice, page, uid, when } from './ui.js';

const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function statusFacts(status, user) {
  return h('dl', { class: 'facts' },
    h('dt', {}, 'Sync'), h('dd', {}, user.blocked ? 'Blocked' : user.sync_enabled ? 'On' : 'Off'),
    h('dt', {}, 'Mailbox'), h('dd', {}, user.mailbox || '—'),
    h('dt', {}, 'Last sync'), h('dd', {}, when(status.last_success)),
    h('dt', {}, 'Last run'), h('dd', {}, status.last_outcome ? `${status.last_outcome} at ${when(status.last_finished)}` : 'never'),
    h('dt', {}, 'Runs'), h('dd', {}, `${status.runs} (${status.failures} failed)`));
}

/// R31: a bar while the user's sync runs (a long first sync), updated every 2 s until it ends.
/// `onStatus(status)` hears every status it reads (the page refreshes its facts with it).
export function progressBlock(statusUrl, status, onStatus = () => {}) {
  const bar = h('progress', { id: uid('progress'), max: 1, value: 0 });
  const label = h('label', { for: bar.id }, '');
  const box = h('div', { class: 'field', 'aria-live': 'polite' }, label, bar);
  function show(progress) {
    box.hidden = !progress;
    if (!progress) return;
    if (progress.total > 0) {
      bar.max = progress.total;
      bar.value = progress.done;
      label.textContent = `Sync running: ${progress.phase}, ${progress.done} of ${progress.total} items`;
    } else {
      bar.removeAttribute('value'); // indeterminate while the items are counted
      label.textContent = `Sync running: ${progress.phase}`;
    }
  }
  show(status.progress);
  let running = !!status.progress;
  async function poll() {
    if (!box.isConnected) return; // the page was left
    try {
      const now = await api('GET', statusUrl, undefined, { background: true });
      show(now.progress);
      onStatus(now);
      if (running && !now.progress) announce('Sync finished');
      running = !!now.progress;
    } catch { /* the next poll tries again */ }
    timer = setTimeout(poll, running ? 2000 : 5000);
  }
  let timer = setTimeout(poll, running ? 2000 : 5000);
  /// Polls now (a sync was just turned on or queued), then on the usual rhythm.
  box.refresh = () => { clearTimeout(timer); timer = setTimeout(poll, 300); };
  return box;
}

export function errorList(status) {
  if (!status.errors || !status.errors.length) return h('p', {}, 'No errors recorded.');
  return h('ul', {}, status.errors.map((e) => h('li', {}, `${when(e.at)}: ${e.message}`)));
}

export async function renderUser(main, name) {
  const path = orgPath(`/users/${encodeURIComponent(name)}`);
  const [user, status] = await Promise.all([api('GET', path), api('GET', `${path}/status`)]);
  const message = h('div', { tabindex: '-1' });

  const display = h('input', { name: 'display_name', value: user.display_name || '', autocomplete: 'off' });
  const address = h('input', { name: 'exchange_address', type: 'email', value: user.exchange_address || '', autocomplete: 'off' });
  const blocked = h('input', { type: 'checkbox', name: 'blocked', checked: user.blocked });
  const addressField = field('Deviating mailbox address', address, 'Empty: USERNAME@mail domain.');
  // Validated as you type: the save button stays off while the address is not one.
  const save = h('button', { type: 'submit' }, 'Save');
  address.addEventListener('input', () => {
    const bad = address.value.trim() !== '' && !ADDRESS.test(address.value.trim());
    addressField.showError(bad ? 'Not a mailbox address: use name@example.com, or leave it empty.' : '');
    save.disabled = bad;
  });
  // R12: the user's own overrides of the organisation's direction and conflict policy.
  const choice = (name, options, value) => h('select', { name }, h('option', { value: '' }, 'Organisation default'),
    options.map((o) => h('option', { value: o, selected: value === o }, o)));
  const direction = choice('direction', ['two-way', 'to-exchange', 'from-exchange'], user.direction);
  const conflicts = choice('conflict_policy', ['newest-wins', 'host-wins', 'exchange-wins'], user.conflict_policy);
  // R41: which connection serves the mailbox in a hybrid organisation.
  const backend = h('select', { name: 'backend' }, ['auto', 'ews', 'graph'].map((b) => h('option', { value: b, selected: user.backend === b }, b)));
  const form = h('form', { novalidate: true }, field('Display name', display), addressField, field('Blocked (no sync at all, R10)', blocked),
    field('Direction for this user', direction), field('Conflict policy for this user', conflicts),
    field('Mailbox backend (hybrid organisations)', backend, 'auto: where Autodiscover finds the mailbox.'), save);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(save, async () => {
      try {
        await api('PATCH', path, {
          display_name: display.value.trim(), exchange_address: address.value.trim(), blocked: blocked.checked,
          direction: direction.value || null, conflict_policy: conflicts.value || null, backend: backend.value,
        });
        announce('User saved');
        message.replaceChildren(notice('Saved.'));
      } catch (error) { message.replaceChildren(errorNotice(error)); }
    });
  });

  // R38: the last run stopped before writing (the breaker, or a first sync waiting for approval).
  const quarantinedNow = status.last_outcome === 'quarantined';
  let facts = statusFacts(status, user);
  const progress = progressBlock(`${path}/status`, status, (now) => {
    const fresh = statusFacts(now, { ...user, sync_enabled: now.sync_enabled, blocked: now.blocked });
    facts.replaceWith(fresh);
    facts = fresh;
  });
  const actions = h('div', { class: 'row' });
  const output = h('div', { 'aria-live': 'polite' });
  if (user.admin_managed && isAdmin()) {
    const toggle = h('button', { type: 'button', class: 'secondary' }, user.sync_enabled ? 'Turn sync off' : 'Turn sync on');
    toggle.addEventListener('click', () => busy(toggle, async () => {
      try {
        await api('PUT', `${path}/sync`, { enabled: !user.sync_enabled });
        announce(user.sync_enabled ? 'Sync turned off' : 'Sync turned on');
        await renderUser(main, name);
      } catch (error) { output.replaceChildren(errorNotice(error)); }
    }));
    actions.append(toggle);
  }
  const syncNow = h('button', { type: 'button', class: 'secondary' }, 'Sync now');
  syncNow.addEventListener('click', () => busy(syncNow, async () => {
    try {
      await api('POST', `${path}/sync-now`);
      output.replaceChildren(notice('Sync queued.'));
      progress.refresh();
      announce('Sync queued');
    } catch (error) { output.replaceChildren(errorNotice(error)); }
  }));
  if (isStaff()) actions.append(syncNow);

  if (isAdmin()) {
    const plan = h('button', { type: 'button', class: 'secondary' }, 'Show plan (dry run)');
    plan.addEventListener('click', () => busy(plan, () => showPlan(path, output, quarantinedNow, () => renderUser(main, name))));
    const offboard = h('button', { type: 'button', class: 'danger' }, 'Offboard');
    offboard.addEventListener('click', () => busy(offboard, async () => {
      if (!window.confirm(`Offboard ${name}? This blocks the user and removes from the mailbox what the sync created there.`)) return;
      try {
        const result = await api('POST', `${path}/offboard`);
        output.replaceChildren(notice(`Offboarded: ${result.removed} item(s) removed from the mailbox; the user is blocked.`));
        announce('User offboarded');
      } catch (error) { output.replaceChildren(errorNotice(error)); }
    }));
    actions.append(plan, offboard);
  }

  const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh status');
  refresh.addEventListener('click', () => renderUser(main, name));
  actions.append(refresh);

  const quarantined = quarantinedNow;
  page(main, `User ${user.user_name}`,
    h('p', {}, h('a', { href: '#/users' }, 'Back to users')),
    message,
    quarantined ? notice('This user\'s sync is quarantined: the last run stopped before writing (a first sync waiting for approval, or more changes than the circuit breaker allows). Show the plan, then approve it.', 'warn') : null,
    h('h2', {}, 'Status'), facts, progress, actions, output,
    h('h2', {}, 'Recent errors'), errorList(status),
    isStaff() ? h('h2', {}, 'Details') : null, isStaff() ? form : null);
}

async function showPlan(path, output, quarantined, reload) {
  try {
    const plan = await api('GET', `${path}/plan`);
    const items = plan.operations.length
      ? h('ol', {}, plan.operations.map((line) => h('li', {}, line)))
      : h('p', {}, 'Nothing to do.');
    const parts = [h('h3', {}, 'Plan of the next sync'), h('p', {}, `${plan.outcome}: ${plan.summary || plan.reason || ''}`), items];
    if (plan.quarantine_reason || quarantined) {
      const approve = h('button', { type: 'button' }, 'Approve this plan');
      approve.addEventListener('click', () => busy(approve, async () => {
        try {
          await api('POST', `${path}/approve`);
          announce('Approved; the sync runs now');
          output.replaceChildren(notice('Approved. The sync runs now.'));
          setTimeout(reload, 1500);
        } catch (error) { output.replaceChildren(errorNotice(error)); }
      }));
      parts.splice(1, 0, notice(`Quarantined: ${plan.quarantine_reason || 'the last run stopped before writing and waits for approval'}`, 'warn'));
      parts.push(approve);
    }
    output.replaceChildren(h('section', {}, parts));
  } catch (error) { output.replaceChildren(errorNotice(error)); }
}
