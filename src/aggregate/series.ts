// One series: an app, a metric and its label values. Cumulative values for /metrics,
// the windows still open, and (measures) the sliding window of closed ones.

import type { Budget, Holder, Metric } from '../model/index.js';
import type { AppState } from './app-state.js';
import { keyOf, valueOf } from './buckets.js';
import type { BucketSink, Charge } from './histogram.js';
import type { Arena } from './arena.js';
import { SlidingWindow } from './sliding-window.js';
import { WindowBuckets } from './window-buckets.js';

/**
 * One open window of one series. A measure's buckets live in the object itself while
 * there are at most four (most windows of most series: one value or a few); past
 * that a WindowBuckets takes them, in no order. Windows are pooled by the
 * aggregator, so a window costs no allocation (bench/series.ts: per-window typed
 * arrays made RSS 28 KB a series). The app whose series holds the window pays, in
 * bytes of the windows budget, for the buckets it grows (docs/limits.md); refused, the
 * value is not windowed.
 */
export class Window implements Charge {
  /** Start, epoch seconds; the window is [start, start + resolution). */
  start = 0;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** Sample: the value with the latest timestamp, and that timestamp (ms). */
  last = NaN;
  lastTime = -Infinity;
  /** Distinct buckets held inline (≤ 4), then in `more` once `spilled`. */
  n = 0;
  k0 = 0;
  c0 = 0;
  k1 = 0;
  c1 = 0;
  k2 = 0;
  c2 = 0;
  k3 = 0;
  c3 = 0;
  /** Kept when the window is pooled and reused, so its arrays are made once. */
  more: WindowBuckets | null = null;
  /** The series' next open window (Series.firstOpen). */
  next: Window | null = null;
  spilled = false;
  /** Who pays for the window while it is open, and what it has paid. */
  owner: Holder | null = null;
  budget: Budget | null = null;
  charged = 0;

  reset(start: number): void {
    this.start = start;
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.last = NaN;
    this.lastTime = -Infinity;
    this.n = 0;
    this.spilled = false;
  }

  take(bytes: number): boolean {
    if (this.budget === null || this.owner === null) return true; // a window outside an aggregator
    if (!this.budget.take(this.owner, bytes)) return false;
    this.charged += bytes;
    return true;
  }

  /** A measure's value: its bucket and the totals; false (nothing added) when the bucket was refused. */
  measure(v: number): boolean {
    if (!this.addBucket(keyOf(v), 1)) return false;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    return true;
  }

  /** `c` values in bucket `key` (buckets only: the caller keeps count, sum, min, max); false when refused. */
  addBucket(key: number, c: number): boolean {
    if (this.spilled) return (this.more as WindowBuckets).addKey(key, c);
    if (this.n > 0 && this.k0 === key) this.c0 += c;
    else if (this.n > 1 && this.k1 === key) this.c1 += c;
    else if (this.n > 2 && this.k2 === key) this.c2 += c;
    else if (this.n > 3 && this.k3 === key) this.c3 += c;
    else if (this.n === 0) (this.k0 = key), (this.c0 = c), this.n++;
    else if (this.n === 1) (this.k1 = key), (this.c1 = c), this.n++;
    else if (this.n === 2) (this.k2 = key), (this.c2 = c), this.n++;
    else if (this.n === 3) (this.k3 = key), (this.c3 = c), this.n++;
    else return this.spill(key, c);
    return true;
  }

  /** Forgets buckets whose count is 0 (what an add taken back leaves). */
  dropEmptyBuckets(): void {
    if (this.spilled) {
      (this.more as WindowBuckets).dropEmpty();
      return;
    }
    const keys = [this.k0, this.k1, this.k2, this.k3];
    const counts = [this.c0, this.c1, this.c2, this.c3];
    const n = this.n;
    this.n = 0;
    for (let i = 0; i < n; i++) if (counts[i] !== 0) this.addBucket(keys[i], counts[i]);
  }

  /** Calls `each` with every bucket (key, count), in no order. */
  buckets(each: (key: number, count: number) => void): void {
    if (this.spilled && this.more !== null) {
      const h = this.more;
      for (let i = 0; i < h.n; i++) each(h.keys[i], h.counts[i]);
      return;
    }
    if (this.n > 0) each(this.k0, this.c0);
    if (this.n > 1) each(this.k1, this.c1);
    if (this.n > 2) each(this.k2, this.c2);
    if (this.n > 3) each(this.k3, this.c3);
  }

  /** Distinct buckets held. */
  get bucketCount(): number {
    return this.spilled && this.more !== null ? this.more.n : this.n;
  }

