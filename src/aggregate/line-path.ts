// The line path: one line's app and time (at), then its observations into series and
// their open windows (observe), as the ObservationSink ingest writes to. Per line,
// not per observation: the window the line falls in and whether it is late. A line
// whose window is already closed is late: it counts in the cumulative totals and in
// late_lines, never in a window (docs/conventions.md).
//
// The Aggregator (aggregator.ts) extends this class: the path's state and its
// methods are fields and methods of the one sink object, with no call between them
// (bench/pipeline.ts, aggregate alone).

import { type Budgets, COUNTER, type EpochMs, type EpochSec, epochMs, epochSec, MEASURE, type Metric, type ObservationSink, SERIES_LIMIT, type Tenant, toSec, WINDOW_LIMIT } from '../model/index.js';
import type { AggregatorOptions } from './aggregator.js';
import { AppState } from './app-state.js';
import { Arena } from './arena.js';
import { CloseSchedule, isDue, type WindowCloser, windowStart } from './close-schedule.js';
import { Series, type Window } from './series.js';
import { SeriesRegistry } from './series-registry.js';
import { WindowPool } from './window-pool.js';

/** Open windows one series may hold (docs/limits.md): lines for a window past these count in totals only. */
export const MAX_OPEN_WINDOWS = 8;
/** What an open window costs the app, bytes (the object; its buckets are charged as they grow). */
export const WINDOW_BYTES = 256;
/** Timestamps further ahead of arrival than this are taken as their arrival (docs/conventions.md). */
const FUTURE_MS = 5 * 60_000;

export abstract class LinePath implements ObservationSink, WindowCloser {
  readonly options: AggregatorOptions;
  readonly budgets: Budgets;
  /** Every app's live series. */
  readonly registry: SeriesRegistry;
  /** Where closed windows wait for the next ones to open. */
  readonly pool: WindowPool;
  /** Series with a window closing at each second. */
  readonly schedule: CloseSchedule;
  /** Where the series' sliding windows live. */
  readonly arena = new Arena();
  /** Window clock: windows due by it are closed. */
  clock: EpochMs;
  /** Arrival time of the lines being read, epoch ms (for future timestamps). */
  arrival: number;
  /** Resolution of the drain being read (its `?resolution=`), seconds. */
  resolution: number;
  /**
   * Lines in no late window, by their window's start (epoch s), when set: a `tail`
   * thread's share of a file counts them, so that lines its thread could not know
   * were late (their window closed by an earlier share's timestamps) are counted
   * late when the shares merge (tail/threads.ts).
   */
  lineWindows: Map<EpochSec, number> | null = null;

  // The line being read (set by at()).
  protected app: AppState | null = null;
  private lineTime = epochMs(0);
  private lineSec = epochSec(0);
  /** Start of the line's window at the drain's resolution. */
  private lineStart = epochSec(0);
  private lineLate = false;
  /** The clock in whole seconds, for lastSeen. */
  private clockSec = epochSec(0);

  constructor(options: AggregatorOptions, clock: number, budgets: Budgets) {
    this.options = options;
    this.budgets = budgets;
    this.registry = new SeriesRegistry(budgets);
    this.pool = new WindowPool(budgets.windows);
    this.clock = epochMs(clock);
    this.schedule = new CloseSchedule(options.grace, toSec(this.clock), this);
    this.arrival = clock;
    this.resolution = options.resolution;
    // Behaviour chosen once (prom-client style), not a flag read per line.
    if (options.watermark === true) this.at = this.atWatermark;
  }

  /** Moves the clock (never back) and closes every window due by it. */
  abstract advance(clock: number): void;

  /** A window leaving the schedule, closed. */
  abstract closeWindow(s: Series, w: Window): void;

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

  private atClock(app: Tenant, at: number): void {
    // Tenants are made by appState(); one made elsewhere (a test's) is found by name.
    if (this.app !== app) this.app = app instanceof AppState ? app : this.registry.appState(app.name);
    const time = epochMs(at > this.arrival + FUTURE_MS ? this.arrival : at);
    this.lineTime = time;
    this.lineSec = toSec(time);
    // Per line, not per observation; floor, not %: epoch seconds are doubles, and %
    // on doubles is a call to fmod (bench/ingest.ts, ingest + aggregate).
    const start = windowStart(this.lineSec, this.resolution);
    this.lineStart = start;
    this.lineLate = isDue(start, this.resolution, this.options.grace, this.clock);
    this.clockSec = toSec(this.clock);
    if (this.lineLate) this.app.late++;
    else if (this.lineWindows !== null) this.lineWindows.set(start, (this.lineWindows.get(start) ?? 0) + 1);
  }

  observe(metric: Metric, label1: string, label2: string, value: number): void {
    const app = this.app as AppState;
    let s = app.find(metric, label1, label2);
    if (s === undefined) {
      const made = this.newSeries(app, metric, label1, label2, this.resolution);
      if (made === null) return;
      s = made;
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
      if (isDue(start, res, this.options.grace, this.clock)) return;
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

  /** A new series of `app`, under this aggregator's budgets; null (counted as series_limit) when refused. */
  newSeries(app: AppState, metric: Metric, label1: string, label2: string, resolution: number): Series | null {
    if (!this.registry.take(app, metric)) {
      app.rejected[SERIES_LIMIT]++;
      return null;
    }
    const windowed = metric.kind === MEASURE && this.options.exporting !== true;
    const s = new Series(app, metric, label1, label2, resolution, windowed, this.arena);
    this.registry.add(app, s);
    return s;
  }

  /** A new open window of `s`; null past the series' open windows or the app's window bytes. */
  openWindow(s: Series, start: EpochSec): Window | null {
    if (s.openCount >= MAX_OPEN_WINDOWS || !this.budgets.windows.take(s.app, WINDOW_BYTES)) return null;
    const w = this.pool.take();
    w.reset(start);
    w.owner = s.app;
    w.budget = this.budgets.windows;
    w.charged = WINDOW_BYTES;
    s.addOpen(w);
    if (this.options.exporting !== true) this.schedule.add(s, start);
    return w;
  }
}
