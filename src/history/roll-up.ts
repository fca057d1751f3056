// Each receiver rolls its own rows up, 10 s → 1 min → 1 h, by recomputing the whole
// coarser step from the finer rows (ON CONFLICT DO UPDATE): exact, and the same
// however often it runs, so a late batch only marks its minute to be recomputed
// (docs/history.md).

import type pg from 'pg';
import { PAST, QUANTILES } from './quantile-keys.js';
import { stepTable } from './schema.js';
import { TIERS } from './store.js';

/** At start, this receiver's 10 s rows of the last this many seconds are rolled up again. */
const CATCH_UP_S = 2 * 3600;

/** The minutes and hours this receiver wrote into and has not rolled up, and their roll-ups. */
export class RollUps {
  /** Minutes (epoch s) this receiver wrote 10 s rows into since they were last rolled up. */
  private readonly dirty = new Set<number>();
  /** Hours (epoch s) whose minutes were rolled up since the hour was. */
  private readonly dirtyHours = new Set<number>();
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** A 10 s row written at `t` (epoch s): its minute is rolled up once it has closed. */
  mark(t: number): void {
    this.dirty.add(Math.floor(t / 60) * 60);
  }

  /** Whether minutes wait for their roll-up. */
  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /** Marks what this receiver wrote before a restart and had not rolled up yet; `now` is epoch s. */
  async catchUp(c: pg.PoolClient, receiver: number, now: number): Promise<void> {
    const since = now - CATCH_UP_S;
    const minutes = await c.query<{ m: number }>(`SELECT DISTINCT (t / 60) * 60 AS m FROM ${stepTable(TIERS[0])} WHERE t >= $1 AND receiver = $2`, [since, receiver]);
    for (const row of minutes.rows) this.dirty.add(row.m);
  }

  /**
   * Recomputes this receiver's minutes that took rows and have closed by `through`,
   * then the hours of such minutes that have closed: exact roll-ups.
   */
  async run(receiver: number, through: number): Promise<void> {
    const minutes = [...this.dirty].filter((m) => m + 60 <= through).sort((a, b) => a - b);
    if (minutes.length > 0) {
      await this.pool.query(rollUpSql(TIERS[0].name, TIERS[1].name, 60), [receiver, minutes]);
      for (const m of minutes) {
        this.dirty.delete(m);
        this.dirtyHours.add(Math.floor(m / 3600) * 3600);
      }
    }
    // An hour once it has closed (or at stop): recomputing the hour so far at every
    // minute read its minutes' buckets 60 times over (bench/README.md).
    const hours = [...this.dirtyHours].filter((h) => h + 3600 <= through);
    if (hours.length === 0) return;
    await this.pool.query(rollUpSql(TIERS[1].name, TIERS[2].name, 3600), [receiver, hours]);
    for (const h of hours) this.dirtyHours.delete(h);
  }
}

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
