// The history in a real PostgreSQL, store by store on an injected clock: three
// receivers write their parts of the same series for two hours; every tier's answer
// (10 s, 1 min, 1 h, chosen by the range and the clock) equals what this test
// computes from the values themselves: counts and sums exact, min and max exact, p99
// within 1% of the nearest-rank value. Then an app's budget, and the queue while the
// database is away (bounded in bytes, drops counted, written when it is back).

import pgLib from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/aggregate/index.js';
import { PostgresStore } from '../../src/history/postgres.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { Budget, Catalog, COUNTER, HISTORY, MEASURE, type Metric, SAMPLE } from '../../src/model/index.js';
import { History } from '../../src/outlets/history/index.js';
import { nearestRank } from '../helpers.js';
import { type Postgres, postgresInstalled, startPostgres } from '../support/postgres.js';

const available = postgresInstalled();
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0); // an hour boundary
const HOURS = 2;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const catalog = new Catalog();
const latency = catalog.metric('latency_seconds', MEASURE, ['source'], '') as Metric;
const orders = catalog.metric('orders_total', COUNTER, ['source'], '') as Metric;
const depth = catalog.metric('depth', SAMPLE, ['source'], '') as Metric;

let seed = 7;
const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

interface Answer {
  tier: string;
  step: number;
  total: number;
  series: { metric: string; labels: Record<string, string>; step: number; start: number; [field: string]: unknown }[];
  releases: { app: string; t: number; text: string }[];
}

function receiver(url: string, instance: string, now: number, o: { seriesPerApp?: number; queueBytes?: number; log?: Logger } = {}) {
  const store = new PostgresStore({ url, instance, seriesPerApp: o.seriesPerApp ?? 100, queueBytes: o.queueBytes ?? 1 << 24, log: o.log ?? silentLogger, now: () => now });
  const agg = new Aggregator({ resolution: 1, grace: 2, quantileWindow: 60, maxSeries: 10_000, maxSeriesPerApp: 10_000, seriesTtl: 3600 }, T0);
  const history = new History(agg, new Budget(HISTORY, 1 << 26, 1 << 26));
  history.store = store;
  return { store, agg, history };
}

async function read(url: string, now: number, from: number, to: number, metric?: string): Promise<Answer> {
  const store = new PostgresStore({ url, instance: 'reader', seriesPerApp: 100, queueBytes: 1 << 20, log: silentLogger, now: () => now });
  try {
    return JSON.parse(await store.read({ scope: 'shop', metric, from: from / 1000, to: to / 1000, limit: 30 })) as Answer;
  } finally {
    await store.stop(Date.now() + 5000);
  }
}

