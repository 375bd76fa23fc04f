// Item audit (R32): an appointment's history — which side changed what, by which rule, in
// which run.
import { api, orgPath } from './api.js';
import { busy, errorNotice, field, h, page } from './ui.js';

export async function renderAudit(main) {
  const id = h('input', { name: 'appointment_id', autocomplete: 'off', inputmode: 'numeric' });
  const idField = field('Appointment id', id, 'The id in the host application (GET /api/v1/appointments lists them).');
  const find = h('button', { type: 'submit' }, 'Show history');
  const results = h('div', { 'aria-live': 'polite' });
  const form = h('form', { role: 'search', novalidate: true }, idField, find);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!id.value.trim()) { idField.showError('Enter an id.'); id.focus(); return; }
    idField.showError('');
    await busy(find, async () => {
      try {
        const key = encodeURIComponent(id.value.trim());
        const [item, trail] = await Promise.all([api('GET', orgPath(`/appointments/${key}`)), api('GET', orgPath(`/appointments/${key}/audit`))]);
        const rows = trail.audit.map((r) => h('tr', {},
          h('td', {}, r.at), h('td', {}, r.side), h('td', {}, r.operation), h('td', {}, r.rule),
          h('td', {}, r.changes.map((c) => h('div', {}, `${c.field}: ${c.before} → ${c.after}`))), h('td', {}, r.run_id)));
        results.replaceChildren(h('h2', {}, `${item.subject || '(no subject)'}`), h('div', { class: 'table-wrap' }, h('table', {},
          h('caption', {}, `${trail.audit.length} record(s)`),
          h('thead', {}, h('tr', {}, ['When', 'Side changed', 'Operation', 'Rule', 'Fields', 'Run'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6 }, 'No sync has touched this item yet.'))))));
      } catch (error) { results.replaceChildren(errorNotice(error)); }
    });
  });
  page(main, 'Item audit', form, results);
}
