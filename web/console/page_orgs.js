// Organisations (operator): list, create, open, suspend or resume, delete with confirmation.
import { api, chooseOrg, currentOrg } from './api.js';
import { announce, busy, errorNotice, field, h, notice, page, when } from './ui.js';

export async function renderOrganisations(main, context) {
  const status = h('div');
  const tableHolder = h('div');

  const id = h('input', { name: 'id', required: true, pattern: '[a-z0-9][a-z0-9-]*', autocomplete: 'off' });
  const name = h('input', { name: 'name', autocomplete: 'off' });
  const idField = field('Organisation id', id, 'Lower-case letters, digits and hyphens, e.g. contoso.');
  const create = h('button', { type: 'submit' }, 'Create organisation');
  const form = h('form', { novalidate: true }, h('div', { class: 'row' }, idField, field('Name', name)), create);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    idField.showError('');
    if (!id.value.trim()) { idField.showError('Enter an id.'); id.focus(); return; }
    await busy(create, async () => {
      try {
        await api('POST', '/api/v1/organisations', { id: id.value.trim(), name: name.value.trim() });
        announce(`Organisation ${id.value.trim()} created`);
        status.replaceChildren(notice(`Organisation ${id.value.trim()} created.`));
        id.value = '';
        name.value = '';
        await load();
      } catch (error) {
        idField.showError(error.message);
        id.focus();
      }
    });
  });

  const dialog = deleteDialog(async () => { await load(); });

  async function load() {
    const { organisations } = await api('GET', '/api/v1/organisations');
    const rows = organisations.map((org) => {
      const open = h('button', { type: 'button', class: 'secondary', 'aria-label': `Open ${org.id}` }, 'Open');
      open.addEventListener('click', () => {
        chooseOrg(org.id);
        context.refreshChrome();
        announce(`Working in organisation ${org.id}`);
        location.hash = '#/users';
      });
      const suspended = org.state === 'suspended';
      const toggle = h('button', { type: 'button', class: 'secondary', 'aria-label': `${suspended ? 'Resume' : 'Suspend'} ${org.id}` },
        suspended ? 'Resume' : 'Suspend');
      toggle.addEventListener('click', () => busy(toggle, async () => {
        try {
          await api('PATCH', `/api/v1/organisations/${encodeURIComponent(org.id)}`, { state: suspended ? 'active' : 'suspended' });
          announce(`Organisation ${org.id} ${suspended ? 'resumed' : 'suspended'}`);
          await load();
        } catch (error) { status.replaceChildren(errorNotice(error)); }
      }));
      const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${org.id}` }, 'Delete');
      remove.addEventListener('click', () => dialog.ask(org.id, remove));
      return h('tr', {},
        h('th', { scope: 'row' }, org.id, currentOrg() === org.id ? ' (open)' : ''),
        h('td', {}, org.name || '—'),
        h('td', {}, org.state),
        h('td', {}, when(org.created_at)),
        h('td', {}, h('div', { class: 'row' }, open, toggle, org.id === 'default' ? null : remove)));
    });
    tableHolder.replaceChildren(h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', {}, `${organisations.length} organisation${organisations.length === 1 ? '' : 's'}`),
      h('thead', {}, h('tr', {}, ['Id', 'Name', 'State', 'Created', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))));
  }

  page(main, 'Organisations', status, tableHolder, h('h2', {}, 'New organisation'), form, dialog.element);
  await load();
}

/// Deleting removes the organisation's agenda: the operator types its id to confirm.
function deleteDialog(onDeleted) {
  const confirmInput = h('input', { autocomplete: 'off', name: 'confirm' });
  const confirmField = field('Type the organisation id to confirm', confirmInput);
  const offboard = h('input', { type: 'checkbox', name: 'offboard' });
  const go = h('button', { type: 'submit', class: 'danger' }, 'Delete for good');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const text = h('p');
  const heading = h('h2', { id: 'delete-title' }, 'Delete organisation');
  const form = h('form', { method: 'dialog', novalidate: true }, heading, text, confirmField,
    field('First remove what the sync created in its mailboxes (offboarding)', offboard),
    h('div', { class: 'row' }, go, cancel));
  const element = h('dialog', { 'aria-labelledby': 'delete-title' }, form);
  let target = null;
  let opener = null;
  cancel.addEventListener('click', () => element.close());
  element.addEventListener('close', () => { if (opener) opener.focus(); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (confirmInput.value !== target) {
      confirmField.showError(`Type ${target} exactly.`);
      confirmInput.focus();
      return;
    }
    await busy(go, async () => {
      try {
        const query = `confirm=${encodeURIComponent(target)}${offboard.checked ? '&offboard=true' : ''}`;
        await api('DELETE', `/api/v1/organisations/${encodeURIComponent(target)}?${query}`);
        announce(`Organisation ${target} deleted`);
        if (sessionStorage.getItem('agendasync.org') === target) sessionStorage.removeItem('agendasync.org');
        opener = null;
        element.close();
        await onDeleted();
      } catch (error) { confirmField.showError(error.message); }
    });
  });
  return {
    element,
    ask(id, button) {
      target = id;
      opener = button;
      text.textContent = `Deleting ${id} deletes its agenda, users and tokens. This cannot be undone.`;
      confirmInput.value = '';
      offboard.checked = false;
      confirmField.showError('');
      element.showModal();
      confirmInput.focus();
    },
  };
}
