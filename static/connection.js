// connection.js says, prominently, when the page is not live: a banner
// over the bottom of the page while the WebSocket is down or the session
// ended, the data greyed as stale until the server has sent the view's
// state again. live.js reports the connection (netpanel:connection
// events); forms.js turns the buttons that post off meanwhile.
(() => {
  'use strict';

  let stale = false;
  let banner = null;

  function show(kind, text, link) {
    if (!banner) {
      banner = document.createElement('div');
      banner.id = 'connection-banner';
      banner.setAttribute('role', 'alert');
      banner.dataset.testid = 'connection-banner';
      document.body.append(banner);
    }
    banner.className = 'connection-banner ' + kind;
    banner.dataset.state = kind;
    banner.textContent = text;
    if (link) {
      const a = document.createElement('a');
      a.href = '/login?next=' + encodeURIComponent(location.pathname + location.search);
      a.textContent = link;
      banner.append(' ', a);
    }
    banner.hidden = false;
  }

  function hide() {
    if (banner) banner.hidden = true;
  }

  function setStale(on) {
    stale = on;
    document.body.classList.toggle('stale', on);
    const main = document.querySelector('main');
    if (main) main.setAttribute('aria-busy', String(on));
  }

  document.addEventListener('netpanel:connection', (e) => {
    const d = e.detail || {};
    switch (d.state) {
      case 'reconnecting':
        setStale(true);
        show('down', 'Connection to netpanel lost: what this page shows may be out of date, and changes are off until it is back. Reconnecting…');
        break;
      case 'ended':
        setStale(true);
        show('ended', 'This page is no longer live: ' + (d.text || 'the session ended') + '.', 'Log in again');
        break;
      case 'live':
        if (stale) show('back', 'Connected again: catching up with the kernel…');
        break;
      case 'synced':
        if (stale) {
          setStale(false);
          show('back', 'Connected again: the page is current.');
          setTimeout(() => { if (!stale) hide(); }, 3000);
        }
        break;
    }
  });
})();