  /** The window's buckets, appended to a sliding window as one record. */
  pushTo(sliding: SlidingWindow): void {
    const more = this.more;
    if (this.count === 0) return;
    if (this.count === 1) return sliding.single(this.start, this.min);
    if (this.spilled && more !== null) {
      sliding.begin(this.start, more.n, this.min, this.max);
      for (let i = 0; i < more.n; i++) sliding.bucket(more.keys[i], more.counts[i]);
      return;
    }
    sliding.begin(this.start, this.n, this.min, this.max);
    if (this.n > 0) sliding.bucket(this.k0, this.c0);
    if (this.n > 1) sliding.bucket(this.k1, this.c1);
    if (this.n > 2) sliding.bucket(this.k2, this.c2);
    if (this.n > 3) sliding.bucket(this.k3, this.c3);
  }

  /** Adds this window's buckets to `h` (a push outlet's cumulative histogram, a history step's buckets). */
  mergeInto(h: BucketSink): void {
    const more = this.more;
    if (this.spilled && more !== null) {
      for (let i = 0; i < more.n; i++) h.addKey(more.keys[i], more.counts[i]);
      return;
    }
    if (this.n > 0) h.addKey(this.k0, this.c0);
    if (this.n > 1) h.addKey(this.k1, this.c1);
    if (this.n > 2) h.addKey(this.k2, this.c2);
    if (this.n > 3) h.addKey(this.k3, this.c3);
  }

  /** Nearest-rank quantile of this window (tail and push outlets); min and max exact. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    // `more` holds buckets only: the window keeps the count, min and max.
    if (this.spilled && this.more !== null) return this.more.quantile(q, this.min, this.max, this.count);
    const keys = [this.k0, this.k1, this.k2, this.k3].slice(0, this.n);
    const counts = [this.c0, this.c1, this.c2, this.c3];
    const order = keys.map((_, i) => i).sort((a, b) => keys[a] - keys[b]);
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (const i of order) {
      seen += counts[i];
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, valueOf(keys[i])));
    }
    return this.max;
  }

  private spill(key: number, c: number): boolean {
    // Reused with the window (bench/mtail.ts: bucket arrays made and grown per busy
    // window were 6% of tail, and 4% again when the pool dropped them).
    const h = this.more ?? new WindowBuckets();
    this.more = h;
    h.clear();
    h.charge = this;
    // Five buckets: the inline four stay as they are if the memory is refused.
    if (!(h.addKey(this.k0, this.c0) && h.addKey(this.k1, this.c1) && h.addKey(this.k2, this.c2) && h.addKey(this.k3, this.c3) && h.addKey(key, c))) {
      h.clear();
      return false;
    }
    this.spilled = true;
    return true;
  }
}

export class Series {
  readonly app: AppState;
  readonly metric: Metric;
  readonly label1: string;
  readonly label2: string;
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
  /** Exporting (scale-out): the sample value last exported, and its time. */
  sentLast = NaN;
  /**
   * Observations taken: since the last hand-over in an exporting aggregator, in all
   * in a merged one. A series dropped because another process claimed its name
   * first counts these as type_conflict (docs/isolation.md).
   */
  observed = 0;
  sentTime = -Infinity;
  /**
   * Open windows, in the order they opened, linked through Window.next: an array a
   * series cost 180 bytes (bench/series.ts), a link 8 a window.
   */
  firstOpen: Window | null = null;
  openCount = 0;
  readonly sliding: SlidingWindow | null;

  constructor(app: AppState, metric: Metric, label1: string, label2: string, resolution: number, measure: boolean, arena: Arena | null = null) {
    this.app = app;
    this.metric = metric;
    this.label1 = label1;
    this.label2 = label2;
    this.resolution = resolution;
    this.sliding = measure ? new SlidingWindow(arena, resolution) : null;
  }

  /**
   * Label values by name, app first ('' values left out). Made on each call, not
   * kept: outlets that need them often keep their own encoding (bench/series.ts:
   * 128 bytes a series less).
   */
  get labels(): ReadonlyArray<readonly [string, string]> {
    const names = this.metric.labels;
    const labels: [string, string][] = [['app', this.app.name]];
    if (names.length > 0 && this.label1 !== '') labels.push([names[0], this.label1]);
    if (names.length > 1 && this.label2 !== '') labels.push([names[1], this.label2]);
    return labels;
  }

  /** The open window starting at `start`, or null. */
  window(start: number): Window | null {
    for (let w = this.firstOpen; w !== null; w = w.next) if (w.start === start) return w;
    return null;
  }

  /** Adds an open window, last. */
  addOpen(w: Window): void {
    w.next = null;
    if (this.firstOpen === null) this.firstOpen = w;
    else {
      let last = this.firstOpen;
      while (last.next !== null) last = last.next;
      last.next = w;
    }
    this.openCount++;
  }
}
