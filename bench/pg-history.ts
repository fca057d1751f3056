// The history in a real PostgreSQL (src/history/postgres.ts), in a process of its own
// (run.ts forks it), on a cluster started for the run (fixtures/postgres.ts):
//
//   clients   the two Node clients writing one step of 1,000 series' rows (a third
//             measures with ~40 buckets each) by the store's INSERT … FROM unnest(…):
//             `pg` (node-postgres) and `postgres` (porsager), rounds interleaved.
//   write     an hour of 1,000 series (334 measures at 10 values/s, 333 counters, 333
//             samples) through the aggregator and the ring, with and without the store:
//             the ring's CPU per step either way, and the time from a step's flush to its
//             rows written (with the minute's roll-up when one closes).
//   storage   that hour's real rows copied, shifted in time, into a simulated week
//             (10 s steps for the 24 h the tier keeps, 1 min and 1 h steps for 7 days),
//             then pg_total_relation_size of each tier (indexes and TOAST included).
//   chart     the dashboard's reads of 30 series over that week: 7 days (1 h steps),
//             24 h (1 min steps), 6 h (10 s steps).

import { performance } from 'node:perf_hooks';
import pg from 'pg';
import postgres from 'postgres';
import { prng } from '../fixtures/corpus.js';
import { startPostgres } from '../fixtures/postgres.js';
import { Aggregator } from '../src/aggregate/index.js';
import { PostgresStore } from '../src/history/postgres.js';
import { stepTable } from '../src/history/schema.js';
import { TIERS } from '../src/history/store.js';
import { silentLogger } from '../src/log.js';
import { Budget, Catalog, COUNTER, HISTORY, KIND_NAMES, MEASURE, type Metric, SAMPLE } from '../src/model/index.js';
import { History } from '../src/outlets/history/index.js';
import { median } from './lib.js';

const T0 = Date.UTC(2026, 10, 22, 0, 0, 0);
const SERIES = 1000;
const HOUR = 3600;

function simulate(store: PostgresStore | null) {
  const catalog = new Catalog();
  const agg = new Aggregator({ resolution: 1, grace: 2, quantileWindow: 60, maxSeries: 10_000, maxSeriesPerApp: 10_000, seriesTtl: 7200 }, T0);
  const history = new History(agg, new Budget(HISTORY, 2 ** 40, 2 ** 40));
  history.store = store;
  const latency = catalog.metric('request_seconds', MEASURE, ['source'], '') as Metric;
  const orders = catalog.metric('orders_total', COUNTER, ['source'], '') as Metric;
  const depth = catalog.metric('queue_depth', SAMPLE, ['source'], '') as Metric;
  const app = agg.appState('bench');
  const rand = prng(5);
  const kinds = Array.from({ length: SERIES }, (_, i) => (i % 3 === 0 ? latency : i % 3 === 1 ? orders : depth));
  const labels = Array.from({ length: SERIES }, (_, i) => `web.${i}`);
  return { agg, app, rand, kinds, labels, history };
}

/** One second of the simulated hour: 10 values a measure series, one a counter or sample. */
function second(s: ReturnType<typeof simulate>, sec: number): void {
  const t = T0 + sec * 1000;
  s.agg.arrival = t + 500;
  s.agg.at(s.app, t + 500);
  for (let i = 0; i < SERIES; i++) {
    const m = s.kinds[i];
    if (m.kind === MEASURE) for (let k = 0; k < 10; k++) s.agg.observe(m, s.labels[i], '', 0.005 * Math.exp(s.rand() * 4));
    else s.agg.observe(m, s.labels[i], '', Math.floor(s.rand() * 20));
  }
}

