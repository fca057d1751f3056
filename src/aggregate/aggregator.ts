// Observations to series to windows (docs/conventions.md). The clock is a parameter: serve
// advances it with the wall clock, tail with the largest timestamp seen, tests with
// whatever they like. Nothing here reads a timer or touches I/O.
//
// With `exporting` (scale-out), the aggregator only collects: export takes its
// windows, and another aggregator merges them (mergeSeries, mergeWindow).
//
// A window [start, start + resolution) closes once the clock reaches
// start + resolution + grace. A line whose window is already closed is late: it
// counts in the cumulative totals and in late_lines, never in a window.

import { type Budgets, budgetsFor, COUNTER, MEASURE, type Metric, type ObservationSink, SERIES_LIMIT, type Tenant, TYPE_CONFLICT, WINDOW_LIMIT } from '../model/index.js';
import { AppState } from './app-state.js';
import { Arena } from './arena.js';
import { Series, Window } from './series.js';
import { PooledRoom } from './window-buckets.js';

export interface AggregatorOptions {
  /** Default window length, seconds. */
  resolution: number;
  /** Seconds after a window's end before it closes. */
  grace: number;
  /**
   * Close windows by the largest line time seen (tail) instead of a clock the
   * caller advances (serve). Set once: it picks the at() implementation.
   */
  watermark?: boolean;
  /** Seconds of closed windows that /metrics quantiles cover. */
  quantileWindow: number;
  maxSeries: number;
  maxSeriesPerApp: number;
  /** Seconds without data before a series is dropped. */
  seriesTtl: number;
  /**
   * Scale-out (docs/scale-out.md): this aggregator collects for another to merge. Windows are
   * never closed by the clock, only taken by export (scale/delta.ts); series keep no
   * quantile window. Lateness is still judged by the clock.
   */
  exporting?: boolean;
}

/** Another process's part of one window (scale-out), as merge() takes it. */
export interface PartialWindow {
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTime: number;
  /** Measures: buckets, n of them. */
  n: number;
  keys: number[];
  counts: number[];
}

/** Open windows one series may hold (docs/limits.md): lines for a window past these count in totals only. */
export const MAX_OPEN_WINDOWS = 8;
/** What an open window costs the app, bytes (the object; its buckets are charged as they grow). */
export const WINDOW_BYTES = 256;
/**
 * The share of an app's series only its `heroku_*` families may take: a fifth of
 * DRAINMETER_MAX_SERIES_PER_APP (2,000 of 10,000). A dyno reports about 20 series of
 * its own (runtime metrics, router measures, statuses, R and H codes), so the share
 * keeps the platform numbers of 100 dynos however many series the app's own metrics
 * try to make (docs/isolation.md).
 */
export const PLATFORM_SHARE = 0.2;
/**
 * Closed windows kept for reuse: this many, or one a live series when there are more.
 * Every series' window closes each second and opens again with its next line; a pool
 * of 4,096 let 100,000 series drop 96,000 windows a second for the collector, and
 * `serve`'s RSS swung by 300 MB between its collections (bench/serve-memory.ts).
 */
const POOL_MIN = 4096;
/**
 * Bytes of bucket room the pooled windows keep, in all: past it a window leaves its
 * WindowBuckets behind. A busy series' windows grow to the same room second after
 * second; keeping only 64 buckets a window made them grow again each time
 * (`tail`, bench/README.md: 4% of a run in WindowBuckets.grow).
 */
const POOL_BUCKET_BYTES = 4 << 20;


/** A window as it closes, for outlets that report windows (tail, push). */
export interface ClosedWindow {
  series: Series;
  /** Epoch seconds. */
  start: number;
  end: number;
  window: Window;
}

export type CloseListener = (closed: ClosedWindow) => void;

/** The start of the epoch-aligned window of `res` seconds holding second `sec`. */
function windowStart(sec: number, res: number): number {
  return Math.floor(sec / res) * res;
}

/** Timestamps further ahead of arrival than this are taken as their arrival (docs/conventions.md). */
const FUTURE_MS = 5 * 60_000;

const NOBODY: ReadonlySet<AppState> = new Set();

