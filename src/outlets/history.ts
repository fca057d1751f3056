// What the dashboard draws (docs/dashboard.md): for every series, a ring of the last 15 minutes
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
// to its app's history budget (model/budget.ts, docs/limits.md); a series past it has no
// history. A step's point is written once all its windows have closed, so the page
// shows a new point every step, grace seconds after the step's end.

import { setImmediate as yieldNow } from 'node:timers/promises';
import type { Aggregator, AppState, ClosedWindow, Series } from '../aggregate/index.js';
import { PooledRoom, WindowBuckets } from '../aggregate/index.js';
import type { ClosedStep, HistoryStore } from '../history/store.js';
import { type Budget, COUNTER, KIND_NAMES, MEASURE, type Metric, type ReleaseSink, SAMPLE } from '../model/index.js';

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
const FIELDS: Record<string, readonly string[]> = { measure: ['count', 'p50', 'p95', 'p99', 'max'], counter: ['sum'], sample: ['last'] };

/**
 * A ring of points: one series' (`series` set), or the exact merge of every series
 * of a metric in an app (`group` -1), or of those with one value of one label (`group`
 * the label's index, for two-label metrics): what the overview and the series view's
 * grouping draw. A merge adds a step's windows as a series' ring does, so a merged
 * measure's p99 is the p99 of every value of every series in the step, within 1%.
 */
class Track {
  readonly series: Series | null;
  readonly app: AppState;
  readonly metric: Metric;
  /** -1: every series of the metric; 0 or 1: the series with `value` for that label; -2: one series. */
  readonly group: number;
  readonly value: string;
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

