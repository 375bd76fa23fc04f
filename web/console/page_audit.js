// Item audit (R32): find an appointment by its id or words of its subject, and see its
// history — which side changed what, by which rule, in which run.
import { api, orgPath } from './api.js';
import { busy, errorNotice, field, h, notice, page } from './ui.js';

async function showHistory(results, id) {
  const key = encodeURIComponent(id);
  const [item, trail] = await Promise.all([api('GET', orgPath(`/appointments/${key}`)), api('GET', orgPath(`/appointments/${key}/audit`))]);
  const rows = trail.audit.map((r) => h('tr', {},
    h('td', {}, r.at), h('td', {}, r.side), h('td', {}, r.operation), h('td', {}, r.rule),
    h('td', {}, r.changes.map((c) => h('div', {}, `${c.field}: ${c.before} → ${c.after}`))), h('td', {}, r.run_id)));
  results.replaceChildren(h('h2', {}, `${item.subject || '(no subject)'}`),
    h('p', {}, `Appointment ${item.id}, owner ${item.owner}, ${item.start} – ${item.end}`),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', {}, `${trail.audit.length} record(s)`),
      h('thead', {}, h('tr', {}, ['When', 'Side changed', 'Operation', 'Rule', 'Fields', 'Run'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6 }, 'No sync has touched this item yet.'))))));
}

export async function renderAudit(main) {
  const query = h('input', { name: 'appointment', autocomplete: 'off', type: 'search' });
  const queryField = field('Appointment id or subject', query, 'An id from the host application, or words of the subject.');
  const find = h('button', { type: 'submit' }, 'Find');
  const results = h('div', { 'aria-live': 'polite' });
  const form = h('form', { role: 'search', novalidate: true }, queryField, find);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = query.value.trim();
    if (!text) { queryField.showError('Enter an id or words of the subject.'); query.focus(); return; }
    queryField.showError('');
    await busy(find, async () => {
      try {
        if (/^\d+$/.test(text)) { await showHistory(results, text); return; }
        const { appointments } = await api('GET', `${orgPath('/appointments')}?subject=${encodeURIComponent(text)}`);
        if (!appointments.length) { results.replaceChildren(notice('No appointment has these words in its subject.', 'warn')); return; }
        results.replaceChildren(h('h2', {}, 'Matching appointments'), h('ul', {}, appointments.map((a) => h('li', {},
          h('button', { type: 'button', class: 'secondary', onclick: () => showHistory(results, a.id).catch((error) => results.replaceChildren(errorNotice(error))) },
            `${a.subject} (${a.start}, ${a.owner})`)))));
      } catch (error) { results.replaceChildren(errorNotice(error)); }
    });
  });
  page(main, 'Item audit', form, results);
}
