// Activity types (R16): which sync to Exchange, the default type, "Personal", rename, remove.
import { api, isAdmin, orgPath } from './api.js';
import { announce, busy, errorNotice, field, h, notice, page } from './ui.js';

export async function renderActivityTypes(main) {
  const status = h('div');
  const holder = h('div');
  const admin = isAdmin();

  async function load() {
    const { activity_types: types } = await api('GET', orgPath('/activity-types'));
    const rows = types.map((t) => {
      const url = orgPath(`/activity-types/${encodeURIComponent(t.name)}`);
      const flag = (key, label) => {
        const box = h('input', { type: 'checkbox', checked: t[key], disabled: !admin, 'aria-label': `${label}: ${t.name}` });
        box.addEventListener('change', async () => {
          try {
            await api('PUT', url, { synced: t.synced, is_default: t.is_default, is_personal: t.is_personal, [key]: box.checked });
            announce(`${t.name} saved`);
            await load();
          } catch (error) { box.checked = !box.checked; status.replaceChildren(errorNotice(error)); }
        });
        return box;
      };
      const actions = h('div', { class: 'row' });
      if (admin) {
        const rename = h('button', { type: 'button', class: 'secondary', 'aria-label': `Rename ${t.name}` }, 'Rename');
        rename.addEventListener('click', () => busy(rename, async () => {
          const name = window.prompt(`New name for ${t.name}`, t.name);
          if (!name || name === t.name) return;
          try { await api('PATCH', url, { name }); announce(`Renamed to ${name}`); await load(); } catch (error) { status.replaceChildren(errorNotice(error)); }
        }));
        const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${t.name}` }, 'Remove');
        remove.addEventListener('click', () => busy(remove, async () => {
          if (!window.confirm(`Remove the activity type ${t.name}?`)) return;
          try { await api('DELETE', url); announce(`${t.name} removed`); await load(); } catch (error) { status.replaceChildren(errorNotice(error)); }
        }));
        actions.append(rename, remove);
      }
      return h('tr', {}, h('th', { scope: 'row' }, t.name), h('td', {}, flag('synced', 'Syncs to Exchange')),
        h('td', {}, flag('is_default', 'Default type')), h('td', {}, flag('is_personal', 'Personal')), h('td', {}, actions));
    });
    holder.replaceChildren(h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', {}, 'Appointments of a type that syncs go to Exchange; Outlook items arrive with the default type, private ones with "Personal".'),
      h('thead', {}, h('tr', {}, ['Type', 'Syncs to Exchange', 'Default', 'Personal', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows))));
  }

  let form = null;
  if (admin) {
    const name = h('input', { name: 'type_name', autocomplete: 'off' });
    const synced = h('input', { type: 'checkbox', name: 'synced', checked: true });
    const nameField = field('Name', name);
    const add = h('button', { type: 'submit' }, 'Add type');
    form = h('form', { novalidate: true }, h('div', { class: 'row' }, nameField, field('Syncs to Exchange', synced)), add);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!name.value.trim()) { nameField.showError('Enter a name.'); name.focus(); return; }
      await busy(add, async () => {
        try {
          await api('PUT', orgPath(`/activity-types/${encodeURIComponent(name.value.trim())}`), { synced: synced.checked, is_default: false, is_personal: false });
          announce('Type added'); status.replaceChildren(notice(`Type ${name.value.trim()} added.`));
          name.value = ''; nameField.showError('');
          await load();
        } catch (error) { nameField.showError(error.message); }
      });
    });
  }
  page(main, 'Activity types', status, holder, form ? h('h2', {}, 'Add a type') : null, form);
  await load();
}
