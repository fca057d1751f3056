// What the dashboard draws (docs/dashboard.md): for every series, a ring of the last 15
// minutes (track.ts), made from closed windows as they close. A step's windows are
// merged exactly as /metrics merges them (their histogram buckets added). Each ring is
// charged to its app's history budget (model/budget.ts, docs/limits.md); a series past
// it has no history. A step's point is written once all its windows have closed, so the
// page shows a new point every step, grace seconds after the step's end.

import type { Aggregator, ClosedWindow, Series, WindowBuckets } from '../../aggregate/index.js';
import type { ClosedStep, HistoryStore } from '../../history/store.js';
import { type Budget, COUNTER, MEASURE, type ReleaseSink, SAMPLE } from '../../model/index.js';
import { historyJson } from './history-json.js';
import { indexJson } from './index-json.js';
import type { HistoryQuery } from './query.js';
import { Releases } from './releases.js';
import { StepPool } from './step-pool.js';
import { HISTORY_QUANTILES, HISTORY_SECONDS, HISTORY_STEP, Track } from './track.js';

/** What staleness allows beyond a window's length and grace, s: the tick, a poll, and room. */
const STALE_MARGIN_S = 5;

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
  private readonly pool = new StepPool();
  private readonly budget: Budget;
  /** The latest second every window ending by it has closed through. */
  through = -Infinity;
  /** The first `through` this process saw: the ring holds nothing before it. */
  private started = -Infinity;
  /** Where closed steps outlive the process (docs/history.md), if anywhere. */
  store: HistoryStore | null = null;
  private readonly releases = new Releases();
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
        t.merged = this.pool.take();
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
    this.pool.give(m);
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
    this.releases.add(app, time, text);
  }

  /** The releases of `apps` in [from, to) (epoch s), as JSON text. */
  releasesJson(apps: Iterable<string>, from: number, to: number): string {
    return this.releases.json(apps, from, to);
  }

  private drop(t: Track): void {
    this.byApp.get(t.app.name)?.delete(t);
    this.budget.give(t.app, t.bytes);
    this.pool.give(t.merged);
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
    this.releases.sweep(this.byApp);
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

  /** The apps and metrics with history in a scope: what the page's selectors list (index-json.ts). */
  index(scope: string | null, now?: number): Promise<string> {
    return indexJson(this, scope, now);
  }

  /** The points of the busiest series a query selects, as JSON text (history-json.ts). */
  read(q: HistoryQuery): Promise<string> {
    return historyJson(this, q);
  }
}
