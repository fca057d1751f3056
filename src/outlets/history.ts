// What the dashboard draws (SPEC §9): for every series, a ring of the last 15 minutes
// in steps of HISTORY_STEP seconds (the series' resolution when that is longer), made
// from closed windows as they close. A step's windows are merged exactly as /metrics
// merges them (their histogram buckets added), so a point is
//
//   measure  count, p50, p95, p99 of every value in the step's windows
//   counter  the sum of the step's windows (the page divides by the step: a rate)
//   sample   the last value of the step
//
// Points are Float32 (seven digits; a chart needs fewer): 90 points a series, so a
// measure's ring is 1,440 bytes and a counter's or sample's 360. Each ring is charged
// to its app's history budget (model/budget.ts, SPEC §6); a series past it has no
// history. A step's point is written once all its windows have closed, so the page
// shows a new point every step, grace seconds after the step's end.

import type { Aggregator, ClosedWindow, Series } from '../aggregate/index.js';
import { PooledRoom, WindowBuckets } from '../aggregate/index.js';
import type { ClosedStep, HistoryStore } from '../history/store.js';
import { type Budget, COUNTER, KIND_NAMES, MEASURE, type ReleaseSink } from '../model/index.js';

export const HISTORY_SECONDS = 900;
export const HISTORY_STEP = 10;
export const HISTORY_QUANTILES = [0.5, 0.95, 0.99] as const;
/** What a ring costs beyond its points: the Track and its typed array's objects. */
const TRACK_OVERHEAD = 160;
/**
 * And a measure's the histogram its step's windows merge into (held while a step is
 * gathered, which for a busy series is always): bench/history.ts measures ~2,000
 * bytes of heap and buffers a measure ring, 1,440 of them points.
 */
const GATHER_OVERHEAD = 440;
const POOL_MAX = 1024;
/** Bytes of bucket room the pooled steps keep, in all (the aggregator's rule for its windows). */
const POOL_BUCKET_BYTES = 2 << 20;
/** Releases kept an app (the newest), and apps with releases kept: at most ~5 MB of text. */
const RELEASES_KEPT = 20;
const RELEASE_APPS = 1000;
const FIELDS: Record<string, readonly string[]> = { measure: ['count', 'p50', 'p95', 'p99'], counter: ['sum'], sample: ['last'] };

class Track {
  readonly series: Series;
  readonly step: number;
  readonly slots: number;
  readonly fields: number;
  readonly values: Float32Array;
  readonly bytes: number;
  /** Step indexes (start / step) of the first and the newest point written; -1: none yet. */
  oldest = -1;
  newest = -1;
  /**
   * The step being gathered (index; -1: none), and its windows merged so far: a
   * measure's buckets in `merged` (in no order: a busy series' windows bring many,
   * sorted once, for the step's quantiles) with its count, min and max; a counter's
   * sum; a sample's newest value.
   */
  gathering = -1;
  merged: WindowBuckets | null = null;
  count = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  last = NaN;
  lastTime = -Infinity;

  constructor(series: Series, step: number, fields: number) {
    this.series = series;
    this.step = step;
    this.slots = Math.ceil(HISTORY_SECONDS / step);
    this.fields = fields;
    this.values = new Float32Array(this.slots * fields).fill(NaN);
    this.bytes = Track.bytesFor(step, fields);
  }

  /** What a ring costs, known before it is made. */
  static bytesFor(step: number, fields: number): number {
    return Math.ceil(HISTORY_SECONDS / step) * fields * Float32Array.BYTES_PER_ELEMENT + TRACK_OVERHEAD + (fields > 1 ? GATHER_OVERHEAD : 0);
  }
}

export interface HistoryQuery {
  /** One app's series (Basic credentials), or every app's (null). */
  scope: string | null;
  /** Only this app (a bearer's choice), when given. */
  app?: string;
  /** Only this metric (family name), when given. */
  metric?: string;
  /** Points whose step starts at or after this, epoch s (a poll asks for what is new). */
  since?: number;
  /** A range, epoch s: steps starting in [from, to) (docs/history.md); older than the ring, the store answers. */
  from?: number;
  to?: number;
  /** The busiest this many series (HISTORY_LIMIT when not given). */
  limit?: number;
}

