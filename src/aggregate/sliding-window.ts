// The closed windows of one measure series that /metrics quantiles cover (the last
// QUANTILE_WINDOW seconds), packed as records in a FIFO of doubles (region-fifo.ts):
//
//   windows of one value each, one `step` apart (a run):
//                           [start × 2^16 + RUN + len, value, value, … len times]
//   any other window:       [start × 2^16 + n, min, max, key × 2^32 + count, … n times]
//
// Most windows of most series hold one value, and a series seen every second makes
// one run of them: a full minute is 61 doubles, about 500 bytes (bench/series.ts; a
// record per window was twice that). A scrape of runs only selects each quantile's
// rank among the values; otherwise it gathers the packed buckets, sorts them with
// the native numeric sort (the packing orders by key), and walks them once for every
// quantile asked. Windows leave by moving the head: no subtraction, no merge.

import type { Arena } from './arena.js';
import { keyOf, valueOf } from './buckets.js';
import type { Histogram } from './histogram.js';
import { largest, select, TOP } from './quickselect.js';
import { RegionFifo } from './region-fifo.js';

const P32 = 2 ** 32;
const P16 = 2 ** 16;
/** A header's low field at or past RUN is a run of RUN - field windows; below, a window's bucket count. */
const RUN = 2 ** 15;
const MAX_RUN = RUN - 1;

/** The count of a packed bucket (floor, not %: keys may be negative). */
function countOf(packed: number): number {
  return packed - Math.floor(packed / P32) * P32;
}

/** The low field of a header (a bucket count, or RUN + a run's length). `%` on
 * doubles is a call to fmod: this is not (bench/series.ts scrape: a third of the
 * quantile time). */
function fieldOf(header: number): number {
  return header - Math.floor(header / P16) * P16;
}

let scratch = new Float64Array(1024);
/** keys when the caller wants none: written, never read. */
const NO_KEYS: number[] = [];

/**
 * A bucket's value clamped to [min, max] as Histogram.quantile clamps it (so −0 and 0
 * come out alike: Math.max(−0, 0) is 0, Math.min(−0, 0) is −0); keys[k] is its key
 * when the value is the bucket's own, else 0.
 */
function bucketValue(key: number, min: number, max: number, k: number, keys: number[]): number {
  const v = valueOf(key);
  const r = Math.min(max, Math.max(min, v));
  if (r === v) keys[k] = key;
  return r;
}

export class SlidingWindow extends RegionFifo {
  /** Length of the run that ends at the tail (its header is at tail - runLen - 1); 0: the last record is not a run. */
  private runLen = 0;
  /** Seconds between the windows of a run: the series' resolution. */
  private readonly step: number;

  constructor(arena: Arena | null = null, step = 1) {
    super(arena);
    this.step = step;
  }

  /** Gives the region back to the arena (the series is gone). */
  override release(): void {
    super.release();
    this.runLen = 0;
  }

  /** A window that held one value: the run at the tail grows when the window follows it. */
  single(start: number, value: number): void {
    const len = this.runLen;
    if (len > 0 && len < MAX_RUN) {
      const at = this.tail - len - 1;
      const h = this.data[at];
      if (Math.floor(h / P16) + len * this.step === start) {
        this.ensure(1);
        // ensure() may have moved the records; the run's place from the tail did not change.
        this.data[this.tail - len - 1] = h + 1;
        this.data[this.tail++] = value;
        this.runLen = len + 1;
        return;
      }
    }
    this.ensure(2);
    this.data[this.tail] = start * P16 + RUN + 1;
    this.data[this.tail + 1] = value;
    this.tail += 2;
    this.runLen = 1;
  }

  /** Starts a window record of n ≥ 1 buckets; they follow through bucket(). */
  begin(start: number, n: number, min: number, max: number): void {
    this.ensure(3 + n);
    const d = this.data;
    d[this.tail] = start * P16 + n;
    d[this.tail + 1] = min;
    d[this.tail + 2] = max;
    this.tail += 3;
    this.runLen = 0;
  }

