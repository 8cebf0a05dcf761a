// once.js gives each htmx request that changes something a random
// X-Netpanel-Once header. A browser resends a request by itself when its
// connection dies before the answer; after a change that cut the admin off
// was rolled back, the resent request would apply it again. The server
// (web/once.go) does each value once and refuses the repeat.
(() => {
  'use strict';

  function value() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b); // randomUUID needs a secure context; this does not
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  document.addEventListener('htmx:configRequest', (e) => {
    const d = e.detail || {};
    const verb = (d.verb || '').toUpperCase();
    if (verb && verb !== 'GET') d.headers['X-Netpanel-Once'] = value();
  });
})();
