// Observations to series to windows (docs/conventions.md). The clock is a parameter: serve
// advances it with the wall clock, tail with the largest timestamp seen, tests with
// whatever they like. Nothing here reads a timer or touches I/O.
//
// The Aggregator is what the other layers hold; each of its jobs has a file:
//
//   line-path.ts        at() and observe(): lines into series and open windows
//   close-schedule.ts   when windows close, as the clock moves
//   window-pool.ts      closed windows kept for the next to open
//   series-registry.ts  the live series, their budgets and the apps holding each metric
//   sweep.ts            what leaves: expired series, idle apps, the quantile span
//   merge.ts            scale-out: other processes' windows merged, an exporter's taken
//
// With `exporting` (scale-out), the aggregator only collects: export takes its
// windows, and another aggregator merges them (mergeSeries, mergeWindow).

import { type Budgets, budgetsFor, epochMs, epochSec, type Metric, toSec } from '../model/index.js';
import type { AppState } from './app-state.js';
import { LinePath } from './line-path.js';
import { LATE, type MergeWindowOptions, mergeSeries, mergeWindow, type PartialWindow, takeWindows } from './merge.js';
import type { Series, Window } from './series.js';
import { dropMetric, expire, removeIdle, sweep } from './sweep.js';

export type { MergeWindowOptions, PartialWindow } from './merge.js';

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

/** A window as it closes, for outlets that report windows (tail, push). */
export interface ClosedWindow {
  series: Series;
  /** Epoch seconds. */
  start: number;
  end: number;
  window: Window;
}

export type CloseListener = (closed: ClosedWindow) => void;

export class Aggregator extends LinePath {
  /** Rises whenever what /metrics shows may have changed (a window closed, a series went). */
  version = 0;
  /** Called with each window as it closes (outlets that report windows: tail, push). */
  private listeners: CloseListener[] = [];
  private advanced: ((closedThrough: number) => void)[] = [];
  private readonly closed: ClosedWindow = { series: null as unknown as Series, start: 0, end: 0, window: null as unknown as Window };

  constructor(options: AggregatorOptions, clock: number, budgets: Budgets = budgetsFor(options)) {
    super(options, clock, budgets);
  }

  /** Every app, by name. */
  get apps(): Map<string, AppState> {
    return this.registry.apps;
  }

  /** Live series, all apps. */
  get seriesCount(): number {
    return this.registry.count;
  }

  /** Rises whenever a metric gains its first series or loses its last. */
  get holdersVersion(): number {
    return this.registry.holdersVersion;
  }

  /** Series an app's own (not `heroku_*`) families may hold: the per-app limit less the platform's share. */
  get appShare(): number {
    return this.registry.appShare;
  }

  appState(name: string): AppState {
    return this.registry.appState(name);
  }

  /** Apps with a live series of `metric`. */
  holdersOf(metric: Metric): ReadonlySet<AppState> {
    return this.registry.holdersOf(metric);
  }

  /** See sweep.ts. */
  dropMetric(app: AppState, metric: Metric): number {
    return dropMetric(this, app, metric);
  }

  /** See merge.ts. */
  mergeSeries(app: AppState, metric: Metric, label1: string, label2: string, resolution: number): Series | null {
    return mergeSeries(this, app, metric, label1, label2, resolution);
  }

  /** See merge.ts. */
  mergeWindow(s: Series, p: PartialWindow, options: MergeWindowOptions = LATE): void {
    mergeWindow(this, s, p, options);
  }

  /** See merge.ts. */
  takeWindows(s: Series, each: (w: Window) => void): void {
    takeWindows(this, s, each);
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
    this.clock = epochMs(clock);
    this.schedule.closedTo = toSec(this.clock);
  }

  /** Moves the clock (never back) and closes every window due by it. */
  advance(clock: number): void {
    if (clock > this.clock) this.clock = epochMs(clock);
    const to = toSec(this.clock);
    if (!this.schedule.closeThrough(to)) return;
    for (const f of this.advanced) f(to - this.options.grace);
  }

  /** Closes every open window (end of input, shutdown). */
  closeAll(): void {
    this.schedule.closeAll();
    for (const f of this.advanced) f(Infinity);
  }

  /** See sweep.ts. */
  sweep(): number {
    return sweep(this);
  }

  /** See sweep.ts. */
  removeIdle(cutoff: number): AppState[] {
    const gone = removeIdle(this, epochSec(cutoff));
    if (gone.length > 0) {
      this.app = null;
      this.version++;
    }
    return gone;
  }

  /** See sweep.ts. */
  expire(s: Series): void {
    expire(this, s);
  }

  /** The close schedule's: a window closed goes to the listeners, then to the series' sliding window. */
  closeWindow(s: Series, w: Window): void {
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
      expire(this, s);
      w.pushTo(s.sliding);
    }
    this.version++;
    this.recycle(w);
  }

  /** Gives a window that left its series back to the pool (window-pool.ts). */
  recycle(w: Window): void {
    this.pool.recycle(w, this.registry.count);
  }
}
