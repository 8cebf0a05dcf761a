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

  // ------------------------------------------------ fields of the chosen action
  //
  // A field's label (or an option) with data-when="NAME=V1,V2" shows only
  // while the form's control NAME has one of those values ("*": any
  // non-empty value). Hidden fields are not sent: an MTU typed before
  // choosing "down" must not travel with it.

  function whenOK(form, spec) {
    const i = spec.indexOf('=');
    const ctl = form.elements[spec.slice(0, i)];
    const v = ctl ? ctl.value || '' : '';
    const want = spec.slice(i + 1).split(',');
    return want.includes('*') ? v !== '' : want.includes(v);
  }

  function syncWhen(form) {
    // Options first: hiding the chosen option moves the select to the first one shown.
    for (const opt of form.querySelectorAll('option[data-when]')) {
      opt.hidden = opt.disabled = !whenOK(form, opt.dataset.when);
      if (opt.hidden && opt.selected) {
        const first = [...opt.parentElement.options].find((o) => !o.hidden);
        if (first) first.selected = true;
      }
    }
    for (const el of form.querySelectorAll('[data-when]:not(option)')) el.hidden = !whenOK(form, el.dataset.when);
  }

  function syncAllWhen() {
    for (const form of document.querySelectorAll('form')) if (form.querySelector('[data-when]')) syncWhen(form);
  }

  document.addEventListener('change', (e) => { if (e.target.form) syncWhen(e.target.form); });
  document.addEventListener('input', (e) => { if (e.target.form) syncWhen(e.target.form); });
  document.addEventListener('htmx:configRequest', (e) => {
    const d = e.detail || {};
    const form = d.elt && d.elt.closest ? d.elt.closest('form') : null;
    if (!form || !d.parameters) return;
    syncWhen(form);
    for (const el of form.querySelectorAll('[data-when][hidden]:not(option)')) {
      for (const c of el.querySelectorAll('[name]')) delete d.parameters[c.name];
    }
  });

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
    // A control the chosen action hides (data-when) is no place for a
    // message: it stays where the server put it, under the field's label.
    if (!control || control.closest('[data-when][hidden]')) {
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
    syncAllWhen();
    // After Apply (not a preview while typing), the first bad field gets
    // the focus, so a keyboard user lands where the fix goes.
    if (form && elt.matches && elt.matches('[type=submit]')) {
      const bad = form.querySelector('[aria-invalid="true"]');
      if (bad) bad.focus();
    }
  });

  function start() {
    syncAllWhen();
    placeAll(null);
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }

  // ------------------------------------------------ Apply: armed, disarmed, offline
  //
  // A change applied is not applied twice by a second click: its Apply is
  // disarmed until a field of its form changes. While the live connection
  // is down (live.js says so with netpanel:connection), every button that
  // posts is off, and a request that gets no answer says so where its
  // answer would have gone: never nothing.

  const APPLIED = ['applied', 'pending', 'confirmed'];
  let offline = false;

  const posting = (form) => form.matches('[hx-post], [method=post i]') || !!form.querySelector('[hx-post]');

  function syncButton(btn) {
    const off = offline && btn.dataset.offline !== undefined;
    btn.disabled = off || btn.dataset.disarmed !== undefined;
  }

  function setOffline(on) {
    if (on === offline) return;
    offline = on;
    for (const form of document.querySelectorAll('form')) {
      if (!posting(form) || form.dataset.form === 'logout') continue;
      for (const btn of form.querySelectorAll('button[type=submit], button:not([type])')) {
        if (on) btn.dataset.offline = '';
        syncButton(btn);
        if (!on) delete btn.dataset.offline;
      }
    }
  }

  document.addEventListener('netpanel:connection', (e) => {
    const st = e.detail && e.detail.state;
    setOffline(st === 'reconnecting' || st === 'ended');
  });

  function disarm(btn) {
    btn.dataset.disarmed = '';
    syncButton(btn);
    if (!btn.nextElementSibling || !btn.nextElementSibling.matches('.apply-hint')) {
      const hint = document.createElement('span');
      hint.className = 'apply-hint muted';
      hint.textContent = 'Applied. Change a field to apply again.';
      btn.after(hint);
    }
  }

  function rearm(form) {
    for (const btn of form.querySelectorAll('[data-disarmed]')) {
      delete btn.dataset.disarmed;
      syncButton(btn);
      if (btn.nextElementSibling && btn.nextElementSibling.matches('.apply-hint')) btn.nextElementSibling.remove();
    }
  }

  document.addEventListener('htmx:afterSettle', (e) => {
    const d = e.detail || {};
    const elt = (d.requestConfig && d.requestConfig.elt) || d.elt;
    if (!elt || !elt.matches || !elt.matches('form.change-form [type=submit]')) return;
    const out = d.target && d.target.querySelector('[data-testid=outcome]');
    if (out && APPLIED.includes(out.dataset.state)) disarm(elt);
  });
  for (const name of ['input', 'change']) {
    document.addEventListener(name, (e) => { if (e.target.form) rearm(e.target.form); });
  }

  // resultOf is where a form's answers go: its hx-target, else after it.
  function resultOf(form, elt) {
    const sel = (elt && elt.getAttribute('hx-target')) || form.getAttribute('hx-target');
    let el = null;
    if (sel && sel.startsWith('#')) el = document.getElementById(sel.slice(1));
    if (!el) {
      el = form.nextElementSibling && form.nextElementSibling.matches('.request-error') ? form.nextElementSibling : null;
      if (!el) {
        el = document.createElement('div');
        el.className = 'request-error';
        form.after(el);
      }
    }
    return el;
  }

  // say puts an error over a form's answers, keeping them (a pending
  // change's "Keep" button must survive a lost connection).
  function say(form, elt, text) {
    const el = resultOf(form, elt);
    const msg = document.createElement('div');
    msg.className = 'banner error';
    msg.setAttribute('role', 'alert');
    msg.dataset.testid = 'request-error';
    msg.textContent = text;
    const old = el.querySelector(':scope > [data-testid=request-error]');
    if (old) old.replaceWith(msg);
    else el.prepend(msg);
  }

  // A form's next answer replaces such an error.
  document.addEventListener('htmx:beforeRequest', (e) => {
    const form = e.detail && e.detail.elt && e.detail.elt.closest && e.detail.elt.closest('form');
    if (!form) return;
    const el = resultOf(form, e.detail.elt);
    for (const m of el.querySelectorAll(':scope > [data-testid=request-error]')) m.remove();
  });

  function failed(e, why) {
    const d = e.detail || {};
    const elt = (d.requestConfig && d.requestConfig.elt) || d.elt;
    const form = elt && elt.closest ? elt.closest('form') : null;
    if (!form) return;
    const verb = ((d.requestConfig && d.requestConfig.verb) || '').toLowerCase();
    if (verb === 'get') return; // filters: the page keeps what it shows, greyed while offline
    say(form, elt, why);
  }

  document.addEventListener('htmx:sendError', (e) => failed(e,
    'No answer from netpanel: the connection is down. The request most likely never arrived; ' +
    'once the page is live again, it shows the kernel\'s state, whatever happened.'));
  document.addEventListener('htmx:responseError', (e) => failed(e,
    'netpanel answered with an error (' + ((e.detail && e.detail.xhr && e.detail.xhr.status) || '?') + '); nothing was changed by this page.'));

  // ------------------------------------------------ announcing results
  //
  // A result swapped in outside an aria-live region (a save's outcome, the
  // reload it did, a refused save) is read to a screen reader from the
  // page's one polite live region: its text only, not the diff around it.
  // Change forms' results are live regions of their own.

  const RESULTS = '[data-testid=saved], [data-testid=reload], [data-testid=error], [data-testid=request-error]';

  function announce(text) {
    const region = document.getElementById('announce');
    if (!region || !text) return;
    region.textContent = '';
    // A region whose text is replaced at once may not be read again.
    setTimeout(() => { region.textContent = text; }, 50);
  }

  document.addEventListener('htmx:afterSettle', (e) => {
    const target = e.detail && e.detail.target;
    if (!target || !target.querySelectorAll || target.closest('[aria-live]')) return;
    const text = [...target.querySelectorAll(RESULTS)].map((el) => el.textContent.replace(/\s+/g, ' ').trim()).join(' ');
    announce(text.slice(0, 500));
  });

  // Enter in a field submits through the form's first button; a disabled
  // one makes the browser do nothing at all, so say why instead (a
  // disarmed Apply says so next to it).
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || !e.target.form || e.target.matches('textarea, button, [type=submit]')) return;
    const form = e.target.form;
    const btn = form.querySelector('[type=submit]');
    if (!btn || !btn.disabled) return;
    e.preventDefault();
    if (btn.dataset.offline !== undefined && offline) {
      say(form, btn, 'Not connected to netpanel: nothing was sent. The page applies nothing until it is live again.');
    }
  });

  // A form htmx swapped in less than a settle ago (20 ms) is not yet
  // bound: a click on its button then would submit it natively, a GET of
  // this page with its fields in the address, and leave the page. htmx
  // stops every submit it has bound, so one that gets here unstopped is
  // bound now and sent again, through htmx: by the button's own request
  // where the button has one.
  const VERBS = '[hx-post], [hx-put], [hx-patch], [hx-delete], [hx-get]';
  document.addEventListener('submit', (e) => {
    const form = e.target;
    const button = e.submitter && e.submitter.matches(VERBS) ? e.submitter : null;
    if (e.defaultPrevented || !(button || form.matches(VERBS))) return;
    e.preventDefault();
    if (form.dataset.rebound !== undefined) return; // bound and still unstopped: never loop
    form.dataset.rebound = '';
    htmx.process(form);
    // After this click's dispatch: a click inside it is ignored.
    setTimeout(() => (button ? button.click() : form.requestSubmit()));
  });
})();
