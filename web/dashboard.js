// The drainmeter dashboard: pick an app and a metric, see each of its series over the
// last 15 minutes (uPlot), polled for new points every few seconds. Data comes from
// dashboard/index.json (apps and metrics) and dashboard/history.json (points), with
// the page's own credentials.
(function () {
  'use strict';
  var SECONDS = 900;
  var MAX_CHARTS = 30;
  var POLL_MS = 5000;
  var COLORS = { p50: '#2a7de1', p95: '#e08a00', p99: '#d7263d', rate: '#2a7de1', value: '#2a7de1' };

  var $app = document.getElementById('app');
  var $metric = document.getElementById('metric');
  var $status = document.getElementById('status');
  var $charts = document.getElementById('charts');
  var $step = document.getElementById('step');

  var index = { apps: [] };
  /** key (labels) → { u, kind, step, data, title, now } for the metric shown. */
  var charts = new Map();
  var shown = { app: '', metric: '', kind: '' };
  var latest = -Infinity;
  var polls = 0;

  function say(text) { $status.textContent = text; }

  function get(url) {
    return fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(r.status + ' ' + t.trim()); });
      return r.json();
    });
  }

  // Human units from the metric name's unit suffix (Prometheus naming): what /metrics holds in base units.
  function formatter(metric) {
    if (/_seconds(_total)?$/.test(metric)) return function (v) {
      if (v == null) return '–';
      var a = Math.abs(v);
      if (a === 0) return '0';
      if (a < 1e-3) return +(v * 1e6).toPrecision(3) + ' µs';
      if (a < 1) return +(v * 1e3).toPrecision(3) + ' ms';
      return +v.toPrecision(3) + ' s';
    };
    if (/_bytes(_total)?$/.test(metric)) return function (v) {
      if (v == null) return '–';
      var units = ['B', 'KB', 'MB', 'GB', 'TB'];
      var i = 0;
      while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
      return +v.toPrecision(3) + ' ' + units[i];
    };
    return function (v) {
      if (v == null) return '–';
      var a = Math.abs(v);
      if (a >= 1e6) return +(v / 1e6).toPrecision(3) + 'M';
      if (a >= 1e3) return +(v / 1e3).toPrecision(3) + 'k';
      return String(+v.toPrecision(3));
    };
  }

  function readHash() {
    var h = new URLSearchParams(location.hash.slice(1));
    return { app: h.get('app') || '', metric: h.get('metric') || '' };
  }

  function writeHash() {
    history.replaceState(null, '', '#app=' + encodeURIComponent($app.value) + '&metric=' + encodeURIComponent($metric.value));
  }

  function option(value, text) {
    var o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    return o;
  }

  function fillApps(want) {
    $app.replaceChildren.apply($app, index.apps.map(function (a) { return option(a.app, a.app); }));
    if (index.apps.some(function (a) { return a.app === want; })) $app.value = want;
  }

  function fillMetrics(want) {
    var app = index.apps.find(function (a) { return a.app === $app.value; });
    var metrics = app ? app.metrics : [];
    $metric.replaceChildren.apply($metric, metrics.map(function (m) {
      return option(m.name, m.name + ' (' + m.kind + (m.series > 1 ? ', ' + m.series + ' series' : '') + ')');
    }));
    if (metrics.some(function (m) { return m.name === want; })) $metric.value = want;
    else {
      // Start on a measure: latencies are what one comes to look at.
      var measure = metrics.find(function (m) { return m.kind === 'measure'; });
      if (measure) $metric.value = measure.name;
    }
  }

  function refreshIndex() {
    return get('dashboard/index.json').then(function (r) {
      index = r;
      $step.textContent = String(r.step || 10);
      var keepApp = $app.value || readHash().app;
      var keepMetric = $metric.value || readHash().metric;
      fillApps(keepApp);
      fillMetrics(keepMetric);
      if (index.apps.length === 0) {
        $charts.replaceChildren(empty('No closed windows yet: post some lines (drainmeter replay FILE --url …/logs --now --rate 20) and wait a step.'));
      }
    });
  }

  function empty(text) {
    var d = document.createElement('div');
    d.className = 'empty';
    d.textContent = text;
    return d;
  }

  function labelText(labels) {
    var keys = Object.keys(labels);
    return keys.length === 0 ? '(no labels)' : keys.map(function (k) { return k + '=' + labels[k]; }).join(' ');
  }

  /** A series' points as uPlot columns: x (step start, s), then one column per line. */
  function columns(s) {
    var n = (s.count || s.sum || s.last).length;
    var x = [];
    for (var i = 0; i < n; i++) x.push(s.start + i * s.step);
    if (s.kind === 'measure') return [x, s.p50, s.p95, s.p99];
    if (s.kind === 'counter') return [x, s.sum.map(function (v) { return v == null ? null : v / s.step; })];
    return [x, s.last];
  }

  function chartWidth() {
    var w = $charts.clientWidth;
    var cols = Math.max(1, Math.floor(w / 420));
    return Math.max(260, Math.floor((w - 12 * (cols - 1)) / cols) - 16);
  }

  function makeChart(key, s, fmt) {
    var box = document.createElement('section');
    box.className = 'chart';
    var h = document.createElement('h2');
    var now = document.createElement('span');
    now.className = 'now';
    h.append(labelText(s.labels) + ' ', now);
    box.append(h);
    $charts.append(box);
    var lines = s.kind === 'measure' ? ['p50', 'p95', 'p99'] : [s.kind === 'counter' ? 'rate' : 'value'];
    var opts = {
      width: chartWidth(),
      height: 180,
      scales: { x: { time: true } },
      series: [{}].concat(lines.map(function (l) {
        return { label: l === 'rate' ? 'per second' : l, stroke: COLORS[l], width: 1.5, value: function (u, v) { return l === 'rate' ? (v == null ? '–' : +v.toPrecision(3) + '/s') : fmt(v); } };
      })),
      axes: [{}, { size: 64, values: function (u, vals) { return vals.map(function (v) { return s.kind === 'counter' ? +v.toPrecision(3) + '/s' : fmt(v); }); } }],
      bands: s.kind === 'measure' ? [{ series: [3, 1], fill: 'rgba(215, 38, 61, 0.08)' }] : [],
      legend: { live: true },
    };
    var data = columns(s);
    var u = new uPlot(opts, data, box);
    var c = { u: u, kind: s.kind, step: s.step, data: data, title: labelText(s.labels), now: now, fmt: fmt, box: box };
    charts.set(key, c);
    showNow(c);
    return c;
  }

  function showNow(c) {
    var d = c.data;
    var i = d[0].length - 1;
    while (i >= 0 && d[d.length - 1][i] == null) i--;
    if (i < 0) { c.now.textContent = ''; return; }
    c.now.textContent = c.kind === 'measure' ? 'p99 ' + c.fmt(d[3][i]) : c.kind === 'counter' ? +d[1][i].toPrecision(3) + '/s' : c.fmt(d[1][i]);
  }

  /** Appends the points newer than a chart's last, and drops those older than 15 minutes. */
  function extend(c, s) {
    var add = columns(s);
    var d = c.data;
    var last = d[0].length > 0 ? d[0][d[0].length - 1] : -Infinity;
    for (var i = 0; i < add[0].length; i++) {
      if (add[0][i] <= last) continue;
      for (var k = 0; k < d.length; k++) d[k].push(add[k][i]);
    }
    var horizon = (d[0].length > 0 ? d[0][d[0].length - 1] : 0) - SECONDS;
    var drop = 0;
    while (drop < d[0].length && d[0][drop] <= horizon) drop++;
    if (drop > 0) for (var j = 0; j < d.length; j++) d[j].splice(0, drop);
    c.u.setData(d);
    showNow(c);
  }

  function historyUrl(app, metric, since) {
    return 'dashboard/history.json?app=' + encodeURIComponent(app) + '&metric=' + encodeURIComponent(metric) + '&limit=' + MAX_CHARTS + since;
  }

  function load() {
    var app = $app.value;
    var metric = $metric.value;
    writeHash();
    charts.forEach(function (c) { c.u.destroy(); });
    charts.clear();
    $charts.replaceChildren();
    latest = -Infinity;
    shown = { app: app, metric: metric };
    if (!app || !metric) return Promise.resolve();
    // The server sends the busiest MAX_CHARTS series, busiest first, and how many matched.
    return get(historyUrl(app, metric, '')).then(function (r) {
      if (shown.app !== app || shown.metric !== metric) return;
      var fmt = formatter(metric);
      r.series.forEach(function (s) {
        makeChart(JSON.stringify(s.labels), s, fmt);
        latest = Math.max(latest, s.start + ((s.count || s.sum || s.last).length - 1) * s.step);
      });
      if (r.total > r.series.length) $charts.append(empty((r.total - r.series.length) + ' more series, the quietest, not drawn.'));
      if (r.series.length === 0) $charts.append(empty('No points yet for ' + metric + '.'));
      say('updated ' + new Date().toLocaleTimeString());
    });
  }

  function poll() {
    var app = shown.app;
    var metric = shown.metric;
    if (!app || !metric) return refreshIndex().then(function () { if ($metric.value) return load(); });
    var since = Number.isFinite(latest) ? '&since=' + (latest + 1) : '';
    return get(historyUrl(app, metric, since)).then(function (r) {
      if (shown.app !== app || shown.metric !== metric) return;
      var fmt = formatter(metric);
      r.series.forEach(function (s) {
        var key = JSON.stringify(s.labels);
        var c = charts.get(key);
        if (c) extend(c, s);
        else if (charts.size < MAX_CHARTS) makeChart(key, s, fmt);
        latest = Math.max(latest, s.start + ((s.count || s.sum || s.last).length - 1) * s.step);
      });
      polls++;
      say('updated ' + new Date().toLocaleTimeString());
    });
  }

  function failed(err) { say('could not load: ' + err.message); }

  $app.addEventListener('change', function () { fillMetrics(''); load().catch(failed); });
  $metric.addEventListener('change', function () { load().catch(failed); });
  window.addEventListener('resize', function () {
    var w = chartWidth();
    charts.forEach(function (c) { c.u.setSize({ width: w, height: 180 }); });
  });

  // For tests and the curious: what each chart draws, as uPlot holds it.
  window.drainmeter = {
    polls: function () { return polls; },
    charts: function () {
      return Array.from(charts.values()).map(function (c) { return { title: c.title, kind: c.kind, step: c.step, data: c.u.data.map(function (col) { return Array.from(col); }) }; });
    },
  };

  refreshIndex().then(load).catch(failed);
  setInterval(function () { poll().catch(failed); }, POLL_MS);
  setInterval(function () { refreshIndex().catch(failed); }, 30000);
})();
