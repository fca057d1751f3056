import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyOf } from '../../src/aggregate/buckets.js';
import { Histogram, type Charge } from '../../src/aggregate/histogram.js';
import { MAX_WINDOW_BUCKETS, WINDOW_BUCKET_BYTES, WindowBuckets } from '../../src/aggregate/window-buckets.js';

/** The buckets held, by key (as a Histogram holds them, sorted). */
function pairs(keys: ArrayLike<number>, counts: ArrayLike<number>, n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([keys[i], counts[i]]);
  return out.sort((a, b) => a[0] - b[0]);
}

/** A charge that grants up to `limit` bytes, and counts what it granted. */
class Allowance implements Charge {
  taken = 0;
  constructor(private readonly limit: number) {}
  take(bytes: number): boolean {
    if (this.taken + bytes > this.limit) return false;
    this.taken += bytes;
    return true;
  }
}

// Keys of the scheme: both signs, zero, close runs and far outliers; counts as merges carry them.
const key = fc.oneof(
  fc.integer({ min: (1 << 20) - 500, max: (1 << 20) + 500 }),
  fc.integer({ min: -((1 << 20) + 70_000), max: (1 << 20) + 70_000 }),
  fc.constant(0),
);
const adds = fc.array(fc.tuple(key, fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 1e6 }))), { maxLength: 600 });

describe('WindowBuckets', () => {
  it('holds what a Histogram holds after the same adds, in any order of arrival', () => {
    fc.assert(
      fc.property(adds, (xs) => {
        const w = new WindowBuckets();
        const h = new Histogram();
        for (const [k, c] of xs) {
          expect(w.addKey(k, c)).toBe(true);
          h.addKey(k, c);
        }
        expect(pairs(w.keys, w.counts, w.n)).toEqual(pairs(h.keys, h.counts, h.n));
      }),
    );
  });

  it("answers Histogram's quantiles, then keeps counting right after sorting", () => {
    const qs = [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1];
    fc.assert(
      fc.property(adds, adds, (first, then) => {
        const w = new WindowBuckets();
        const h = new Histogram();
        let count = 0;
        for (const [k, c] of first) w.addKey(k, c), h.addKey(k, c), (count += c);
        for (const q of qs) expect(w.quantile(q, -1e300, 1e300, count)).toBe(h.quantile(q, -1e300, 1e300, count));
        // sort() reordered the arrays: finding a key must still work.
        for (const [k, c] of then) w.addKey(k, c), h.addKey(k, c), (count += c);
        expect(pairs(w.keys, w.counts, w.n)).toEqual(pairs(h.keys, h.counts, h.n));
        for (const q of qs) expect(w.quantile(q, -1e300, 1e300, count)).toBe(h.quantile(q, -1e300, 1e300, count));
      }),
    );
  });

  it('starts empty again after clear(), with the capacity it grew to', () => {
    const w = new WindowBuckets();
    for (let k = 1; k <= 100; k++) w.addKey(k, k);
    const capacity = w.capacity;
    w.clear();
    expect(w.n).toBe(0);
    w.addKey(7, 1);
    w.addKey(7, 2);
    w.addKey(1000, 1);
    expect(pairs(w.keys, w.counts, w.n)).toEqual([
      [7, 3],
      [1000, 1],
    ]);
    expect(w.capacity).toBe(capacity);
  });

  it('past MAX_WINDOW_BUCKETS, a new key joins the nearest held, as in a Histogram', () => {
    const w = new WindowBuckets();
    const h = new Histogram();
    // Every other key, so later keys fall between two held ones (and ties happen).
    for (let i = 0; i < MAX_WINDOW_BUCKETS; i++) w.addKey(i * 4, 1), h.addKey(i * 4, 1);
    for (const k of [1, 2, 3, 6, -5, MAX_WINDOW_BUCKETS * 4 + 9, 4 * 100 + 2]) w.addKey(k, 10), h.addKey(k, 10);
    expect(w.n).toBe(MAX_WINDOW_BUCKETS);
    expect(pairs(w.keys, w.counts, w.n)).toEqual(pairs(h.keys, h.counts, h.n));
  });

  it('asks its charge for the bytes it grows by, and adds nothing it was refused', () => {
    // Room for 8 buckets, not 16.
    const charge = new Allowance(8 * WINDOW_BUCKET_BYTES + WINDOW_BUCKET_BYTES);
    const w = new WindowBuckets();
    w.charge = charge;
    for (let k = 0; k < 8; k++) expect(w.addKey(k, 1)).toBe(true);
    expect(charge.taken).toBe(8 * WINDOW_BUCKET_BYTES);
    expect(w.addKey(3, 5)).toBe(true); // held already: no memory needed
    expect(w.addKey(100, 1)).toBe(false);
    expect(w.n).toBe(8);
    expect(pairs(w.keys, w.counts, w.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((k) => [k, k === 3 ? 6 : 1]));
  });

  it('finds the buckets of real values: a busy minute of latencies', () => {
    const w = new WindowBuckets();
    const h = new Histogram();
    let seed = 5;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 16807) % 2147483647;
      const v = (seed / 2147483647) * 30;
      w.addKey(keyOf(v), 1);
      h.add(v);
    }
    expect(pairs(w.keys, w.counts, w.n)).toEqual(pairs(h.keys, h.counts, h.n));
  });
});
