// The bucket index against client_golang's rule, computed the slow and obvious way
// (frexp by halving and doubling, which is exact; the first bound at or above the
// fraction by a linear scan): a value on or next to a bound lands where a Go client
// puts it, and so where Prometheus reads it from a remote-written native histogram.
import { describe, expect, it } from 'vitest';
import { BOUNDS, bucketIndex, GAMMA, keyOf, indexOfKey, RELATIVE_ERROR, valueOf } from '../../src/aggregate/buckets.js';
import { prng } from '../../fixtures/corpus.js';

/** math.Frexp: v = frac × 2^exp, frac in [0.5, 1). */
function frexp(v: number): [number, number] {
  let frac = v;
  let exp = 0;
  while (frac >= 1) (frac /= 2), exp++;
  while (frac < 0.5) (frac *= 2), exp--;
  return [frac, exp];
}

/** client_golang histogramCounts.observe at schema 6 (positive, finite v). */
function goIndex(v: number): number {
  const [frac, exp] = frexp(v);
  let i = 0;
  while (i < 64 && BOUNDS[i] < frac) i++;
  return i + (exp - 1) * 64;
}

const view = new Float64Array(1);
const raw = new BigInt64Array(view.buffer);
/** The next double up (v > 0) or down. */
function step(v: number, by: number): number {
  view[0] = v;
  raw[0] += BigInt(by);
  return view[0];
}

/** 2^(j/64)/2 to 80 bits after the point, as a BigInt numerator over 2^80 (floor). */
function exactBound(j: number): bigint {
  // The largest x with x^64 ≤ 2^j · 2^(80·64) / 2^64 (that is, (x / 2^80)^64 ≤ 2^(j−64)).
  const target = 1n << BigInt(80 * 64 + j - 64);
  let lo = 1n << 79n;
  let hi = 1n << 80n;
  while (hi - lo > 1n) {
    const mid = (lo + hi) >> 1n;
    if (mid ** 64n <= target) lo = mid;
    else hi = mid;
  }
  return lo;
}

describe('bucket index (schema 6, client_golang rule)', () => {
  it('bounds are 2^(j/64)/2 within one ulp, rising, as client_golang writes them', () => {
    for (let j = 0; j < 64; j++) {
      const exact = Number(exactBound(j)) / 2 ** 80;
      const ulp = 2 ** -53; // every bound is in [0.5, 1)
      expect(Math.abs(BOUNDS[j] - exact)).toBeLessThanOrEqual(ulp);
      if (j > 0) expect(BOUNDS[j]).toBeGreaterThan(BOUNDS[j - 1]);
    }
    // Literals of nativeHistogramBounds[6] where Go's value is not the nearest double.
    expect(BOUNDS[6]).toBe(0.5335702003384117);
    expect(BOUNDS[40]).toBe(0.7711054127039705);
    expect(BOUNDS[63]).toBe(0.9892280131939755);
  });

  it('agrees with the Go rule on every bound, the doubles either side of it, and random values', () => {
    const values: number[] = [];
    for (let e = -1070; e <= 1020; e += 7) {
      for (let j = 0; j < 64; j++) {
        const b = BOUNDS[j] * 2 ** e;
        values.push(b, step(b, 1), step(b, -1), step(b, 2), step(b, -2));
      }
    }
    const rand = prng(6);
    for (let i = 0; i < 100_000; i++) values.push((1 + rand()) * 2 ** Math.floor(rand() * 200 - 100));
    values.push(Number.MIN_VALUE, 2 ** -1074 * 3, 2 ** -1022, step(2 ** -1022, -1), Number.MAX_VALUE, 1, 2, 0.5, 1e-9, 1e9);
    let wrong = 0;
    const first: string[] = [];
    for (const v of values) {
      if (bucketIndex(v) !== goIndex(v)) {
        wrong++;
        if (first.length < 5) first.push(`${v}: ${bucketIndex(v)} vs ${goIndex(v)}`);
      }
    }
    expect(first).toEqual([]);
    expect(wrong).toBe(0);
    expect(values.length).toBeGreaterThan(100_000);
  });

  it('keys order values of both signs and zero; +Infinity is the bucket after the largest double', () => {
    expect(bucketIndex(Infinity)).toBe(goIndex(Number.MAX_VALUE) + 1);
    expect(indexOfKey(keyOf(-3))).toBe(goIndex(3));
    expect(keyOf(-3)).toBeLessThan(keyOf(-2));
    expect(keyOf(-2)).toBeLessThan(keyOf(0));
    expect(keyOf(0)).toBe(0);
    expect(keyOf(0)).toBeLessThan(keyOf(Number.MIN_VALUE));
    expect(keyOf(NaN)).toBe(0);
  });

  it('reports every bucket by a value inside it, within the bound of both its edges, asked once or again', () => {
    // Every normal double's bucket, both signs; the Go rule says which bucket a value is in.
    for (let i = -1021 * 64; i <= 1023 * 64; i++) {
      const key = i + keyOf(1); // the key of bucket i (bucket 0 holds 1)
      for (const sign of [1, -1]) {
        const v = valueOf(sign * key);
        if (valueOf(sign * key) !== v) throw new Error(`bucket ${i}: asked again, another value`);
        const magnitude = Math.abs(v);
        if (!Number.isFinite(magnitude)) throw new Error(`bucket ${i}: its value is ${v}`);
        if (goIndex(magnitude) !== i) throw new Error(`bucket ${i}: its value ${v} is in bucket ${goIndex(magnitude)}`);
        // The edges of bucket i, γ^(i-1) and γ^i, computed apart from valueOf.
        const lower = GAMMA ** (i - 1);
        const upper = GAMMA ** i;
        if (Math.abs(magnitude - lower) > RELATIVE_ERROR * lower * (1 + 1e-9) || Math.abs(upper - magnitude) > RELATIVE_ERROR * upper * (1 + 1e-9))
          throw new Error(`bucket ${i}: ${v} is not within the bound of ${lower} and ${upper}`);
        if (Math.sign(v) !== sign) throw new Error(`bucket ${i}: ${v} has the wrong sign`);
      }
    }
  });
});