export class Aggregator implements ObservationSink {
  readonly options: AggregatorOptions;
  readonly budgets: Budgets;
  readonly apps = new Map<string, AppState>();
  /** Live series, all apps. */
  seriesCount = 0;
  /** Rises whenever what /metrics shows may have changed (a window closed, a series went). */
  version = 0;
  /** Rises whenever a metric gains its first series or loses its last. */
  holdersVersion = 0;
  /** Series an app's own (not `heroku_*`) families may hold: the per-app limit less the platform's share. */
  readonly appShare: number;
  /** Window clock, epoch ms: windows due by it are closed. */
  clock: number;
  /** Arrival time of the lines being read, epoch ms (for future timestamps). */
  arrival: number;
  /** Resolution of the drain being read (its `?resolution=`), seconds. */
  resolution: number;
  /** Called with each window as it closes (outlets that report windows: tail, push). */
  private listeners: CloseListener[] = [];
  /**
   * Lines in no late window, by their window's start (epoch s), when set: a `tail`
   * thread's share of a file counts them, so that lines its thread could not know
   * were late (their window closed by an earlier share's timestamps) are counted
   * late when the shares merge (tail/threads.ts).
   */
  lineWindows: Map<number, number> | null = null;
  private advanced: ((closedThrough: number) => void)[] = [];

  // The line being read (set by at()).
  private app: AppState | null = null;
  private lineTime = 0;
  private lineSec = 0;
  /** Start of the line's window at the drain's resolution, epoch s. */
  private lineStart = 0;
  private lineLate = false;
  /** The clock in whole seconds, for lastSeen. */
  private clockSec = 0;

  /** Series with a window closing at each second (epoch s): the close schedule. */
  private readonly due = new Map<number, Series[]>();
  private closedTo: number;
  private readonly pool: Window[] = [];
  /** The bucket room the pooled windows keep. */
  private readonly pooledRoom = new PooledRoom(POOL_BUCKET_BYTES);
  /** Where the series' sliding windows live. */
  private readonly arena = new Arena();
  private readonly closed: ClosedWindow = { series: null as unknown as Series, start: 0, end: 0, window: null as unknown as Window };
  /** Apps with a live series of each metric, by metric id: a scrape visits these only. */
  private readonly holders: (Set<AppState> | undefined)[] = [];

  constructor(options: AggregatorOptions, clock: number, budgets: Budgets = budgetsFor(options)) {
    this.options = options;
    this.budgets = budgets;
    this.clock = clock;
    this.arrival = clock;
    this.resolution = options.resolution;
    this.closedTo = Math.floor(clock / 1000);
    const perApp = budgets.series.perApp;
    this.appShare = perApp - Math.ceil(perApp * PLATFORM_SHARE);
    // Behaviour chosen once (prom-client style), not a flag read per line.
    if (options.watermark === true) this.at = this.atWatermark;
  }

  appState(name: string): AppState {
    let app = this.apps.get(name);
    if (app === undefined) {
      app = new AppState(name);
      this.apps.set(name, app);
    }
    return app;
  }

  /** Apps with a live series of `metric`. */
  holdersOf(metric: Metric): ReadonlySet<AppState> {
    return this.holders[metric.id] ?? NOBODY;
  }

  /**
   * The line's app and time. With a watermark, a line later than any before moves
   * the clock first: windows close by the largest timestamp seen so far, line by
   * line, however the input was cut into chunks.
   */
  at(app: Tenant, time: number): void {
    this.atClock(app, time);
  }

  private atWatermark(app: Tenant, time: number): void {
    if (time > this.clock && time <= this.arrival + FUTURE_MS) this.advance(time);
    this.atClock(app, time);
  }

  private atClock(app: Tenant, time: number): void {
    // Tenants are made by appState(); one made elsewhere (a test's) is found by name.
    if (this.app !== app) this.app = app instanceof AppState ? app : this.appState(app.name);
    if (time > this.arrival + FUTURE_MS) time = this.arrival;
    this.lineTime = time;
    this.lineSec = Math.floor(time / 1000);
    // Per line, not per observation; floor, not %: epoch seconds are doubles, and %
    // on doubles is a call to fmod (bench/ingest.ts, ingest + aggregate).
    const start = windowStart(this.lineSec, this.resolution);
    this.lineStart = start;
    this.lineLate = this.isClosed(start, this.resolution);
    this.clockSec = Math.floor(this.clock / 1000);
    if (this.lineLate) this.app.late++;
    else if (this.lineWindows !== null) this.lineWindows.set(start, (this.lineWindows.get(start) ?? 0) + 1);
  }