/** Series a history answer holds unless asked for fewer: what the page draws. */
export const HISTORY_LIMIT = 30;
/** The most a query may ask for: 1,000 series of 15 minutes is ~3 MB of JSON, ~0.25 s to write. */
export const HISTORY_MAX_LIMIT = 1000;

export class History implements ReleaseSink {
  private readonly tracks = new Map<Series, Track>();
  /** Tracks with a step being gathered, by the step's end (epoch s). */
  private readonly pending = new Map<number, Track[]>();
  private readonly pool: WindowBuckets[] = [];
  /** The bucket room the pooled steps keep. */
  private readonly pooledRoom = new PooledRoom(POOL_BUCKET_BYTES);
  private readonly budget: Budget;
  /** The latest second every window ending by it has closed through. */
  through = -Infinity;
  /** The first `through` this process saw: the ring holds nothing before it. */
  private started = -Infinity;
  /** Where closed steps outlive the process (docs/history.md), if anywhere. */
  store: HistoryStore | null = null;
  /** Each app's newest releases (t epoch s), oldest first. */
  private readonly releases = new Map<string, { t: number; text: string }[]>();
  private readonly closed: ClosedStep = { series: null as never, start: 0, count: 0, sum: 0, min: 0, max: 0, last: NaN, lastTime: 0, buckets: null };

  constructor(aggregator: Aggregator, budget: Budget) {
    this.budget = budget;
    aggregator.onClose((c) => this.window(c));
    aggregator.onAdvance((t) => this.settle(t));
  }

  private window(c: ClosedWindow): void {
    const s = c.series;
    let t = this.tracks.get(s);
    const kind = s.metric.kind;
    if (t === undefined) {
      const step = Math.max(HISTORY_STEP, s.resolution);
      const fields = kind === MEASURE ? 4 : 1;
      // A series past its app's budget has no ring: asked again at its next window.
      if (!this.budget.take(s.app, Track.bytesFor(step, fields))) return;
      t = new Track(s, step, fields);
      this.tracks.set(s, t);
    }
    const index = Math.floor(c.start / t.step);
    if (t.gathering >= 0 && index !== t.gathering) this.finish(t);
    if (t.gathering < 0) {
      t.gathering = index;
      t.sum = 0;
      t.last = NaN;
      t.lastTime = -Infinity;
      if (kind === MEASURE) {
        const pooled = this.pool.pop();
        if (pooled !== undefined) this.pooledRoom.taken(pooled);
        const h = pooled ?? new WindowBuckets();
        h.clear();
        t.merged = h;
        t.count = 0;
        t.min = Infinity;
        t.max = -Infinity;
      }
      const end = (index + 1) * t.step;
      const list = this.pending.get(end);
      if (list === undefined) this.pending.set(end, [t]);
      else list.push(t);
    }
    const w = c.window;
    const h = t.merged;
    if (h !== null) {
      w.mergeInto(h);
      t.count += w.count;
      t.sum += w.sum;
      if (w.min < t.min) t.min = w.min;
      if (w.max > t.max) t.max = w.max;
    } else if (kind === COUNTER) t.sum += w.sum;
    else if (w.lastTime >= t.lastTime) {
      t.last = w.last;
      t.lastTime = w.lastTime;
    }
  }

  /** Writes the points of every step whose windows have all closed by `through`. */
  settle(through: number): void {
    if (through > this.through) this.through = through;
    if (this.started === -Infinity && Number.isFinite(through)) this.started = through;
    for (const [end, list] of this.pending) {
      if (end > through) continue;
      this.pending.delete(end);
      for (const t of list) if (t.gathering >= 0 && (t.gathering + 1) * t.step === end) this.finish(t);
    }
    this.store?.flush(through);
  }

  /** The oldest step start (epoch s) the ring answers for; older ranges are the store's. */
  reach(): number {
    return Math.max(this.started, this.through - HISTORY_SECONDS);
  }

