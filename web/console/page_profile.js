// My profile (signed in with a user token or a login link): the user's own sync switch (R11:
// only they turn it on), their direction (R19: their own choice where the organisation allows
// it, users_choose_direction), their status.
import { api, currentSession, orgPath } from './api.js';
import { announce, busy, errorNotice, field, h, notice, page } from './ui.js';
import { errorList, progressBlock, statusFacts } from './page_user.js';

export async function renderProfile(main) {
  const me = currentSession().user_name;
  const path = orgPath(`/users/${encodeURIComponent(me)}`);
  const [user, status, direction] = await Promise.all([
    api('GET', path), api('GET', `${path}/status`), api('GET', `${path}/direction`)]);
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
    h('h2', {}, 'Direction'),
    directionBlock(path, direction),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Conflicts'), h('dd', {}, user.conflict_policy || 'organisation default')),
    h('h2', {}, 'Status'), facts, progress,
    h('h2', {}, 'Recent errors'), errorList(status));
}

const DIRECTION_WORDS = {
  'two-way': 'Both ways',
  'to-exchange': 'From my agenda to Exchange only',
  'from-exchange': 'From Exchange to my agenda only',
};
const words = (direction) => `${DIRECTION_WORDS[direction] || direction} (${direction})`;

/// The user's direction: a choice saved on its own where the organisation lets users choose,
/// else what applies and who decides it.
function directionBlock(path, shown) {
  if (!shown.user_may_choose) {
    const who = shown.source === 'user' ? 'set for you by your administrator' : 'your organisation\'s default';
    return h('p', { id: 'my-direction' }, `${words(shown.effective)}: ${who}. Only your administrator can change it.`);
  }
  const select = h('select', { name: 'direction' },
    h('option', { value: '', selected: shown.direction === null }, `Organisation default: ${words(shown.organisation_default)}`),
    shown.choices.map((c) => h('option', { value: c, selected: shown.direction === c }, words(c))));
  const status = h('div');
  const save = h('button', { type: 'submit' }, 'Save direction');
  const form = h('form', { novalidate: true },
    field('My sync direction', select, 'Which way changes travel between your agenda and your Exchange calendar.'), save, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(save, async () => {
      try {
        const saved = await api('PUT', `${path}/direction`, { direction: select.value || null });
        announce('Direction saved');
        status.replaceChildren(notice(`Direction saved: ${words(saved.effective)}${saved.direction === null ? ' (organisation default)' : ''}. It applies from the next sync.`));
      } catch (error) { status.replaceChildren(errorNotice(error)); }
    });
  });
  return form;
}
