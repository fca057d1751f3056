// Scale-out (docs/scale-out.md): other processes' series and windows merged here as
// if their lines had come here, and an exporting aggregator's open windows taken
// for them (scale/delta.ts, tail/threads.ts).

import { COUNTER, epochSec, MEASURE, type Metric, toSec, WINDOW_LIMIT } from '../model/index.js';
import type { Aggregator } from './aggregator.js';
import type { AppState } from './app-state.js';
import { isDue } from './close-schedule.js';
import type { Series, Window } from './series.js';
import { expire, horizon } from './sweep.js';

/** Another process's part of one window (scale-out), as mergeWindow() takes it. */
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

/** How mergeWindow() takes a part. */
export interface MergeWindowOptions {
  /**
   * Count the lines of a part whose window is closed here as late (the default);
   * false when the windows of payloads already counted are read again.
   */
  late?: boolean;
}

/** The default: a closed window's part counts as late. */
export const LATE: MergeWindowOptions = { late: true };

/**
 * The series another process made (scale-out), found or made here under this
 * aggregator's budgets; null (counted as series_limit) when refused.
 */
export function mergeSeries(agg: Aggregator, app: AppState, metric: Metric, label1: string, label2: string, resolution: number): Series | null {
  let s = app.find(metric, label1, label2);
  if (s === undefined) {
    const made = agg.newSeries(app, metric, label1, label2, resolution);
    if (made === null) return null;
    s = made;
  }
  s.lastSeen = toSec(agg.clock);
  return s;
}

/**
 * Another process's part of a window of `s`, merged as if its lines had come
 * here. When the window is closed here already, a measure's part still joins the
 * quantile window while that covers it (a receiver catching up after Redis came
 * back); otherwise its lines are late (counted unless `late` is false: the windows
 * of payloads already counted, read again).
 */
export function mergeWindow(agg: Aggregator, s: Series, p: PartialWindow, options: MergeWindowOptions): void {
  const app = s.app;
  const kind = s.metric.kind;
  const start = epochSec(p.start);
  if (isDue(start, s.resolution, agg.options.grace, agg.clock)) {
    if (s.sliding !== null && start >= horizon(agg, s)) {
      const w = agg.pool.take();
      w.reset(p.start);
      fill(w, p, kind, s.metric);
      expire(agg, s);
      w.pushTo(s.sliding);
      agg.version++;
      agg.recycle(w);
    } else if (options.late !== false) app.late += p.count;
    return;
  }
  let w = s.window(start);
  if (w === null) w = agg.openWindow(s, start);
  if (w === null || !fill(w, p, kind, s.metric)) app.rejected[WINDOW_LIMIT] += p.count;
}

/**
 * Exporting: hands every open window of `s` to `each`, then gives them back (the
 * next line opens a new one). Windows close here only this way.
 */
export function takeWindows(agg: Aggregator, s: Series, each: (w: Window) => void): void {
  let w = s.firstOpen;
  s.firstOpen = null;
  s.openCount = 0;
  while (w !== null) {
    const next = w.next;
    each(w);
    agg.recycle(w);
    w = next;
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