  private finish(t: Track): void {
    const m = t.merged;
    const index = t.gathering;
    t.merged = null;
    t.gathering = -1;
    if (this.store !== null) this.hand(t, index, m);
    if (index > t.newest - t.slots) {
      // Steps with no window between the newest point and this one: no point.
      for (let i = Math.max(t.newest + 1, index - t.slots + 1); i < index; i++) t.values.fill(NaN, (i % t.slots) * t.fields, (i % t.slots) * t.fields + t.fields);
      const at = (index % t.slots) * t.fields;
      if (m !== null) {
        t.values[at] = t.count;
        for (let q = 0; q < HISTORY_QUANTILES.length; q++) t.values[at + 1 + q] = m.quantile(HISTORY_QUANTILES[q], t.min, t.max, t.count);
      } else t.values[at] = t.series.metric.kind === COUNTER ? t.sum : t.last;
      if (index > t.newest) t.newest = index;
      if (t.oldest < 0 || index < t.oldest) t.oldest = index;
    }
    this.recycle(m);
  }

  /** A closed step to the store, in the one reused ClosedStep. */
  private hand(t: Track, index: number, m: WindowBuckets | null): void {
    const c = this.closed;
    c.series = t.series;
    c.start = index * t.step;
    c.count = t.count;
    c.sum = t.sum;
    c.min = t.min;
    c.max = t.max;
    c.last = t.last;
    c.lastTime = t.lastTime;
    c.buckets = m;
    (this.store as HistoryStore).add(c);
  }

  /** Pools a step's buckets, unless the pool is full or holds POOL_BUCKET_BYTES of room already. */
  private recycle(h: WindowBuckets | null): void {
    if (h !== null && this.pool.length < POOL_MAX && this.pooledRoom.keep(h)) this.pool.push(h);
  }

  /** A release or deploy line of an app, kept to be marked on its charts. */
  release(app: string, time: number, text: string): void {
    const t = Math.floor(time / 1000);
    let list = this.releases.get(app);
    if (list === undefined) {
      if (this.releases.size >= RELEASE_APPS) return;
      this.releases.set(app, (list = []));
    }
    if (list.some((r) => r.t === t && r.text === text)) return;
    list.push({ t, text });
    list.sort((a, b) => a.t - b.t);
    if (list.length > RELEASES_KEPT) list.shift();
  }

  /** The releases of `apps` in [from, to) (epoch s), as JSON text. */
  private releasesJson(apps: Iterable<string>, from: number, to: number): string {
    const out: { app: string; t: number; text: string }[] = [];
    for (const app of apps) for (const r of this.releases.get(app) ?? []) if (r.t >= from && r.t < to) out.push({ app, t: r.t, text: r.text });
    return JSON.stringify(out.sort((a, b) => a.t - b.t));
  }

  /** Drops the rings of series the aggregator no longer holds, giving their bytes back. */
  sweep(): number {
    let dropped = 0;
    for (const [s, t] of this.tracks) {
      if (s.app.find(s.metric, s.label1, s.label2) === s) continue;
      this.tracks.delete(s);
      this.budget.give(s.app, t.bytes);
      this.recycle(t.merged);
      t.merged = null;
      dropped++;
    }
    // An app's releases go with its last ring.
    const apps = new Set<string>();
    for (const s of this.tracks.keys()) apps.add(s.app.name);
    for (const app of this.releases.keys()) if (!apps.has(app)) this.releases.delete(app);
    return dropped;
  }

