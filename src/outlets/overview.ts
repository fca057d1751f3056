// An app's overview for the dashboard (docs/dashboard.md): what Heroku's Metrics tab
// and Librato's Heroku dashboard showed, from the history's rings, on one grid of
// HISTORY_STEP steps over the last HISTORY_SECONDS:
//
//   throughput  heroku_router_requests_total summed by status class, and the 5xx share
//   latency     heroku_router_service_seconds of every dyno merged exactly (the
//               history's merge ring: buckets added per step), p50/p95/p99 and max
//   events      H codes, R codes and dyno lifecycle events, each step a count
//   dynos       memory (RSS, swap) against the quota, and load, per dyno
//   addons      Heroku Postgres, Redis and PgBouncer samples, when their lines come
//   metrics     the app's own families, busiest first, each merged into one line
//
// Walks only the app's rings, letting the event loop in every few milliseconds.

import { COUNTER, KIND_NAMES, MEASURE, SAMPLE } from '../model/index.js';
import { cadence, type History, HISTORY_SECONDS, HISTORY_STEP, type HistoryQuery, Slicer, type Track } from './history/index.js';

/** App families drawn at most, busiest first. */
const MAX_METRICS = 24;
/** Add-on series drawn at most. */
const MAX_ADDON_SERIES = 48;
/** The fewest steps the grid spans (5 minutes). */
const MIN_STEPS = 30;
/** Events listed at most, newest first. */
const MAX_EVENTS = 500;

const REQUESTS = 'heroku_router_requests_total';
const SERVICE = 'heroku_router_service_seconds';
const EVENTS: Record<string, string> = { heroku_router_errors_total: 'router', heroku_dyno_errors_total: 'dyno', heroku_dyno_events_total: 'lifecycle' };
const DYNO: Record<string, string> = { heroku_dyno_memory_rss_bytes: 'rss', heroku_dyno_memory_swap_bytes: 'swap', heroku_dyno_memory_quota_bytes: 'quota', heroku_dyno_load_avg_1m: 'load' };
/** The add-on samples the overview draws, in this order (every other one is in the series view). */
const ADDONS = [
  'heroku_postgres_load_avg_1m', 'heroku_postgres_active_connections', 'heroku_postgres_waiting_connections', 'heroku_postgres_memory_postgres_bytes',
  'heroku_postgres_db_size_bytes', 'heroku_postgres_read_iops', 'heroku_postgres_write_iops', 'heroku_postgres_table_cache_hit_rate',
  'heroku_redis_load_avg_1m', 'heroku_redis_active_connections', 'heroku_redis_memory_redis_bytes', 'heroku_redis_hit_rate', 'heroku_redis_evicted_keys',
  'heroku_pgbouncer_client_active', 'heroku_pgbouncer_client_waiting', 'heroku_pgbouncer_max_wait_seconds',
];

/** Seven significant digits (what a Float32 point holds); NaN stays NaN (JSON null). */
function round(v: number): number {
  return v === v && !Number.isInteger(v) ? Number(v.toPrecision(7)) : v;
}

