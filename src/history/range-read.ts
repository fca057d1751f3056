// A range read of the PostgreSQL history (docs/history.md): the tier the range
// needs, its busiest series ranked on a tier of few rows, then their points in two
// reads, merged per step across receivers (series-json.ts), with the range's
// releases. The answer is JSON text, as the ring's is.

import type pg from 'pg';
import { WindowBuckets } from '../aggregate/index.js';
import { SAMPLE } from '../model/index.js';
import { SENT_TYPES } from './int4-arrays.js';
import { stepTable } from './schema.js';
import { type PointRow, seriesJson } from './series-json.js';
import { type RangeQuery, TIERS, tierFor } from './store.js';

/** What the writer says of its steps when a read answers. */
export interface Written {
  /** The newest `through` whose steps are all written (this receiver's), or null while steps wait or none is. */
  writtenThrough(): number | null;
}

/** A range's series and points as JSON; `now` is epoch s. */
export async function readRange(pool: pg.Pool, q: RangeQuery, now: number, written: Written): Promise<string> {
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
  const ranked = await pool.query<{ id: number; app: string; metric: string; kind: number; labels: string; total: string }>(
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
    const recent = await pool.query<{ id: number; app: string; metric: string; kind: number; labels: string; total: string }>(
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
  const narrow = ids.length === 0 ? [] : (await pool.query<PointRow>(`SELECT series, t, count, sum, min, max, last, last_t, q50, q95, q99, NULL AS keys, NULL AS counts ${range}`, [ids, from, to])).rows;
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
    const wide = await pool.query<PointRow>({
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
  const releases = await pool.query<{ app: string; t: number; text: string }>('SELECT app, t, text FROM drainmeter_releases WHERE app = ANY($1) AND t >= $2 AND t < $3 ORDER BY t, text LIMIT 1000', [apps, from, to]);
  const through = Math.min(to, written.writtenThrough() ?? now);
  return `{"through":${through},"tier":"${tier.name}","step":${tier.step},"total":${total},"series":[${parts.join(',')}],"releases":${JSON.stringify(releases.rows.map((r) => ({ app: r.app, t: r.t, text: r.text })))}}`;
}

const byTime = (a: PointRow, b: PointRow): number => a.t - b.t;

function empty(tier: string): string {
  return `{"through":null,"tier":"${tier}","total":0,"series":[],"releases":[]}`;
}