  /** The apps and metrics with history in a scope: what the page's selectors list. */
  index(scope: string | null): string {
    const apps = new Map<string, Map<string, { kind: string; series: number }>>();
    for (const [s] of this.tracks) {
      const app = s.app.name;
      if (scope !== null && app !== scope) continue;
      let metrics = apps.get(app);
      if (metrics === undefined) apps.set(app, (metrics = new Map()));
      const m = metrics.get(s.metric.name);
      if (m === undefined) metrics.set(s.metric.name, { kind: KIND_NAMES[s.metric.kind], series: 1 });
      else m.series++;
    }
    const out = [...apps.keys()].sort().map((app) => ({
      app,
      metrics: [...(apps.get(app) ?? [])].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, m]) => ({ name, ...m })),
    }));
    return JSON.stringify({ step: HISTORY_STEP, seconds: HISTORY_SECONDS, quantiles: HISTORY_QUANTILES, apps: out });
  }

  /**
   * The points of the busiest series a query selects, as JSON text: `total` series
   * matched, and for each of the `limit` with the most traffic over the ring (a
   * measure's count, a counter's sum, a sample's points), busiest first: its labels,
   * step, the start of its first point (epoch s) and one array per field, null where a
   * step had no window. Written by hand: no object per point.
   */
  read(q: HistoryQuery): string {
    const chosen: { t: Track; traffic: number }[] = [];
    for (const [s, t] of this.tracks) {
      const app = s.app.name;
      if ((q.scope !== null && app !== q.scope) || (q.app !== undefined && app !== q.app) || (q.metric !== undefined && s.metric.name !== q.metric)) continue;
      if (t.newest >= 0) chosen.push({ t, traffic: traffic(t) });
    }
    // Stable: equal traffic keeps the order the series came in.
    chosen.sort((a, b) => b.traffic - a.traffic);
    const limit = Math.min(q.limit ?? HISTORY_LIMIT, HISTORY_MAX_LIMIT);
    const parts: string[] = [];
    // `since` (a poll): steps starting at or after it; `from` (a range): the step holding it too.
    const since = q.since ?? -Infinity;
    const until = q.to ?? Infinity;
    for (let c = 0; c < chosen.length && c < limit; c++) {
      const t = chosen[c].t;
      const s = t.series;
      const first = Math.max(t.oldest, t.newest - t.slots + 1, q.from === undefined ? Math.ceil(since / t.step) : Math.floor(q.from / t.step));
      const newest = Math.min(t.newest, Math.ceil(until / t.step) - 1);
      if (first > newest) continue;
      const kind = KIND_NAMES[s.metric.kind];
      const names = FIELDS[kind];
      const labels: Record<string, string> = {};
      for (const [k, v] of s.labels) if (k !== 'app') labels[k] = v;
      let text = `{"app":${JSON.stringify(s.app.name)},"metric":${JSON.stringify(s.metric.name)},"kind":"${kind}","labels":${JSON.stringify(labels)},"step":${t.step},"start":${first * t.step}`;
      for (let f = 0; f < names.length; f++) {
        text += `,"${names[f]}":[`;
        for (let i = first; i <= newest; i++) {
          const v = t.values[(i % t.slots) * t.fields + f];
          text += `${i === first ? '' : ','}${number(v)}`;
        }
        text += ']';
      }
      parts.push(`${text}}`);
    }
    const apps = q.app !== undefined ? [q.app] : q.scope !== null ? [q.scope] : new Set(chosen.map((c) => c.t.series.app.name));
    const from = q.from ?? (Number.isFinite(since) ? since : this.reach());
    const releases = this.releasesJson(apps, from, until);
    return `{"through":${Number.isFinite(this.through) ? this.through : null},"total":${chosen.length},"series":[${parts.join(',')}],"releases":${releases}}`;
  }
}

/** A ring's traffic: the sum of a measure's counts or a counter's sums, or a sample's points, over the ring. */
function traffic(t: Track): number {
  const counts = t.series.metric.kind !== MEASURE && t.series.metric.kind !== COUNTER;
  let sum = 0;
  for (let i = 0; i < t.values.length; i += t.fields) {
    const v = t.values[i];
    if (v === v) sum += counts ? 1 : Math.abs(v);
  }
  return sum;
}

/** A Float32 point as JSON: null for no point, seven significant digits (what a Float32 holds). */
function number(v: number): string {
  if (v !== v) return 'null';
  if (Number.isInteger(v) && Math.abs(v) < 2 ** 24) return String(v);
  if (!Number.isFinite(v)) return 'null';
  return String(Number(v.toPrecision(7)));
}