async function clients(url: string, rounds: number) {
  const rand = prng(3);
  const rows = Array.from({ length: SERIES }, (_, i) => {
    const measure = i % 3 === 0;
    const keys = measure ? Array.from({ length: 40 }, (_, k) => 1_048_000 + k * 3) : null;
    return {
      s: i + 1,
      c: measure ? 100 : null,
      su: measure ? rand() * 10 : i % 3 === 1 ? 7 : null,
      mn: measure ? 0.005 : null,
      mx: measure ? 0.27 : null,
      l: i % 3 === 2 ? 12 : null,
      lt: i % 3 === 2 ? T0 : null,
      k: keys === null ? null : `{${keys.join(',')}}`,
      n: keys === null ? null : `{${keys.map(() => 2 + Math.floor(rand() * 3)).join(',')}}`,
    };
  });
  const sql = (table: string) => `INSERT INTO ${table} (series, t, receiver, count, sum, min, max, last, last_t, keys, counts)
    SELECT s, t, 1, c, su, mn, mx, l, lt, k::integer[], n::integer[]
    FROM unnest($1::integer[], $2::integer[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::text[])
      AS u(s, t, c, su, mn, mx, l, lt, k, n) ON CONFLICT DO NOTHING`;
  const params = (t: number) => [rows.map((r) => r.s), rows.map(() => t), rows.map((r) => r.c), rows.map((r) => r.su), rows.map((r) => r.mn), rows.map((r) => r.mx), rows.map((r) => r.l), rows.map((r) => r.lt), rows.map((r) => r.k), rows.map((r) => r.n)];
  const node = new pg.Pool({ connectionString: url, max: 1 });
  const porsager = postgres(url, { max: 1, onnotice: () => {} });
  for (const table of ['bench_pg', 'bench_porsager']) await node.query(`CREATE TABLE ${table} (LIKE ${stepTable(TIERS[0])} INCLUDING ALL)`);
  const times: Record<string, number[]> = { pg: [], postgres: [] };
  let t = 0;
  for (let r = 0; r < rounds + 2; r++) {
    t += 10;
    let start = performance.now();
    await node.query(sql('bench_pg'), params(t));
    const a = performance.now() - start;
    start = performance.now();
    await porsager.unsafe(sql('bench_porsager'), params(t) as never[]);
    const b = performance.now() - start;
    // The first two rounds warm both up (connections, plans).
    if (r >= 2) {
      times.pg.push(a);
      times.postgres.push(b);
    }
  }
  await node.end();
  await porsager.end();
  return { pg: median(times.pg), postgres: median(times.postgres), rounds };
}

