// The history in PostgreSQL (DATABASE_URL; docs/history.md). Closed 10 s steps are
// queued as the ring hands them over and written, one batch a flush, by one INSERT
// … SELECT FROM unnest(…) (bench/README.md: the client and statement measured). A
// step's key is (series, t, receiver) and a write does nothing on conflict, so a
// batch written twice (retried after a lost answer, or a frame redelivered after a
// restart) counts once. Each receiver rolls its own rows up, 10 s → 1 min → 1 h, by
// recomputing the whole coarser step from the finer rows (ON CONFLICT DO UPDATE):
// exact, and the same however often it runs, so a late batch only marks its minute
// to be recomputed.
//
// The database going away blocks nothing: batches wait in a queue bounded in bytes
// (the oldest dropped and counted past it), the writer retries with backoff, and
// the log says when it goes and when it comes back.

import pg from 'pg';
import { WindowBuckets } from '../aggregate/index.js';
import { valueOf } from '../aggregate/buckets.js';
import { sortedQuantile } from '../aggregate/histogram.js';
import type { Logger } from '../log.js';
import { KIND_NAMES, MEASURE, COUNTER, SAMPLE } from '../model/index.js';
import type { Series } from '../aggregate/index.js';
import { migrate, MIGRATIONS, sslFor, stepTable } from './schema.js';
import { type ClosedStep, type HistoryStore, type RangeQuery, type Release, type StoreStats, TIERS, tierFor } from './store.js';

export interface PostgresOptions {
  url: string;
  /** This receiver's name (DRAINMETER_INSTANCE, DYNO, host name). */
  instance: string;
  /** Series one app may keep in the store: each tier holds at most this × its steps for the app. */
  seriesPerApp: number;
  /** Bytes of steps that may wait for the database. */
  queueBytes: number;
  log: Logger;
  /** Wall clock, epoch ms. */
  now?: () => number;
}

/** What a queued row costs beyond its bucket text: its arrays' slots and the Series it pins. */
const ROW_BYTES = 96;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;
/** How often old rows are deleted. */
const RETENTION_MS = 10 * 60_000;
/** A refused series is asked again after this (retention may have made room). */
const REFUSED_RETRY_MS = 10 * 60_000;
/** A series with no steps is deleted only this long after it was last registered. */
const SERIES_GRACE_S = 24 * 3600;
/** At start, this receiver's 10 s rows of the last this many seconds are rolled up again. */
const CATCH_UP_S = 2 * 3600;

/** One flush's steps, columnar, as the INSERT takes them. */
class Batch {
  readonly series: Series[] = [];
  readonly t: number[] = [];
  readonly count: (number | null)[] = [];
  readonly sum: (number | null)[] = [];
  readonly min: (number | null)[] = [];
  readonly max: (number | null)[] = [];
  readonly last: (number | null)[] = [];
  readonly lastT: (number | null)[] = [];
  readonly keys: (string | null)[] = [];
  readonly counts: (string | null)[] = [];
  readonly q50: (number | null)[] = [];
  readonly q95: (number | null)[] = [];
  readonly q99: (number | null)[] = [];
  bytes = 0;
  through = -Infinity;
}

interface Releases {
  app: string[];
  t: number[];
  text: string[];
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

export class PostgresStore implements HistoryStore {
  readonly stats: StoreStats = { up: false, queueBytes: 0, written: 0, dropped: 0, refused: 0 };
  private readonly pool: pg.Pool;
  private readonly o: PostgresOptions;
  private readonly now: () => number;
  private readonly queue: Batch[] = [];
  private batch = new Batch();
  private releases: Releases = { app: [], t: [], text: [] };
  /** Series ids known; -1 - (ms when refused) for a series an app's budget refused. */
  private readonly ids = new WeakMap<Series, number>();
  private receiver = -1;
  private ready = false;
  private pumping: Promise<void> | null = null;
  private stopping = false;
  /** Minutes (epoch s) this receiver wrote 10 s rows into since they were last rolled up. */
  private readonly dirty = new Set<number>();
  /** Hours (epoch s) whose minutes were rolled up since the hour was. */
  private readonly dirtyHours = new Set<number>();
  private lastRetention = 0;
  /** The newest `through` whose steps are all written (this receiver's). */
  private writtenThrough = -Infinity;
  /** Whether the log said the database is away (so it says when it is back). */
  private saidDown = false;
  private wake: (() => void) | null = null;