  observe(metric: Metric, label1: string, label2: string, value: number): void {
    const app = this.app as AppState;
    let s = app.find(metric, label1, label2);
    if (s === undefined) {
      if (!this.takeSeries(app, metric)) {
        app.rejected[SERIES_LIMIT]++;
        return;
      }
      s = new Series(app, metric, label1, label2, this.resolution, this.windowed(metric), this.arena);
      this.addSeries(app, s);
    }
    s.lastSeen = this.clockSec;
    s.observed++;
    const kind = metric.kind;
    const time = this.lineTime;
    if (kind === MEASURE) {
      s.count++;
      s.sum += value;
      if (value < 0) metric.signed = true;
    } else if (kind === COUNTER) {
      s.count += value;
    } else if (time >= s.lastTime) {
      s.last = value;
      s.lastTime = time;
    }
    if (this.lineLate) return;
    let start = this.lineStart;
    const res = s.resolution;
    if (res !== this.resolution) {
      // A series made by a drain of another resolution keeps its own windows.
      start = windowStart(this.lineSec, res);
      if (this.isClosed(start, res)) return;
    }
    let w = s.window(start);
    if (w === null) {
      w = this.openWindow(s, start);
      if (w === null) {
        app.rejected[WINDOW_LIMIT]++;
        return;
      }
    }
    if (kind === MEASURE) {
      if (!w.measure(value)) app.rejected[WINDOW_LIMIT]++;
    } else {
      w.count++;
      if (kind === COUNTER) w.sum += value;
      else if (time >= w.lastTime) {
        w.last = value;
        w.lastTime = time;
      }
    }
  }

  /** One series of the budget for `app`: its own families stay out of the platform's share. */
  private takeSeries(app: AppState, metric: Metric): boolean {
    if (!metric.platform && app.series - app.platformSeries >= this.appShare) return false;
    return this.budgets.series.take(app, 1);
  }

  /**
   * Drops every series of an app's family whose name another process claimed first
   * as another kind (docs/isolation.md): their observations become type_conflict, as
   * one process would have counted them. Returns the series dropped.
   */
  dropMetric(app: AppState, metric: Metric): number {
    let n = 0;
    for (const s of [...app.each(metric)]) {
      app.rejected[TYPE_CONFLICT] += s.observed;
      while (s.firstOpen !== null) {
        const w = s.firstOpen;
        s.firstOpen = w.next;
        w.next = null;
        this.recycle(w);
      }
      s.openCount = 0;
      this.removeSeries(app, s);
      n++;
    }
    if (n > 0) this.version++;
    return n;
  }

  private windowed(metric: Metric): boolean {
    return metric.kind === MEASURE && this.options.exporting !== true;
  }

  /**
   * The series another process made (scale-out), found or made here under this
   * aggregator's budgets; null (counted as series_limit) when refused.
   */
  mergeSeries(app: AppState, metric: Metric, label1: string, label2: string, resolution: number): Series | null {
    let s = app.find(metric, label1, label2);
    if (s === undefined) {
      if (!this.takeSeries(app, metric)) {
        app.rejected[SERIES_LIMIT]++;
        return null;
      }
      s = new Series(app, metric, label1, label2, resolution, this.windowed(metric), this.arena);
      this.addSeries(app, s);
    }
    s.lastSeen = Math.floor(this.clock / 1000);
    return s;
  }

  /**
   * Another process's part of a window of `s`, merged as if its lines had come
   * here. When the window is closed here already, a measure's part still joins the
   * quantile window while that covers it (a receiver catching up after Redis came
   * back); otherwise its lines are late (counted when `late`; not when the windows
   * of payloads already counted are read again).
   */
  mergeWindow(s: Series, p: PartialWindow, late = true): void {
    const app = s.app;
    const kind = s.metric.kind;
    if (this.isClosed(p.start, s.resolution)) {
      if (s.sliding !== null && p.start >= this.horizon(s)) {
        const w = this.fromPool();
        w.reset(p.start);
        fill(w, p, kind, s.metric);
        this.expire(s);
        w.pushTo(s.sliding);
        this.version++;
        this.recycle(w);
      } else if (late) app.late += p.count;
      return;
    }
    let w = s.window(p.start);
    if (w === null) w = this.openWindow(s, p.start);
    if (w === null || !fill(w, p, kind, s.metric)) app.rejected[WINDOW_LIMIT] += p.count;
  }

  /**
   * Exporting: hands every open window of `s` to `each`, then gives them back (the
   * next line opens a new one). Windows close here only this way.
   */
  takeWindows(s: Series, each: (w: Window) => void): void {
    let w = s.firstOpen;
    s.firstOpen = null;
    s.openCount = 0;
    while (w !== null) {
      const next = w.next;
      each(w);
      this.recycle(w);
      w = next;
    }
  }

