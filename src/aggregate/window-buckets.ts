// The buckets of a busy open window (past the four a Window holds inline): (key,
// count) pairs in the order they came, found by a hash of the key. A window's
// buckets are read in no order when it closes (the sliding window sorts what it
// gathers; merges add), so none is kept while values arrive. A sorted insert cost
// a binary search and a shift of half the buckets per new key: in `tail` on a
// busy log, four in five values opened a bucket, and that was a tenth of the run
// (bench/README.md). Sorted only when a window's own quantile is asked.

import { type BucketSink, type Charge, growBuckets, sortedQuantile } from './histogram.js';

/** Most buckets a window holds; past that a value joins the nearest held (as Histogram does). */
export const MAX_WINDOW_BUCKETS = 4096;

/** Bytes a bucket costs: an Int32 key, a Float64 count and two Int16 hash slots (indexes are below 4,096). */
export const WINDOW_BUCKET_BYTES = 16;

const EMPTY_KEYS = new Int32Array(0);
const EMPTY_COUNTS = new Float64Array(0);
/** Two slots, empty and never written: the first add() grows past them. */
const EMPTY_SLOTS = new Int16Array(2);

/** key × INDEX_SPAN + index sorts by key; indexes are below MAX_WINDOW_BUCKETS. */
const INDEX_SPAN = MAX_WINDOW_BUCKETS;
let packed = new Float64Array(64);
let spare = new Float64Array(64);

export class WindowBuckets implements BucketSink {
  /** Buckets held: keys[0..n) with counts[0..n), in no order until sort(). */
  n = 0;
  keys: Int32Array = EMPTY_KEYS;
  counts: Float64Array = EMPTY_COUNTS;
  /** Who pays when the arrays grow; null: nobody is asked. */
  charge: Charge | null = null;
  /** Open addressing, linear probes: 0 is empty, else index + 1. Twice the capacity. */
  private slots: Int16Array = EMPTY_SLOTS;
  /** 32 - log2(slots.length): the hash's shift (never 32: `>>> 32` shifts by 0). */
  private shift = 31;
  /** keys[0..n) ascend (sort() made them so, and no new key came since). */
  private sorted = true;

  /** Bucket capacity held (what pooling the window keeps). */
  get capacity(): number {
    return this.keys.length;
  }

  /**
   * Adds `c` to bucket `key`; false, adding nothing, when a new bucket needs memory
   * the charge refused.
   */
  addKey(key: number, c: number): boolean {
    const slots = this.slots;
    const mask = slots.length - 1;
    const keys = this.keys;
    let h = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const s = slots[h];
      if (s === 0) break;
      if (keys[s - 1] === key) {
        this.counts[s - 1] += c;
        return true;
      }
      h = (h + 1) & mask;
    }
    const n = this.n;
    if (n === MAX_WINDOW_BUCKETS) {
      this.counts[this.nearest(key)] += c;
      return true;
    }
    if (n === keys.length) {
      if (!this.grow()) return false;
      return this.addKey(key, c);
    }
    keys[n] = key;
    this.counts[n] = c;
    slots[h] = n + 1;
    this.n = n + 1;
    this.sorted = false;
    return true;
  }

  /** Forgets buckets whose count is 0 (what an add taken back leaves); keeps the room. */
  dropEmpty(): void {
    let n = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.counts[i] === 0) continue;
      this.keys[n] = this.keys[i];
      this.counts[n] = this.counts[i];
      n++;
    }
    if (n === this.n) return;
    this.n = n;
    this.sorted = false;
    this.rehash();
  }

  clear(): void {
    if (this.n > 0) this.slots.fill(0);
    this.n = 0;
    this.sorted = true;
  }

  /** Puts the buckets in key order. */
  sort(): void {
    if (this.sorted) return;
    const n = this.n;
    if (packed.length < n) {
      packed = new Float64Array(MAX_WINDOW_BUCKETS);
      spare = new Float64Array(MAX_WINDOW_BUCKETS);
    }
    for (let i = 0; i < n; i++) {
      packed[i] = this.keys[i] * INDEX_SPAN + i;
      spare[i] = this.counts[i];
    }
    const order = packed.subarray(0, n).sort();
    for (let i = 0; i < n; i++) {
      const key = Math.floor(order[i] / INDEX_SPAN);
      this.keys[i] = key;
      this.counts[i] = spare[order[i] - key * INDEX_SPAN];
    }
    this.rehash();
    this.sorted = true;
  }

  /**
   * The nearest-rank quantile (as Histogram.quantile): the value of the bucket
   * holding the ceil(q·count)-th value, clamped to [min, max]; q = 0 is min, q = 1 max.
   * Sorts the buckets, once until a new key comes.
   */
  quantile(q: number, min: number, max: number, count: number): number {
    if (q > 0 && q < 1) this.sort();
    return sortedQuantile(this, q, min, max, count);
  }

  /** Index of the held key nearest `key` (the larger of two as near). */
  private nearest(key: number): number {
    let best = 0;
    let bestDistance = Infinity;
    for (let i = 0; i < this.n; i++) {
      const d = Math.abs(this.keys[i] - key);
      if (d < bestDistance || (d === bestDistance && this.keys[i] > this.keys[best])) {
        best = i;
        bestDistance = d;
      }
    }
    return best;
  }

  private grow(): boolean {
    const size = Math.min(MAX_WINDOW_BUCKETS, Math.max(8, this.keys.length * 2));
    if (!growBuckets(this, size, WINDOW_BUCKET_BYTES)) return false;
    this.slots = new Int16Array(size * 2);
    this.shift = 32 - Math.log2(size * 2);
    this.rehash();
    return true;
  }

  /** Slots made again for keys[0..n). */
  private rehash(): void {
    const slots = this.slots;
    slots.fill(0);
    const mask = slots.length - 1;
    for (let i = 0; i < this.n; i++) {
      let h = Math.imul(this.keys[i], 0x9e3779b1) >>> this.shift;
      while (slots[h] !== 0) h = (h + 1) & mask;
      slots[h] = i + 1;
    }
  }
}

/**
 * The bucket room pooled WindowBuckets keep, bounded in bytes: a pool that keeps
 * its buckets' room asks keep() before pooling one, and calls taken() when one leaves.
 */
export class PooledRoom {
  private bytes = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** True, counting its room, when `b` may stay pooled with it. */
  keep(b: WindowBuckets): boolean {
    const bytes = b.capacity * WINDOW_BUCKET_BYTES;
    if (this.bytes + bytes > this.limit) return false;
    this.bytes += bytes;
    return true;
  }

  /** `b`, kept, leaves the pool. */
  taken(b: WindowBuckets): void {
    this.bytes -= b.capacity * WINDOW_BUCKET_BYTES;
  }
}