  constructor(o: PostgresOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.pool = new pg.Pool({ connectionString: o.url, max: 3, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, ssl: sslFor(o.url), application_name: 'drainmeter' });
    // A connection that breaks (the database restarting), idle or checked out, must not
    // crash the process: the query on it fails, and the writer retries.
    this.pool.on('error', () => {});
    this.pool.on('connect', (client) => client.on('error', () => {}));
    this.kick();
  }

  add(s: ClosedStep): void {
    const b = this.batch;
    const kind = s.series.metric.kind;
    b.series.push(s.series);
    b.t.push(s.start);
    let bytes = ROW_BYTES;
    if (kind === MEASURE && s.buckets !== null) {
      const h = s.buckets;
      h.sort();
      let keys = '{';
      let counts = '{';
      for (let i = 0; i < h.n; i++) {
        keys += i === 0 ? h.keys[i] : `,${h.keys[i]}`;
        counts += i === 0 ? h.counts[i] : `,${h.counts[i]}`;
      }
      b.keys.push(`${keys}}`);
      b.counts.push(`${counts}}`);
      b.q50.push(quantileKey(h.keys, h.counts, h.n, 0.5, s.count));
      b.q95.push(quantileKey(h.keys, h.counts, h.n, 0.95, s.count));
      b.q99.push(quantileKey(h.keys, h.counts, h.n, 0.99, s.count));
      bytes += 2 * (keys.length + counts.length);
      b.count.push(s.count);
      b.sum.push(s.sum);
      b.min.push(finite(s.min));
      b.max.push(finite(s.max));
      b.last.push(null);
      b.lastT.push(null);
    } else {
      b.keys.push(null);
      b.counts.push(null);
      b.q50.push(null);
      b.q95.push(null);
      b.q99.push(null);
      b.count.push(null);
      b.min.push(null);
      b.max.push(null);
      if (kind === COUNTER) {
        b.sum.push(s.sum);
        b.last.push(null);
        b.lastT.push(null);
      } else {
        b.sum.push(null);
        b.last.push(finite(s.last));
        b.lastT.push(finite(s.lastTime));
      }
    }
    b.bytes += bytes;
  }

  flush(through: number): void {
    const b = this.batch;
    if (b.series.length === 0 && this.releases.app.length === 0) return;
    b.through = through;
    this.batch = new Batch();
    if (b.series.length > 0) {
      this.queue.push(b);
      this.stats.queueBytes += b.bytes;
      // Past the bound the oldest batches go, counted: the newest are what a chart shows next.
      while (this.stats.queueBytes > this.o.queueBytes && this.queue.length > 1) {
        const old = this.queue.shift() as Batch;
        this.stats.queueBytes -= old.bytes;
        this.stats.dropped += old.series.length;
      }
    }
    this.kick();
  }

  release(r: Release): void {
    // Bounded as a batch is: a release line is rare, a flood of them is one app's problem.
    if (this.releases.app.length >= 1000) return;
    this.releases.app.push(r.app);
    this.releases.t.push(r.t);
    this.releases.text.push(r.text);
    this.kick();
  }

  /** Starts the writer unless it runs; wakes it from a backoff sleep. */
  private kick(): void {
    if (this.wake !== null && this.stats.up) this.wake();
    if (this.pumping === null) {
      this.pumping = this.pump().finally(() => {
        this.pumping = null;
        if (!this.stopping && (this.queue.length > 0 || !this.ready)) this.kick();
      });
    }
  }

  private async pump(): Promise<void> {
    let backoff = RETRY_MIN_MS;
    for (;;) {
      try {
        if (!this.ready) await this.prepare();
        if (this.releases.app.length > 0) await this.writeReleases();
        const b = this.queue[0];
        if (b === undefined) {
          if (this.now() - this.lastRetention > RETENTION_MS) await this.retention();
          this.up();
          return;
        }
        await this.write(b);
        if (b.through > this.writtenThrough) this.writtenThrough = b.through;
        this.queue.shift();
        this.stats.queueBytes -= b.bytes;
        await this.rollUp(b.through);
        this.up();
        backoff = RETRY_MIN_MS;
      } catch (err) {
        this.down(err as Error);
        if (this.stopping) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          timer.unref();
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
        backoff = Math.min(RETRY_MAX_MS, backoff * 2);
      }
    }
  }

