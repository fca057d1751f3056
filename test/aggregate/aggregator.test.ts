import { describe, expect, it } from 'vitest';
import { Aggregator, type AggregatorOptions } from '../../src/aggregate/index.js';
import { Catalog, COUNTER, MEASURE, type Metric, SAMPLE, SERIES_LIMIT } from '../../src/model/index.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const catalog = new Catalog();
const latency = catalog.metric('latency_seconds', MEASURE, ['source'], '') as Metric;
const orders = catalog.metric('orders_total', COUNTER, ['source'], '') as Metric;
const depth = catalog.metric('depth', SAMPLE, ['source'], '') as Metric;
const dynoErrors = catalog.fixed('heroku_dyno_errors_total', COUNTER, ['dyno', 'code'], '');

interface Closed {
  name: string;
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
}

function setup(options: Partial<AggregatorOptions> = {}) {
  const agg = new Aggregator(
    { resolution: 1, grace: 2, quantileWindow: 60, maxSeries: 1000, maxSeriesPerApp: 100, seriesTtl: 600, ...options },
    T0,
  );
  const closed: Closed[] = [];
  agg.onClose((c) => {
    const w = c.window;
    closed.push({ name: c.series.metric.name, start: c.start, count: w.count, sum: w.sum, min: w.min, max: w.max, last: w.last });
  });
  const line = (app: string, time: number, fn: () => void) => {
    agg.at(agg.appState(app), time);
    fn();
  };
  return { agg, closed, line };
}

describe('Aggregator windows', () => {
  it('closes a window grace seconds after its end, with exact count, sum, min, max and last', () => {
    const { agg, closed, line } = setup();
    line('a', T0 + 100, () => agg.observe(latency, 'web.1', '', 0.021));
    line('a', T0 + 900, () => agg.observe(latency, 'web.1', '', 0.004));
    line('a', T0 + 500, () => agg.observe(orders, 'web.1', '', 3));
    line('a', T0 + 700, () => agg.observe(depth, 'web.1', '', 7));
    line('a', T0 + 300, () => agg.observe(depth, 'web.1', '', 9)); // earlier timestamp: loses
    agg.advance(T0 + 2999);
    expect(closed).toEqual([]);
    agg.advance(T0 + 3000);
    const start = T0 / 1000;
    expect(closed).toEqual([
      { name: 'latency_seconds', start, count: 2, sum: 0.025, min: 0.004, max: 0.021, last: NaN },
      { name: 'orders_total', start, count: 1, sum: 3, min: Infinity, max: -Infinity, last: NaN },
      { name: 'depth', start, count: 2, sum: 0, min: Infinity, max: -Infinity, last: 7 },
    ]);
  });

  it('counts a line whose window has closed as late: in totals, not in a window', () => {
    const { agg, closed, line } = setup();
    agg.advance(T0 + 10_000);
    line('a', T0 + 500, () => agg.observe(orders, '', '', 5));
    agg.advance(T0 + 20_000);
    expect(closed).toEqual([]);
    expect(agg.apps.get('a')?.late).toBe(1);
    expect([...(agg.apps.get('a')?.each() ?? [])].map((s) => s.count)).toEqual([5]);
  });

  it('takes a timestamp more than 5 minutes ahead as its arrival time', () => {
    const { agg, closed, line } = setup();
    agg.arrival = T0;
    line('a', T0 + 3_600_000, () => agg.observe(orders, '', '', 1));
    agg.advance(T0 + 3000);
    expect(closed.map((c) => c.start)).toEqual([T0 / 1000]);
  });

  it('aligns windows to the epoch at the drain resolution', () => {
    const { agg, closed, line } = setup({ grace: 0 });
    agg.resolution = 10;
    line('a', T0 + 7_000, () => agg.observe(orders, '', '', 1));
    line('a', T0 + 9_999, () => agg.observe(orders, '', '', 1));
    line('a', T0 + 10_000, () => agg.observe(orders, '', '', 1));
    agg.advance(T0 + 20_000);
    expect(closed.map((c) => [c.start - T0 / 1000, c.count])).toEqual([[0, 2], [10, 1]]);
  });

  it('closes every open window at closeAll', () => {
    const { agg, closed, line } = setup();
    line('a', T0 + 100, () => agg.observe(orders, '', '', 1));
    line('a', T0 + 1100, () => agg.observe(orders, '', '', 1));
    agg.closeAll();
    expect(closed).toHaveLength(2);
  });

  it('feeds closed windows into the sliding quantile window, and lets old ones go', () => {
    const { agg, line } = setup({ quantileWindow: 5, grace: 0 });
    // The clock follows the lines, as serve's does (a series holds at most 8 open windows).
    for (let i = 0; i < 20; i++) {
      agg.advance(T0 + i * 1000);
      line('a', T0 + i * 1000, () => agg.observe(latency, '', '', i));
    }
    agg.advance(T0 + 20_000);
    const s = [...(agg.apps.get('a')?.each() ?? [])][0];
    agg.expire(s);
    expect(s.sliding?.count).toBe(5);
    expect(s.sliding?.quantile(0)).toBe(15);
    expect(s.sliding?.quantile(1)).toBe(19);
    expect(s.count).toBe(20);
  });
});

