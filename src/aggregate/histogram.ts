// A mergeable histogram: exact count, sum, min and max, and counts per bucket of the
// scheme in buckets.ts (≤ 0.54% relative error on every quantile). Buckets are kept
// sparse, keys sorted, so memory follows the buckets in use, not the range of
// values: two values 10^600 apart cost two entries. A hint remembers the last bucket
// hit, so a run of close values costs no search. At most MAX_BUCKETS are kept: past
// that, a value joins the nearest bucket already held (its error bound widens; only
// a series whose values span over 2^64 in one window gets there).

import { keyOf, valueOf } from './buckets.js';

export const MAX_BUCKETS = 4096;

/** Takes counts by bucket key: a Histogram, or a window's buckets (window-buckets.ts). */
export interface BucketSink {
  /** False, adding nothing, when a new bucket needs memory that was refused. */
  addKey(key: number, c: number): boolean;
}

/** Pays for the memory a histogram grows by; false refuses it. */
export interface Charge {
  take(bytes: number): boolean;
}

/** Buckets in two arrays, `n` of them held (Histogram, WindowBuckets). */
interface BucketArrays {
  n: number;
  keys: Int32Array;
  counts: Float64Array;
  charge: Charge | null;
}

/** Makes room for `size` buckets in `b`, `bytesEach` a new one asked of its charge; false when refused. */
export function growBuckets(b: BucketArrays, size: number, bytesEach: number): boolean {
  if (b.charge !== null && !b.charge.take((size - b.keys.length) * bytesEach)) return false;
  const keys = new Int32Array(size);
  const counts = new Float64Array(size);
  keys.set(b.keys.subarray(0, b.n));
  counts.set(b.counts.subarray(0, b.n));
  b.keys = keys;
  b.counts = counts;
  return true;
}

/**
 * The nearest-rank quantile of buckets in key order: the value of the bucket holding
 * the ceil(q·count)-th value, clamped to [min, max]; q = 0 is min and q = 1 is max,
 * exactly.
 */
export function sortedQuantile(b: BucketArrays, q: number, min: number, max: number, count: number): number {
  if (count <= 0) return NaN;
  if (q <= 0) return min;
  if (q >= 1) return max;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let i = 0; i < b.n; i++) {
    seen += b.counts[i];
    if (seen >= rank) return Math.min(max, Math.max(min, valueOf(b.keys[i])));
  }
  return max;
}

/** Bytes one bucket slot costs (an Int32 key and a Float64 count). */
export const BUCKET_BYTES = 12;

export class Histogram implements BucketSink {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** Occupied buckets: keys[0..n) ascending, with their counts. */
  n = 0;
  keys: Int32Array = NO_KEYS;
  counts: Float64Array = NO_COUNTS;
  /** Who pays when the arrays grow; null: nobody is asked. */
  charge: Charge | null = null;
  private hint = 0;

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.addKey(keyOf(v), 1);
  }

  /**
   * Adds `c` to bucket `key`; false, adding nothing, when a new bucket needs memory
   * the charge refused.
   */
  addKey(key: number, c: number): boolean {
    const keys = this.keys;
    let i = this.hint;
    if (i < this.n && keys[i] === key) {
      this.counts[i] += c;
      return true;
    }
    // binary search for the first key >= key
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    i = lo;
    if (i < this.n && keys[i] === key) {
      this.counts[i] += c;
      this.hint = i;
      return true;
    }
    if (this.n === MAX_BUCKETS) {
      // Full: the nearest held bucket takes the value.
      if (i === this.n || (i > 0 && key - keys[i - 1] < keys[i] - key)) i--;
      this.counts[i] += c;
      this.hint = i;
      return true;
    }
    if (this.n === keys.length && !this.grow()) return false;
    this.keys.copyWithin(i + 1, i, this.n);
    this.counts.copyWithin(i + 1, i, this.n);
    this.keys[i] = key;
    this.counts[i] = c;
    this.n++;
    this.hint = i;
    return true;
  }

  /** Adds every bucket and total of `other`: merging is exact. */
  merge(other: Histogram): void {
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    for (let j = 0; j < other.n; j++) this.addKey(other.keys[j], other.counts[j]);
  }

  /**
   * The nearest-rank quantile: the value of the bucket holding the ceil(q·count)-th
   * value, clamped to [min, max]; q = 0 is min and q = 1 is max, exactly.
   */
  quantile(q: number, min = this.min, max = this.max, count = this.count): number {
    return sortedQuantile(this, q, min, max, count);
  }

  clear(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.n = 0;
    this.hint = 0;
  }

  /** Bytes held by the bucket arrays. */
  bytes(): number {
    return this.keys.byteLength + this.counts.byteLength;
  }

  private grow(): boolean {
    return growBuckets(this, Math.min(MAX_BUCKETS, Math.max(4, this.keys.length * 2)), BUCKET_BYTES);
  }
}

const NO_KEYS = new Int32Array(0);
const NO_COUNTS = new Float64Array(0);