export async function overview(h: History, q: HistoryQuery): Promise<string> {
  const apps = h.apps(q.scope);
  const app = q.app !== undefined && apps.includes(q.app) ? q.app : (apps[0] ?? null);
  const step = HISTORY_STEP;
  const slots = HISTORY_SECONDS / step;
  const base = { app, apps, step, through: Number.isFinite(h.through) ? h.through : null, now: q.now ?? null, last: app === null ? null : h.lastOf(app), staleAfter: h.staleAfter };
  if (app === null || !Number.isFinite(h.through)) return JSON.stringify({ ...base, x: [] });
  // The grid: every step whose windows have all closed, the newest last, from the
  // app's first point (at least MIN_STEPS back): a new app is not squeezed to the right.
  const newest = Math.floor(h.through / step) - 1;
  let first = newest - MIN_STEPS + 1;
  for (const t of h.ringsOf(app)) if (t.newest >= 0) first = Math.min(first, Math.floor((Math.max(t.oldest, t.newest - t.slots + 1) * t.step) / step));
  first = Math.max(first, newest - slots + 1);
  const x: number[] = [];
  for (let i = first; i <= newest; i++) x.push(i * step);
  const n = x.length;
  const column = (t: Track, f: number) => x.map((s) => round(t.at(s, f)));
  const slicer = new Slicer();

  const classes = [1, 2, 3, 4, 5].map(() => new Array<number>(n).fill(0));
  let routerFrom = Infinity;
  const events: { t: number; kind: string; code: string; dyno: string; n: number }[] = [];
  const dynos = new Map<string, Record<string, unknown>>();
  const addons: { metric: string; labels: Record<string, string>; cadence: number; values: number[] }[] = [];
  const families = new Map<string, { kind: number; labels: readonly string[]; series: number; traffic: number; samples: Track[] }>();

  for (const t of h.ringsOf(app)) {
    const p = slicer.pause();
    if (p !== null) await p;
    if (t.series === null || t.newest < 0) continue;
    const name = t.metric.name;
    if (name === REQUESTS) {
      const cls = Number(t.series.label2.charAt(0));
      routerFrom = Math.min(routerFrom, Math.max(t.oldest, t.newest - t.slots + 1) * t.step);
      if (cls >= 1 && cls <= 5) for (let i = 0; i < n; i++) {
        const v = t.at(x[i], 0);
        if (v === v) classes[cls - 1][i] += v;
      }
    } else if (name in EVENTS) {
      for (let i = 0; i < n; i++) {
        const v = t.at(x[i], 0);
        if (v > 0) events.push({ t: x[i], kind: EVENTS[name], code: t.series.label2, dyno: t.series.label1, n: v });
      }
    } else if (name in DYNO) {
      const dyno = t.series.label1;
      let d = dynos.get(dyno);
      if (d === undefined) dynos.set(dyno, (d = { dyno }));
      const field = DYNO[name];
      if (field === 'quota') {
        let last = NaN;
        for (let i = n - 1; i >= 0 && last !== last; i--) last = t.at(x[i], 0);
        d.quota = round(last);
      } else {
        d[field] = column(t, 0);
        d.cadence = cadence(t);
      }
    } else if (ADDONS.includes(name)) {
      if (addons.length < MAX_ADDON_SERIES && t.metric.kind === SAMPLE) addons.push({ metric: name, labels: t.labels(), cadence: cadence(t), values: column(t, 0) });
    } else if (!name.startsWith('heroku_') && !name.startsWith('drainmeter_')) {
      let f = families.get(name);
      if (f === undefined) families.set(name, (f = { kind: t.metric.kind, labels: t.metric.labels, series: 0, traffic: 0, samples: [] }));
      f.series++;
      for (let i = 0; i < n; i++) {
        const v = t.at(x[i], 0);
        if (v === v) f.traffic += t.metric.kind === SAMPLE ? 1 : Math.abs(v);
      }
      if (t.metric.kind === SAMPLE) f.samples.push(t);
    }
  }

  // A counter's step without lines is 0: from the first step any router line came.
  const total = new Array<number | null>(n).fill(null);
  const share = new Array<number | null>(n).fill(null);
  const byClass: Record<string, (number | null)[]> = {};
  for (let c = 0; c < 5; c++) byClass[`${c + 1}xx`] = classes[c].map((v, i) => (x[i] >= routerFrom ? v : null));
  for (let i = 0; i < n; i++) {
    if (x[i] < routerFrom) continue;
    let sum = 0;
    for (let c = 0; c < 5; c++) sum += classes[c][i];
    total[i] = sum;
    share[i] = sum > 0 ? classes[4][i] / sum : null;
  }

  const service = h.mergeOf(app, SERVICE);
  const latency = service === undefined ? null : { count: column(service, 0), p50: column(service, 1), p95: column(service, 2), p99: column(service, 3), max: column(service, 4) };

  events.sort((a, b) => b.t - a.t || (a.kind < b.kind ? -1 : 1));
  const codes: Record<string, number> = {};
  for (const e of events) codes[`${e.kind} ${e.code}`] = (codes[`${e.kind} ${e.code}`] ?? 0) + e.n;

  const metrics: unknown[] = [];
  const busiest = [...families].sort(([, a], [, b]) => b.traffic - a.traffic).slice(0, MAX_METRICS);
  for (const [name, f] of busiest) {
    const entry: Record<string, unknown> = { metric: name, kind: KIND_NAMES[f.kind], labels: f.labels, series: f.series };
    if (f.kind === SAMPLE) {
      // Samples add up (memory, queue depth): each holds its value for its cadence.
      const sum = new Array<number>(n).fill(NaN);
      for (const t of f.samples) {
        const hold = cadence(t);
        let last = NaN;
        let age = Infinity;
        for (let i = 0; i < n; i++) {
          const v = t.at(x[i], 0);
          if (v === v) {
            last = v;
            age = 0;
          } else age++;
          if (age < hold) sum[i] = (sum[i] === sum[i] ? sum[i] : 0) + last;
        }
      }
      entry.last = sum.map(round);
    } else {
      const m = h.mergeOf(app, name);
      if (m === undefined) continue;
      if (f.kind === MEASURE) Object.assign(entry, { count: column(m, 0), p50: column(m, 1), p99: column(m, 3) });
      else if (f.kind === COUNTER) entry.sum = column(m, 0);
    }
    metrics.push(entry);
  }

  addons.sort((a, b) => ADDONS.indexOf(a.metric) - ADDONS.indexOf(b.metric));
  return JSON.stringify({
    ...base,
    x,
    throughput: routerFrom === Infinity ? null : { total, share, ...byClass },
    latency,
    events: events.slice(0, MAX_EVENTS),
    eventCodes: codes,
    dynos: [...dynos.values()].sort((a, b) => (String(a.dyno) < String(b.dyno) ? -1 : 1)),
    addons,
    metrics,
    more: Math.max(0, families.size - MAX_METRICS),
    // The app's release and deploy lines on the grid, for the charts' marks.
    releases: JSON.parse(h.releasesJson([app], x[0], x[n - 1] + step)) as unknown,
  });
}
