// The dashboard's history on an injected clock: a step's point is the merge of its
// windows (count exact, quantiles within 1% of the exact nearest rank of the values),
// a counter's sum, a sample's newest value; steps without windows are gaps; `since`
// returns only newer points; a series past its app's history budget has no ring, and
// a swept series gives its bytes back.

import { describe, expect, it } from 'vitest';
import { Aggregator, Histogram } from '../../src/aggregate/index.js';
import { Budget, Catalog, COUNTER, HISTORY, MEASURE, type Metric, SAMPLE } from '../../src/model/index.js';
import { History, HISTORY_LIMIT, HISTORY_STEP } from '../../src/outlets/history/index.js';
import { nearestRank } from '../helpers.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0); // a step boundary
const catalog = new Catalog();
const latency = catalog.metric('latency_seconds', MEASURE, ['source'], '') as Metric;
const orders = catalog.metric('orders_total', COUNTER, ['source'], '') as Metric;
const depth = catalog.metric('depth', SAMPLE, ['source'], '') as Metric;
const handled = catalog.metric('handled_seconds', MEASURE, ['dyno', 'route'], '') as Metric;

interface Read {
  through: number;
  total: number;
  series: { metric: string; labels: Record<string, string>; start: number; step: number; count?: (number | null)[]; p50?: (number | null)[]; p95?: (number | null)[]; p99?: (number | null)[]; sum?: (number | null)[]; last?: (number | null)[] }[];
}

function setup(budget = new Budget(HISTORY, 1 << 20, 1 << 20)) {
  const agg = new Aggregator({ resolution: 1, grace: 2, quantileWindow: 60, maxSeries: 1000, maxSeriesPerApp: 100, seriesTtl: 30 }, T0);
  const history = new History(agg, budget);
  const at = (ms: number, f: () => void) => {
    agg.at(agg.appState('shop'), T0 + ms);
    f();
  };
  const read = async (q: Partial<Parameters<History['read']>[0]> = {}) => JSON.parse(await history.read({ scope: null, ...q })) as Read;
  return { agg, history, at, read };
}


