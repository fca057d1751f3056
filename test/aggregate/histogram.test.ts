import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { valueOf } from '../../src/aggregate/buckets.js';
import { Histogram, RELATIVE_ERROR, SlidingWindow, Window } from '../../src/aggregate/index.js';

/** The exact nearest-rank quantile: the ceil(q·n)-th smallest value (q=0 min, q=1 max). */
function exact(sorted: number[], q: number): number {
  if (q <= 0) return sorted[0];
  if (q >= 1) return sorted[sorted.length - 1];
  return sorted[Math.ceil(q * sorted.length) - 1];
}

/** Within the contract's 1%, and within the scheme's own bound (float slack at bucket edges). */
function within(reported: number, truth: number): boolean {
  const err = Math.abs(reported - truth);
  return err <= 0.01 * Math.abs(truth) && err <= RELATIVE_ERROR * Math.abs(truth) * (1 + 1e-9);
}

const QUANTILES = [0, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1];

// Values as drains carry them: latencies over many decades, signs, zeros, repeats.
const value = fc.oneof(
  fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
  fc.double({ min: -1e6, max: -1e-6, noNaN: true }),
  fc.constantFrom(0, 1, 0.021, 37, 1548, 2 ** 20),
  fc.integer({ min: -1000, max: 100000 }),
);

function histogramOf(values: number[]): Histogram {
  const h = new Histogram();
  for (const v of values) h.add(v);
  return h;
}

describe('Histogram', () => {
  it('reports the documented bound: relative error at most 1% (0.54% by construction)', () => {
    expect(RELATIVE_ERROR).toBeLessThan(0.01);
    expect(RELATIVE_ERROR).toBeCloseTo(0.0054, 4);
  });

  it('puts every quantile within the bound of the exact nearest-rank value', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 400 }), (values) => {
        const h = histogramOf(values);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of QUANTILES) {
          const truth = exact(sorted, q);
          const got = h.quantile(q);
          if (!within(got, truth)) throw new Error(`q=${q}: ${got} is not within ${RELATIVE_ERROR} of ${truth}`);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('keeps count, min and max exact and the sum as added', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 200 }), (values) => {
        const h = histogramOf(values);
        expect(h.count).toBe(values.length);
        expect(h.min).toBe(Math.min(...values));
        expect(h.max).toBe(Math.max(...values));
        expect(h.sum).toBe(values.reduce((a, b) => a + b, 0));
      }),
    );
  });

  it('merges exactly: parts merged equal all values inserted once', () => {
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 60 }), { minLength: 1, maxLength: 6 }), (parts) => {
        const merged = new Histogram();
        for (const p of parts) merged.merge(histogramOf(p));
        const all = histogramOf(parts.flat());
        expect([...merged.keys.subarray(0, merged.n)]).toEqual([...all.keys.subarray(0, all.n)]);
        expect([...merged.counts.subarray(0, merged.n)]).toEqual([...all.counts.subarray(0, all.n)]);
        expect(merged.count).toBe(all.count);
        expect(merged.min).toBe(all.min);
        expect(merged.max).toBe(all.max);
        for (const q of QUANTILES) expect(merged.quantile(q)).toBe(all.quantile(q));
      }),
      { numRuns: 500 },
    );
  });

  it('costs memory by buckets in use, not by the range of values', () => {
    const h = histogramOf([1e-300, 1e300, -1e300, 0]);
    expect(h.n).toBe(4);
    expect(h.bytes()).toBeLessThanOrEqual(4 * 12);
  });

  it('holds at most MAX_BUCKETS buckets whatever it is fed', () => {
    const h = new Histogram();
    for (let i = 0; i < 10000; i++) h.add(1.0001 ** (i * 50));
    expect(h.n).toBe(4096);
    expect(h.count).toBe(10000);
    expect(h.quantile(1)).toBe(h.max);
  });
});

