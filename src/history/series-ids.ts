// Series ids of the PostgreSQL history: a series is registered (drainmeter_series)
// the first time a batch holds it, within its app's budget of series, counted exactly
// across receivers (docs/history.md). A refused series is asked again later:
// retention may have made room.

import type pg from 'pg';
import type { Series } from '../aggregate/index.js';
import type { StoreStats } from './store.js';

/** A refused series is asked again after this (retention may have made room). */
const REFUSED_RETRY_MS = 10 * 60_000;

export class SeriesIds {
  /** Series ids known; -1 - (ms when refused) for a series an app's budget refused. */
  private readonly ids = new WeakMap<Series, number>();
  private readonly pool: pg.Pool;
  /** Series one app may keep in the store. */
  private readonly seriesPerApp: number;
  /** Where refusals are counted. */
  private readonly stats: StoreStats;
  /** Wall clock, epoch ms. */
  private readonly now: () => number;

  constructor(pool: pg.Pool, seriesPerApp: number, stats: StoreStats, now: () => number) {
    this.pool = pool;
    this.seriesPerApp = seriesPerApp;
    this.stats = stats;
    this.now = now;
  }

  /** A series' id; negative while it has none (refused, or never resolved). */
  idOf(s: Series): number {
    return this.ids.get(s) ?? -1;
  }

  /** Ids of a batch's series, registering new ones within each app's budget. */
  async resolve(series: readonly Series[]): Promise<void> {
    const byApp = new Map<string, Series[]>();
    const now = this.now();
    for (const s of series) {
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
          [app, metric, kind, labels, this.seriesPerApp, Math.floor(now / 1000)],
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
}

/** A series' labels without its app, as JSON text with sorted keys: its identity in the store. */
export function labelsOf(s: Series): string {
  const labels: Record<string, string> = {};
  const pairs = s.labels.filter(([k]) => k !== 'app').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of pairs) labels[k] = v;
  return JSON.stringify(labels);
}