  bucket(key: number, count: number): void {
    this.data[this.tail++] = key * P32 + count;
  }

  /** Adds a whole histogram as the window starting at `start`. */
  push(start: number, h: Histogram): void {
    if (h.count === 0) return;
    if (h.count === 1) return this.single(start, h.min);
    this.begin(start, h.n, h.min, h.max);
    for (let i = 0; i < h.n; i++) this.bucket(h.keys[i], h.counts[i]);
  }

  /** One quantile (see quantiles()). */
  quantile(q: number): number {
    const out = [NaN];
    this.quantiles([q], out);
    return out[0];
  }

  /** Drops windows that started before `horizon` (epoch seconds). */
  expire(horizon: number): void {
    const d = this.data;
    while (this.head < this.tail) {
      const h = d[this.head];
      const start = Math.floor(h / P16);
      if (start >= horizon) break;
      const f = h - start * P16;
      if (f < RUN) {
        this.head += 3 + f;
        continue;
      }
      const len = f - RUN;
      const gone = Math.ceil((horizon - start) / this.step);
      if (gone >= len) {
        this.head += 1 + len;
        continue;
      }
      // The run's first `gone` windows leave: its header moves onto the last of them.
      this.head += gone;
      d[this.head] = (start + gone * this.step) * P16 + RUN + len - gone;
      if (this.head + 1 + len - gone === this.tail) this.runLen = len - gone;
      break;
    }
    if (this.head === this.tail) {
      this.head = this.tail = this.base;
      this.runLen = 0;
    }
  }

  /**
   * Calls `each` with every window held: its start, observations, min and max, and
   * its buckets as (key, count) pairs in `pairs` (n of them; a window of one value
   * has one, of the value's bucket). `pairs` is reused: read it at once.
   */
  windows(each: (start: number, count: number, min: number, max: number, n: number, pairs: number[]) => void): void {
    const d = this.data;
    const pairs: number[] = [];
    for (let i = this.head; i < this.tail; ) {
      const start = Math.floor(d[i] / P16);
      const f = d[i] - start * P16;
      if (f >= RUN) {
        const len = f - RUN;
        for (let j = 0; j < len; j++) {
          const v = d[i + 1 + j];
          pairs[0] = keyOf(v);
          pairs[1] = 1;
          each(start + j * this.step, 1, v, v, 1, pairs);
        }
        i += 1 + len;
        continue;
      }
      let count = 0;
      for (let j = 0; j < f; j++) {
        const packed = d[i + 3 + j];
        pairs[2 * j] = Math.floor(packed / P32);
        pairs[2 * j + 1] = countOf(packed);
        count += pairs[2 * j + 1];
      }
      each(start, count, d[i + 1], d[i + 2], f, pairs);
      i += 3 + f;
    }
  }

  /** Observations in the windows held. */
  get count(): number {
    let c = 0;
    const d = this.data;
    for (let i = this.head; i < this.tail; ) {
      const f = fieldOf(d[i]);
      if (f >= RUN) {
        c += f - RUN;
        i += 1 + f - RUN;
        continue;
      }
      for (let j = i + 3; j < i + 3 + f; j++) c += countOf(d[j]);
      i += 3 + f;
    }
    return c;
  }


