// traffic.js draws the traffic charts with uPlot: the sparklines of the
// interfaces table (.spark[data-chart=IFINDEX]) and the charts with axes,
// units and a legend of the overview and an interface's view
// ([data-traffic=IFINDEX]).
//
// A chart starts with the history the server keeps (GET /api/v1/traffic:
// the last 15 minutes of every link, a point a second), so a page opened
// now shows what happened before it; then live.js hands it each sample of
// the stats stream as a netpanel:stats event.
//
// window.netpanelCharts.list() describes the charts drawn and the data
// each was given, for the browser tests.
(() => {
  'use strict';

  const WINDOW_S = 900;      // what the server keeps, and what a chart shows at most
  const SPARK_S = 60;        // what a sparkline shows
  const HEIGHT = { large: 280, medium: 170 };

  const series = new Map();  // IFINDEX -> {t: [], rx: [], tx: []}, t in seconds
  const charts = new Map();  // element -> {u, key, kind}
  const asked = new Set();   // history requests made: "all" or "dev=NAME"

  const fmtRate = (v) => (window.netpanelLive ? window.netpanelLive.fmtRate(v) : String(Math.round(v)) + ' bit/s');

  function seriesOf(key) {
    let s = series.get(key);
    if (!s) series.set(key, (s = { t: [], rx: [], tx: [] }));
    return s;
  }

  function trim(s, now) {
    let n = 0;
    while (n < s.t.length && s.t[n] < now - WINDOW_S) n++;
    if (n) for (const a of [s.t, s.rx, s.tx]) a.splice(0, n);
  }

  // merge puts the server's history before what the stream brought since
  // the page opened; points the stream already has are not repeated.
  function merge(key, t, rx, tx) {
    const s = seriesOf(key);
    const first = s.t.length ? s.t[0] : Infinity;
    const old = { t: [], rx: [], tx: [] };
    for (let i = 0; i < t.length; i++) {
      const ts = t[i] / 1000;
      if (ts >= first) break;
      old.t.push(ts); old.rx.push(rx[i]); old.tx.push(tx[i]);
    }
    s.t.unshift(...old.t); s.rx.unshift(...old.rx); s.tx.unshift(...old.tx);
  }

  async function loadHistory(query) {
    if (asked.has(query)) return;
    asked.add(query);
    try {
      const res = await fetch('/api/v1/traffic?' + query, { headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error(res.status + ' ' + res.statusText);
      const body = await res.json();
      for (const l of body.links || []) merge(String(l.ifindex), l.t || [], l.rx_bps || [], l.tx_bps || []);
    } catch (err) {
      asked.delete(query); // try again with the next chart
      console.warn('netpanel traffic history:', err);
    }
    redraw();
  }

  function onStats(ev) {
    const msg = ev.detail || {};
    const t = (msg.t || Date.now()) / 1000;
    for (const [key, l] of Object.entries(msg.links || {})) {
      const s = seriesOf(key);
      if (s.t.length && s.t[s.t.length - 1] >= t) continue;
      s.t.push(t); s.rx.push(l.rx_bps || 0); s.tx.push(l.tx_bps || 0);
      trim(s, t);
    }
    redraw();
  }

  // ---------------------------------------------------------------- drawing

  function colors(el) {
    const css = getComputedStyle(el);
    const c = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
    return {
      rx: c('--spark-rx', '#2563eb'), tx: c('--spark-tx', '#d97706'),
      fg: c('--muted', '#656d76'), grid: c('--border', '#d0d7de'),
    };
  }

  // alpha makes a translucent fill of a #rrggbb colour.
  const alpha = (hex, a) => (/^#[0-9a-f]{6}$/i.test(hex) ? hex + a : undefined);

  function sparkOptions(el) {
    const k = colors(el);
    return {
      width: el.clientWidth || 120,
      height: el.clientHeight || 32,
      padding: [2, 0, 2, 0],
      legend: { show: false },
      cursor: { show: false },
      select: { show: false },
      axes: [{ show: false }, { show: false }],
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, max > 0 ? max : 1] } },
      series: [
        {},
        { stroke: k.rx, width: 1, points: { show: false } },
        { stroke: k.tx, width: 1, points: { show: false } },
      ],
    };
  }

  function chartOptions(el, size) {
    const k = colors(el);
    const axis = { stroke: k.fg, grid: { stroke: k.grid, width: 1 }, ticks: { stroke: k.grid, width: 1 } };
    // Away from the cursor the legend shows the newest values: on a phone
    // there is no hover.
    const rate = (u, v, sidx, idx) => {
      const d = u.data[sidx];
      const x = idx == null ? d[d.length - 1] : v;
      return x == null ? '–' : fmtRate(x);
    };
    return {
      width: Math.max(240, el.clientWidth),
      height: HEIGHT[size] || HEIGHT.medium,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      select: { show: false },
      scales: { y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1000] } },
      axes: [
        { ...axis },
        { ...axis, size: 84, values: (u, splits) => splits.map((v) => fmtRate(v)) },
      ],
      series: [
        { label: 'Time', value: (u, v, sidx, idx) => (idx == null ? 'now' : v == null ? '–' : new Date(v * 1000).toLocaleTimeString()) },
        { label: 'RX (received)', stroke: k.rx, fill: alpha(k.rx, '1f'), width: 1.5, points: { show: false }, value: rate },
        { label: 'TX (sent)', stroke: k.tx, fill: alpha(k.tx, '1f'), width: 1.5, points: { show: false }, value: rate },
      ],
    };
  }

  function dataOf(key, kind) {
    const s = series.get(key) || { t: [], rx: [], tx: [] };
    if (kind !== 'spark') return [s.t.slice(), s.rx.slice(), s.tx.slice()];
    const from = Math.max(0, s.t.length - SPARK_S);
    return [s.t.slice(from), s.rx.slice(from), s.tx.slice(from)];
  }

  function mount(el, kind) {
    if (!window.uPlot || charts.has(el)) return;
    const key = kind === 'spark' ? el.dataset.chart : el.dataset.traffic;
    if (kind === 'spark') {
      // Rows compare their server HTML: record it before the chart goes in.
      if (window.netpanelLive) window.netpanelLive.touch(el);
      loadHistory('seconds=' + SPARK_S);
    } else {
      loadHistory('dev=' + encodeURIComponent(el.dataset.trafficName || ''));
    }
    const opts = kind === 'spark' ? sparkOptions(el) : chartOptions(el, kind);
    const u = new window.uPlot(opts, dataOf(key, kind), el);
    charts.set(el, { u, key, kind });
  }

  function scan() {
    for (const [el, c] of charts) {
      if (!el.isConnected) { c.u.destroy(); charts.delete(el); }
    }
    for (const el of document.querySelectorAll('.spark[data-chart]')) mount(el, 'spark');
    for (const el of document.querySelectorAll('[data-traffic]')) {
      mount(el, el.closest('.traffic-large') ? 'large' : 'medium');
    }
  }

  function redraw() {
    scan();
    for (const [, c] of charts) c.u.setData(dataOf(c.key, c.kind));
  }

  // New rows and blocks arrive from live.js and htmx: charts follow them.
  let pending = 0;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = setTimeout(() => { pending = 0; scan(); }, 30);
  });

  // Charts with axes follow their box's width; a colour scheme change
  // redraws every chart in the new colours.
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const [el, c] of charts) {
        if (c.kind !== 'spark') c.u.setSize({ width: Math.max(240, el.clientWidth), height: HEIGHT[c.kind] || HEIGHT.medium });
      }
    }, 100);
  });
  const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)');
  if (dark && dark.addEventListener) {
    dark.addEventListener('change', () => {
      for (const [el, c] of charts) { c.u.destroy(); charts.delete(el); }
      scan();
    });
  }

  document.addEventListener('netpanel:stats', onStats);
  function start() {
    observer.observe(document.body, { childList: true, subtree: true });
    scan();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();

  window.netpanelCharts = {
    // list describes every chart: its link, its kind, the data it holds,
    // and the tick labels its axes drew last (on the canvas, not in the DOM).
    list() {
      return [...charts].map(([el, c]) => ({
        key: c.key, kind: c.kind, name: el.dataset.trafficName || '',
        t: c.u.data[0].slice(), rx: c.u.data[1].slice(), tx: c.u.data[2].slice(),
        axes: c.u.axes.filter((a) => a.show !== false).map((a) => (a._values || []).map(String)),
      }));
    },
  };
})();