  private up(): void {
    this.stats.up = true;
    if (this.saidDown) {
      this.saidDown = false;
      this.o.log.info('history database back', { waiting_steps: this.queue.reduce((n, b) => n + b.series.length, 0), dropped_steps: this.stats.dropped });
    }
  }

  private down(err: Error): void {
    this.stats.up = false;
    if (!this.saidDown) {
      this.saidDown = true;
      this.o.log.warn('history database away, steps wait in memory', { error: err.message.replace(/\s+/g, ' ').slice(0, 200) });
    }
  }

  /** Makes or migrates the schema, and learns this receiver's id. */
  private async prepare(): Promise<void> {
    const c = await this.pool.connect();
    try {
      const at = await migrate(c);
      if (at < MIGRATIONS.length) this.o.log.info('history schema migrated', { from: at, to: MIGRATIONS.length });
      const id = await c.query<{ id: number }>('INSERT INTO drainmeter_receivers (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id', [this.o.instance]);
      this.receiver = id.rows[0].id;
      // What this receiver wrote before a restart and had not rolled up yet.
      const since = Math.floor(this.now() / 1000) - CATCH_UP_S;
      const minutes = await c.query<{ m: number }>(`SELECT DISTINCT (t / 60) * 60 AS m FROM ${stepTable(TIERS[0])} WHERE t >= $1 AND receiver = $2`, [since, this.receiver]);
      for (const row of minutes.rows) this.dirty.add(row.m);
      this.ready = true;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
    if (this.dirty.size > 0) await this.rollUp(Math.floor(this.now() / 1000));
  }

  /** Ids of a batch's series, registering new ones within each app's budget. */
  private async resolve(b: Batch): Promise<void> {
    const byApp = new Map<string, Series[]>();
    const now = this.now();
    for (const s of b.series) {
      const id = this.ids.get(s);
      if (id !== undefined && (id >= 0 || now + id + 1 < REFUSED_RETRY_MS)) continue;
      const app = s.app.name;
      let list = byApp.get(app);
      if (list === undefined) byApp.set(app, (list = []));
      if (!list.includes(s)) list.push(s);
    }
    for (const [app, list] of byApp) {
      const metric = list.map((s) => s.metric.name);
      const kind = list.map((s) => s.metric.kind);
      const labels = list.map(labelsOf);
      const c = await this.pool.connect();
      try {
        await c.query('BEGIN');
        // One app's registrations at a time, across receivers: its budget is counted exactly.
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`drainmeter:${app}`]);
        const r = await c.query<{ i: string; id: number }>(
          `WITH want AS (SELECT * FROM unnest($2::text[], $3::smallint[], $4::text[]) WITH ORDINALITY AS u(metric, kind, labels, i)),
           have AS (UPDATE drainmeter_series s SET seen = $6 FROM want w WHERE s.app = $1 AND s.metric = w.metric AND s.labels = w.labels RETURNING w.i, s.id),
           room AS (SELECT greatest(0, $5 - (SELECT count(*) FROM drainmeter_series WHERE app = $1)) AS n),
           added AS (
             INSERT INTO drainmeter_series (app, metric, kind, labels, seen)
             SELECT $1, w.metric, w.kind, w.labels, $6 FROM want w WHERE w.i NOT IN (SELECT i FROM have) ORDER BY w.i LIMIT (SELECT n FROM room)
             ON CONFLICT (app, metric, labels) DO NOTHING
             RETURNING id, metric, labels)
           SELECT i, id FROM have UNION ALL SELECT w.i, a.id FROM added a JOIN want w ON w.metric = a.metric AND w.labels = a.labels`,
          [app, metric, kind, labels, this.o.seriesPerApp, Math.floor(now / 1000)],
        );
        await c.query('COMMIT');
        const found = new Set<number>();
        for (const row of r.rows) {
          const i = Number(row.i) - 1;
          found.add(i);
          this.ids.set(list[i], row.id);
        }
        for (let i = 0; i < list.length; i++) {
          if (found.has(i)) continue;
          if (this.ids.get(list[i]) === undefined) this.stats.refused++;
          this.ids.set(list[i], -1 - now);
        }
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    }
  }