  /**
   * Nearest-rank quantiles over the windows held, for `qs` ascending, into `out`:
   * q = 0 is the exact min, q = 1 the exact max, others the value of the bucket
   * holding the ceil(q·count)-th observation, clamped to [min, max]. NaN when empty.
   * With `keys`, keys[k] is the key of the bucket whose value out[k] is, or 0 when
   * out[k] is min, max or clamped to them (the exposition keeps bucket values' text).
   */
  quantiles(qs: readonly number[], out: number[], keys: number[] = NO_KEYS): void {
    if (this.allSingle()) return this.singleQuantiles(qs, out, keys);
    const d = this.data;
    let min = Infinity;
    let max = -Infinity;
    let m = 0;
    let total = 0;
    for (let i = this.head; i < this.tail; ) {
      const f = fieldOf(d[i]);
      const n = f >= RUN ? f - RUN : f;
      if (m + n > scratch.length) {
        const bigger = new Float64Array(Math.max(scratch.length * 2, m + n));
        bigger.set(scratch.subarray(0, m));
        scratch = bigger;
      }
      if (f >= RUN) {
        for (let j = i + 1; j < i + 1 + n; j++) {
          const v = d[j];
          if (v < min) min = v;
          if (v > max) max = v;
          scratch[m++] = keyOf(v) * P32 + 1;
        }
        total += n;
        i += 1 + n;
        continue;
      }
      if (d[i + 1] < min) min = d[i + 1];
      if (d[i + 2] > max) max = d[i + 2];
      for (let j = i + 3; j < i + 3 + n; j++) {
        scratch[m++] = d[j];
        total += countOf(d[j]);
      }
      i += 3 + n;
    }
    if (total === 0) {
      for (let k = 0; k < qs.length; k++) (out[k] = NaN), (keys[k] = 0);
      return;
    }
    const sorted = scratch.subarray(0, m).sort();
    let seen = 0;
    let i = 0;
    for (let k = 0; k < qs.length; k++) {
      const q = qs[k];
      keys[k] = 0;
      if (q <= 0) {
        out[k] = min;
        continue;
      }
      if (q >= 1) {
        out[k] = max;
        continue;
      }
      const rank = Math.ceil(q * total);
      while (i < m) {
        const count = countOf(sorted[i]);
        if (seen + count >= rank) break;
        seen += count;
        i++;
      }
      const key = Math.floor(sorted[Math.min(i, m - 1)] / P32);
      out[k] = bucketValue(key, min, max, k, keys);
    }
  }

  /** Every record is a run (and there is one). */
  private allSingle(): boolean {
    const d = this.data;
    for (let i = this.head; i < this.tail; ) {
      const f = fieldOf(d[i]);
      if (f < RUN) return false;
      i += 1 + f - RUN;
    }
    return this.head !== this.tail;
  }

  /**
   * Every window held one value (a sparse series): values are in the order of their
   * buckets, so the rank-th smallest value's bucket is the answer. The rank-th is
   * selected, not sorted for: quantiles ascending narrow the range each selects in
   * (bench/series.ts scrape: a sort of 60 values was a quarter of a full scrape).
   */
  private singleQuantiles(qs: readonly number[], out: number[], keys: number[]): void {
    const d = this.data;
    if (this.tail - this.head > scratch.length) scratch = new Float64Array((this.tail - this.head) * 2);
    const a = scratch;
    let m = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = this.head; i < this.tail; ) {
      const len = fieldOf(d[i]) - RUN;
      for (let j = i + 1; j < i + 1 + len; j++) {
        const v = d[j];
        if (v < min) min = v;
        if (v > max) max = v;
        a[m++] = v;
      }
      i += 1 + len;
    }
    let lo = 0;
    for (let k = 0; k < qs.length; k++) {
      const q = qs[k];
      keys[k] = 0;
      if (q <= 0) out[k] = min;
      else if (q >= 1) out[k] = max;
      else {
        const rank = Math.ceil(q * m) - 1;
        if (rank < lo) lo = 0; // qs not ascending: select over everything again
        const fromTop = m - 1 - rank;
        let v: number;
        if (fromTop === 0) v = max;
        else if (rank === 0) v = min;
        else if (fromTop < TOP) v = largest(a, lo, m - 1, fromTop + 1);
        else {
          select(a, lo, m - 1, rank);
          lo = rank;
          v = a[rank];
        }
        out[k] = bucketValue(keyOf(v), min, max, k, keys);
      }
    }
  }
}
