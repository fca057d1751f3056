// The closed windows of one measure series that /metrics quantiles cover (the last
// QUANTILE_WINDOW seconds). A running histogram holds their sum; each window's
// buckets wait in a FIFO of typed arrays, to be taken out exactly when the window
// leaves the span. A scrape reads one histogram, not a merge of sixty.

import { Histogram } from './histogram.js';

const META = 4; // per window: start (s), buckets, min, max

export class SlidingWindow {
  readonly running = new Histogram();
  private meta = new Float64Array(META * 4);
  private keys = new Int32Array(8);
  private counts = new Float64Array(8);
  private firstWindow = 0;
  private windows = 0;
  private firstBucket = 0;
  private buckets = 0;

  /** Adds a closed window that started at `start` (seconds). */
  push(start: number, h: Histogram): void {
    if (h.count === 0) return;
    this.ensure(h.n);
    const w = (this.firstWindow + this.windows) * META;
    this.meta[w] = start;
    this.meta[w + 1] = h.n;
    this.meta[w + 2] = h.min;
    this.meta[w + 3] = h.max;
    this.windows++;
    const at = this.firstBucket + this.buckets;
    this.keys.set(h.keys.subarray(0, h.n), at);
    this.counts.set(h.counts.subarray(0, h.n), at);
    this.buckets += h.n;
    this.running.merge(h);
  }

  /** Takes out windows that started before `horizon` (seconds). */
  expire(horizon: number): void {
    while (this.windows > 0 && this.meta[this.firstWindow * META] < horizon) {
      const nb = this.meta[this.firstWindow * META + 1];
      const running = this.running;
      for (let i = this.firstBucket; i < this.firstBucket + nb; i++) {
        running.addKey(this.keys[i], -this.counts[i]);
        running.count -= this.counts[i];
      }
      this.firstBucket += nb;
      this.buckets -= nb;
      this.firstWindow++;
      this.windows--;
      running.compact();
    }
    if (this.windows === 0) {
      this.running.clear();
      this.firstWindow = this.firstBucket = this.buckets = 0;
    }
  }

  get count(): number {
    return this.running.count;
  }

  /** Nearest-rank quantile over the windows held; min and max exact. */
  quantile(q: number): number {
    if (this.windows === 0) return NaN;
    let min = Infinity;
    let max = -Infinity;
    for (let w = this.firstWindow; w < this.firstWindow + this.windows; w++) {
      if (this.meta[w * META + 2] < min) min = this.meta[w * META + 2];
      if (this.meta[w * META + 3] > max) max = this.meta[w * META + 3];
    }
    return this.running.quantile(q, min, max);
  }

  bytes(): number {
    return this.meta.byteLength + this.keys.byteLength + this.counts.byteLength + this.running.bytes();
  }

  /** Room for one more window of `n` buckets, compacting or growing the FIFO. */
  private ensure(n: number): void {
    if ((this.firstWindow + this.windows + 1) * META > this.meta.length) {
      const meta = this.windows + 1 > this.meta.length / META / 2 ? new Float64Array(this.meta.length * 2) : this.meta;
      meta.set(this.meta.subarray(this.firstWindow * META, (this.firstWindow + this.windows) * META));
      this.meta = meta;
      this.firstWindow = 0;
    }
    if (this.firstBucket + this.buckets + n > this.keys.length) {
      const grow = this.buckets + n > this.keys.length / 2;
      const size = grow ? Math.max(this.keys.length * 2, this.buckets + n) : this.keys.length;
      const keys = grow ? new Int32Array(size) : this.keys;
      const counts = grow ? new Float64Array(size) : this.counts;
      if (grow) {
        keys.set(this.keys.subarray(this.firstBucket, this.firstBucket + this.buckets));
        counts.set(this.counts.subarray(this.firstBucket, this.firstBucket + this.buckets));
      } else {
        keys.copyWithin(0, this.firstBucket, this.firstBucket + this.buckets);
        counts.copyWithin(0, this.firstBucket, this.firstBucket + this.buckets);
      }
      this.keys = keys;
      this.counts = counts;
      this.firstBucket = 0;
    }
  }
}