  private async write(b: Batch): Promise<void> {
    await this.resolve(b);
    const n = b.series.length;
    const series: number[] = [];
    const at: number[] = [];
    const src = [b.count, b.sum, b.min, b.max, b.last, b.lastT, b.keys, b.counts, b.q50, b.q95, b.q99];
    const cols: (number | string | null)[][] = src.map(() => []);
    for (let i = 0; i < n; i++) {
      const id = this.ids.get(b.series[i]) ?? -1;
      if (id < 0) continue;
      series.push(id);
      at.push(b.t[i]);
      for (let c = 0; c < src.length; c++) cols[c].push(src[c][i]);
      this.dirty.add(Math.floor(b.t[i] / 60) * 60);
    }
    if (series.length === 0) return;
    await this.pool.query(
      `INSERT INTO ${stepTable(TIERS[0])} (series, t, receiver, count, sum, min, max, last, last_t, keys, counts, q50, q95, q99)
       SELECT s, t, $1, c, su, mn, mx, l, lt, k::integer[], n::integer[], q50, q95, q99
       FROM unnest($2::integer[], $3::integer[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::text[], $11::text[], $12::integer[], $13::integer[], $14::integer[])
         AS u(s, t, c, su, mn, mx, l, lt, k, n, q50, q95, q99)
       ON CONFLICT DO NOTHING`,
      [this.receiver, series, at, ...cols],
    );
    this.stats.written += series.length;
  }

  private async writeReleases(): Promise<void> {
    const r = this.releases;
    await this.pool.query('INSERT INTO drainmeter_releases (app, t, text) SELECT * FROM unnest($1::text[], $2::integer[], $3::text[]) ON CONFLICT DO NOTHING', [r.app, r.t, r.text]);
    this.releases = { app: [], t: [], text: [] };
  }

  /**
   * Recomputes this receiver's minutes that took rows and have closed by `through`,
   * then the hours of such minutes that have closed: exact roll-ups.
   */
  private async rollUp(through: number): Promise<void> {
    const minutes = [...this.dirty].filter((m) => m + 60 <= through).sort((a, b) => a - b);
    if (minutes.length > 0) {
      await this.pool.query(rollUpSql(TIERS[0].name, TIERS[1].name, 60), [this.receiver, minutes]);
      for (const m of minutes) {
        this.dirty.delete(m);
        this.dirtyHours.add(Math.floor(m / 3600) * 3600);
      }
    }
    // An hour once it has closed (or at stop): recomputing the hour so far at every
    // minute read its minutes' buckets 60 times over (bench/README.md).
    const hours = [...this.dirtyHours].filter((h) => h + 3600 <= through);
    if (hours.length === 0) return;
    await this.pool.query(rollUpSql(TIERS[1].name, TIERS[2].name, 3600), [this.receiver, hours]);
    for (const h of hours) this.dirtyHours.delete(h);
  }

  private async retention(): Promise<void> {
    this.lastRetention = this.now();
    const now = Math.floor(this.now() / 1000);
    for (const tier of TIERS) await this.pool.query(`DELETE FROM ${stepTable(tier)} WHERE t < $1`, [now - tier.seconds]);
    await this.pool.query('DELETE FROM drainmeter_releases WHERE t < $1', [now - TIERS[TIERS.length - 1].seconds]);
    // A series with no step left, not registered for a day, gives its app's budget back.
    // A receiver registering it meanwhile updates `seen` first (the row lock orders the
    // two), so a series a receiver holds an id of is never deleted under it.
    const none = TIERS.map((tier) => `NOT EXISTS (SELECT 1 FROM ${stepTable(tier)} x WHERE x.series = s.id)`).join(' AND ');
    await this.pool.query(`DELETE FROM drainmeter_series s WHERE s.seen < $1 AND ${none}`, [now - SERIES_GRACE_S]);
  }