describe('the dashboard history', () => {
  it('makes one point a step from its windows merged, with gaps for steps without any', async () => {
    const { agg, at, read } = setup();
    // Step 0: 30 latencies over three windows, 6 orders, depths 1..3 (the newest by time wins).
    const values = Array.from({ length: 30 }, (_, i) => ((i * 7) % 30) + 1);
    values.forEach((v, i) => at((i % 3) * 1000 + i, () => agg.observe(latency, 'web.1', '', v / 1000)));
    at(100, () => agg.observe(orders, 'web.1', '', 4));
    at(5100, () => agg.observe(orders, 'web.1', '', 2));
    at(900, () => agg.observe(depth, 'web.1', '', 3));
    at(200, () => agg.observe(depth, 'web.1', '', 1));
    // Step 2 (20 s): one latency; step 1 has nothing.
    at(2 * HISTORY_STEP * 1000 + 10, () => agg.observe(latency, 'web.1', '', 0.5));
    // The point of step 0 waits for its last window to close: its end plus grace.
    agg.advance(T0 + (HISTORY_STEP + 2) * 1000 - 1);
    expect((await read()).series).toEqual([]);
    agg.advance(T0 + (3 * HISTORY_STEP + 2) * 1000);
    const r = await read();
    const byName = new Map(r.series.map((s) => [s.metric, s]));
    const l = byName.get('latency_seconds');
    expect(l).toMatchObject({ labels: { source: 'web.1' }, step: HISTORY_STEP, start: T0 / 1000, count: [30, null, 1] });
    [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]].forEach(([key, q]) => {
      const exact = nearestRank(values, q as number) / 1000;
      const got = (l as unknown as Record<string, number[]>)[key as string][0];
      expect(Math.abs(got - exact) / exact, `${key}: ${got} vs ${exact}`).toBeLessThanOrEqual(0.01);
    });
    expect(l?.p99?.[1]).toBeNull();
    expect(Math.abs((l?.p99?.[2] as number) - 0.5) / 0.5).toBeLessThanOrEqual(0.01);
    expect(byName.get('orders_total')).toMatchObject({ start: T0 / 1000, sum: [6] });
    expect(byName.get('depth')).toMatchObject({ start: T0 / 1000, last: [3] });
    // A poll for what is new: only the points from `since` on.
    const newer = await read({ metric: 'latency_seconds', since: T0 / 1000 + 1 });
    expect(newer.series).toMatchObject([{ start: T0 / 1000 + HISTORY_STEP, count: [null, 1] }]);
    expect((await read({ app: 'blog' })).series).toEqual([]);
  });

  it("gives a busy step the quantiles of one histogram of all its values, step after step", async () => {
    const { agg, at, read } = setup();
    let seed = 3;
    const all: number[][] = [[], [], []];
    // Three steps of ten windows, 300 latencies a window over three decades: every
    // window holds far more than its four inline buckets, and windows share few.
    for (let step = 0; step < 3; step++) {
      for (let i = 0; i < 3000; i++) {
        seed = (seed * 16807) % 2147483647;
        const v = 0.001 * 1000 ** (seed / 2147483647);
        all[step].push(v);
        const ms = step * HISTORY_STEP * 1000 + Math.floor(i / 300) * 1000 + (i % 300);
        agg.advance(T0 + ms);
        at(ms, () => agg.observe(latency, 'web.2', '', v));
      }
    }
    agg.advance(T0 + (3 * HISTORY_STEP + 2) * 1000);
    const l = (await read({ metric: 'latency_seconds' })).series[0] as unknown as Record<string, number[]>;
    for (let step = 0; step < 3; step++) {
      const h = new Histogram();
      for (const v of all[step]) h.add(v);
      expect(l.count[step]).toBe(3000);
      // The histogram's bucket, as a Float32 point written with seven digits
      // (neighbouring buckets are 1.1% apart).
      for (const [key, q] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const) {
        const want = h.quantile(q);
        expect(Math.abs(l[key][step] - want) / want, `${key} of step ${step}: ${l[key][step]} vs ${want}`).toBeLessThan(1e-6);
      }
    }
  });

  it('answers the busiest series first, as many as asked (30 unless told), and how many matched', async () => {
    const { agg, at, read } = setup();
    // 40 counters, web.k counting k + 1 in step 0 and once more in step 1; depth on
    // web.a in both steps, on web.b in one (a sample's traffic is its points).
    for (let k = 0; k < 40; k++) {
      at(100, () => agg.observe(orders, `web.${k}`, '', k + 1));
      at(HISTORY_STEP * 1000 + 100, () => agg.observe(orders, `web.${k}`, '', 1));
    }
    at(100, () => agg.observe(depth, 'web.b', '', 5));
    at(200, () => agg.observe(depth, 'web.a', '', 5));
    at(HISTORY_STEP * 1000 + 200, () => agg.observe(depth, 'web.a', '', 6));
    agg.advance(T0 + (2 * HISTORY_STEP + 2) * 1000);
    const all = await read({ metric: 'orders_total' });
    expect(all.total).toBe(40);
    expect(all.series.map((s) => s.labels.source)).toEqual(Array.from({ length: HISTORY_LIMIT }, (_, i) => `web.${39 - i}`));
    expect((await read({ metric: 'orders_total', limit: 3 })).series.map((s) => [s.labels.source, s.sum])).toEqual([
      ['web.39', [40, 1]],
      ['web.38', [39, 1]],
      ['web.37', [38, 1]],
    ]);
    // A poll picks the same series (traffic over the ring), with the new points only.
    expect((await read({ metric: 'orders_total', limit: 2, since: T0 / 1000 + 1 })).series.map((s) => [s.labels.source, s.sum])).toEqual([
      ['web.39', [1]],
      ['web.38', [1]],
    ]);
    expect((await read({ metric: 'depth' })).series.map((s) => s.labels.source)).toEqual(['web.a', 'web.b']);
  });

  it('keeps no ring for a series past its app\'s budget, and gives a swept series\' bytes back', async () => {
    // Room for one counter ring (90 Float32 points and the overhead), not two.
    const budget = new Budget(HISTORY, 1000, 1000);
    const { agg, history, at, read } = setup(budget);
    at(100, () => agg.observe(orders, 'web.1', '', 1));
    at(100, () => agg.observe(orders, 'web.2', '', 1));
    agg.advance(T0 + (HISTORY_STEP + 2) * 1000);
    expect((await read()).series.map((s) => s.labels.source)).toEqual(['web.1']);
    expect(budget.used).toBeGreaterThan(0);
    agg.advance(T0 + 100_000);
    agg.sweep();
    history.sweep();
    expect(budget.used).toBe(0);
    expect((await read()).series).toEqual([]);
  });

  it('merges series exactly: all of them, or one line per value of a label; sums samples held for their cadence; searches labels', async () => {
    const { agg, at, read } = setup();
    // Two dynos × two routes; the p99 of each merge is the nearest-rank p99 of the union of its series' values.
    const values = new Map<string, number[]>();
    let i = 0;
    for (const dyno of ['web.1', 'web.2']) {
      for (const route of ['/a', '/b']) {
        const list = Array.from({ length: 50 }, (_, k) => ((k * 13 + i * 7) % 50) + 1 + (dyno === 'web.2' && route === '/b' ? 400 : 0));
        values.set(`${dyno} ${route}`, list);
        list.forEach((v, k) => at(k * 10, () => agg.observe(handled, dyno, route, v / 1000)));
        i++;
      }
    }
    // depth every 20 s from web.a, every 10 s from web.b: the sum holds web.a's value through its off steps.
    for (let step = 0; step < 6; step++) {
      if (step % 2 === 0) at(step * HISTORY_STEP * 1000 + 100, () => agg.observe(depth, 'web.a', '', 10));
      at(step * HISTORY_STEP * 1000 + 200, () => agg.observe(depth, 'web.b', '', 1));
    }
    agg.advance(T0 + (6 * HISTORY_STEP + 2) * 1000);
    const union = (pick: (key: string) => boolean) => [...values].filter(([k]) => pick(k)).flatMap(([, v]) => v.map((x) => x / 1000));
    const near = (got: number, want: number) => expect(Math.abs(got - want) / want, `${got} vs ${want}`).toBeLessThanOrEqual(0.01);
    const all = (await read({ metric: 'handled_seconds', group: '' })).series;
    expect(all).toHaveLength(1);
    expect(all[0].labels).toEqual({});
    near(all[0].p99?.[0] as number, nearestRank(union(() => true), 0.99));
    expect(all[0].count?.[0]).toBe(200);
    const byDyno = (await read({ metric: 'handled_seconds', group: 'dyno' })).series;
    expect(byDyno.map((s) => s.labels.dyno).sort()).toEqual(['web.1', 'web.2']);
    for (const s of byDyno) near(s.p99?.[0] as number, nearestRank(union((k) => k.startsWith(s.labels.dyno + ' ')), 0.99));
    const byRoute = (await read({ metric: 'handled_seconds', group: 'route' })).series;
    for (const s of byRoute) near(s.p50?.[0] as number, nearestRank(union((k) => k.endsWith(' ' + s.labels.route)), 0.5));
    const depths = (await read({ metric: 'depth', group: '' })).series;
    expect(depths).toMatchObject([{ labels: {}, last: [11, 11, 11, 11, 11, 11] }]);
    // The search: the series whose `k=v` text holds the text, any case.
    const found = (await read({ metric: 'handled_seconds', search: 'ROUTE=/B' })).series.map((s) => s.labels);
    expect(found.sort((a, b) => (a.dyno < b.dyno ? -1 : 1))).toEqual([
      { dyno: 'web.1', route: '/b' },
      { dyno: 'web.2', route: '/b' },
    ]);
    expect((await read({ metric: 'handled_seconds', search: 'nothing' })).total).toBe(0);
  });
});