  /** Adds a listener of closed windows; the ClosedWindow it gets is reused, read it at once. */
  onClose(listener: CloseListener): void {
    this.listeners = [...this.listeners, listener];
  }

  /**
   * Adds a listener told, after the windows of a clock move closed, the second every
   * window ending at or before it (plus grace) has closed through: Infinity at closeAll.
   */
  onAdvance(listener: (closedThrough: number) => void): void {
    this.advanced = [...this.advanced, listener];
  }

  /**
   * Watermark only: the stream's first own timestamp, after bare lines moved the
   * clock by their arrival. The clock goes back to it; windows already closed stay
   * closed, the bare lines' open windows close when the clock reaches them again.
   */
  rebase(time: number): void {
    if (this.options.watermark !== true || time >= this.clock) return;
    this.resume(time);
  }

  /**
   * Sets the clock as if the windows due by `clock` had closed already (none held
   * here): a `tail` thread starting mid-file, or the merge of their shares.
   */
  resume(clock: number): void {
    this.clock = clock;
    this.closedTo = Math.floor(clock / 1000);
  }

  /** Moves the clock (never back) and closes every window due by it. */
  advance(clock: number): void {
    if (clock > this.clock) this.clock = clock;
    const to = Math.floor(this.clock / 1000);
    if (to <= this.closedTo) return;
    if (to - this.closedTo > this.due.size * 4 + 64) {
      // A long jump (tail reading an old file, a test): visit the scheduled seconds only.
      const seconds = [...this.due.keys()].filter((t) => t <= to).sort((a, b) => a - b);
      for (const t of seconds) this.closeAt(t);
    } else {
      for (let t = this.closedTo + 1; t <= to; t++) this.closeAt(t);
    }
    this.closedTo = to;
    for (const f of this.advanced) f(to - this.options.grace);
  }

  /** Closes every open window (end of input, shutdown). */
  closeAll(): void {
    const seconds = [...this.due.keys()].sort((a, b) => a - b);
    for (const t of seconds) this.closeAt(t, true);
    for (const f of this.advanced) f(Infinity);
  }

  /**
   * Drops series without data for seriesTtl seconds and no open window; returns how
   * many. A sweep over every series costs far less than bookkeeping per observation.
   * When the sliding windows' arena holds more free than used, they move into fresh
   * slabs (arena.ts).
   */
  sweep(): number {
    const cutoff = Math.floor(this.clock / 1000) - this.options.seriesTtl;
    let dropped = 0;
    for (const app of this.apps.values()) {
      for (const s of app.each()) {
        if (s.lastSeen <= cutoff && s.openCount === 0) {
          this.removeSeries(app, s);
          app.evicted++;
          dropped++;
        }
      }
    }
    if (dropped > 0) this.version++;
    // The pool shrinks with the series it serves.
    while (this.pool.length > POOL_MIN && this.pool.length > this.seriesCount) {
      const w = this.pool.pop() as Window;
      if (w.more !== null) this.pooledRoom.taken(w.more);
    }
    if (this.arena.sparse) {
      this.arena.renew();
      for (const app of this.apps.values()) for (const s of app.each()) s.sliding?.move();
    }
    return dropped;
  }

  /**
   * Forgets apps idle since `cutoff` (clock seconds) that hold nothing of any budget
   * (no series, names, Frame-Ids or bodies in flight): a drain user seen once costs
   * nothing for good. Their self-metric counters start again if they come back.
   */
  removeIdle(cutoff: number): AppState[] {
    const gone: AppState[] = [];
    for (const app of this.apps.values()) {
      if (app.series === 0 && app.lastActive <= cutoff && app.holdsNothing()) gone.push(app);
    }
    for (const app of gone) this.apps.delete(app.name);
    if (gone.length > 0) {
      this.app = null;
      this.version++;
    }
    return gone;
  }

  private addSeries(app: AppState, s: Series): void {
    this.seriesCount++;
    if (s.metric.series++ === 0) this.holdersVersion++;
    if (s.metric.platform) app.platformSeries++;
    if (!app.add(s)) return;
    let set = this.holders[s.metric.id];
    if (set === undefined) {
      set = new Set();
      this.holders[s.metric.id] = set;
    }
    set.add(app);
  }

  private removeSeries(app: AppState, s: Series): void {
    this.seriesCount--;
    if (--s.metric.series === 0) this.holdersVersion++;
    if (s.metric.platform) app.platformSeries--;
    this.budgets.series.give(app, 1);
    s.sliding?.release();
    if (!app.remove(s)) return;
    const set = this.holders[s.metric.id];
    set?.delete(app);
    if (set?.size === 0) this.holders[s.metric.id] = undefined;
  }

