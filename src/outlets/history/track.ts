// One ring of the dashboard's history (docs/dashboard.md): the last 15 minutes of a
// series, or of a merge of series, in steps of HISTORY_STEP seconds (the series'
// resolution when that is longer). A point is
//
//   measure  count, p50, p95, p99 of every value in the step's windows, and the max
//   counter  the sum of the step's windows (the page divides by the step: a rate)
//   sample   the last value of the step
//
// Points are Float32 (seven digits; a chart needs fewer): 90 points a series, so a
// measure's ring is 1,440 bytes and a counter's or sample's 360.

import type { AppState, Series, WindowBuckets } from '../../aggregate/index.js';
import type { Metric } from '../../model/index.js';

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
/** The longest a sample's cadence is taken to be, steps: a gap longer than this is a gap. */
const MAX_CADENCE = 6;

/**
 * A ring of points: one series' (`series` set), or the exact merge of every series
 * of a metric in an app (`group` -1), or of those with one value of one label (`group`
 * the label's index, for two-label metrics): what the overview and the series view's
 * grouping draw. A merge adds a step's windows as a series' ring does, so a merged
 * measure's p99 is the p99 of every value of every series in the step, within 1%.
 */
export class Track {
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
