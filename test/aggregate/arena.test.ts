// Sliding windows sharing one arena (arena.ts) answer what each would alone: regions
// never overlap, growth and reuse of freed regions keep every window's records, and
// a renewal moves them all intact into fresh slabs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Arena, classOf } from '../../src/aggregate/arena.js';
import { Histogram, SlidingWindow } from '../../src/aggregate/index.js';

const QUANTILES = [0, 0.25, 0.5, 0.9, 0.99, 1];

function histogramOf(values: readonly number[]): Histogram {
  const h = new Histogram();
  for (const v of values) h.add(v);
  return h;
}

describe('Arena', () => {
  it('keeps every sliding window its own as they grow, expire, go and are renewed', () => {
    const step = fc.record({
      series: fc.nat({ max: 11 }),
      values: fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }),
      expire: fc.boolean(),
      drop: fc.boolean(),
      renew: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 300 }), (steps) => {
        const arena = new Arena();
        const windows: (SlidingWindow | null)[] = Array.from({ length: 12 }, () => null);
        // The reference: each series' windows as [start, values].
        const kept: [number, number[]][][] = Array.from({ length: 12 }, () => []);
        steps.forEach((st, t) => {
          let w = windows[st.series];
          if (w === null) w = windows[st.series] = new SlidingWindow(arena);
          w.push(t, histogramOf(st.values));
          kept[st.series].push([t, st.values]);
          if (st.expire) {
            w.expire(t - 5);
            kept[st.series] = kept[st.series].filter(([start]) => start >= t - 5);
          }
          if (st.drop && t % 7 === 0) {
            const gone = windows[(st.series + 3) % 12];
            gone?.release();
            windows[(st.series + 3) % 12] = null;
            kept[(st.series + 3) % 12] = [];
          }
          if (st.renew && t % 11 === 0) {
            arena.renew();
            for (const x of windows) x?.move();
          }
        });
        windows.forEach((w, i) => {
          const values = kept[i].flatMap(([, v]) => v);
          if (w === null || values.length === 0) return;
          const reference = histogramOf(values);
          expect(w.count).toBe(values.length);
          for (const q of QUANTILES) expect(w.quantile(q)).toBe(reference.quantile(q));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('sizes regions in classes a quarter apart, and renews when more is free than used', () => {
    expect(classOf(8)).toBe(0);
    expect(classOf(9)).toBe(1);
    expect(classOf(1 << 30)).toBe(-1);
    const arena = new Arena();
    const many = Array.from({ length: 4000 }, () => new SlidingWindow(arena));
    // Every window grows together, through every class: each leaves the smaller ones free.
    for (let t = 0; t < 60; t++) for (const w of many) w.single(t, t);
    expect(arena.sparse).toBe(true);
    const before = arena.bytes;
    arena.renew();
    for (const w of many) w.move();
    expect(arena.sparse).toBe(false);
    expect(arena.bytes).toBeLessThanOrEqual(before / 2);
    for (const w of many) expect(w.count).toBe(60);
    expect(many[123].quantile(1)).toBe(59);
  });
});
