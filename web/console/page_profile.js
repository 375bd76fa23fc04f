// My profile (signed in with a user token or a login link): the user's own sync switch (R11:
// only they turn it on), their overrides and their status.
import { api, currentSession, orgPath } from './api.js';
import { announce, busy, errorNotice, field, h, notice, page } from './ui.js';
import { errorList, progressBlock, statusFacts } from './page_user.js';

export async function renderProfile(main) {
  const me = currentSession().user_name;
  const path = orgPath(`/users/${encodeURIComponent(me)}`);
  const [user, status] = await Promise.all([api('GET', path), api('GET', `${path}/status`)]);
  const message = h('div');
  let facts = statusFacts(status, user);
  const progress = progressBlock(`${path}/status`, status, (now) => {
    const fresh = statusFacts(now, { ...user, sync_enabled: now.sync_enabled, blocked: now.blocked });
    facts.replaceWith(fresh);
    facts = fresh;
  });
  const toggle = h('input', { type: 'checkbox', role: 'switch', name: 'sync_enabled', checked: user.sync_enabled, disabled: user.blocked });
  toggle.addEventListener('change', () => busy(toggle, async () => {
    const enabled = toggle.checked;
    try {
      await api('PUT', `${path}/sync`, { enabled });
      announce(enabled ? 'Calendar synchronisation on' : 'Calendar synchronisation off');
      message.replaceChildren(notice(enabled ? 'Calendar synchronisation is on. The first sync starts now.' : 'Calendar synchronisation is off.'));
      if (enabled) progress.refresh();
    } catch (error) {
      toggle.checked = !enabled;
      message.replaceChildren(errorNotice(error));
    }
  }));
  page(main, 'My profile',
    h('p', {}, `${user.display_name || user.user_name} · ${user.mailbox || 'no mailbox'}`),
    h('h2', {}, 'Calendar synchronisation'),
    field('Synchronise my agenda with my Exchange calendar', toggle,
      user.blocked ? 'Your account is blocked from synchronisation; ask your administrator.' : 'Only you can turn this on.'),
    message,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Direction'), h('dd', {}, user.direction || 'organisation default'),
      h('dt', {}, 'Conflicts'), h('dd', {}, user.conflict_policy || 'organisation default')),
    h('h2', {}, 'Status'), facts, progress,
    h('h2', {}, 'Recent errors'), errorList(status));
}
