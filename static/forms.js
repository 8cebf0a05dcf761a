// forms.js puts each message about a form field next to that field.
//
// The server marks such a message, in a page or in an htmx answer, as
//   <div class="field-error" data-field="NAME" [data-form="ID"]>
//     <b class="field-label">NAME</b>: <span class="field-text">what is wrong</span></div>
// This script moves it into the label of the control named NAME in form[data-form=ID]
// (without data-form: the form whose request brought the answer), writes the label's
// visible text instead of NAME (a control without a <label>, such as a box in a table
// column, names it in data-label), and links message and control: the control gets
// aria-invalid="true" and aria-describedby=the message's id; the message gets
// data-error-for=NAME. Every answer to a form first clears that form's marks, so a
// field that is right again loses its mark. A message naming no control of the form
// stays where the server put it, with its NAME.
(() => {
  'use strict';

  const PLACED = 'data-placed';

  // The label's own words, without what its controls or messages hold.
  function labelText(control) {
    // A checkbox in a table column is labelled by its column: data-label.
    if (control.dataset.label) return control.dataset.label;
    const label = control.labels && control.labels[0];
    if (!label) return control.getAttribute('aria-label') || control.name;
    let s = '';
    for (const n of label.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) s += n.textContent;
    }
    return s.replace(/\s+/g, ' ').trim() || control.getAttribute('aria-label') || control.name;
  }

  function controlOf(form, name) {
    for (const el of form.elements) {
      if (el.name === name && el.type !== 'hidden') return el;
    }
    return null;
  }

  function describedBy(control, id, on) {
    const ids = (control.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== id);
    if (on) ids.push(id);
    if (ids.length) control.setAttribute('aria-describedby', ids.join(' '));
    else control.removeAttribute('aria-describedby');
  }

  function clear(form) {
    for (const msg of form.querySelectorAll('.field-error[' + PLACED + ']')) {
      const control = controlOf(form, msg.dataset.field);
      if (control) {
        control.removeAttribute('aria-invalid');
        describedBy(control, msg.id, false);
      }
      msg.remove();
    }
  }

  function place(msg, form) {
    msg.setAttribute(PLACED, '');
    const name = msg.dataset.field;
    const control = form && controlOf(form, name);
    if (!control) {
      msg.setAttribute(PLACED, 'nowhere');
      return;
    }
    const id = 'error-' + (form.dataset.form || 'form') + '-' + name;
    const old = document.getElementById(id);
    if (old && old !== msg) old.remove();
    msg.id = id;
    msg.dataset.errorFor = name;
    msg.classList.remove('banner', 'error');
    const label = msg.querySelector('.field-label');
    if (label) label.textContent = labelText(control);
    // Inside the label the message sits under its control; aria-hidden keeps it
    // out of the control's name, aria-describedby still reads it out.
    msg.setAttribute('aria-hidden', 'true');
    msg.removeAttribute('role');
    const where = control.closest('label');
    if (where) where.append(msg);
    else control.after(msg);
    control.setAttribute('aria-invalid', 'true');
    describedBy(control, id, true);
  }

  // placeAll places the messages not placed yet; those without data-form go to
  // fallback, the form of the request that brought them.
  function placeAll(fallback) {
    const msgs = [...document.querySelectorAll('.field-error[data-field]:not([' + PLACED + '])')];
    const forms = new Set();
    for (const msg of msgs) {
      const form = msg.dataset.form ? document.querySelector('form[data-form="' + CSS.escape(msg.dataset.form) + '"]') : fallback;
      if (form && !forms.has(form)) {
        clear(form);
        forms.add(form);
      }
      place(msg, form);
    }
  }

  document.addEventListener('htmx:afterSettle', (e) => {
    const d = e.detail || {};
    const elt = (d.requestConfig && d.requestConfig.elt) || d.elt;
    const form = elt && elt.closest ? elt.closest('form[data-form]') : null;
    if (form) clear(form);
    placeAll(form);
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => placeAll(null));
  } else {
    placeAll(null);
  }
})();