  async read(q: RangeQuery): Promise<string> {
    const now = Math.floor(this.now() / 1000);
    const tier = tierFor(q.from, q.to, now);
    const table = stepTable(tier);
    const from = Math.floor(q.from / tier.step) * tier.step;
    const to = q.to;
    const app = q.app ?? q.scope;
    if (q.scope !== null && q.app !== undefined && q.app !== q.scope) return empty(tier.name);
    // The busiest series of the range, ranked on a tier of few rows: a week of minutes
    // for every series of an app is a million rows, its hours 168 each.
    const rankTier = (to - from) / tier.step <= 360 ? tier : TIERS[TIERS.length - 1];
    const rankFrom = Math.floor(from / rankTier.step) * rankTier.step;
    const where = ['x.t >= $1', 'x.t < $2'];
    const params: (string | number)[] = [rankFrom, to];
    if (app !== null && app !== undefined) {
      params.push(app);
      where.push(`s.app = $${params.length}`);
    }
    if (q.metric !== undefined) {
      params.push(q.metric);
      where.push(`s.metric = $${params.length}`);
    }
    params.push(q.limit);
    const ranked = await this.pool.query<{ id: number; app: string; metric: string; kind: number; labels: string; total: string }>(
      `SELECT s.id, s.app, s.metric, s.kind, s.labels, count(*) OVER () AS total
       FROM ${stepTable(rankTier)} x JOIN drainmeter_series s ON s.id = x.series
       WHERE ${where.join(' AND ')}
       GROUP BY s.id
       ORDER BY sum(CASE WHEN s.kind = ${SAMPLE} THEN 1 ELSE abs(coalesce(x.count, x.sum, 0)) END) DESC, s.id
       LIMIT $${params.length}`,
      params,
    );
    const chosen = ranked.rows;
    let total = chosen.length > 0 ? Number(chosen[0].total) : 0;
    if (rankTier !== tier && chosen.length < q.limit) {
      // The hours not rolled up yet (the current one, the last closed one until its
      // roll-up) have no rows in the coarse tier: their series are ranked on the range's own.
      params[0] = Math.max(from, (Math.floor(now / 3600) - 1) * 3600);
      const recent = await this.pool.query<{ id: number; app: string; metric: string; kind: number; labels: string; total: string }>(
        `SELECT s.id, s.app, s.metric, s.kind, s.labels, count(*) OVER () AS total
         FROM ${table} x JOIN drainmeter_series s ON s.id = x.series
         WHERE ${where.join(' AND ')}
         GROUP BY s.id
         ORDER BY sum(CASE WHEN s.kind = ${SAMPLE} THEN 1 ELSE abs(coalesce(x.count, x.sum, 0)) END) DESC, s.id
         LIMIT $${params.length}`,
        params,
      );
      const seen = new Set(chosen.map((c) => c.id));
      for (const r of recent.rows) {
        if (seen.has(r.id)) continue;
        total++;
        if (chosen.length < q.limit) chosen.push(r);
      }
    }
    // Points in two reads (bench/README.md: the reads measured). First every row
    // without its buckets: a step one receiver wrote is read from its quantile keys.
    // Then, only for a series with a step of several receivers' rows (or a row older
    // than the keys), its rows with their buckets, to merge. Bucket arrays come as
    // array_send's bytes (hex in the text protocol) read straight into Int32Arrays,
    // not as '{…}' text for a generic parser; pg's binary result format is no way
    // there (pg-protocol 1.16 decodes every field as UTF-8 text first). Rows come
    // unsorted and are sorted here: sorting in SQL carries the arrays through the sort.
    const ids = chosen.map((c) => c.id);
    const range = `FROM ${table} WHERE series = ANY($1) AND t >= $2 AND t < $3`;
    const narrow = ids.length === 0 ? [] : (await this.pool.query<PointRow>(`SELECT series, t, count, sum, min, max, last, last_t, q50, q95, q99, NULL AS keys, NULL AS counts ${range}`, [ids, from, to])).rows;
    const bySeries = new Map<number, PointRow[]>();
    const merge = new Set<number>();
    for (const row of narrow) {
      let list = bySeries.get(row.series);
      if (list === undefined) bySeries.set(row.series, (list = []));
      list.push(row);
      if (row.q50 === null && row.count !== null) merge.add(row.series);
    }
    for (const [id, rows] of bySeries) {
      rows.sort(byTime);
      for (let i = 1; i < rows.length && !merge.has(id); i++) if (rows[i].t === rows[i - 1].t) merge.add(id);
    }
    if (merge.size > 0) {
      const wide = await this.pool.query<PointRow>({
        text: `SELECT series, t, count, sum, min, max, last, last_t, q50, q95, q99, array_send(keys) AS keys, array_send(counts) AS counts ${range}`,
        values: [[...merge], from, to],
        types: SENT_TYPES,
      });
      for (const id of merge) bySeries.set(id, []);
      for (const row of wide.rows) (bySeries.get(row.series) as PointRow[]).push(row);
      for (const id of merge) (bySeries.get(id) as PointRow[]).sort(byTime);
    }
    const parts: string[] = [];
    const h = new WindowBuckets();
    for (const s of chosen) {
      const rows = bySeries.get(s.id);
      if (rows === undefined) continue;
      parts.push(seriesJson(s, rows, tier.step, h));
    }
    const apps = app !== null && app !== undefined ? [app] : [...new Set(chosen.map((c) => c.app))];
    const releases = await this.pool.query<{ app: string; t: number; text: string }>('SELECT app, t, text FROM drainmeter_releases WHERE app = ANY($1) AND t >= $2 AND t < $3 ORDER BY t, text LIMIT 1000', [apps, from, to]);
    const through = Math.min(to, Number.isFinite(this.writtenThrough) && this.queue.length === 0 ? this.writtenThrough : now);
    return `{"through":${through},"tier":"${tier.name}","step":${tier.step},"total":${total},"series":[${parts.join(',')}],"releases":${JSON.stringify(releases.rows.map((r) => ({ app: r.app, t: r.t, text: r.text })))}}`;
  }