async function main() {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  const db = await startPostgres();
  try {
    const out: Record<string, unknown> = {};
    // Write: the hour without a store (the ring alone), then with it.
    const bare = simulate(null);
    let ringMs = 0;
    for (let sec = 0; sec < HOUR + 15; sec++) {
      if (sec < HOUR) second(bare, sec);
      const start = performance.now();
      bare.agg.advance(T0 + sec * 1000);
      ringMs += performance.now() - start;
    }
    const store = new PostgresStore({ url: db.url, instance: 'bench', seriesPerApp: SERIES, queueBytes: 1 << 28, log: silentLogger, now: () => T0 + (HOUR + 60) * 1000 });
    const s = simulate(store);
    let storeMs = 0;
    const flushToWritten: number[] = [];
    for (let sec = 0; sec < HOUR + 15; sec++) {
      if (sec < HOUR) second(s, sec);
      const before = store.stats.written;
      const start = performance.now();
      s.agg.advance(T0 + sec * 1000);
      storeMs += performance.now() - start;
      // A step closes every 10 s: wait for its rows, as a receiver's writer would be busy with them.
      if (sec % 10 === 2 && sec > 10 && sec <= HOUR + 2) {
        const flushed = performance.now();
        while (store.stats.written === before) await new Promise((r) => setImmediate(r));
        flushToWritten.push(performance.now() - flushed);
      }
    }
    s.agg.closeAll();
    await store.stop(Date.now() + 60_000);
    const steps = HOUR / 10;
    const sorted = [...flushToWritten].sort((a, b) => a - b);
    out.write = {
      ringMsPerStep: ringMs / steps,
      ringWithStoreMsPerStep: storeMs / steps,
      writeMedianMs: median(flushToWritten),
      writeP95Ms: sorted[Math.floor(sorted.length * 0.95)],
      written: store.stats.written,
    };

    // Storage: the hour's real rows make a week.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const copy = async (table: string, step: number, hours: number) => {
      await c.query(`INSERT INTO ${table} SELECT series, t + k * ${HOUR}, receiver, count, sum, min, max, last, last_t, keys, counts, q50, q95, q99 FROM ${table}, generate_series(1, ${hours - 1}) k WHERE t < ${T0 / 1000 + HOUR}`);
      return step;
    };
    await copy(stepTable(TIERS[0]), 10, 24);
    await copy(stepTable(TIERS[1]), 60, 24 * 7);
    await copy(stepTable(TIERS[2]), 3600, 24 * 7);
    await c.query('VACUUM ANALYZE');
    const storage: Record<string, unknown> = {};
    for (const [tier, days] of [[TIERS[0], 1], [TIERS[1], 7], [TIERS[2], 7]] as const) {
      const table = stepTable(tier);
      const size = await c.query<{ total: string; rows: string }>(`SELECT pg_total_relation_size('${table}') AS total, (SELECT count(*) FROM ${table}) AS rows`);
      const kinds = await c.query<{ kind: number; bytes: string }>(`SELECT s.kind, avg(pg_column_size(x.*))::int AS bytes FROM ${table} x JOIN drainmeter_series s ON s.id = x.series GROUP BY s.kind ORDER BY s.kind`);
      const total = Number(size.rows[0].total);
      storage[tier.name] = {
        rows: Number(size.rows[0].rows),
        totalMb: total / 2 ** 20,
        perSeriesDayKb: total / SERIES / days / 1024,
        rowBytesByKind: Object.fromEntries(kinds.rows.map((k) => [KIND_NAMES[k.kind], Number(k.bytes)])),
      };
    }
    out.storage = storage;
    await c.end();

    // Chart: 30 series of the week, as the dashboard asks. The 10 s tier holds the
    // week's first day (what was copied): its 6 h range is read on that day's clock,
    // first (a store deletes what its clock says has expired).
    const end = T0 / 1000 + 7 * 24 * HOUR;
    const chart: Record<string, unknown> = {};
    for (const [name, seconds, metric, to] of [
      ['6 h', 6 * HOUR, 'request_seconds', T0 / 1000 + 7 * HOUR],
      ['24 h', 24 * HOUR, 'request_seconds', end],
      ['7 d', 7 * 24 * HOUR, 'request_seconds', end],
      ['7 d, counters', 7 * 24 * HOUR, 'orders_total', end],
    ] as const) {
      const reader = new PostgresStore({ url: db.url, instance: 'reader', seriesPerApp: SERIES, queueBytes: 1 << 20, log: silentLogger, now: () => to * 1000 });
      const times: number[] = [];
      for (let r = 0; r < 7; r++) {
        const start = performance.now();
        const text = await reader.read({ scope: 'bench', metric, from: to - seconds, to, limit: 30 });
        times.push(performance.now() - start);
        const a = JSON.parse(text) as { tier: string; series: { count?: unknown[]; sum?: unknown[] }[] };
        chart[name] = { tier: a.tier, series: a.series.length, points: a.series.reduce((n, x) => n + (x.count ?? x.sum ?? []).length, 0), bytes: text.length, ms: 0 };
      }
      (chart[name] as { ms: number }).ms = median(times.slice(2));
      await reader.stop(Date.now() + 5000);
    }
    out.chart = chart;
    out.clients = await clients(db.url, Math.max(rounds, 9));
    console.log(JSON.stringify(out));
  } finally {
    db.remove();
  }
}

await main();