describe('Aggregator with a watermark (tail)', () => {
  it('closes windows by the largest timestamp seen, line by line', () => {
    const { agg, closed, line } = setup({ watermark: true });
    agg.arrival = T0 + 3_600_000;
    line('a', T0 + 100, () => agg.observe(orders, '', '', 1));
    line('a', T0 + 2_500, () => agg.observe(orders, '', '', 1));
    expect(closed).toEqual([]); // T0's window closes at T0 + 3 s
    line('a', T0 + 3_000, () => agg.observe(orders, '', '', 1));
    expect(closed.map((c) => c.start - T0 / 1000)).toEqual([0]);
    line('a', T0 + 900, () => agg.observe(orders, '', '', 5)); // its window has closed: late
    expect(agg.apps.get('a')?.late).toBe(1);
    agg.closeAll();
    expect(closed.map((c) => [c.start - T0 / 1000, c.sum])).toEqual([[0, 1], [2, 1], [3, 1]]);
    expect([...(agg.apps.get('a')?.each() ?? [])][0].count).toBe(8);
  });
});

describe('Aggregator limits', () => {
  it('refuses new series past the per-app limit without touching other apps', () => {
    // An app's own families may hold the limit less the platform's fifth: 10 - 2.
    const { agg, line } = setup({ maxSeriesPerApp: 10 });
    line('greedy', T0, () => {
      for (let i = 0; i < 20; i++) agg.observe(orders, `s${i}`, '', 1);
    });
    line('other', T0, () => agg.observe(orders, 'x', '', 1));
    expect(agg.apps.get('greedy')?.series).toBe(8);
    expect(agg.apps.get('greedy')?.rejected[SERIES_LIMIT]).toBe(12);
    expect(agg.apps.get('other')?.series).toBe(1);
  });

  it("keeps the platform's share of an app's series for its heroku_* families", () => {
    const { agg, line } = setup({ maxSeriesPerApp: 10 });
    line('greedy', T0, () => {
      for (let i = 0; i < 20; i++) agg.observe(orders, `s${i}`, '', 1);
      for (let i = 0; i < 5; i++) agg.observe(dynoErrors, `web.${i}`, 'R14', 1);
    });
    const app = agg.apps.get('greedy');
    expect(app?.series).toBe(8 + 2);
    expect(app?.platformSeries).toBe(2);
    expect(app?.rejected[SERIES_LIMIT]).toBe(12 + 3);
  });

  it('refuses new series past the global limit', () => {
    const { agg, line } = setup({ maxSeries: 2 });
    line('a', T0, () => agg.observe(orders, '1', '', 1));
    line('b', T0, () => agg.observe(orders, '1', '', 1));
    line('c', T0, () => agg.observe(orders, '1', '', 1));
    expect(agg.seriesCount).toBe(2);
    expect(agg.apps.get('c')?.rejected[SERIES_LIMIT]).toBe(1);
  });

  it('drops a series after the TTL without data, and counts it', () => {
    const { agg, line } = setup({ seriesTtl: 60 });
    line('a', T0, () => agg.observe(orders, 'old', '', 1));
    agg.advance(T0 + 30_000);
    line('a', T0 + 30_000, () => agg.observe(orders, 'new', '', 1));
    agg.advance(T0 + 61_000);
    expect(agg.sweep()).toBe(1);
    const a = agg.apps.get('a');
    expect([...(a?.each() ?? [])].map((s) => s.label1)).toEqual(['new']);
    expect(a?.evicted).toBe(1);
    expect(agg.seriesCount).toBe(1);
  });
});
