// The drainmeter dashboard (docs/dashboard.md). Two views of one app, polled every
// POLL_MS with the page's own credentials:
//   overview  dashboard/overview.json: router throughput by status class and the 5xx
//             share, response time of every dyno merged, H/R codes and dyno events on
//             a timeline, memory against the quota and load per dyno, Postgres and
//             Redis, the app's own metrics busiest first (each opens the series view)
//   series    dashboard/history.json: one metric's series, each its own chart, or one
//             chart with a line per value of a label (merged exactly on the server),
//             or all merged; a search the server applies to thousands of series.
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

  var $ = function (id) { return document.getElementById(id); };
  var $app = $('app'), $appPick = $('app-pick'), $status = $('status'), $view = $('view'), $stale = $('stale');
  var $controls = $('controls'), $metric = $('metric'), $group = $('group'), $search = $('search');

  var state = { app: '', view: 'overview', metric: '', group: '-', q: '' };
  var index = { apps: [] };
  /** id → { u, title, box, now } */
  var charts = new Map();
  var last = { overview: null, history: null };
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
  function clock(t) { return new Date(t * 1000).toLocaleTimeString(); }

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
      scales: { x: { time: true }, y: y },
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
    $('step').textContent = String(r.step || 10);
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
    var step = r.series.length > 0 ? r.series[0].step : 10;
    var end = r.through != null ? (Math.floor(r.through / step) - 1) * step : 0;
    var first = r.series.reduce(function (m, s) { return Math.min(m, s.start); }, end);
    first = Math.max(first, end - 900 + step);
    var x = [];
    for (var t = first; t <= end; t += step) x.push(t);
    var fmt = unitOf(state.metric);
    var note = document.getElementById('note');
    if (!note) { note = el('div', 'empty wide'); note.id = 'note'; $view.prepend(note); }
    note.textContent = r.total === 0 ? (state.q ? 'No series of ' + state.metric + ' match “' + state.q + '”.' : 'No points yet for ' + state.metric + '.')
      : r.total > r.series.length ? r.total + ' series match; the busiest ' + r.series.length + ' are drawn (search narrows them).' : r.total + (r.total === 1 ? ' series.' : ' series.');
    var grouped = state.group !== '-';
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
    return { app: h.get('app') || '', view: h.get('view') === 'series' ? 'series' : 'overview', metric: h.get('metric') || '', group: h.has('group') ? h.get('group') : '-', q: h.get('q') || '' };
  }
  function writeHash() {
    var p = { app: state.app, view: state.view };
    if (state.view === 'series') { p.metric = state.metric; p.group = state.group; if (state.q) p.q = state.q; }
    history.replaceState(null, '', '#' + q(p));
  }
  function go(change) {
    var before = state.view + ' ' + state.app + ' ' + state.metric + ' ' + state.group + ' ' + state.q;
    Object.assign(state, change);
    if (state.view === 'series') fillControls();
    writeHash();
    var after = state.view + ' ' + state.app + ' ' + state.metric + ' ' + state.group + ' ' + state.q;
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
    if (state.view === 'overview') {
      return get('dashboard/overview.json?' + q({ app: state.app })).then(function (r) { if (g === generation) { overview(r); polled(); } });
    }
    if (!state.metric) return Promise.resolve();
    var p = { app: state.app, metric: state.metric, limit: LIMIT };
    if (state.group !== '-') p.group = state.group;
    if (state.q) p.q = state.q;
    return get('dashboard/history.json?' + q(p)).then(function (r) { if (g === generation) { seriesView(r); polled(); } });
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
  $('to-overview').addEventListener('click', function (e) { e.preventDefault(); go({ view: 'overview' }); });
  $('to-series').addEventListener('click', function (e) { e.preventDefault(); go({ view: 'series' }); });

  // For tests and the curious: what the page drew, and the answers it drew from.
  window.drainmeter = {
    polls: function () { return polls; },
    state: function () { return Object.assign({}, state); },
    overview: function () { return last.overview; },
    history: function () { return last.history; },
    stale: function () { return $stale.hidden ? '' : $stale.textContent; },
    charts: function () {
      return Array.from(charts.entries()).map(function (e) {
        return { id: e[0], title: e[1].title, series: e[1].u.series.slice(1).map(function (s) { return s.label; }), data: e[1].u.data.map(function (col) { return Array.from(col); }) };
      });
    },
  };

  window.addEventListener('hashchange', function () { go(readHash()); });
  var start = readHash();
  Object.assign(state, start);
  refreshIndex().then(function () { return go({}); }).catch(failed);
  setInterval(function () { refresh().catch(failed); }, POLL_MS);
  setInterval(function () { refreshIndex().catch(failed); }, 15000);
})();