describe.runIf(available)('history in PostgreSQL', () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(() => pg?.remove());

  // Every value by series, with its time (ms), to compute each step independently.
  const lat = new Map<string, [number, number][]>();
  const ord = new Map<string, [number, number][]>();
  const dep = new Map<string, [number, number][]>();

  it('rolls three receivers up into 1 min and 1 h steps that equal the lines', async () => {
    const rs = ['web-a', 'web-b', 'web-c'].map((name) => receiver(pg.url, name, T0 + HOURS * HOUR));
    let turn = 0;
    for (let ms = 0; ms < HOURS * HOUR; ms += 1000) {
      for (const source of ['web.1', 'web.2']) {
        // The same series, its lines spread over the receivers (as Heroku's router spreads a drain).
        const r = rs[turn++ % 3];
        const t = T0 + ms + 100;
        r.agg.arrival = t;
        r.agg.at(r.agg.appState('shop'), t);
        const v = Math.round(Math.exp(rand() * 9)) / 1000;
        const n = 1 + Math.floor(rand() * 5);
        const d = Math.floor(rand() * 100);
        r.agg.observe(latency, source, '', v);
        r.agg.observe(orders, source, '', n);
        r.agg.observe(depth, source, '', d);
        lat.set(source, [...(lat.get(source) ?? []), [t, v]]);
        ord.set(source, [...(ord.get(source) ?? []), [t, n]]);
        dep.set(source, [...(dep.get(source) ?? []), [t, d]]);
      }
      if (ms % 10_000 === 0) for (const r of rs) r.agg.advance(T0 + ms);
    }
    for (const r of rs) {
      r.agg.advance(T0 + HOURS * HOUR + 5000);
      r.agg.closeAll();
    }
    await Promise.all(rs.map((r) => r.store.stop(Date.now() + 60_000)));
    for (const r of rs) expect(r.store.stats).toMatchObject({ dropped: 0, refused: 0 });

    const from = T0;
    const to = T0 + HOURS * HOUR;
    // The clock picks the tier: today's range is 10 s steps, two days later minutes, ten days later hours.
    for (const [now, tier, step] of [
      [to + 60_000, '10s', 10],
      [to + 2 * DAY, '1m', 60],
      [to + 10 * DAY, '1h', 3600],
    ] as const) {
      const a = await read(pg.url, now, from, to);
      expect(a.tier).toBe(tier);
      expect(a.total).toBe(6);
      for (const source of ['web.1', 'web.2']) {
        const steps = (to - from) / 1000 / step;
        const bucket = <T>(list: [number, T][]) => {
          const by: T[][] = Array.from({ length: steps }, () => []);
          for (const [t, v] of list) by[Math.floor((t - from) / 1000 / step)].push(v);
          return by;
        };
        const m = a.series.find((s) => s.metric === 'latency_seconds' && s.labels.source === source) as Record<string, number[]>;
        expect(m.step).toBe(step);
        expect(m.start).toBe(from / 1000);
        bucket(lat.get(source) ?? []).forEach((values, i) => {
          expect(m.count[i]).toBe(values.length);
          expect(m.sum[i]).toBeCloseTo(values.reduce((x, y) => x + y, 0), 9);
          expect(m.min[i]).toBe(Math.min(...values));
          expect(m.max[i]).toBe(Math.max(...values));
          const exact = nearestRank(values, 0.99);
          expect(Math.abs(m.p99[i] - exact) / exact, `p99 of step ${i}`).toBeLessThanOrEqual(0.01);
        });
        const c = a.series.find((s) => s.metric === 'orders_total' && s.labels.source === source) as Record<string, number[]>;
        expect(c.sum).toEqual(bucket(ord.get(source) ?? []).map((v) => v.reduce((x, y) => x + y, 0)));
        const g = a.series.find((s) => s.metric === 'depth' && s.labels.source === source) as Record<string, number[]>;
        expect(g.last).toEqual(bucket(dep.get(source) ?? []).map((v) => v[v.length - 1]));
      }
    }
  }, 240_000);

  it("keeps each app's history to its own series budget", async () => {
    const r = receiver(pg.url, 'web-budget', T0 + HOURS * HOUR, { seriesPerApp: 5 });
    const t = T0 + 100;
    r.agg.arrival = t;
    for (const [app, n] of [['greedy', 40], ['calm', 3]] as const) {
      r.agg.at(r.agg.appState(app), t);
      for (let i = 0; i < n; i++) r.agg.observe(orders, `web.${i}`, '', 1);
    }
    r.agg.advance(T0 + 60_000);
    await r.store.stop(Date.now() + 30_000);
    expect(r.store.stats.refused).toBe(35);
    const store = new PostgresStore({ url: pg.url, instance: 'reader', seriesPerApp: 5, queueBytes: 1 << 20, log: silentLogger, now: () => T0 + HOUR });
    const greedy = JSON.parse(await store.read({ scope: 'greedy', from: T0 / 1000, to: T0 / 1000 + 60, limit: 100 })) as Answer;
    const calm = JSON.parse(await store.read({ scope: 'calm', from: T0 / 1000, to: T0 / 1000 + 60, limit: 100 })) as Answer;
    await store.stop(Date.now() + 5000);
    expect(greedy.total).toBe(5);
    expect(calm.total).toBe(3);
    expect(calm.series.map((s) => (s.sum as number[])[0])).toEqual([1, 1, 1]);
  }, 60_000);

  it('gives a series back to its budget once no tier holds a step of it, and only then', async () => {
    const db = new pgLib.Client({ connectionString: pg.url });
    await db.connect();
    /** `n` series of app churn (budget 4), `count#orders=1 source=PREFIX.i` each, at `at`, written. */
    const counted = async (at: number, prefix: string, n: number) => {
      const r = receiver(pg.url, 'web-churn', at + HOUR, { seriesPerApp: 4 });
      r.agg.arrival = at + 100;
      r.agg.at(r.agg.appState('churn'), at + 100);
      for (let i = 0; i < n; i++) r.agg.observe(orders, `${prefix}.${i}`, '', 1);
      r.agg.advance(at + 60_000);
      await r.store.stop(Date.now() + 30_000);
      return r;
    };
    const rows = async (app: string) => Number((await db.query('SELECT count(*) AS n FROM drainmeter_series WHERE app = $1', [app])).rows[0].n);
    try {
      // Four series of an app whose budget is 4, at T0: the fifth is refused.
      const r = await counted(T0, 'old', 5);
      expect(r.store.stats.refused).toBe(1);
      expect(await rows('churn')).toBe(4);
      // A series registered a minute ago, with no step yet, is not retention's.
      await db.query("INSERT INTO drainmeter_series (app, metric, kind, labels, seen) VALUES ('fresh', 'orders_total', $1, '{}', $2)", [COUNTER, Math.floor((T0 + 410 * DAY) / 1000) - 60]);
      // 30 days on: the 10 s and 1 min steps are gone, the hour's remains: kept.
      const month = receiver(pg.url, 'web-churn', T0 + 30 * DAY);
      await month.store.stop(Date.now() + 30_000);
      expect(await rows('churn')).toBe(4);
      // 410 days on (past 13 months of 31 days): no step is left, the series goes, and the budget is free again.
      const year = receiver(pg.url, 'web-churn', T0 + 410 * DAY);
      await year.store.stop(Date.now() + 30_000);
      expect(await rows('churn')).toBe(0);
      const later = await counted(T0 + 410 * DAY, 'new', 4);
      expect(later.store.stats.refused).toBe(0);
      const labels = (await db.query<{ labels: string }>("SELECT labels FROM drainmeter_series WHERE app = 'churn' ORDER BY labels")).rows.map((x) => x.labels);
      expect(labels.every((l) => l.includes('new.'))).toBe(true);
      expect(labels).toHaveLength(4);
      expect(await rows('fresh')).toBe(1);
    } finally {
      await db.end();
    }
  }, 120_000);

  it('queues steps while the database is away, drops the oldest past its bytes, and writes the rest when it is back', async () => {
    const lines: string[] = [];
    const log: Logger = { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
    const base = T0 + 5 * HOUR;
    const r = receiver(pg.url, 'web-outage', base + HOUR, { queueBytes: 65_536, seriesPerApp: 1000, log });
    const step = (k: number, series: number) => {
      const t = base + k * 10_000 + 100;
      r.agg.arrival = t;
      r.agg.at(r.agg.appState('outage'), t);
      for (let i = 0; i < series; i++) r.agg.observe(orders, `web.${i}`, '', k);
      r.agg.advance(t + 12_000);
    };
    step(0, 10);
    await until(() => r.store.stats.written === 10);
    pg.stop();
    // 200 series a step: each step's batch is ~20 kB of the 64 kB queue.
    const started = performance.now();
    for (let k = 1; k <= 8; k++) step(k, 200);
    // Handing steps over never waits for the database.
    expect(performance.now() - started).toBeLessThan(5_000);
    await until(() => !r.store.stats.up);
    expect(r.store.stats.queueBytes).toBeLessThanOrEqual(65_536);
    expect(r.store.stats.dropped).toBeGreaterThan(0);
    expect(r.store.stats.dropped % 200).toBe(0);
    pg.start();
    step(9, 200);
    await until(() => r.store.stats.up && r.store.stats.queueBytes === 0, 30_000);
    await r.store.stop(Date.now() + 10_000);
    expect(lines).toContain('warn history database away, steps wait in memory');
    expect(lines).toContain('info history database back');
    const store = new PostgresStore({ url: pg.url, instance: 'reader', seriesPerApp: 1000, queueBytes: 1 << 20, log: silentLogger, now: () => base + HOUR });
    const a = JSON.parse(await store.read({ scope: 'outage', metric: 'orders_total', from: base / 1000, to: base / 1000 + 100, limit: 1000 })) as Answer;
    await store.stop(Date.now() + 5000);
    const written = a.series.reduce((n, s) => n + (s.sum as (number | null)[]).filter((v) => v !== null).length, 0);
    // Everything but what was dropped: 10 + 9 × 200 steps.
    expect(written).toBe(10 + 9 * 200 - r.store.stats.dropped);
  }, 120_000);
});

