// live.js keeps a netpanel page live over one WebSocket per tab.
//
// Protocol: JSON text frames on ws(s)://HOST/ws.
//   client → server
//     {"type":"view","page":P,"query":Q}  on every (re)connect and whenever the URL changes;
//       P = data-page of <body> (or of the first [data-page]), Q = its data-live-query if it has
//       one, else location.search without "?".
//   server → client (after each connect the server sends the view's full state: that is the resync)
//     rows   {"target":"rows","html":"<tr data-key=K>…"}  patch #target in place by data-key
//     html   {"target":ID,"html":…}                        innerHTML of #ID, then htmx.process
//     stats  {"t":ms,"links":{IFINDEX:{rx_bps,tx_bps,rx_bytes,tx_bytes,rx_packets,…,tx_dropped}}}
//            rates and counters here; charts in traffic.js (a netpanel:stats event)
//     events {"lines":[{seq,kind,text}],"dropped":N}      Events page (#event-log)
//     status {"state":S,"text":…,"progress":0..1}         #live-status and .progress
//     batch  {"frames":[F,…]}                             several of the above, applied in order
//     resync {}   this tab fell behind and frames were not sent: it asks for its view again
//                 (the server answers with the view's full state) and the Events page marks the gap
//
// CSP: nothing here uses inline handlers, eval or style attributes in markup; run-time
// sizes go through the CSSOM, which CSP allows. htmx must be configured by the page
// (<meta name="htmx-config">) with includeIndicatorStyles:false, since it would otherwise
// inject a <style> element, and allowEval:false. app.css carries the indicator styles.
(() => {
  'use strict';

  const MAX_LINES = 5000;     // event lines kept in the DOM (and in the pause buffer)
  const FLASH_MS = 1500;      // how long tr.changed / tr.added stay
  const byId = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- connection

  let ws = null;
  let attempt = 0;          // reconnects since the last message; drives the backoff
  let retryTimer = 0;
  let lastView = '';        // last view message sent on the current socket
  let leaving = false;      // page is being unloaded: do not show "reconnecting"
  let freshSocket = false;  // no event lines yet on this socket

  function connect() {
    clearTimeout(retryTimer);
    const sock = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws = sock;
    let opened = false;
    let delivered = false;
    sock.onopen = () => {
      opened = true;
      lastView = '';
      freshSocket = true;
      setStatus('live', 'live');
      sendView();
    };
    sock.onmessage = (ev) => {
      attempt = 0; // only a socket that delivers resets the backoff
      try { apply(JSON.parse(ev.data)); } catch (err) { console.error('netpanel live:', err); }
      // The server sends the view's full state first: once it is in, the
      // page is current again (connection.js lifts the "stale" greying).
      if (!delivered) { delivered = true; announce('synced'); }
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      ws = null;
      if (leaving) return;
      if (ev.code === 4401) { // the session or token ended (web.CloseAuthEnded): reconnecting cannot help
        setStatus('ended', 'logged out: ' + (ev.reason || 'session ended'));
        return;
      }
      setStatus('reconnecting', 'reconnecting…');
      const max = Math.min(10000, 1000 * 2 ** attempt++); // jittered: 0.5–1s first, 5–10s at most
      const retry = () => { retryTimer = setTimeout(connect, max / 2 + Math.random() * max / 2); };
      // A socket refused before it opened may be a server that restarted
      // and forgot the session (sessions live in memory): the upgrade is
      // answered 401, which a WebSocket cannot see. Ask like htmx does.
      if (opened) return retry();
      fetch('/changes/notices', { headers: { 'HX-Request': 'true' }, credentials: 'same-origin', redirect: 'manual' })
        .then((r) => {
          if (r.status === 401 || r.type === 'opaqueredirect') setStatus('ended', 'logged out: netpanel restarted or the session ended');
          else retry();
        }, retry);
    };
  }

  // sendView tells the server what this tab shows; force sends it even when
  // unchanged, to get the view's full state again.
  function sendView(force) {
    const el = document.querySelector('[data-page]');
    // A view whose address holds its subject in the path (/interfaces/NAME)
    // names its live query on the element (data-live-query).
    const query = el && el.dataset.liveQuery !== undefined ? el.dataset.liveQuery : location.search.slice(1);
    const msg = JSON.stringify({ type: 'view', page: el ? el.dataset.page : '', query });
    if (ws && ws.readyState === WebSocket.OPEN && (force === true || msg !== lastView)) {
      ws.send(msg);
      lastView = msg;
    }
  }

  function apply(msg) {
    switch (msg.type) {
      case 'rows': return applyRows(msg);
      case 'html': return applyHTML(msg);
      case 'stats': return applyStats(msg);
      case 'events': return applyEvents(msg);
      case 'status': return setStatus(msg.state, msg.text, msg.progress);
      case 'batch': for (const f of msg.frames || []) apply(f); return;
      case 'resync': return resync();
    }
  }

  // resync: frames were dropped because this tab read too slowly; what it
  // shows may be stale, so it asks for its view again.
  function resync() {
    const log = byId('event-log');
    if (log) applyEvents({ lines: [], gap: true });
    sendView(true);
  }

  // announce tells the page's other scripts (forms.js, connection.js)
  // how the connection stands: state is live, reconnecting, ended, ... or
  // "synced" once a new socket delivered the view's state.
  function announce(state, text) {
    document.dispatchEvent(new CustomEvent('netpanel:connection', { detail: { state, text } }));
  }

  function setStatus(state, text, progress) {
    announce(state, text);
    const badge = byId('live-status');
    if (badge) {
      badge.dataset.state = state;
      badge.textContent = text || state;
    }
    const show = typeof progress === 'number' && (state === 'syncing' || state === 'resyncing');
    const p = Math.max(0, Math.min(1, progress || 0));
    for (const el of document.querySelectorAll('.progress')) {
      el.hidden = !show;
      if (!show) continue;
      if (el instanceof HTMLProgressElement) { el.max = 1; el.value = p; continue; }
      el.style.setProperty('--progress', String(p));
      el.setAttribute('aria-valuenow', String(Math.round(p * 100)));
    }
  }

  // ---------------------------------------------------------------- rows and html

  // The row as the server rendered it, before live.js touched it (flash classes,
  // rate text, charts), so an unchanged row compares equal and stays in place.
  const pristine = new WeakMap();
  // Counters inside a row change every second and stream separately; they
  // must not make an otherwise unchanged row compare as changed.
  const COUNTER = /(<[^>]*\sdata-(?:rx|tx)-(?:bytes|packets|errors|dropped)="[^"]*"[^>]*>)[^<]*/g;
  const COUNTERS = ['bytes', 'packets', 'errors', 'dropped'].flatMap((c) => [`[data-rx-${c}]`, `[data-tx-${c}]`]).join(',');
  const norm = (html) => html.replace(COUNTER, '$1');
  const serverHTML = (row) => norm(pristine.get(row) ?? row.outerHTML);
  const keyOf = (row, html) => row.dataset.key ?? '\0' + html; // unkeyed rows (placeholders) match by content

  function touch(el) {
    const row = el.closest('[data-key]');
    if (row && !pristine.has(row)) pristine.set(row, row.outerHTML);
  }

  function flash(row, cls) {
    row.classList.add(cls);
    setTimeout(() => row.classList.remove(cls), FLASH_MS);
  }

  function applyRows(msg) {
    const target = byId(msg.target || 'rows');
    if (!target) return;
    const tpl = document.createElement('template'); // parses <tr> as in a tbody
    tpl.innerHTML = msg.html || '';
    const old = new Map();
    for (const row of target.children) {
      const key = keyOf(row, serverHTML(row));
      if (!old.has(key)) old.set(key, row);
    }
    let i = 0;
    for (const row of [...tpl.content.children]) {
      const raw = row.outerHTML;
      const html = norm(raw);
      const key = keyOf(row, html);
      let node = old.get(key);
      old.delete(key);
      if (!node || serverHTML(node) !== html) {
        pristine.set(row, raw);
        const focus = node && focusPath(node);
        if (node) node.replaceWith(row);
        if (focus) refocus(row, focus);
        if (row.dataset.key !== undefined) flash(row, node ? 'changed' : 'added');
        node = row;
        if (window.htmx) window.htmx.process(row);
      }
      const at = target.children[i++];
      if (at !== node) target.insertBefore(node, at || null);
    }
    // Children 0..i-1 are now the new rows in order; whatever follows is gone.
    while (target.children.length > i) target.lastElementChild.remove();
    refreshStats();
  }

  // A row replaced under the keyboard focus (its action button, say)
  // hands the focus to the same control of the new row, so a live update
  // never throws a keyboard user back to the top of the page.
  function focusPath(row) {
    const el = document.activeElement;
    if (!el || el === row || !row.contains(el)) return null;
    return [...row.querySelectorAll('button, a, input, select, [tabindex]')].indexOf(el);
  }

  function refocus(row, i) {
    const el = [...row.querySelectorAll('button, a, input, select, [tabindex]')][i];
    if (el) el.focus({ preventScroll: true });
  }

  function applyHTML(msg) {
    const el = byId(msg.target);
    if (!el) return;
    el.innerHTML = msg.html || '';
    if (window.htmx) window.htmx.process(el);
    refreshStats();
  }

  // ---------------------------------------------------------------- stats

  let rates = {};              // IFINDEX -> last sample

  // The charts are traffic.js's: it hears each sample as a netpanel:stats event.
  function applyStats(msg) {
    rates = msg.links || {};
    refreshStats();
    document.dispatchEvent(new CustomEvent('netpanel:stats', { detail: msg }));
  }

  function refreshStats() {
    for (const el of document.querySelectorAll('[data-rx-rate],[data-tx-rate]')) {
      const rx = el.hasAttribute('data-rx-rate');
      const l = rates[rx ? el.dataset.rxRate : el.dataset.txRate];
      if (!l) continue;
      const text = fmtRate(rx ? l.rx_bps : l.tx_bps);
      if (el.textContent !== text) { touch(el); el.textContent = text; }
    }
    // Byte counters change every second; rows carry their first value and
    // are updated here so they need no re-render.
    const counters = [['rxBytes', 'rx_bytes', fmtBytes], ['txBytes', 'tx_bytes', fmtBytes],
      ['rxPackets', 'rx_packets', fmtCount], ['txPackets', 'tx_packets', fmtCount],
      ['rxErrors', 'rx_errors', fmtCount], ['txErrors', 'tx_errors', fmtCount],
      ['rxDropped', 'rx_dropped', fmtCount], ['txDropped', 'tx_dropped', fmtCount]];
    for (const el of document.querySelectorAll(COUNTERS)) {
      for (const [attr, field, fmt] of counters) {
        const l = el.dataset[attr] !== undefined && rates[el.dataset[attr]];
        if (!l || l[field] === undefined) continue;
        const text = fmt(l[field]);
        if (el.textContent !== text) { touch(el); el.textContent = text; }
      }
    }
  }

  // fmtRate formats bits per second with SI prefixes, as tc and ip -h do: 1.2 Mbit/s.
  function fmtRate(bps) {
    const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
    let v = Number(bps) || 0;
    let i = 0;
    while (v >= 999.5 && i < units.length - 1) { v /= 1000; i++; }
    return (i > 0 && v < 9.95 ? v.toFixed(1) : String(Math.round(v))) + ' ' + units[i];
  }

  // fmtBytes prints a byte count as the server does (handlers.HumanBytes).
  function fmtBytes(n) {
    const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
    let v = Number(n) || 0;
    let i = 0;
    while (v >= 999.5 && i < units.length - 1) { v /= 1000; i++; }
    return (i > 0 && v < 9.95 ? v.toFixed(1) : String(Math.round(v))) + ' ' + units[i];
  }

  const fmtCount = (n) => Number(n || 0).toLocaleString('en-US');

  // ---------------------------------------------------------------- countdowns

  // A change that may cut the admin off shows the time left before it is
  // rolled back; the server does the rollback, this only counts.
  function tickCountdowns() {
    for (const el of document.querySelectorAll('.countdown[data-deadline]')) {
      const left = Math.max(0, Math.round((Number(el.dataset.deadline) - Date.now()) / 1000));
      el.textContent = left > 0 ? left + ' s left to confirm' : 'time is up: netpanel is rolling the change back';
      if (left === 0) followOutcome(el.closest('.outcome[data-change]'));
    }
  }
  setInterval(tickCountdowns, 500);

  // followOutcome: once a pending change's time is up, its block (in a
  // form's answer or the page's notices) asks the server what became of it
  // and shows the answer: rolled back, or confirmed meanwhile elsewhere,
  // or still pending with a later deadline (a newer change restarted the
  // countdown). It asks again while the rollback is under way. Without
  // this, the block kept offering to keep a change already undone.
  function followOutcome(block) {
    if (!block || block.dataset.following) return;
    block.dataset.following = '1';
    const ask = () => {
      if (!block.isConnected) return;
      fetch('/changes/' + encodeURIComponent(block.dataset.change),
        { headers: { 'HX-Request': 'true' }, credentials: 'same-origin', redirect: 'manual' })
        .then((r) => {
          if (!r.ok) return null; // logged out or gone: the next page load tells
          return r.text().then((text) => {
            const t = document.createElement('template');
            t.innerHTML = text.trim();
            const next = t.content.firstElementChild;
            const cd = next && next.querySelector('.countdown[data-deadline]');
            if (!next || (next.dataset.state === 'pending' && (!cd || Number(cd.dataset.deadline) <= Date.now()))) {
              setTimeout(ask, 1000);
              return;
            }
            block.replaceWith(next);
            if (window.htmx) window.htmx.process(next);
            tickCountdowns();
          });
        }, () => setTimeout(ask, 2000));
    };
    ask();
  }

  // ---------------------------------------------------------------- events

  let paused = false;
  let pending = [];   // lines received while paused
  let lastLog = null; // the #event-log the state below belongs to
  let lastSeq = 0;    // highest seq shown or buffered

  function applyEvents(msg) {
    const log = byId('event-log');
    if (!log) return;
    if (log !== lastLog) { // a new page: start from the lines it was rendered with
      lastLog = log;
      paused = false;
      pending = [];
      lastSeq = 0;
      for (const el of log.querySelectorAll('[data-seq]')) lastSeq = Math.max(lastSeq, +el.dataset.seq);
    }
    const lines = msg.lines || [];
    if (freshSocket && lines.length) {
      freshSocket = false;
      // A counter behind ours after a reconnect means a restarted server: start over.
      if (Math.max(...lines.map((l) => l.seq || 0)) < lastSeq) lastSeq = 0;
    }
    const items = [];
    if (msg.dropped > 0) items.push(line('dropped', '', `… ${msg.dropped} events not shown: too many at once`));
    if (msg.gap) items.push(line('dropped', '', '… events missed: this tab fell behind (resynced)'));
    for (const l of lines) {
      if (l.seq && l.seq <= lastSeq) continue; // already shown before a reconnect
      if (l.seq) lastSeq = l.seq;
      items.push(line(l.kind, l.seq ?? '', l.text, l.time));
    }
    if (!items.length) return;
    if (paused) {
      pending.push(...items);
      if (pending.length > MAX_LINES) pending.splice(0, pending.length - MAX_LINES);
      showPending();
    } else {
      append(log, items);
    }
  }

  // line builds an event line as the page renders them (views.EventLines):
  // seq, kind, then the text led by the event's time when there is one.
  function line(kind, seq, text, time) {
    const el = document.createElement('div');
    el.className = kind === 'dropped' ? 'ev dropped' : 'ev';
    el.dataset.kind = kind;
    if (seq !== '') el.dataset.seq = seq;
    for (const [cls, t] of [['seq', seq], ['kind', kind === 'dropped' ? '' : kind], ['text', text]]) {
      const span = document.createElement('span');
      span.className = cls;
      span.textContent = t; // text, never HTML
      el.append(span);
      if (cls === 'text' && time) {
        const tm = document.createElement('time');
        tm.className = 'muted';
        tm.dateTime = time;
        tm.textContent = time;
        span.prepend(tm, ' ');
      }
    }
    return el;
  }

  // Kinds whose input[name=evkind] checkbox is unchecked are hidden; kinds without one show.
  function kindShown() {
    const off = new Set();
    for (const box of document.querySelectorAll('input[name=evkind]')) if (!box.checked) off.add(box.value);
    return (kind) => !off.has(kind);
  }

  // The log is part of the page, which scrolls (no box in a box): the
  // page follows the newest line while its end is in view, and stays put
  // once the admin scrolls up to read, offering a jump to the newest.
  const atEnd = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 32;

  function toEnd() { window.scrollTo(0, document.documentElement.scrollHeight); }

  function append(log, items) {
    const follow = atEnd();
    const shown = kindShown();
    for (const el of items) el.hidden = !shown(el.dataset.kind);
    log.append(...items);
    for (let extra = log.children.length - MAX_LINES; extra > 0; extra--) log.firstElementChild.remove();
    if (follow) toEnd();
    else showNewer(items.filter((el) => !el.hidden).length);
  }

  let newer = 0; // lines that arrived below the fold since the admin scrolled up

  function showNewer(n) {
    const log = byId('event-log');
    if (!log) return;
    newer = n === 0 ? 0 : newer + n;
    let btn = byId('event-newer');
    if (!btn && newer > 0) {
      btn = document.createElement('button');
      btn.id = 'event-newer';
      btn.type = 'button';
      btn.className = 'newer';
      btn.addEventListener('click', () => { toEnd(); showNewer(0); });
      log.after(btn);
    }
    if (!btn) return;
    btn.textContent = `↓ ${newer} newer`;
    btn.hidden = newer === 0;
  }

  window.addEventListener('scroll', () => { if (newer && atEnd()) showNewer(0); }, { passive: true });

  // A page opened on the log starts at its newest line, as tail -f does.
  function startAtEnd() {
    if (byId('event-log') && !location.hash) toEnd();
  }
  document.addEventListener('htmx:afterSettle', (e) => { if (e.detail && e.detail.target && e.detail.target.querySelector && e.detail.target.querySelector('#event-log')) startAtEnd(); });

  function showPending() {
    const btn = byId('pause');
    if (!btn) return;
    let out = byId('event-pending');
    if (!out) {
      out = document.createElement('span');
      out.id = 'event-pending';
      out.className = 'pending';
      out.setAttribute('aria-live', 'polite');
      btn.after(out);
    }
    out.textContent = pending.length ? `${pending.length} new` : '';
    out.hidden = !pending.length;
  }

  document.addEventListener('change', (e) => {
    if (!e.target.matches || !e.target.matches('input[name=evkind]')) return;
    const shown = kindShown();
    for (const el of document.querySelectorAll('#event-log .ev')) el.hidden = !shown(el.dataset.kind);
  });

  document.addEventListener('click', (e) => {
    const btn = e.target.closest && e.target.closest('#pause');
    if (!btn) return;
    e.preventDefault();
    paused = !paused;
    btn.textContent = paused ? 'Resume' : 'Pause';
    btn.setAttribute('aria-pressed', String(paused));
    const log = byId('event-log');
    if (!paused && log && pending.length) append(log, pending);
    if (!paused) pending = [];
    showPending();
  });

  // ---------------------------------------------------------------- start

  // htmx pushes/replaces the URL after filter, sort and page requests.
  // Those fire before the swap, so afterSettle and historyRestore catch a changed
  // data-page too; sendView drops repeats.
  for (const name of ['htmx:pushedIntoHistory', 'htmx:replacedInHistory', 'htmx:afterSettle', 'htmx:historyRestore']) {
    document.addEventListener(name, () => sendView());
  }
  window.addEventListener('popstate', () => sendView());
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startAtEnd);
  else startAtEnd();
  window.addEventListener('pagehide', () => { leaving = true; clearTimeout(retryTimer); if (ws) ws.close(); });
  window.addEventListener('pageshow', (e) => { leaving = false; if (e.persisted && !ws) connect(); });
  window.addEventListener('online', () => { if (!ws) { attempt = 0; connect(); } });

  // touch is for scripts that change a live row's markup (an action
  // button's aria-expanded): the row still compares as the server sent it.
  window.netpanelLive = { apply, sendView, fmtRate, touch, get socket() { return ws; } };
  connect();
})();
