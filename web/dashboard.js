// The drainmeter dashboard (docs/dashboard.md). Two views of one app, polled every
// POLL_MS with the page's own credentials:
//   overview  dashboard/overview.json: router throughput by status class and the 5xx
//             share, response time of every dyno merged, H/R codes and dyno events on
//             a timeline, memory against the quota and load per dyno, Postgres and
//             Redis, the app's own metrics busiest first (each opens the series view)
//   series    dashboard/history.json: one metric's series, each its own chart, or one
//             chart with a line per value of a label (merged exactly on the server),
//             or all merged; a search the server applies to thousands of series.
// A range picker (15 min live; 1 h to 30 d from dashboard/history.json?from=…&to=…, at
// the step the answer says) and zoom (drag across any chart: every chart narrows to it;
// "zoom out" goes back). Release and deploy lines are marked on every chart; the
// alerts of the app in view (GET /alerts) sit above the charts.
// Charts read as people read them: a counter's step without lines is 0; a sample is
// held for its cadence (a dyno's memory comes every 20 s); bytes in Heroku's units
// (MB = 2^20 bytes); latency on an arcsinh scale (log-like above 1 ms, 0 still
// drawn), so a 30 s H12 leaves the p50 readable. When no line has come for
// STALE_S (8 s at the default grace), the page says "no data for …" on the wall clock.
(function () {
  'use strict';
  var POLL_MS = 2000;
  /** Seconds past the app's newest window before "no data for …" (the server says, from its grace). */
  var STALE_S = 9;
  var LIMIT = 30;
  var PALETTE = ['#2a7de1', '#e08a00', '#d7263d', '#2ca02c', '#8e44ad', '#17a2b8', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#1f3b73', '#ff7f0e'];
  var CLASS_COLORS = { '2xx': '#2ca02c', '3xx': '#2a7de1', '4xx': '#e08a00', '5xx': '#d7263d' };
  var MIB = 1048576;
  /** The live ring's reach, s: the overview.json and polled history.json cover it. */
  var LIVE = 900;
  var RANGES = [[900, '15 min'], [3600, '1 h'], [21600, '6 h'], [86400, '24 h'], [604800, '7 d'], [2592000, '30 d']];
  /** A range past the live one is asked again this often, ms (its steps are 10 s or longer). */
  var RANGE_POLL_MS = 30000;
  var ALERTS_POLL_MS = 5000;

  var $ = function (id) { return document.getElementById(id); };
  var $app = $('app'), $appPick = $('app-pick'), $status = $('status'), $view = $('view'), $stale = $('stale');
  var $controls = $('controls'), $metric = $('metric'), $group = $('group'), $search = $('search');
  var $range = $('range'), $unzoom = $('unzoom'), $alerts = $('alerts'), $span = $('span');

  /** range: seconds back from now; zoom: [from, to] epoch s, or null. */
  var state = { app: '', view: 'overview', metric: '', group: '-', q: '', range: LIVE, zoom: null };
  /** The x range every chart shows ([from, to], epoch s), or null: as the data reaches. */
  var shown = null;
  /** The releases of the answer drawn: [{ app, t, text }]. */
  var marks = [];
  var lastRanged = 0;
  var index = { apps: [] };
  /** id → { u, title, box, now } */
  var charts = new Map();
  var last = { overview: null, history: null, alerts: null };
  /** The server's clock minus ours (s), and when the app's last line came (epoch s). */
  var skew = 0, lastLine = null, polls = 0, generation = 0;

  function say(text) { $status.textContent = text; }
  function get(url) {
    return fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(r.status + ' ' + t.trim()); });
      return r.json();
    });
  }
  function q(params) {
    return Object.keys(params).filter(function (k) { return params[k] !== undefined && params[k] !== null; })
      .map(function (k) { return k + '=' + encodeURIComponent(params[k]); }).join('&');
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- units -------------------------------------------------------------------
  function sig(v) { return String(+v.toPrecision(3)); }
  function seconds(v) {
    if (v == null || v !== v) return '–';
    var a = Math.abs(v);
    if (a === 0) return '0 ms';
    if (a < 1e-3) return sig(v * 1e6) + ' µs';
    if (a < 1) return sig(v * 1e3) + ' ms';
    if (a < 60) return sig(v) + ' s';
    return sig(v / 60) + ' min';
  }
  /** Bytes as Heroku writes them: its MB is 2^20 bytes (a 512 MB quota reads 512 MB). */
  function bytes(v) {
    if (v == null || v !== v) return '–';
    var units = ['B', 'KB', 'MB', 'GB', 'TB'];
    var i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return sig(v) + ' ' + units[i];
  }
  function plain(v) {
    if (v == null || v !== v) return '–';
    var a = Math.abs(v);
    if (a >= 1e6) return sig(v / 1e6) + 'M';
    if (a >= 1e3) return sig(v / 1e3) + 'k';
    return sig(v);
  }
  function unitOf(metric) {
    if (/_seconds(_total)?$/.test(metric)) return seconds;
    if (/_bytes(_total)?$/.test(metric)) return bytes;
    return plain;
  }
  function perSecond(fmt) { return function (v) { return v == null || v !== v ? '–' : fmt(v) + '/s'; }; }
  function percent(v) { return v == null || v !== v ? '–' : sig(v * 100) + '%'; }
  function ago(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function clock(t) {
    var d = new Date(t * 1000);
    return Math.abs(Date.now() - d.getTime()) > 86400000 ? d.toLocaleString() : d.toLocaleTimeString();
  }
  function rangeName(s) {
    var r = RANGES.find(function (r) { return r[0] === s; });
    return r ? r[1] : ago(s);
  }
  /** Polled from overview.json or the ring: the live 15 minutes, not zoomed. */
  function live() { return state.range === LIVE && !state.zoom; }
  /** The range asked for: [from, to], epoch s on the server's clock. */
  function span() {
    if (state.zoom) return state.zoom;
    var now = Math.floor(Date.now() / 1000 + skew);
    return [now - state.range, now];
  }

  // ---- points ------------------------------------------------------------------
  /** A counter's steps without lines are 0, from its first point to the grid's end. */
  function zeros(values) {
    var out = values.slice();
    var seen = false;
    for (var i = 0; i < out.length; i++) {
      if (out[i] != null) seen = true;
      else if (seen) out[i] = 0;
    }
    return out;
  }
  /** A sample holds its value for its cadence (steps), then a gap: a line at its own pace, not dots. */
  function hold(values, cadence) {
    var out = values.slice();
    var lastAt = -Infinity;
    for (var i = 0; i < out.length; i++) {
      if (values[i] != null) lastAt = i;
      else if (i - lastAt < (cadence || 1)) out[i] = values[lastAt];
    }
    return out;
  }
  /** A series' field on the grid x (step starts), null where it has no point. */
  function place(x, s, field) {
    var out = new Array(x.length).fill(null);
    var col = s[field] || [];
    for (var i = 0; i < col.length; i++) {
      var at = (s.start + i * s.step - x[0]) / s.step;
      if (at >= 0 && at < x.length && Math.round(at) === at) out[at] = col[i];
    }
    return out;
  }
  function newestOf(values) {
    for (var i = values.length - 1; i >= 0; i--) if (values[i] != null) return i;
    return -1;
  }

  // ---- charts ------------------------------------------------------------------
  function widthOf(box) { return Math.max(200, Math.floor(box.clientWidth - 16)); }

  /**
   * Draws (or updates) chart `id` in `parent`: lines = [{ label, values, color, dash, points }].
   * opts: fmt (axis and legend), scale 'asinh' | 'linear', height, min, max, onclick.
   */
  function draw(id, parent, title, x, lines, opts) {
    var c = charts.get(id);
    var data = [x].concat(lines.map(function (l) { return l.values; }));
    if (c && c.lines === lines.length && c.box.parentNode === parent) {
      c.u.setData(data);
      c.head.textContent = title;
      c.title = title;
      return c;
    }
    if (c) { c.u.destroy(); c.box.remove(); }
    var box = el('section', 'panel' + (opts.onclick ? ' link' : '') + (opts.wide ? ' wide' : ''));
    var h = el('h2');
    var head = el('span', '', title);
    var now = el('span', 'now');
    h.append(head, ' ', now);
    box.append(h);
    parent.append(box);
    if (opts.onclick) box.addEventListener('click', opts.onclick);
    var fmt = opts.fmt || plain;
    var y = { auto: true };
    var splits;
    if (opts.scale === 'asinh') {
      y = { distr: 4, asinh: 0.001 };
      // Decades (1 ms, 10 ms, … 10 s) and a minute, not uPlot's many minor lines.
      splits = function (u, i, lo, hi) { return [0, 0.001, 0.01, 0.1, 1, 10, 60].filter(function (v) { return v >= lo && v <= hi; }); };
    }
    if (opts.min !== undefined || opts.max !== undefined) y.range = function (u, lo, hi) { return [opts.min !== undefined ? opts.min : lo, Math.max(opts.max !== undefined ? opts.max : hi, hi)]; };
    var u = new uPlot({
      width: widthOf(box),
      height: opts.height || 170,
      scales: { x: { time: true, range: function (u, lo, hi) { return shown ? [shown[0], shown[1]] : [lo, hi]; } }, y: y },
      cursor: { drag: { x: true, y: false, setScale: false } },
      plugins: [releaseMarks()],
      hooks: { setSelect: [zoomed] },
      series: [{}].concat(lines.map(function (l) {
        var s = { label: l.label, stroke: l.color, width: l.width || 1.5, value: function (u, v) { return fmt(v); } };
        if (l.dash) s.dash = l.dash;
        if (l.points) { s.paths = function () { return null; }; s.points = { show: true, size: 9, fill: l.color }; }
        return s;
      })),
      axes: [{}, { size: 70, splits: splits, values: function (u, vals) { return vals.map(fmt); } }],
      legend: { live: true },
    }, data, box);
    c = { u: u, box: box, head: head, now: now, title: title, lines: lines.length };
    charts.set(id, c);
    return c;
  }
  /** A drag across a chart: every chart of the page narrows to it. */
  function zoomed(u) {
    if (u.select.width < 4) return;
    var from = Math.floor(u.posToVal(u.select.left, 'x')), to = Math.ceil(u.posToVal(u.select.left + u.select.width, 'x'));
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (to - from < 20) return;
    go({ zoom: [from, to] });
  }
  /** A release or deploy line: a dashed vertical line, its text on hover (and in its title). */
  function releaseMarks() {
    return { hooks: { draw: function (u) {
      u.over.querySelectorAll('.release').forEach(function (e) { e.remove(); });
      var lo = u.scales.x.min, hi = u.scales.x.max;
      marks.forEach(function (m) {
        if (!(m.t >= lo && m.t <= hi)) return;
        var d = el('div', 'release');
        d.style.left = u.valToPos(m.t, 'x') + 'px';
        d.dataset.t = String(m.t);
        d.dataset.text = clock(m.t) + ' ' + m.text;
        d.title = d.dataset.text;
        u.over.append(d);
      });
    } } };
  }
  function clear() {
    charts.forEach(function (c) { c.u.destroy(); });
    charts.clear();
    $view.replaceChildren();
  }
  window.addEventListener('resize', function () {
    charts.forEach(function (c) { c.u.setSize({ width: widthOf(c.box), height: c.u.height }); });
  });
  /** The newest value of a line, if its step is recent: nothing live pretends. */
  function latest(x, values, fresh) {
    var i = newestOf(values);
    if (i < 0 || !fresh(x[i])) return null;
    return values[i];
  }
  function nowAge() { return Date.now() / 1000 + skew - (lastLine == null ? -Infinity : lastLine); }
  function fresh(t) { return nowAge() <= STALE_S && Date.now() / 1000 + skew - t <= 60; }

  // ---- staleness -----------------------------------------------------------------
  var wasStale = false;
  function showStale() {
    // Going stale between polls: the numbers drawn as "now" are redrawn as no data.
    var stale = lastLine == null || nowAge() > STALE_S;
    if (stale !== wasStale) {
      wasStale = stale;
      if (state.view === 'overview' && last.overview) overview(last.overview);
    }
    if (lastLine == null) {
      $stale.hidden = false;
      $stale.textContent = 'no data yet for ' + (state.app || 'any app');
      return;
    }
    var age = nowAge();
    if (age > STALE_S) {
      $stale.hidden = false;
      $stale.textContent = 'no data for ' + ago(age) + ' (the last line came before ' + clock(lastLine) + ')';
    } else $stale.hidden = true;
  }
  setInterval(showStale, 1000);
  function timed(r) {
    if (r.now != null) skew = r.now - Date.now() / 1000;
    if (r.staleAfter) STALE_S = r.staleAfter;
    lastLine = r.last != null ? r.last : null;
    showStale();
  }

  // ---- overview ------------------------------------------------------------------
  function headline(parent, label, value, bad) {
    var d = el('div', 'head' + (bad ? ' bad' : ''));
    d.append(el('b', '', value), el('span', '', label));
    parent.append(d);
  }
  function section(id, title) {
    var s = document.getElementById(id);
    if (!s) {
      s = el('div', 'wide');
      s.id = id;
      s.style.display = 'contents';
      $view.append(s);
    }
    return s;
  }

  function overview(r) {
    if (last.overview !== r) { last.overview = r; timed(r); }
    marks = r.releases || [];
    shown = state.zoom;
    spanSays(r.step || 10, null);
    var note = document.getElementById('note');
    if (note) note.remove();
    if (!r.app || r.x.length === 0) {
      clear();
      $view.append(el('div', 'empty', 'No closed windows yet: post some lines (drainmeter replay FILE --url …/logs --now --rate 20) and wait a step.'));
      return;
    }
    if ($view.querySelector('.empty')) clear();
    var x = r.x, step = r.step;
    var heads = document.getElementById('heads');
    if (!heads) { heads = el('div', 'heads wide'); heads.id = 'heads'; $view.append(heads); }
    heads.replaceChildren();
    var stale = nowAge() > STALE_S;

    var top = section('sec-router');
    if (r.throughput) {
      var t = r.throughput;
      var rate = function (v) { return v == null ? null : v / step; };
      var classes = ['2xx', '3xx', '4xx', '5xx'].filter(function (k) { return t[k].some(function (v) { return v > 0; }) || k === '5xx'; });
      var lines = classes.map(function (k) { return { label: k, values: t[k].map(rate), color: CLASS_COLORS[k] }; });
      draw('throughput', top, 'Requests by status class, per second', x, lines, { fmt: perSecond(plain) });
      draw('share', top, '5xx share of requests', x, [{ label: '5xx', values: t.share, color: CLASS_COLORS['5xx'] }], { fmt: percent, min: 0 });
      var rq = latest(x, t.total, fresh), sh = latest(x, t.share, fresh);
      headline(heads, 'requests/s', stale ? 'no data' : plain(rq == null ? null : rq / step));
      headline(heads, '5xx share', stale ? 'no data' : percent(sh), sh > 0.01 && !stale);
    }
    if (r.latency) {
      var l = r.latency;
      draw('latency', top, 'Response time, every dyno merged (router service time)', x, [
        { label: 'p50', values: l.p50, color: '#2a7de1' },
        { label: 'p95', values: l.p95, color: '#e08a00' },
        { label: 'p99', values: l.p99, color: '#d7263d' },
        { label: 'max', values: l.max, color: '#7f7f7f', dash: [4, 4], width: 1 },
      ], { fmt: seconds, scale: 'asinh' });
      ['p50', 'p95', 'p99'].forEach(function (k) {
        var v = latest(x, l[k], fresh);
        headline(heads, k, stale ? 'no data' : seconds(v), k === 'p99' && v >= 1 && !stale);
      });
    }
    if (!r.throughput && !r.latency) heads.append(el('div', 'empty', 'No router lines yet (heroku[router]): requests, response time and H codes appear with them.'));

    // Events: H codes, R codes, dyno lifecycle, each step's count as a dot.
    var ev = section('sec-events');
    var kinds = [['router', 'router errors (H codes)', '#e08a00'], ['dyno', 'dyno errors (R codes)', '#d7263d'], ['lifecycle', 'dyno events', '#8e44ad']];
    var evLines = kinds.map(function (k) {
      var v = new Array(x.length).fill(null);
      r.events.forEach(function (e) { if (e.kind === k[0]) { var i = (e.t - x[0]) / step; v[i] = (v[i] || 0) + e.n; } });
      return { label: k[1], values: v, color: k[2], points: true };
    });
    var evChart = draw('events', ev, 'Errors and dyno events (' + r.events.reduce(function (s, e) { return s + e.n; }, 0) + ' in 15 min)', x, evLines, { fmt: plain, min: 0 });
    var box = evChart.box;
    var chips = box.querySelector('.chips') || box.appendChild(el('div', 'chips'));
    chips.replaceChildren();
    Object.keys(r.eventCodes).sort().forEach(function (k) {
      var kind = k.split(' ')[0];
      chips.append(el('span', 'chip ' + kind, k.slice(kind.length + 1) + ' ×' + r.eventCodes[k]));
    });
    var table = box.querySelector('table') || box.appendChild(el('table', 'events'));
    table.replaceChildren();
    r.events.slice(0, 8).forEach(function (e) {
      var tr = el('tr');
      tr.append(el('td', '', clock(e.t)), el('td', '', e.code), el('td', '', e.dyno), el('td', '', e.n > 1 ? '×' + e.n : ''));
      table.append(tr);
    });

    // Memory against the quota, and load, per dyno.
    var dy = section('sec-dynos');
    var loads = [];
    r.dynos.forEach(function (d, n) {
      if (d.rss) {
        var rss = hold(d.rss, d.cadence), swap = d.swap ? hold(d.swap, d.cadence) : null;
        var lines = [{ label: 'RSS', values: rss, color: '#2a7de1' }];
        if (swap) lines.push({ label: 'swap', values: swap, color: '#e08a00' });
        if (d.quota != null) lines.push({ label: 'quota', values: x.map(function () { return d.quota; }), color: '#d7263d', dash: [6, 4], width: 1 });
        var now = latest(x, rss, fresh);
        var title = d.dyno + ' memory: RSS ' + (stale || now == null ? 'no data' : bytes(now)) + (d.quota != null ? ' of ' + bytes(d.quota) + ' quota' : '');
        draw('mem ' + d.dyno, dy, title, x, lines, { fmt: bytes, min: 0, max: d.quota != null ? d.quota * 1.05 : undefined });
      }
      if (d.load) loads.push({ label: d.dyno, values: hold(d.load, d.cadence), color: PALETTE[n % PALETTE.length] });
    });
    if (loads.length > 0) draw('load', dy, 'Load average (1 min), per dyno', x, loads, { fmt: plain, min: 0 });

    // Heroku Postgres, Redis, PgBouncer: one chart per metric, a line per add-on.
    var ad = section('sec-addons');
    var byMetric = new Map();
    r.addons.forEach(function (a) {
      if (!byMetric.has(a.metric)) byMetric.set(a.metric, []);
      byMetric.get(a.metric).push(a);
    });
    byMetric.forEach(function (list, metric) {
      var fmt = unitOf(metric);
      draw('addon ' + metric, ad, metric.replace(/^heroku_/, '').replace(/_/g, ' '), x, list.map(function (a, n) {
        var label = Object.keys(a.labels).map(function (k) { return a.labels[k]; }).join(' ') || metric;
        return { label: label, values: hold(a.values, a.cadence), color: PALETTE[n % PALETTE.length] };
      }), { fmt: fmt, height: 130, onclick: function () { go({ view: 'series', metric: metric, group: '-', q: '' }); } });
    });

    // The app's own families, busiest first: each opens the series view.
    var ms = section('sec-metrics');
    r.metrics.forEach(function (m) {
      var fmt = unitOf(m.metric);
      var lines, opts = { height: 130, onclick: function () { go({ view: 'series', metric: m.metric, group: m.series > 1 ? '' : '-', q: '' }); } };
      if (m.kind === 'measure') {
        lines = [{ label: 'p50', values: m.p50, color: '#2a7de1' }, { label: 'p99', values: m.p99, color: '#d7263d' }];
        if (fmt === seconds) opts.scale = 'asinh';
      } else if (m.kind === 'counter') {
        lines = [{ label: 'per second', values: zeros(m.sum).map(function (v) { return v == null ? null : v / step; }), color: '#2a7de1' }];
        fmt = perSecond(fmt);
      } else lines = [{ label: m.series > 1 ? 'sum' : 'value', values: m.last, color: '#2a7de1' }];
      opts.fmt = fmt;
      var what = m.kind === 'measure' ? 'p50, p99' : m.kind === 'counter' ? 'per second' : m.series > 1 ? 'sum' : 'value';
      draw('metric ' + m.metric, ms, m.metric + ' (' + what + (m.series > 1 ? ', ' + m.series + ' series merged' : '') + ')', x, lines, opts);
    });
  }

  // ---- ranges past the live ring -------------------------------------------------
  /** The footer: what the charts cover, at which step. */
  function spanSays(step, tier) {
    var w = state.zoom;
    $span.textContent = (w ? clock(w[0]) + ' to ' + clock(w[1]) + ' (zoomed)' : 'The last ' + rangeName(state.range)) +
      ' in steps of ' + (step >= 3600 ? step / 3600 + ' h' : step >= 60 ? step / 60 + ' min' : step + ' s') +
      (tier ? ', from the stored history (tier ' + tier + ')' : live() || state.view === 'overview' && state.range === LIVE ? ', each point once its step\'s windows have closed' : ', from the ring (the last 15 minutes)');
  }
  /** The grid of an answer to a range: step starts from `from` through the last whole step. */
  function gridOf(r, w) {
    var step = r.step || (r.series.length > 0 ? r.series[0].step : 10);
    var end = Math.ceil(w[1] / step) * step - step;
    if (r.through != null) end = Math.min(end, (Math.floor(r.through / step) - 1) * step);
    var first = Math.floor(w[0] / step) * step;
    // The ring (no store) holds the last 15 minutes only.
    if (!r.tier) first = Math.max(first, end - LIVE + step);
    var x = [];
    for (var t = first; t <= end; t += step) x.push(t);
    return { x: x, step: step };
  }
  /** A note above the charts (id note), or none. */
  function noteSays(text) {
    var note = document.getElementById('note');
    if (!text) { if (note) note.remove(); return; }
    if (!note) { note = el('div', 'empty wide'); note.id = 'note'; $view.prepend(note); }
    note.textContent = text;
  }
  /**
   * The overview past the live 15 minutes: router requests by status class, the 5xx
   * share and the response time over every dyno, from history.json ranges; the other
   * panels are the live ring's, which the page says.
   */
  function rangedOverview(req, svc, w) {
    timed(req);
    last.overview = null;
    last.history = { requests: req, service: svc };
    marks = req.releases || [];
    shown = w;
    var g = gridOf(svc.series.length > req.series.length ? svc : req, w), x = g.x, step = g.step;
    spanSays(step, req.tier || svc.tier);
    var heads = document.querySelector('.heads');
    if (heads) heads.remove();
    noteSays('Over this range: requests, the 5xx share and response time' + (req.tier || svc.tier ? '' : ' (no DATABASE_URL: the ring\'s last 15 minutes)') +
      '. Events, dynos, add-ons and the app\'s own metrics cover the live 15 minutes only: pick 15 min, or open a metric in the series view for this range.');
    var top = section('sec-router');
    var by = {};
    req.series.forEach(function (s) {
      var k = String(s.labels.status || '')[0] + 'xx';
      if (!CLASS_COLORS[k]) return;
      var v = zeros(place(x, s, 'sum'));
      by[k] = by[k] ? by[k].map(function (a, i) { return a == null && v[i] == null ? null : (a || 0) + (v[i] || 0); }) : v;
    });
    var classes = Object.keys(CLASS_COLORS).filter(function (k) { return by[k]; });
    if (classes.length > 0) {
      var total = x.map(function (_, i) { var n = null; classes.forEach(function (k) { if (by[k][i] != null) n = (n || 0) + by[k][i]; }); return n; });
      draw('throughput', top, 'Requests by status class, per second', x, classes.map(function (k) {
        return { label: k, values: by[k].map(function (v) { return v == null ? null : v / step; }), color: CLASS_COLORS[k] };
      }), { fmt: perSecond(plain) });
      var fives = by['5xx'];
      draw('share', top, '5xx share of requests', x, [{ label: '5xx', values: total.map(function (n, i) { return n ? (fives ? fives[i] || 0 : 0) / n : null; }), color: CLASS_COLORS['5xx'] }], { fmt: percent, min: 0 });
    }
    var l = svc.series.length === 1 ? svc.series[0] : null;
    if (svc.series.length > 1) {
      // The stored history answers each dyno's series (it merges none): a p99 per dyno.
      draw('latency', top, 'Response time p99 per dyno (router service time)', x, svc.series.map(function (s, n) {
        return { label: s.labels.dyno || JSON.stringify(s.labels), values: place(x, s, 'p99'), color: PALETTE[n % PALETTE.length] };
      }), { fmt: seconds, scale: 'asinh' });
    }
    if (l) {
      draw('latency', top, 'Response time, every dyno merged (router service time)', x, [
        { label: 'p50', values: place(x, l, 'p50'), color: '#2a7de1' },
        { label: 'p95', values: place(x, l, 'p95'), color: '#e08a00' },
        { label: 'p99', values: place(x, l, 'p99'), color: '#d7263d' },
        { label: 'max', values: place(x, l, 'max'), color: '#7f7f7f', dash: [4, 4], width: 1 },
      ], { fmt: seconds, scale: 'asinh' });
    }
    if (classes.length === 0 && svc.series.length === 0) noteSays('No router lines in this range.');
  }

  // ---- series view ---------------------------------------------------------------
  function metricsOf(app) {
    var a = index.apps.find(function (a) { return a.app === app; });
    return a ? a.metrics : [];
  }
  function fillControls() {
    var metrics = metricsOf(state.app);
    $metric.replaceChildren.apply($metric, metrics.map(function (m) {
      var o = el('option', '', m.name + ' (' + m.kind + (m.series > 1 ? ', ' + m.series + ' series' : '') + ')');
      o.value = m.name;
      return o;
    }));
    if (!metrics.some(function (m) { return m.name === state.metric; }) && metrics.length > 0) {
      var busiest = metrics.slice().sort(function (a, b) { return b.series - a.series; });
      state.metric = (metrics.find(function (m) { return m.kind === 'measure'; }) || busiest[0]).name;
    }
    $metric.value = state.metric;
    var m = metrics.find(function (m) { return m.name === state.metric; });
    var opts = [['-', 'each series'], ['', 'all, merged']].concat((m ? m.labels : []).map(function (l) { return [l, 'one per ' + l]; }));
    $group.replaceChildren.apply($group, opts.map(function (o) { var e = el('option', '', o[1]); e.value = o[0]; return e; }));
    $group.value = opts.some(function (o) { return o[0] === state.group; }) ? state.group : '-';
    if ($search.value !== state.q) $search.value = state.q;
  }

  function seriesView(r) {
    last.history = r;
    timed(r);
    marks = r.releases || [];
    var x, step;
    if (live()) {
      shown = null;
      step = r.series.length > 0 ? r.series[0].step : 10;
      var end = r.through != null ? (Math.floor(r.through / step) - 1) * step : 0;
      var first = r.series.reduce(function (m, s) { return Math.min(m, s.start); }, end);
      first = Math.max(first, end - 900 + step);
      x = [];
      for (var t = first; t <= end; t += step) x.push(t);
    } else {
      var w = span();
      shown = w;
      var g = gridOf(r, w);
      x = g.x;
      step = g.step;
    }
    spanSays(step, r.tier);
    var fmt = unitOf(state.metric);
    var note = document.getElementById('note');
    if (!note) { note = el('div', 'empty wide'); note.id = 'note'; $view.prepend(note); }
    note.textContent = r.total === 0 ? (state.q ? 'No series of ' + state.metric + ' match “' + state.q + '”.' : 'No points yet for ' + state.metric + '.')
      : r.total > r.series.length ? r.total + ' series match; the busiest ' + r.series.length + ' are drawn (search narrows them).' : r.total + (r.total === 1 ? ' series.' : ' series.');
    if (!live() && !r.tier) note.textContent += ' Without DATABASE_URL the history is the ring: the last 15 minutes.';
    if (r.tier && (state.group !== '-' || state.q)) note.textContent += ' The stored history draws each series by itself: lines and search apply to the live 15 minutes.';
    var grouped = state.group !== '-' && !r.tier;
    function linesOf(s, n) {
      var label = Object.keys(s.labels).map(function (k) { return k + '=' + s.labels[k]; }).join(' ') || 'all';
      if (s.kind === 'counter') return [{ label: grouped ? label : 'per second', values: zeros(place(x, s, 'sum')).map(function (v) { return v == null ? null : v / s.step; }), color: PALETTE[n % PALETTE.length] }];
      if (s.kind === 'sample') return [{ label: grouped ? label : 'value', values: hold(place(x, s, 'last'), s.cadence), color: PALETTE[n % PALETTE.length] }];
      if (grouped && state.group !== '') return [{ label: label, values: place(x, s, 'p99'), color: PALETTE[n % PALETTE.length] }];
      return [['p50', '#2a7de1'], ['p95', '#e08a00'], ['p99', '#d7263d'], ['max', '#7f7f7f']].map(function (p) { return { label: p[0], values: place(x, s, p[0]), color: p[1] }; });
    }
    var kind = r.series.length > 0 ? r.series[0].kind : '';
    var lineFmt = kind === 'counter' ? perSecond(fmt) : fmt;
    var scale = kind === 'measure' && fmt === seconds ? 'asinh' : 'linear';
    if (grouped && r.series.length > 0) {
      var lines = [];
      r.series.forEach(function (s, n) { lines = lines.concat(linesOf(s, n)); });
      var what = state.group === '' ? 'all ' + (r.total > 1 ? r.total + ' series ' : '') + 'merged' : (kind === 'measure' ? 'p99 ' : '') + 'one line per ' + state.group;
      draw('group', $view, state.metric + ': ' + what, x, lines, { fmt: lineFmt, scale: scale, height: 320, wide: true });
    } else {
      r.series.forEach(function (s, n) {
        var label = Object.keys(s.labels).map(function (k) { return k + '=' + s.labels[k]; }).join(' ') || '(no labels)';
        draw('s ' + JSON.stringify(s.labels), $view, label, x, linesOf(s, 0), { fmt: lineFmt, scale: scale });
      });
    }
    // Charts of series no longer in the answer go.
    var keep = new Set(r.series.map(function (s) { return 's ' + JSON.stringify(s.labels); }).concat(grouped ? ['group'] : []));
    charts.forEach(function (c, id) { if (!keep.has(id)) { c.u.destroy(); c.box.remove(); charts.delete(id); } });
  }

  // ---- navigation ----------------------------------------------------------------
  function readHash() {
    var h = new URLSearchParams(location.hash.slice(1));
    var range = Number(h.get('range'));
    var from = Number(h.get('from')), to = Number(h.get('to'));
    return { app: h.get('app') || '', view: h.get('view') === 'series' ? 'series' : 'overview', metric: h.get('metric') || '', group: h.has('group') ? h.get('group') : '-', q: h.get('q') || '',
      range: RANGES.some(function (r) { return r[0] === range; }) ? range : LIVE, zoom: from > 0 && to > from ? [from, to] : null };
  }
  function writeHash() {
    var p = { app: state.app, view: state.view };
    if (state.range !== LIVE) p.range = state.range;
    if (state.zoom) { p.from = state.zoom[0]; p.to = state.zoom[1]; }
    if (state.view === 'series') { p.metric = state.metric; p.group = state.group; if (state.q) p.q = state.q; }
    history.replaceState(null, '', '#' + q(p));
  }
  function go(change) {
    var before = state.view + ' ' + state.app + ' ' + state.metric + ' ' + state.group + ' ' + state.q + ' ' + state.range + ' ' + state.zoom;
    Object.assign(state, change);
    $range.value = String(state.range);
    $unzoom.hidden = !state.zoom;
    if (state.view === 'series') fillControls();
    writeHash();
    var after = state.view + ' ' + state.app + ' ' + state.metric + ' ' + state.group + ' ' + state.q + ' ' + state.range + ' ' + state.zoom;
    if (before !== after) refreshAlerts();
    if (before !== after) { clear(); generation++; }
    $controls.hidden = state.view !== 'series';
    $('to-overview').className = state.view === 'overview' ? 'on' : '';
    $('to-series').className = state.view === 'series' ? 'on' : '';
    window.scrollTo(0, 0);
    return refresh().catch(failed);
  }
  function refresh() {
    var g = generation;
    if (!state.app) return refreshIndex();
    lastRanged = Date.now();
    var w = span();
    if (state.view === 'overview') {
      // Within the live 15 minutes (zoomed or not) the overview is the ring's, every panel.
      if (state.range === LIVE) return get('dashboard/overview.json?' + q({ app: state.app })).then(function (r) { if (g === generation) { overview(r); polled(); } });
      // Past it: the router panels from history.json, one query after the other.
      var base = { app: state.app, from: w[0], to: w[1] };
      return get('dashboard/history.json?' + q(Object.assign({ metric: 'heroku_router_requests_total', group: 'status', limit: 50 }, base))).then(function (req) {
        if (g !== generation) return;
        return get('dashboard/history.json?' + q(Object.assign({ metric: 'heroku_router_service_seconds', group: '' }, base))).then(function (svc) {
          if (g === generation) { rangedOverview(req, svc, w); polled(); }
        });
      });
    }
    if (!state.metric) return Promise.resolve();
    var p = { app: state.app, metric: state.metric, limit: LIMIT };
    if (state.group !== '-') p.group = state.group;
    if (state.q) p.q = state.q;
    if (!live()) { p.from = w[0]; p.to = w[1]; }
    return get('dashboard/history.json?' + q(p)).then(function (r) { if (g === generation) { seriesView(r); polled(); } });
  }
  /** The poll: the live view every time; a range every RANGE_POLL_MS; a zoomed range stays. */
  function poll() {
    if (live() || state.view === 'overview' && state.range === LIVE) return refresh();
    if (state.zoom || Date.now() - lastRanged < RANGE_POLL_MS) return Promise.resolve();
    return refresh();
  }

  // ---- alerts --------------------------------------------------------------------
  /** GET /alerts, the app in view: each rule's state (its alerts firing or pending, else ok) and recent transitions. */
  function refreshAlerts() {
    if (!state.app) return Promise.resolve();
    return get('alerts').then(showAlerts, function () { $alerts.hidden = true; });
  }
  function showAlerts(r) {
    last.alerts = r;
    var app = state.app;
    var rules = (r.rules || []).filter(function (x) { return x.app == null || x.app === app; });
    if (rules.length === 0) { $alerts.hidden = true; return; }
    $alerts.hidden = false;
    var list = el('div', 'chips');
    rules.forEach(function (rule) {
      var mine = (r.alerts || []).filter(function (a) { return a.alert === rule.name && a.app === app && a.state !== 'inactive'; });
      var st = mine.some(function (a) { return a.state === 'firing'; }) ? 'firing' : mine.length > 0 ? 'pending' : 'ok';
      var c = el('span', 'alert ' + st);
      c.dataset.alert = rule.name;
      c.dataset.state = st;
      c.append(el('b', '', rule.name), ' ' + st);
      var since = mine.map(function (a) { return a.since; }).filter(Boolean).sort()[0];
      if (since) c.append(' since ' + clock(Date.parse(since) / 1000));
      if (mine.length > 1) c.append(' (' + mine.length + ' series)');
      c.title = rule.metric + ' ' + rule.stat + ' ' + (rule.op || '') + ' ' + (rule.threshold == null ? '' : rule.threshold);
      list.append(c);
    });
    var table = el('table', 'events');
    (r.recent || []).filter(function (t) { return t.app === app; }).slice(0, 6).forEach(function (t) {
      var tr = el('tr');
      var labels = Object.keys(t.labels || {}).map(function (k) { return k + '=' + t.labels[k]; }).join(' ');
      tr.append(el('td', '', clock(Date.parse(t.at) / 1000)), el('td', t.state === 'firing' ? 'firing' : 'ok', t.state), el('td', '', t.alert + (labels ? ' ' + labels : '')), el('td', '', t.value == null ? '' : plain(t.value)));
      table.append(tr);
    });
    var h = el('h2', '', 'Alerts');
    $alerts.replaceChildren(h, list);
    if (table.rows.length > 0) $alerts.append(table);
  }
  function polled() { polls++; say('updated ' + new Date().toLocaleTimeString()); }
  function refreshIndex() {
    return get('dashboard/index.json').then(function (r) {
      index = r;
      var apps = r.apps.map(function (a) { return a.app; });
      $app.replaceChildren.apply($app, apps.map(function (a) { var o = el('option', '', a); o.value = a; return o; }));
      // The picker only when the credentials see several apps.
      $appPick.hidden = apps.length < 2;
      if (apps.length > 0 && apps.indexOf(state.app) < 0) {
        state.app = apps[0];
        clear();
        generation++;
      }
      $app.value = state.app;
      if (state.view === 'series') fillControls();
      if (apps.length === 0) {
        timed({ now: r.now, last: null });
        $view.replaceChildren(el('div', 'empty', 'No closed windows yet: post some lines (drainmeter replay FILE --url …/logs --now --rate 20) and wait a step.'));
      }
    });
  }
  function failed(err) { say('could not load: ' + err.message); }

  $app.addEventListener('change', function () { go({ app: $app.value, metric: '', group: '-', q: '' }); });
  $metric.addEventListener('change', function () { go({ metric: $metric.value, group: '-', q: '' }); });
  $group.addEventListener('change', function () { go({ group: $group.value }); });
  var typing = 0;
  $search.addEventListener('input', function () {
    clearTimeout(typing);
    typing = setTimeout(function () { go({ q: $search.value.trim() }); }, 300);
  });
  $range.replaceChildren.apply($range, RANGES.map(function (r) { var o = el('option', '', r[1]); o.value = String(r[0]); return o; }));
  $range.addEventListener('change', function () { go({ range: Number($range.value), zoom: null }); });
  $unzoom.addEventListener('click', function () { go({ zoom: null }); });
  $('to-overview').addEventListener('click', function (e) { e.preventDefault(); go({ view: 'overview' }); });
  $('to-series').addEventListener('click', function (e) { e.preventDefault(); go({ view: 'series' }); });

  // For tests and the curious: what the page drew, and the answers it drew from.
  window.drainmeter = {
    polls: function () { return polls; },
    state: function () { return Object.assign({}, state); },
    overview: function () { return last.overview; },
    history: function () { return last.history; },
    alerts: function () { return last.alerts; },
    stale: function () { return $stale.hidden ? '' : $stale.textContent; },
    charts: function () {
      return Array.from(charts.entries()).map(function (e) {
        var u = e[1].u;
        return { id: e[0], title: e[1].title, series: u.series.slice(1).map(function (s) { return s.label; }), data: u.data.map(function (col) { return Array.from(col); }),
          x: [u.scales.x.min, u.scales.x.max], width: u.over.clientWidth,
          releases: Array.from(u.over.querySelectorAll('.release')).map(function (d) { return { t: Number(d.dataset.t), text: d.dataset.text, left: parseFloat(d.style.left) }; }) };
      });
    },
  };

  window.addEventListener('hashchange', function () { go(readHash()); });
  var start = readHash();
  Object.assign(state, start);
  refreshIndex().then(function () { refreshAlerts(); return go({}); }).catch(failed);
  setInterval(function () { poll().catch(failed); }, POLL_MS);
  setInterval(function () { refreshAlerts(); }, ALERTS_POLL_MS);
  setInterval(function () { refreshIndex().catch(failed); }, 15000);
})();