  /**
   * Takes windows that left the quantile span out of a series' sliding window. The
   * newest closed window ends at clock − grace; the span keeps the windows ending
   * in the quantileWindow seconds before that.
   */
  expire(s: Series): void {
    s.sliding?.expire(this.horizon(s));
  }

  /** The earliest window start (epoch s) the quantile span of `s` still covers. */
  private horizon(s: Series): number {
    const o = this.options;
    return Math.floor(this.clock / 1000) - o.grace - o.quantileWindow - s.resolution + 1;
  }

  /** True when the window [start, start + res) is due by the clock, so closed. */
  private isClosed(start: number, res: number): boolean {
    return (start + res + this.options.grace) * 1000 <= this.clock;
  }

  /** A new open window of `s`; null past the series' open windows or the app's window bytes. */
  private openWindow(s: Series, start: number): Window | null {
    if (s.openCount >= MAX_OPEN_WINDOWS || !this.budgets.windows.take(s.app, WINDOW_BYTES)) return null;
    const w = this.fromPool();
    w.reset(start);
    w.owner = s.app;
    w.budget = this.budgets.windows;
    w.charged = WINDOW_BYTES;
    s.addOpen(w);
    if (this.options.exporting === true) return w;
    const closeAt = start + s.resolution + this.options.grace;
    const list = this.due.get(closeAt);
    if (list === undefined) this.due.set(closeAt, [s]);
    else list.push(s);
    return w;
  }

  private closeAt(t: number, all = false): void {
    const list = this.due.get(t);
    if (list === undefined) return;
    this.due.delete(t);
    const grace = this.options.grace;
    for (const s of list) {
      let prev: Window | null = null;
      let w = s.firstOpen;
      while (w !== null) {
        const next: Window | null = w.next;
        if (!all && w.start + s.resolution + grace > t) {
          prev = w;
        } else {
          if (prev === null) s.firstOpen = next;
          else prev.next = next;
          s.openCount--;
          w.next = null;
          this.finish(s, w);
        }
        w = next;
      }
    }
  }

  private finish(s: Series, w: Window): void {
    const listeners = this.listeners;
    if (listeners.length > 0) {
      const c = this.closed;
      c.series = s;
      c.start = w.start;
      c.end = w.start + s.resolution;
      c.window = w;
      for (let i = 0; i < listeners.length; i++) listeners[i](c);
    }
    if (s.sliding !== null) {
      this.expire(s);
      w.pushTo(s.sliding);
    }
    this.version++;
    this.recycle(w);
  }

  /**
   * Gives back what an open window cost its app and pools it, up to POOL_MIN or one a live series, with
   * its bucket room while the pool's is under POOL_BUCKET_BYTES: what the pool keeps
   * is bounded whatever windows were open at the peak.
   */
  private recycle(w: Window): void {
    if (w.owner !== null) this.budgets.windows.give(w.owner, w.charged);
    w.charged = 0;
    w.owner = null;
    if (this.pool.length >= POOL_MIN && this.pool.length >= this.seriesCount) return;
    if (w.more !== null && !this.pooledRoom.keep(w.more)) w.more = null;
    this.pool.push(w);
  }

  /** A window from the pool, or a new one. */
  private fromPool(): Window {
    const w = this.pool.pop();
    if (w === undefined) return new Window();
    if (w.more !== null) this.pooledRoom.taken(w.more);
    return w;
  }
}

/** Adds a partial window to `w`; false when a measure's bucket was refused. */
function fill(w: Window, p: PartialWindow, kind: number, metric: Metric): boolean {
  if (kind === MEASURE) {
    if (p.min < 0) metric.signed = true;
    for (let i = 0; i < p.n; i++) {
      if (w.addBucket(p.keys[i], p.counts[i])) continue;
      // Refused midway: the part is merged whole or not at all, so the buckets
      // already added are taken back (a window's buckets always sum to its count).
      for (let j = 0; j < i; j++) w.addBucket(p.keys[j], -p.counts[j]);
      w.dropEmptyBuckets();
      return false;
    }
    if (p.min < w.min) w.min = p.min;
    if (p.max > w.max) w.max = p.max;
  } else if (kind !== COUNTER && p.lastTime >= w.lastTime) {
    w.last = p.last;
    w.lastTime = p.lastTime;
  }
  w.count += p.count;
  w.sum += p.sum;
  return true;
}
