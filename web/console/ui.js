// Small DOM helpers: every text goes in through textContent (never parsed as HTML), so nothing a
// server or user wrote can run as markup.

let nextId = 0;

/// h('button', {class: 'x', onclick: fn}, 'text', child...)
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function uid(prefix) { nextId += 1; return `${prefix}-${nextId}`; }

/// A labelled control with an optional hint and error line, wired by aria-describedby.
export function field(labelText, control, hintText) {
  const id = control.id || uid('f');
  control.id = id;
  const hint = hintText ? h('p', { class: 'hint', id: `${id}-hint` }, hintText) : null;
  const error = h('p', { class: 'error-text', id: `${id}-error`, hidden: true });
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  const inline = control.type === 'checkbox';
  const label = h('label', { for: id }, labelText);
  const box = h('div', { class: inline ? 'field inline' : 'field' }, inline ? [control, label] : [label, control], hint, error);
  box.showError = (message) => {
    error.textContent = message || '';
    error.hidden = !message;
    if (message) control.setAttribute('aria-invalid', 'true'); else control.removeAttribute('aria-invalid');
  };
  return box;
}

export function announce(text) {
  const region = document.getElementById('announce');
  region.textContent = '';
  // A fresh text node makes screen readers read it even when it repeats.
  setTimeout(() => { region.textContent = text; }, 30);
}

export function notice(text, kind) {
  return h('div', { class: kind ? `notice ${kind}` : 'notice', role: kind === 'bad' ? 'alert' : 'status' }, text);
}

export function errorNotice(error) {
  const problem = error && error.problem;
  const title = problem && problem.title ? `${problem.title}: ` : '';
  return notice(`${title}${error.message}`, 'bad');
}

export function when(unix) {
  if (unix === null || unix === undefined) return 'never';
  return new Date(unix * 1000).toLocaleString();
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/// Replaces the page's content, sets the title and moves focus to the heading, so keyboard and
/// screen-reader users land on the new page.
export function page(main, title, ...content) {
  document.title = `${title} · AgendaSync`;
  const heading = h('h1', { tabindex: '-1' }, title);
  main.replaceChildren(heading, ...content);
  heading.focus();
  return heading;
}

/// Runs `action` with `button` disabled and a busy state.
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try { return await action(); } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