  async stop(deadline: number): Promise<void> {
    // Whatever waits is written while the deadline allows, the database away or not.
    while (Date.now() < deadline && (this.queue.length > 0 || this.releases.app.length > 0 || this.pumping !== null)) {
      this.kick();
      this.wake?.();
      await Promise.race([this.pumping, new Promise((r) => setTimeout(r, 100))]);
    }
    this.stopping = true;
    this.wake?.();
    await Promise.race([this.pumping, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    // The minutes and hour this receiver wrote into so far, rolled up as they stand: a
    // receiver that does not come back (scaled down) still has its last hour in the
    // 1 min and 1 h tiers. One that does recomputes them from its rows (start's catch-up).
    if (this.pumping === null && this.stats.up && this.queue.length === 0 && Date.now() < deadline) {
      await Promise.race([this.rollUp(Infinity).catch(() => {}), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    }
    await this.pool.end().catch(() => {});
  }
}

interface PointRow {
  series: number;
  t: number;
  count: number | null;
  sum: number | null;
  min: number | null;
  max: number | null;
  last: number | null;
  last_t: number | null;
  keys: Int32Array | null;
  counts: Int32Array | null;
  q50: number | null;
  q95: number | null;
  q99: number | null;
}

const byTime = (a: PointRow, b: PointRow): number => a.t - b.t;

/** A quantile key past every bucket (the buckets hold fewer values than the count): the quantile is the max. */
const PAST = 2147483647;

/**
 * The key of the bucket holding the ceil(q·count)-th value of buckets in key order, as
 * sortedQuantile (aggregate/histogram.ts) finds it; PAST when they end before it.
 */
function quantileKey(keys: Int32Array, counts: Float64Array, n: number, q: number, count: number): number | null {
  if (!(count > 0)) return null;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let i = 0; i < n; i++) {
    seen += counts[i];
    if (seen >= rank) return keys[i];
  }
  return PAST;
}

/** A stored quantile key's value, as sortedQuantile gives it: clamped to [min, max]. */
function quantileOf(key: number, min: number, max: number, count: number): number {
  if (count <= 0) return NaN;
  if (key === PAST) return max;
  return Math.min(max, Math.max(min, valueOf(key)));
}

const NO_INTS = new Int32Array(0);

/**
 * A one-dimensional int4[] without nulls in PostgreSQL's binary form: ndim, a null
 * flag, the element type, the length and lower bound, then (byte length, value) pairs.
 */
function int4Array(b: Buffer): Int32Array {
  if (b.readInt32BE(0) === 0) return NO_INTS;
  const n = b.readInt32BE(12);
  const out = new Int32Array(n);
  for (let i = 0, o = 24; i < n; i++, o += 8) out[i] = b.readInt32BE(o);
  return out;
}

const BYTEA = 17;
/** A bytea in text is `\\x` and hex: array_send's bytes, read as an int4[]. */
const sentArray = (text: string): Int32Array => int4Array(Buffer.from(text.slice(2), 'hex'));
const SENT_TYPES = {
  getTypeParser: ((oid: number) => {
    if (oid === BYTEA) return sentArray;
    return pg.types.getTypeParser(oid, 'text');
  }) as unknown as typeof pg.types.getTypeParser,
};

/**
 * One coarser step per (series, receiver) from the finer tier's rows of the given
 * periods ($2: their starts): counts and sums added, min of mins, max of maxes, the
 * latest last value, buckets added key by key, and the keys of the buckets holding
 * its quantiles (as quantileKey finds them). Recomputed whole, so it may run again.
 */
function rollUpSql(fine: string, coarse: string, step: number): string {
  return `
WITH src AS (
  SELECT * FROM drainmeter_steps_${fine}
  WHERE receiver = $1 AND t >= (SELECT min(p) FROM unnest($2::integer[]) p) AND t < (SELECT max(p) FROM unnest($2::integer[]) p) + ${step}
    AND (t / ${step}) * ${step} = ANY($2::integer[])),
totals AS (
  SELECT series, (t / ${step}) * ${step} AS p, sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
    (array_agg(last ORDER BY last_t DESC NULLS LAST))[1] AS last, max(last_t) AS last_t
  FROM src GROUP BY 1, 2),
buckets AS (
  SELECT series, p, array_agg(k ORDER BY k) AS keys, array_agg(n ORDER BY k) AS counts,
    ${QUANTILES.map((q) => `min(k) FILTER (WHERE seen >= ceil(${q}::float8 * c)) AS q${Math.round(q * 100)}`).join(', ')}
  FROM (
    SELECT b.*, x.count AS c, sum(b.n) OVER (PARTITION BY b.series, b.p ORDER BY b.k) AS seen FROM (
      SELECT series, (t / ${step}) * ${step} AS p, u.k, sum(u.n)::integer AS n
      FROM src, unnest(src.keys, src.counts) AS u(k, n) GROUP BY 1, 2, 3) b
    JOIN totals x USING (series, p)) w
  GROUP BY 1, 2)
INSERT INTO drainmeter_steps_${coarse} (series, t, receiver, count, sum, min, max, last, last_t, keys, counts, q50, q95, q99)
SELECT x.series, x.p, $1, x.count, x.sum, x.min, x.max, x.last, x.last_t, b.keys, b.counts,
  ${['q50', 'q95', 'q99'].map((q) => `CASE WHEN x.count > 0 AND b.keys IS NOT NULL THEN coalesce(b.${q}, ${PAST}) END`).join(', ')}
FROM totals x LEFT JOIN buckets b USING (series, p)
ON CONFLICT (series, t, receiver) DO UPDATE SET count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max,
  last = excluded.last, last_t = excluded.last_t, keys = excluded.keys, counts = excluded.counts,
  q50 = excluded.q50, q95 = excluded.q95, q99 = excluded.q99`;
}

/** The ring's fields, and a measure's sum, min and max, which the store keeps too. */
const FIELDS: Record<string, readonly string[]> = { measure: ['count', 'p50', 'p95', 'p99', 'sum', 'min', 'max'], counter: ['sum'], sample: ['last'] };
const QUANTILES = [0.5, 0.95, 0.99];

/** One series' points as the ring writes them: receivers' rows of one step merged, null where none. */
function seriesJson(s: { app: string; metric: string; kind: number; labels: string }, rows: PointRow[], step: number, h: WindowBuckets): string {
  const kind = KIND_NAMES[s.kind];
  const names = FIELDS[kind];
  const first = rows[0].t;
  const slots = (rows[rows.length - 1].t - first) / step + 1;
  const values = names.map(() => new Array<number>(slots).fill(NaN));
  for (let i = 0; i < rows.length; ) {
    const t = rows[i].t;
    let j = i;
    while (j < rows.length && rows[j].t === t) j++;
    const slot = (t - first) / step;
    if (s.kind === MEASURE) {
      let count = 0;
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      h.clear();
      for (let r = i; r < j; r++) {
        const row = rows[r];
        count += row.count ?? 0;
        sum += row.sum ?? 0;
        if (row.min !== null && row.min < min) min = row.min;
        if (row.max !== null && row.max > max) max = row.max;
        if (j - i > 1) {
          const keys = row.keys ?? NO_INTS;
          const counts = row.counts ?? NO_INTS;
          for (let k = 0; k < keys.length; k++) h.addKey(keys[k], counts[k]);
        }
      }
      values[0][slot] = count;
      const row = rows[i];
      if (j - i === 1 && row.q50 !== null && row.q95 !== null && row.q99 !== null) {
        values[1][slot] = quantileOf(row.q50, min, max, count);
        values[2][slot] = quantileOf(row.q95, min, max, count);
        values[3][slot] = quantileOf(row.q99, min, max, count);
      } else if (j - i === 1) {
        // One receiver's row: its buckets are already merged and in key order.
        const one = single(rows[i]);
        for (let q = 0; q < QUANTILES.length; q++) values[1 + q][slot] = sortedQuantile(one, QUANTILES[q], min, max, count);
      } else {
        for (let q = 0; q < QUANTILES.length; q++) values[1 + q][slot] = h.quantile(QUANTILES[q], min, max, count);
      }
      values[4][slot] = sum;
      values[5][slot] = min;
      values[6][slot] = max;
    } else if (s.kind === COUNTER) {
      let sum = 0;
      for (let r = i; r < j; r++) sum += rows[r].sum ?? 0;
      values[0][slot] = sum;
    } else {
      let last = NaN;
      let lastT = -Infinity;
      for (let r = i; r < j; r++) {
        const lt = rows[r].last_t ?? -Infinity;
        if (rows[r].last !== null && lt >= lastT) {
          last = rows[r].last as number;
          lastT = lt;
        }
      }
      values[0][slot] = last;
    }
    i = j;
  }
  let text = `{"app":${JSON.stringify(s.app)},"metric":${JSON.stringify(s.metric)},"kind":"${kind}","labels":${s.labels},"step":${step},"start":${first}`;
  for (let f = 0; f < names.length; f++) text += `,"${names[f]}":[${values[f].map(number).join(',')}]`;
  return `${text}}`;
}

/** A stored row's buckets as sortedQuantile reads them (keys ascending, as written and rolled up). */
const scratch: { n: number; keys: Int32Array; counts: Float64Array; charge: null } = { n: 0, keys: NO_INTS, counts: new Float64Array(64), charge: null };
function single(row: PointRow): typeof scratch {
  const keys = row.keys ?? NO_INTS;
  const counts = row.counts ?? NO_INTS;
  if (scratch.counts.length < keys.length) scratch.counts = new Float64Array(keys.length * 2);
  for (let k = 0; k < keys.length; k++) scratch.counts[k] = counts[k];
  scratch.n = keys.length;
  scratch.keys = keys;
  return scratch;
}

function empty(tier: string): string {
  return `{"through":null,"tier":"${tier}","total":0,"series":[],"releases":[]}`;
}

/** A point as JSON: null for none, else every digit (sums add up exactly). */
function number(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/** A series' labels without its app, as JSON text with sorted keys: its identity in the store. */
export function labelsOf(s: Series): string {
  const labels: Record<string, string> = {};
  const pairs = s.labels.filter(([k]) => k !== 'app').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of pairs) labels[k] = v;
  return JSON.stringify(labels);
}
