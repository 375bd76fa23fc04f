// Sync settings (R12): the organisation layer of each setting; empty means the configuration
// file or the built-in default applies.
import { api, orgPath } from './api.js';
import { announce, busy, errorNotice, field, h, notice, page } from './ui.js';

const CHOICES = {
  default_direction: ['two-way', 'to-exchange', 'from-exchange'],
  conflict_policy: ['newest-wins', 'host-wins', 'exchange-wins'],
  deleted_in_exchange: ['recreate', 'leave-deleted'],
};
const LABELS = {
  default_direction: 'Default direction',
  conflict_policy: 'Conflict policy',
  first_sync_days: 'First sync looks back (days)',
  deleted_in_exchange: 'Item deleted in Exchange (to-exchange)',
  breaker_share: 'Circuit breaker share (%)',
  breaker_min_items: 'Circuit breaker minimum items',
  first_sync_approval: 'First sync waits for approval',
  send_meeting_requests: 'Send meeting requests (Exchange Online only)',
  users_choose_direction: 'Users choose their own direction (My profile)',
};

const FLAGS = ['first_sync_approval', 'send_meeting_requests', 'users_choose_direction'];

export async function renderSettings(main) {
  const settings = await api('GET', orgPath('/settings'));
  const sources = settings.sources || {};
  const effective = settings.effective || {};
  const status = h('div');
  const controls = {};
  const fields = Object.keys(LABELS).filter((k) => k in settings).map((key) => {
    const value = settings[key];
    let control;
    if (CHOICES[key] || typeof value === 'boolean' || FLAGS.includes(key)) {
      const options = CHOICES[key] || ['true', 'false'];
      control = h('select', { name: key }, h('option', { value: '' }, 'Not set here (file or built-in)'),
        options.map((o) => h('option', { value: o, selected: value !== null && String(value) === o }, o)));
    } else {
      control = h('input', { name: key, type: 'number', inputmode: 'numeric', value: value === null ? '' : String(value) });
    }
    controls[key] = control;
    const source = sources[key]
      ? `In effect: ${effective[key]} (from ${sources[key]}).`
      : (value === null ? 'Not set by the organisation: the configuration file or the built-in default applies.' : 'Set by the organisation.');
    return field(LABELS[key], control, source);
  });
  const save = h('button', { type: 'submit' }, 'Save settings');
  const form = h('form', { novalidate: true }, fields, save);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    for (const [key, control] of Object.entries(controls)) {
      const text = control.value.trim();
      if (text === '') body[key] = null;
      else if (control.type === 'number') body[key] = Number(text);
      else if (text === 'true' || text === 'false') body[key] = text === 'true';
      else body[key] = text;
    }
    await busy(save, async () => {
      try {
        await api('PUT', orgPath('/settings'), body);
        announce('Settings saved');
        status.replaceChildren(notice('Settings saved. They apply at the next sync.'));
      } catch (error) { status.replaceChildren(errorNotice(error)); }
    });
  });
  page(main, 'Sync settings', status, form);
}