  constructor(series: Series | null, app: AppState, metric: Metric, group: number, value: string, step: number, fields: number) {
    this.series = series;
    this.app = app;
    this.metric = metric;
    this.group = group;
    this.value = value;
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

  /** The labels it stands for, without `app`. */
  labels(): Record<string, string> {
    const labels: Record<string, string> = {};
    if (this.series !== null) {
      for (const [k, v] of this.series.labels) if (k !== 'app') labels[k] = v;
    } else if (this.group >= 0) labels[this.metric.labels[this.group]] = this.value;
    return labels;
  }

  /** The point of field `f` for the step starting at `t` (epoch s), NaN for none. */
  at(t: number, f: number): number {
    const i = Math.floor(t / this.step);
    if (i > this.newest || i < this.oldest || i <= this.newest - this.slots) return NaN;
    return this.values[(i % this.slots) * this.fields + f];
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
  /** One line per value of this label, merged exactly; '' merges every series into one. */
  group?: string;
  /** Only series whose labels, written `k=v k=v`, hold this text (any case). */
  search?: string;
  /** The reader's clock, epoch s: the wall clock in serve, the stream's in tail. */
  now?: number;
}

/** Series a history answer holds unless asked for fewer: what the page draws. */
export const HISTORY_LIMIT = 30;
/** The most a query may ask for: 1,000 series of 15 minutes is ~3 MB of JSON, ~0.25 s to write. */
export const HISTORY_MAX_LIMIT = 1000;
/** Time a query runs before it lets the event loop in, ms (as /metrics rendering does). */
const SLICE_MS = 8;
/** The longest a sample's cadence is taken to be, steps: a gap longer than this is a gap. */
const MAX_CADENCE = 6;
/** What staleness allows beyond a window's length and grace, s: the tick, a poll, and room. */
const STALE_MARGIN_S = 5;

/** Lets the event loop in every SLICE_MS of a query's work: drains are answered meanwhile. */
export class Slicer {
  private start = performance.now();

  /** Null while the slice lasts; else a promise to await. */
  pause(): Promise<void> | null {
    if (performance.now() - this.start < SLICE_MS) return null;
    return yieldNow().then(() => {
      this.start = performance.now();
    });
  }
}

export class History implements ReleaseSink {
  private readonly tracks = new Map<Series, Track>();
  /** Every app's rings (its series' and its merges'), so a query walks one app's only. */
  private readonly byApp = new Map<string, Set<Track>>();
  /** Merges by `app \0 metric` (every series) or `app \0 metric \0 label index \0 value`. */
  private readonly merges = new Map<string, Track>();
  /** The merges a series' windows go to, made with its ring. */
  private readonly mergesOf = new Map<Series, Track[]>();
  /** Tracks with a step being gathered, by the step's end (epoch s). */
  private readonly pending = new Map<number, Track[]>();
  /** Each app's newest window end (epoch s): when its last line came, to a window. */
  private readonly lastEnd = new Map<string, number>();
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
  /**
   * Seconds after an app's newest window end before the page says "no data for …":
   * a live app's newest closed window trails the clock by its length, the grace and
   * a tick (4 s at the defaults), and the page learns of it one poll (2 s) later.
   */
  readonly staleAfter: number;

  constructor(aggregator: Aggregator, budget: Budget) {
    this.budget = budget;
    this.staleAfter = aggregator.options.grace + aggregator.options.resolution + STALE_MARGIN_S;
    aggregator.onClose((c) => this.window(c));
    aggregator.onAdvance((t) => this.settle(t));
  }

  private window(c: ClosedWindow): void {
    const s = c.series;
    const seen = this.lastEnd.get(s.app.name);
    if (seen === undefined || c.end > seen) this.lastEnd.set(s.app.name, c.end);
    let t = this.tracks.get(s);
    if (t === undefined) {
      const made = this.track(s);
      if (made === null) return;
      t = made;
    }
    this.gather(t, c);
    const merges = this.mergesOf.get(s);
    if (merges !== undefined) for (const m of merges) this.gather(m, c);
  }

  /** A series' ring and its merges (measures and counters), or null past its app's budget. */
  private track(s: Series): Track | null {
    const kind = s.metric.kind;
    const step = Math.max(HISTORY_STEP, s.resolution);
    const fields = kind === MEASURE ? 5 : 1;
    // A series past its app's budget has no ring: asked again at its next window.
    if (!this.budget.take(s.app, Track.bytesFor(step, fields))) return null;
    const t = new Track(s, s.app, s.metric, -2, '', step, fields);
    this.tracks.set(s, t);
    this.held(t);
    if (kind === SAMPLE) return t;
    const name = `${s.app.name}\u0000${s.metric.name}`;
    const merges: Track[] = [];
    const want: [string, number, string][] = [[name, -1, '']];
    if (s.metric.labels.length === 2) want.push([`${name}\u00000\u0000${s.label1}`, 0, s.label1], [`${name}\u00001\u0000${s.label2}`, 1, s.label2]);
    for (const [key, group, value] of want) {
      let m = this.merges.get(key);
      if (m === undefined) {
        // A merge past the budget is left out (the series keeps its own ring): its group then lacks this series.
        if (!this.budget.take(s.app, Track.bytesFor(step, fields))) continue;
        m = new Track(null, s.app, s.metric, group, value, step, fields);
        this.merges.set(key, m);
        this.held(m);
      }
      merges.push(m);
    }
    this.mergesOf.set(s, merges);
    return t;
  }

  private held(t: Track): void {
    let set = this.byApp.get(t.app.name);
    if (set === undefined) this.byApp.set(t.app.name, (set = new Set()));
    set.add(t);
  }

  private gather(t: Track, c: ClosedWindow): void {
    const kind = t.metric.kind;
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
    // A series' own step outlives the process; merges are made again from them.
    if (this.store !== null && t.series !== null) this.hand(t, t.series, index, m);
    if (index > t.newest - t.slots) {
      // Steps with no window between the newest point and this one: no point.
      for (let i = Math.max(t.newest + 1, index - t.slots + 1); i < index; i++) t.values.fill(NaN, (i % t.slots) * t.fields, (i % t.slots) * t.fields + t.fields);
      const at = (index % t.slots) * t.fields;
      if (m !== null) {
        t.values[at] = t.count;
        for (let q = 0; q < HISTORY_QUANTILES.length; q++) t.values[at + 1 + q] = m.quantile(HISTORY_QUANTILES[q], t.min, t.max, t.count);
        t.values[at + 4] = t.max;
      } else t.values[at] = t.metric.kind === COUNTER ? t.sum : t.last;
      if (index > t.newest) t.newest = index;
      if (t.oldest < 0 || index < t.oldest) t.oldest = index;
    }
    this.recycle(m);
  }

  /** A closed step to the store, in the one reused ClosedStep. */
  private hand(t: Track, series: Series, index: number, m: WindowBuckets | null): void {
    const c = this.closed;
    c.series = series;
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
  releasesJson(apps: Iterable<string>, from: number, to: number): string {
    const out: { app: string; t: number; text: string }[] = [];
    for (const app of apps) for (const r of this.releases.get(app) ?? []) if (r.t >= from && r.t < to) out.push({ app, t: r.t, text: r.text });
    return JSON.stringify(out.sort((a, b) => a.t - b.t));
  }

  /** Pools a step's buckets, unless the pool is full or holds POOL_BUCKET_BYTES of room already. */
  private recycle(h: WindowBuckets | null): void {
    if (h !== null && this.pool.length < POOL_MAX && this.pooledRoom.keep(h)) this.pool.push(h);
  }

  private drop(t: Track): void {
    this.byApp.get(t.app.name)?.delete(t);
    this.budget.give(t.app, t.bytes);
    this.recycle(t.merged);
    t.merged = null;
  }

  /** Drops the rings of series the aggregator no longer holds, and merges no series feeds, giving their bytes back. */
  sweep(): number {
    let dropped = 0;
    for (const [s, t] of this.tracks) {
      if (s.app.find(s.metric, s.label1, s.label2) === s) continue;
      this.tracks.delete(s);
      this.mergesOf.delete(s);
      this.drop(t);
      dropped++;
    }
    const fed = new Set<Track>();
    for (const list of this.mergesOf.values()) for (const m of list) fed.add(m);
    for (const [key, m] of this.merges) {
      if (fed.has(m)) continue;
      this.merges.delete(key);
      this.drop(m);
    }
    for (const [app, set] of this.byApp) {
      if (set.size > 0) continue;
      this.byApp.delete(app);
      this.lastEnd.delete(app);
    }
    // An app's releases go with its last ring.
    for (const app of this.releases.keys()) if (!this.byApp.has(app)) this.releases.delete(app);
    return dropped;
  }

  /** The apps a scope sees. */
  apps(scope: string | null): string[] {
    if (scope !== null) return this.byApp.has(scope) ? [scope] : [];
    return [...this.byApp.keys()].sort();
  }

  /** An app's rings: its series' and its merges'. */
  ringsOf(app: string): Iterable<Track> {
    return this.byApp.get(app) ?? [];
  }

  /** The merge of every series of `metric` (group -1) or of one label's value. */
  mergeOf(app: string, metric: string, group = -1, value = ''): Track | undefined {
    return this.merges.get(group < 0 ? `${app}\u0000${metric}` : `${app}\u0000${metric}\u0000${group}\u0000${value}`);
  }

  /** When the app's last line came, as the end of its newest window (epoch s); null: never. */
  lastOf(app: string): number | null {
    return this.lastEnd.get(app) ?? null;
  }

  /** The apps and metrics with history in a scope: what the page's selectors list. */
  async index(scope: string | null, now?: number): Promise<string> {
    const slicer = new Slicer();
    const out: { app: string; last: number | null; metrics: { name: string; kind: string; series: number; labels: readonly string[] }[] }[] = [];
    for (const app of this.apps(scope)) {
      const metrics = new Map<string, { kind: string; series: number; labels: readonly string[] }>();
      for (const t of this.ringsOf(app)) {
        const p = slicer.pause();
        if (p !== null) await p;
        if (t.series === null) continue;
        const m = metrics.get(t.metric.name);
        if (m === undefined) metrics.set(t.metric.name, { kind: KIND_NAMES[t.metric.kind], series: 1, labels: t.metric.labels });
        else m.series++;
      }
      out.push({ app, last: this.lastOf(app), metrics: [...metrics].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, m]) => ({ name, ...m })) });
    }
    return JSON.stringify({ step: HISTORY_STEP, seconds: HISTORY_SECONDS, quantiles: HISTORY_QUANTILES, through: Number.isFinite(this.through) ? this.through : null, now: now ?? null, staleAfter: this.staleAfter, apps: out });
  }