describe('Window', () => {
  it('reports the quantiles of one histogram of its values, inline buckets or spilled', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 60 }), (values) => {
        const w = new Window();
        w.reset(0);
        for (const v of values) w.measure(v);
        const h = histogramOf(values);
        expect(w.count).toBe(values.length);
        for (const q of QUANTILES) expect(w.quantile(q)).toBe(h.quantile(q));
        const sliding = new SlidingWindow();
        w.pushTo(sliding);
        for (const q of QUANTILES) expect(sliding.quantile(q)).toBe(h.quantile(q));
      }),
      { numRuns: 1000 },
    );
  });
});

/**
 * The sliding window's quantiles `qs` equal one histogram's of `values`, and each
 * bucket key it gives is the bucket whose value the quantile is.
 */
function expectQuantiles(sliding: SlidingWindow, qs: readonly number[], values: number[]): void {
  const reference = histogramOf(values);
  const out: number[] = [];
  const keys: number[] = [];
  sliding.quantiles(qs, out, keys);
  expect(out).toEqual(qs.map((q) => reference.quantile(q)));
  qs.forEach((_, k) => keys[k] !== 0 && expect(valueOf(keys[k])).toBe(out[k]));
}

describe('SlidingWindow', () => {
  it('answers quantiles over the windows it holds, exactly as one histogram of their values', () => {
    fc.assert(
      fc.property(fc.array(fc.array(value, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 20 }), fc.nat({ max: 20 }), (windows, keepFrom) => {
        const sliding = new SlidingWindow();
        windows.forEach((w, i) => sliding.push(1000 + i, histogramOf(w)));
        sliding.expire(1000 + keepFrom);
        const kept = windows.slice(keepFrom).flat();
        if (kept.length === 0) {
          expect(sliding.count).toBe(0);
          expect(sliding.quantile(0.5)).toBeNaN();
          return;
        }
        const reference = histogramOf(kept);
        expect(sliding.count).toBe(kept.length);
        for (const q of QUANTILES) expect(sliding.quantile(q)).toBe(reference.quantile(q));
      }),
      { numRuns: 500 },
    );
  });

  it('lists every window it holds as they were pushed, runs of one-value windows included, at any step and expiry', () => {
    // Windows at starts a step apart with gaps, most of one value (what runs pack),
    // some of more, some out of order; expiry at any horizon, between any two pushes.
    const pushed = fc.record({
      gap: fc.oneof(fc.constant(1), fc.constant(1), fc.constant(1), fc.nat({ max: 4 }), fc.constant(-2)),
      values: fc.oneof(fc.array(value, { minLength: 1, maxLength: 1 }), fc.array(value, { minLength: 1, maxLength: 6 })),
      expireBack: fc.option(fc.nat({ max: 30 }), { freq: 3 }),
    });
    fc.assert(
      fc.property(fc.constantFrom(1, 5, 60), fc.array(pushed, { minLength: 1, maxLength: 120, size: 'max' }), (step, steps) => {
        const sliding = new SlidingWindow(null, step);
        let kept: { start: number; values: number[] }[] = [];
        let start = 1_700_000_000;
        for (const p of steps) {
          start += p.gap * step;
          sliding.push(start, histogramOf(p.values));
          kept.push({ start, values: p.values });
          if (p.expireBack !== null) {
            // Windows leave from the head while they started before the horizon.
            const horizon = start - p.expireBack * step + (p.expireBack % 3);
            sliding.expire(horizon);
            while (kept.length > 0 && kept[0].start < horizon) kept = kept.slice(1);
          }
        }
        const listed: { start: number; count: number; min: number; max: number }[] = [];
        sliding.windows((s, count, min, max) => listed.push({ start: s, count, min, max }));
        expect(listed).toEqual(kept.map((w) => ({ start: w.start, count: w.values.length, min: Math.min(...w.values), max: Math.max(...w.values) })));
        const all = kept.flatMap((w) => w.values);
        expect(sliding.count).toBe(all.length);
        if (all.length === 0) return expect(sliding.empty).toBe(true);
        expectQuantiles(sliding, QUANTILES, all);
      }),
      { numRuns: 500 },
    );
  });

  it('answers quantiles over windows of one value each, in any order asked, as one histogram of the values', () => {
    // The path a series seen once a window takes: many values, repeats, runs broken by gaps.
    const repeated = fc.oneof(value, fc.constantFrom(0.5, 0.5, 2, -1, 0, -0));
    fc.assert(
      fc.property(fc.array(repeated, { minLength: 1, maxLength: 300, size: 'max' }), fc.shuffledSubarray(QUANTILES, { minLength: 1 }), (values, qs) => {
        const sliding = new SlidingWindow();
        values.forEach((v, i) => sliding.single(1000 + i + (i % 17 === 0 ? 5 * i : 0), v));
        expectQuantiles(sliding, qs, values);
      }),
      { numRuns: 500 },
    );
  });

  it('answers scrape after scrape as one histogram of the values kept, as windows of one value come and go', () => {
    // Quantiles asked between pushes and expiries: runs broken by gaps, cut by expiry, ties.
    const v = fc.oneof(value, fc.integer({ min: 0, max: 20 }), fc.constantFrom(0.5, 2, -1, 0, -0));
    const scrape = fc.record({
      values: fc.array(v, { minLength: 0, maxLength: 40, size: 'max' }),
      gap: fc.boolean(),
      keep: fc.integer({ min: 1, max: 200 }),
      qs: fc.shuffledSubarray(QUANTILES, { minLength: 1 }),
    });
    fc.assert(
      fc.property(fc.array(scrape, { minLength: 1, maxLength: 30 }), (scrapes) => {
        const sliding = new SlidingWindow();
        let kept: [number, number][] = [];
        let t = 1000;
        for (const sc of scrapes) {
          if (sc.gap) t += 3; // the run breaks: values from several runs are gathered
          for (const x of sc.values) {
            sliding.single(t, x);
            kept.push([t, x]);
            t++;
          }
          sliding.expire(t - sc.keep);
          kept = kept.filter(([start]) => start >= t - sc.keep);
          if (kept.length === 0) expect(sliding.count).toBe(0);
          else expectQuantiles(sliding, sc.qs, kept.map(([, x]) => x));
        }
      }),
      { numRuns: 300, endOnFailure: true },
    );
  });

  it('answers −0 and 0 as one histogram does, whichever came first', () => {
    // Histogram.quantile clamps with Math.min/Math.max, which order −0 below 0.
    for (const values of [[-0, 0], [0, -0], [-0, -0, 0], [0, 0, -0, -0]]) {
      const single = new SlidingWindow();
      values.forEach((v, i) => single.single(1000 + i, v));
      expectQuantiles(single, QUANTILES, values);
      const windows = new SlidingWindow();
      windows.push(1000, histogramOf(values));
      windows.push(1001, histogramOf(values));
      expectQuantiles(windows, QUANTILES, [...values, ...values]);
    }
  });

  it('keeps a window of one value a step after the last in 8 bytes', () => {
    const sliding = new SlidingWindow(null, 10);
    sliding.single(1000, 1);
    const one = sliding.bytes();
    for (let t = 1; t < 600; t++) sliding.single(1000 + t * 10, t);
    // 600 windows: one header and 600 values, grown a quarter at a time.
    expect(sliding.bytes()).toBeLessThanOrEqual(601 * 8 * 1.25 + one);
    expect(sliding.count).toBe(600);
    sliding.expire(1000 + 595 * 10);
    expect(sliding.quantile(0)).toBe(595);
  });

  it('keeps its memory flat as windows come and go', () => {
    const sliding = new SlidingWindow();
    let peak = 0;
    for (let t = 0; t < 5000; t++) {
      sliding.push(t, histogramOf([t % 97, (t * 7) % 1000, 0.5]));
      sliding.expire(t - 60);
      if (t === 1000) peak = sliding.bytes();
    }
    expect(sliding.bytes()).toBeLessThanOrEqual(peak);
    expect(sliding.count).toBe(61 * 3);
  });
});