describe.runIf(available)('history in PostgreSQL: one receiver and several give one answer', () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(() => pg?.remove());

  it("reads one receiver's rows as it reads receivers' rows merged", async () => {
    // The same values twice: every line of `solo` to one receiver (a step is one row,
    // its stored buckets read as they are), every line of `split` spread over two (a
    // step is two rows, their buckets merged). Every field must agree.
    const rs = ['only', 'half-a', 'half-b'].map((name) => receiver(pg.url, name, T0 + HOUR));
    for (let ms = 0; ms < HOUR; ms += 1000) {
      for (let k = 0; k < 3; k++) {
        const t = T0 + ms + 100 + k;
        const v = Math.round(Math.exp(rand() * 9)) / 1000;
        for (const [r, source] of [[rs[0], 'solo'], [rs[1 + ((ms / 1000 + k) % 2)], 'split']] as const) {
          r.agg.arrival = t;
          r.agg.at(r.agg.appState('shop'), t);
          r.agg.observe(latency, source, '', v);
        }
      }
      if (ms % 10_000 === 0) for (const r of rs) r.agg.advance(T0 + ms);
    }
    for (const r of rs) {
      r.agg.advance(T0 + HOUR + 5000);
      r.agg.closeAll();
    }
    await Promise.all(rs.map((r) => r.store.stop(Date.now() + 60_000)));
    for (const [now, tier] of [
      [T0 + HOUR + 60_000, '10s'],
      [T0 + HOUR + 2 * DAY, '1m'],
      [T0 + HOUR + 10 * DAY, '1h'],
    ] as const) {
      const a = await read(pg.url, now, T0, T0 + HOUR, 'latency_seconds');
      expect(a.tier).toBe(tier);
      const solo = a.series.find((s) => s.labels.source === 'solo') as Record<string, number[]>;
      const split = a.series.find((s) => s.labels.source === 'split') as Record<string, number[]>;
      expect(solo.count.length).toBe(HOUR / 1000 / (tier === '10s' ? 10 : tier === '1m' ? 60 : 3600));
      for (const field of ['count', 'p50', 'p95', 'p99', 'min', 'max']) expect(split[field], `${tier} ${field}`).toEqual(solo[field]);
      solo.sum.forEach((v, i) => expect(split.sum[i]).toBeCloseTo(v, 9));
      // Not vacuous: the quantiles move from step to step.
      if (tier !== '1h') expect(new Set(solo.p99).size).toBeGreaterThan(1);
    }
  }, 240_000);
});

async function until(done: () => boolean, ms = 20_000): Promise<void> {
  for (let waited = 0; !done() && waited < ms; waited += 50) await new Promise((r) => setTimeout(r, 50));
  expect(done()).toBe(true);
}