  /**
   * The points of the busiest series a query selects, as JSON text: `total` series
   * matched, and for each of the `limit` with the most traffic over the ring (a
   * measure's count, a counter's sum, a sample's points), busiest first: its labels,
   * step, the start of its first point (epoch s) and one array per field, null where a
   * step had no window; a sample's `cadence`, the steps between its reports. With
   * `group`, one entry per value of the label (or one for all), merged exactly.
   * Written by hand: no object per point; the event loop runs every SLICE_MS.
   */
  async read(q: HistoryQuery): Promise<string> {
    const slicer = new Slicer();
    const needle = q.search === undefined || q.search === '' ? null : q.search.toLowerCase();
    const chosen: { t: Track; traffic: number }[] = [];
    const samples = new Map<string, Track[]>();
    const apps = q.app !== undefined ? this.apps(q.scope).filter((a) => a === q.app) : this.apps(q.scope);
    for (const app of apps) {
      for (const t of this.ringsOf(app)) {
        const p = slicer.pause();
        if (p !== null) await p;
        if (t.newest < 0 || (q.metric !== undefined && t.metric.name !== q.metric)) continue;
        if (!this.wanted(t, q.group)) {
          // A sample's groups are summed here, from its series' rings.
          if (q.group !== undefined && t.series !== null && t.metric.kind === SAMPLE) {
            const value = groupValue(t, q.group);
            if (value === null) continue;
            const key = `${app}\u0000${t.metric.name}\u0000${value}`;
            const list = samples.get(key);
            if (list === undefined) samples.set(key, [t]);
            else list.push(t);
          }
          continue;
        }
        if (needle !== null && !labelText(t.labels()).toLowerCase().includes(needle)) continue;
        chosen.push({ t, traffic: traffic(t) });
      }
    }
    const sums: { t: SummedSample; traffic: number }[] = [];
    for (const [key, list] of samples) {
      const s = summed(list, q.group ?? '', key.slice(key.lastIndexOf('\u0000') + 1));
      if (needle !== null && !labelText(s.labels).toLowerCase().includes(needle)) continue;
      sums.push({ t: s, traffic: s.points });
    }
    // Stable: equal traffic keeps the order the series came in.
    chosen.sort((a, b) => b.traffic - a.traffic);
    sums.sort((a, b) => b.traffic - a.traffic);
    const limit = Math.min(q.limit ?? HISTORY_LIMIT, HISTORY_MAX_LIMIT);
    const parts: string[] = [];
    // `since` (a poll): steps starting at or after it; `from` (a range): the step holding it too.
    const since = q.since ?? -Infinity;
    const until = q.to ?? Infinity;
    for (let c = 0; c < chosen.length && c < limit; c++) {
      const p = slicer.pause();
      if (p !== null) await p;
      const t = chosen[c].t;
      const first = Math.max(t.oldest, t.newest - t.slots + 1, q.from === undefined ? Math.ceil(since / t.step) : Math.floor(q.from / t.step));
      const newest = Math.min(t.newest, Math.ceil(until / t.step) - 1);
      if (first > newest) continue;
      const kind = KIND_NAMES[t.metric.kind];
      const names = FIELDS[kind];
      let text = `{"app":${JSON.stringify(t.app.name)},"metric":${JSON.stringify(t.metric.name)},"kind":"${kind}","labels":${JSON.stringify(t.labels())},"step":${t.step},"start":${first * t.step}`;
      if (t.metric.kind === SAMPLE) text += `,"cadence":${cadence(t)}`;
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
    for (let c = 0; c < sums.length && c < limit; c++) {
      const s = sums[c].t;
      const first = Math.max(s.first, Math.ceil(since / s.step));
      if (first > s.newest) continue;
      const values = s.values.slice(first - s.first).map(number);
      parts.push(`{"app":${JSON.stringify(s.app)},"metric":${JSON.stringify(s.metric)},"kind":"sample","labels":${JSON.stringify(s.labels)},"series":${s.members},"step":${s.step},"start":${first * s.step},"cadence":1,"last":[${values.join(',')}]}`);
    }
    const total = chosen.length + sums.length;
    const last = apps.length === 1 ? this.lastOf(apps[0]) : null;
    const from = q.from ?? (Number.isFinite(since) ? since : this.reach());
    // An app's releases whether or not it has rings yet: a deploy comes before its lines.
    const releases = this.releasesJson(q.app !== undefined ? [q.app] : q.scope !== null ? [q.scope] : apps, from, until);
    return `{"through":${Number.isFinite(this.through) ? this.through : null},"now":${q.now ?? null},"last":${last},"staleAfter":${this.staleAfter},"total":${total},"series":[${parts.join(',')}],"releases":${releases}}`;
  }

  /** True for the rings a query with `group` reads as they are. */
  private wanted(t: Track, group: string | undefined): boolean {
    if (group === undefined) return t.series !== null;
    if (t.metric.kind === SAMPLE) return false;
    if (group === '') return t.group === -1;
    const at = t.metric.labels.indexOf(group);
    if (at < 0) return false;
    // One label: each series is its value's merge already.
    if (t.metric.labels.length === 1) return t.series !== null;
    return t.series === null && t.group === at;
  }
}

/** The label's value a series groups under ('' for every series), or null if it has no such label. */
function groupValue(t: Track, group: string): string | null {
  if (group === '') return '';
  const at = t.metric.labels.indexOf(group);
  if (at < 0 || t.series === null) return null;
  return at === 0 ? t.series.label1 : t.series.label2;
}

interface SummedSample {
  app: string;
  metric: string;
  labels: Record<string, string>;
  members: number;
  step: number;
  first: number;
  newest: number;
  values: number[];
  points: number;
}

/**
 * Samples of one group summed step by step: each series holds its last value for
 * its cadence (a dyno's memory reported every 20 s counts in both of its 10 s steps),
 * so the sum does not dip between reports.
 */
function summed(list: Track[], group: string, value: string): SummedSample {
  const step = list[0].step;
  let first = Infinity;
  let newest = -Infinity;
  for (const t of list) {
    if (t.step !== step) continue;
    first = Math.min(first, Math.max(t.oldest, t.newest - t.slots + 1));
    newest = Math.max(newest, t.newest);
  }
  const values = new Array<number>(newest - first + 1).fill(NaN);
  let points = 0;
  for (const t of list) {
    if (t.step !== step) continue;
    const hold = cadence(t);
    let last = NaN;
    let age = Infinity;
    for (let i = first; i <= newest; i++) {
      const v = t.at(i * step, 0);
      if (v === v) {
        last = v;
        age = 0;
        points++;
      } else age++;
      if (age < hold) values[i - first] = (values[i - first] === values[i - first] ? values[i - first] : 0) + last;
    }
  }
  return { app: list[0].app.name, metric: list[0].metric.name, labels: group === '' ? {} : { [group]: value }, members: list.length, step, first, newest, values, points };
}

/**
 * A sample's cadence in steps: the gap nine in ten of its reports keep within (1 to
 * MAX_CADENCE): a dyno reporting every 20 s, now and then after 30, is one line.
 */
export function cadence(t: Track): number {
  const gaps: number[] = [];
  let prev = -1;
  const from = Math.max(t.oldest, t.newest - t.slots + 1);
  for (let i = from; i <= t.newest; i++) {
    const v = t.values[(i % t.slots) * t.fields];
    if (v !== v) continue;
    if (prev >= 0 && i - prev <= MAX_CADENCE) gaps.push(i - prev);
    prev = i;
  }
  if (gaps.length === 0) return 1;
  gaps.sort((a, b) => a - b);
  return gaps[Math.ceil(0.9 * gaps.length) - 1];
}

/** Labels as the page and the search read them: `k=v k=v`. */
export function labelText(labels: Record<string, string>): string {
  let text = '';
  for (const k in labels) text += `${text === '' ? '' : ' '}${k}=${labels[k]}`;
  return text;
}

/** A ring's traffic: the sum of a measure's counts or a counter's sums, or a sample's points, over the ring. */
function traffic(t: Track): number {
  const counts = t.metric.kind !== MEASURE && t.metric.kind !== COUNTER;
  let sum = 0;
  for (let i = 0; i < t.values.length; i += t.fields) {
    const v = t.values[i];
    if (v === v) sum += counts ? 1 : Math.abs(v);
  }
  return sum;
}

/** A Float32 point as JSON: null for no point, seven significant digits (what a Float32 holds). */
export function number(v: number): string {
  if (v !== v) return 'null';
  if (Number.isInteger(v) && Math.abs(v) < 2 ** 24) return String(v);
  if (!Number.isFinite(v)) return 'null';
  return String(Number(v.toPrecision(7)));
}

export type { Track };
