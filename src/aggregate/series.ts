// One series: an app, a metric and its label values. Cumulative values for /metrics,
// the windows still open, and (measures) the sliding window of closed ones.

import type { Metric } from '../ingest/index.js';
import type { AppState } from './app-state.js';
import { Histogram } from './histogram.js';
import { SlidingWindow } from './sliding-window.js';

/** One open window of one series. */
export class Window {
  /** Start, epoch seconds; the window is [start, start + resolution). */
  start = 0;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** Sample: the value with the latest timestamp, and that timestamp (ms). */
  last = NaN;
  lastTime = -Infinity;
  /** Measure: the values' histogram. */
  hist: Histogram | null = null;
}

export class Series {
  readonly app: AppState;
  readonly metric: Metric;
  readonly label1: string;
  readonly label2: string;
  /** Every label, app first, for exposition (made once; prom-client caches its text). */
  readonly labels: Record<string, string>;
  /** Window length, seconds (the drain's resolution when the series was made). */
  readonly resolution: number;
  /** Clock second of the last observation (TTL). */
  lastSeen = 0;
  /** Measure: observations and their sum; counter: the total. Cumulative. */
  count = 0;
  sum = 0;
  /** Sample: the value with the latest timestamp. */
  last = NaN;
  lastTime = -Infinity;
  readonly open: Window[] = [];
  readonly sliding: SlidingWindow | null;

  constructor(app: AppState, metric: Metric, label1: string, label2: string, resolution: number, measure: boolean) {
    this.app = app;
    this.metric = metric;
    this.label1 = label1;
    this.label2 = label2;
    this.resolution = resolution;
    const labels: Record<string, string> = { app: app.name };
    if (metric.labels.length > 0 && label1 !== '') labels[metric.labels[0]] = label1;
    if (metric.labels.length > 1 && label2 !== '') labels[metric.labels[1]] = label2;
    this.labels = labels;
    this.sliding = measure ? new SlidingWindow() : null;
  }

  /** The open window starting at `start`, or null. */
  window(start: number): Window | null {
    const open = this.open;
    for (let i = 0; i < open.length; i++) if (open[i].start === start) return open[i];
    return null;
  }
}
