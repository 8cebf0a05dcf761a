// actions.js gives every row of the object tables its actions, where the
// object is: a menu per row (views/rowactions.templ declares the actions
// once per page in <template id="actions-KIND">; a row carries its
// object's form fields in data-fields and a button), a form filled with
// the object (nothing retyped), and a dialog that shows the exact command
// and asks before what it applies at once (a delete, a link going down).
//
// Rows are patched live by key (live.js): nothing here holds a row. An
// action looks its row up by key when it runs, so a row re-rendered
// meanwhile acts with its current fields, and one that is gone says so.
(() => {
  'use strict';

  const byId = (id) => document.getElementById(id);
  const rowSel = (key) => '#rows tr[data-key="' + CSS.escape(key) + '"]';

  // ---------------------------------------------------------------- status

  // One polite live region says what an action did to the page (a form
  // filled, a menu item missing); outcomes announce themselves (forms).
  function announce(text) {
    let el = byId('actions-status');
    if (!el) {
      el = document.createElement('div');
      el.id = 'actions-status';
      el.className = 'sr-only';
      el.setAttribute('role', 'status');
      document.body.append(el);
    }
    el.textContent = '';
    setTimeout(() => { el.textContent = text; }, 50); // a change of text is what gets read
  }

  // ---------------------------------------------------------------- menu

  let open = null; // {menu, kind, key, fields, what, btn}

  function touch(el) { if (window.netpanelLive && window.netpanelLive.touch) window.netpanelLive.touch(el); }

  function setExpanded(btn, on) {
    if (!btn || !btn.isConnected) return;
    touch(btn); // the row still compares equal to the server's (live.js)
    btn.setAttribute('aria-expanded', String(on));
  }

  function closeMenu(refocus) {
    if (!open) return;
    const o = open;
    open = null;
    o.menu.remove();
    const btn = currentButton(o);
    setExpanded(btn, false);
    if (refocus && btn) btn.focus();
  }

  // currentButton is the menu button of o's row as the page shows it now.
  function currentButton(o) {
    if (o.btn.isConnected) return o.btn;
    const row = o.key && document.querySelector(rowSel(o.key));
    return row ? row.querySelector('.row-menu-btn') : null;
  }

  function items(menu) { return [...menu.querySelectorAll('[role=menuitem]')].filter((b) => !b.hidden); }

  function openMenu(btn) {
    const kind = btn.dataset.menu;
    const tpl = byId('actions-' + kind);
    const row = btn.closest('tr[data-key]');
    if (!tpl || !row) return;
    closeMenu(false);
    const menu = tpl.content.firstElementChild.cloneNode(true);
    menu.id = 'row-menu-open';
    menu.setAttribute('aria-label', btn.getAttribute('aria-label') || 'Actions');
    for (const it of menu.querySelectorAll('[data-state]')) it.hidden = it.dataset.state !== row.dataset.state;
    document.body.append(menu);
    const r = btn.getBoundingClientRect();
    const left = Math.max(4, Math.min(r.right - menu.offsetWidth, document.documentElement.clientWidth - menu.offsetWidth - 4));
    menu.style.left = (left + window.scrollX) + 'px';
    menu.style.top = (r.bottom + window.scrollY + 2) + 'px';
    open = { menu, kind, key: row.dataset.key, btn, what: (btn.getAttribute('aria-label') || '').replace(/^Actions for /, '') };
    setExpanded(btn, true);
    const first = items(menu)[0];
    if (first) first.focus();
  }

  function moveFocus(menu, delta) {
    const list = items(menu);
    const i = list.indexOf(document.activeElement);
    const next = delta === 'first' ? 0 : delta === 'last' ? list.length - 1 : (i + delta + list.length) % list.length;
    if (list[next]) list[next].focus();
  }

  document.addEventListener('click', (e) => {
    const t = e.target.closest ? e.target : e.target.parentElement;
    if (!t) return;
    const item = t.closest('#row-menu-open [role=menuitem]');
    if (item) {
      const o = open;
      closeMenu(false);
      run(item, fieldsOfRow(o.key), o.key, o.what, currentButton(o));
      return;
    }
    const btn = t.closest('.row-menu-btn');
    if (btn) {
      if (open && open.btn === btn) closeMenu(true);
      else openMenu(btn);
      return;
    }
    // A one-action button (an address's delete) runs its action directly.
    const direct = t.closest('button[data-action][data-menu]:not([role])');
    if (direct) {
      const item = actionItem(direct.dataset.menu, direct.dataset.action);
      const what = (direct.getAttribute('aria-label') || '').replace(/^Delete /, '');
      if (item) run(item, new URLSearchParams(direct.dataset.fields || ''), '', what, direct);
      return;
    }
    if (open && !t.closest('#row-menu-open')) closeMenu(false);
  });

  document.addEventListener('keydown', (e) => {
    if (!open || !open.menu.contains(document.activeElement)) return;
    switch (e.key) {
      case 'ArrowDown': e.preventDefault(); moveFocus(open.menu, 1); break;
      case 'ArrowUp': e.preventDefault(); moveFocus(open.menu, -1); break;
      case 'Home': e.preventDefault(); moveFocus(open.menu, 'first'); break;
      case 'End': e.preventDefault(); moveFocus(open.menu, 'last'); break;
      case 'Escape': e.preventDefault(); closeMenu(true); break;
      case 'Tab': closeMenu(true); break;
    }
  });

  window.addEventListener('resize', () => closeMenu(false));

  // actionItem is the menu item that declares action id of kind.
  function actionItem(kind, id) {
    const tpl = byId('actions-' + kind);
    return (tpl && tpl.content.querySelector('[data-action="' + CSS.escape(id) + '"]')) || null;
  }

  function fieldsOfRow(key) {
    const row = key && document.querySelector(rowSel(key));
    return row ? new URLSearchParams(row.dataset.fields || '') : null;
  }

  // ---------------------------------------------------------------- running an action

  // run performs the action a menu item declares on the fields of a row
  // (key, "" for an address); what names the object in words, from is the
  // button that asked.
  function run(item, rowFields, key, what, from) {
    const def = item.dataset;
    const words = item.textContent.trim().replace(/…$/, '');
    if (!rowFields) {
      announce(what + ' is gone: the kernel removed it meanwhile.');
      return;
    }
    const fields = new URLSearchParams(rowFields);
    for (const r of (def.rename || '').split(' ').filter(Boolean)) {
      const [to, src] = r.split('=');
      fields.set(to, rowFields.get(src) || '');
    }
    for (const d of (def.drop || '').split(' ').filter(Boolean)) fields.delete(d);
    for (const [k, v] of new URLSearchParams(def.set || '')) fields.set(k, v);
    if (def.formId) fillForm(def, fields, rowFields, key, what);
    else ask(def, words, item.classList.contains('danger'), fields, what, from);
  }

  // ---------------------------------------------------------------- forms

  let filling = false; // fillForm is resetting a form

  function fillForm(def, fields, rowFields, key, what) {
    const form = document.querySelector('form[data-form="' + CSS.escape(def.formId) + '"]');
    if (!form) return;
    const details = form.closest('details');
    if (details) details.open = true;
    filling = true;
    try { form.reset(); } finally { filling = false; }
    for (const el of form.querySelectorAll('.prefill-extra')) el.remove();
    const extras = document.createElement('div');
    extras.className = 'prefill-extra';
    extras.hidden = true;
    const seen = new Set();
    for (const [k, v] of fields) {
      const ctl = seen.has(k) ? null : control(form, k);
      seen.add(k);
      if (ctl && setControl(ctl, v)) continue;
      const h = document.createElement('input');
      h.type = 'hidden';
      h.name = k;
      h.value = v;
      extras.append(h);
    }
    if (extras.childElementCount) form.prepend(extras);
    setReplacing(form, def.replace !== undefined ? rowFields.toString() : '', key);
    const action = form.elements.action;
    // The change event shows the action's fields (forms.js), re-arms
    // Apply and asks for the preview of the command (htmx).
    (action && action.tagName === 'SELECT' ? action : form.elements[0]).dispatchEvent(new Event('change', { bubbles: true }));
    const focus = def.focus && control(form, def.focus);
    form.scrollIntoView({ block: 'center' });
    if (focus) {
      focus.focus({ preventScroll: true });
      if (focus.select && focus.type === 'text') focus.select();
    }
    announce((details ? details.querySelector('summary').textContent.trim() : 'The form') + ': filled in for ' + what + '.');
  }

  function control(form, name) {
    for (const el of form.elements) if (el.name === name && el.type !== 'hidden') return el;
    return null;
  }

  // setControl puts v in ctl; false when ctl cannot hold it (a choice
  // without that value), which then travels hidden as it is.
  function setControl(ctl, v) {
    if (ctl.type === 'checkbox') { ctl.checked = v === 'on'; return true; }
    if (ctl.tagName === 'SELECT') {
      if (![...ctl.options].some((o) => o.value === v)) return false;
      ctl.value = v;
      return true;
    }
    ctl.value = v;
    return true;
  }

  // setReplacing fills a form's "old" with the object a Replace works on,
  // and shows it.
  function setReplacing(form, old, key) {
    const input = form.querySelector('input[type=hidden][name=old]');
    const note = form.querySelector('.replacing');
    if (!input) return;
    input.value = old;
    if (!note) return;
    note.hidden = !old;
    const row = old && key && document.querySelector(rowSel(key));
    const line = note.querySelector('.replacing-line');
    if (line) line.textContent = row ? (row.title || row.textContent.replace(/\s+/g, ' ').trim()) : '';
  }

  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('[data-clear-old]');
    if (!b || !b.form) return;
    setReplacing(b.form, '', '');
    const action = b.form.elements.action;
    if (action && action.value === 'replace') action.value = 'add';
    (action || b).dispatchEvent(new Event('change', { bubbles: true }));
    announce('The form now adds instead of replacing.');
  });

  // A form reset by the admin forgets what it replaced and what it
  // carried (fillForm's own reset does not: it fills them after).
  document.addEventListener('reset', (e) => {
    if (filling || !e.target.matches || !e.target.matches('form')) return;
    for (const el of e.target.querySelectorAll('.prefill-extra')) el.remove();
    setTimeout(() => setReplacing(e.target, '', ''), 0);
  });

  // ---------------------------------------------------------------- the dialog

  let askedFrom = null; // {btn, key} to give the focus back to

  function ask(def, words, danger, fields, what, from) {
    const dialog = byId('row-dialog');
    if (!dialog) return;
    const form = dialog.querySelector('form');
    dialog.querySelector('#row-dialog-title').textContent = words + ' ' + what + '?';
    form.elements.kind.value = def.kind;
    const box = form.querySelector('.row-fields');
    box.replaceChildren();
    for (const [k, v] of fields) {
      const h = document.createElement('input');
      h.type = 'hidden';
      h.name = k;
      h.value = v;
      box.append(h);
    }
    byId('preview-row-action').replaceChildren();
    byId('result-row-action').replaceChildren();
    const apply = form.querySelector('[type=submit]');
    apply.textContent = words;
    apply.dataset.action = def.action;
    apply.classList.toggle('danger', danger);
    apply.dispatchEvent(new Event('input', { bubbles: true })); // re-arms it after an earlier apply (forms.js)
    form.querySelector('[data-close]').textContent = 'Cancel';
    const row = from && from.closest('tr[data-key]');
    askedFrom = { btn: from, key: row ? row.dataset.key : '' };
    if (!dialog.open) dialog.showModal();
    apply.focus();
    if (window.htmx) window.htmx.trigger(form, 'preview');
  }

  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('#row-dialog [data-close]');
    if (b) b.closest('dialog').close();
  });

  document.addEventListener('close', (e) => {
    if (e.target.id !== 'row-dialog') return;
    const from = askedFrom;
    askedFrom = null;
    if (!from) return;
    let el = from.btn && from.btn.isConnected ? from.btn : null;
    if (!el && from.key) {
      const row = document.querySelector(rowSel(from.key));
      el = row && row.querySelector('.row-menu-btn');
    }
    if (!el) el = document.querySelector('#rows .row-menu-btn') || byId('main');
    if (el) el.focus();
  }, true);

  // Once applied, the dialog's way out is Close, and it has the focus.
  document.addEventListener('htmx:afterSettle', (e) => {
    const t = e.detail && e.detail.target;
    if (!t || t.id !== 'result-row-action') return;
    const out = t.querySelector('[data-testid=outcome]');
    if (!out) return;
    const close = byId('row-dialog').querySelector('[data-close]');
    close.textContent = 'Close';
    close.focus();
  });
})();
