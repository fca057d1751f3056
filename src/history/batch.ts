// One flush's closed steps, columnar as the INSERT takes them, and their write: one
// INSERT … SELECT FROM unnest(…) a batch (bench/README.md: the client and statement
// measured). A step's key is (series, t, receiver) and a write does nothing on
// conflict, so a batch written twice (retried after a lost answer, or a frame
// redelivered after a restart) counts once (docs/history.md).

import type pg from 'pg';
import type { Series } from '../aggregate/index.js';
import { MEASURE, COUNTER } from '../model/index.js';
import { quantileKey } from './quantile-keys.js';
import type { RollUps } from './roll-up.js';
import { stepTable } from './schema.js';
import type { SeriesIds } from './series-ids.js';
import { type ClosedStep, TIERS } from './store.js';

/** What a queued row costs beyond its bucket text: its arrays' slots and the Series it pins. */
const ROW_BYTES = 96;

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** One flush's steps, columnar, as the INSERT takes them. */
export class Batch {
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

  /** Appends a closed step; its bytes counted toward the queue's bound. */
  add(s: ClosedStep): void {
    const kind = s.series.metric.kind;
    this.series.push(s.series);
    this.t.push(s.start);
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
      this.keys.push(`${keys}}`);
      this.counts.push(`${counts}}`);
      this.q50.push(quantileKey(h.keys, h.counts, h.n, 0.5, s.count));
      this.q95.push(quantileKey(h.keys, h.counts, h.n, 0.95, s.count));
      this.q99.push(quantileKey(h.keys, h.counts, h.n, 0.99, s.count));
      bytes += 2 * (keys.length + counts.length);
      this.count.push(s.count);
      this.sum.push(s.sum);
      this.min.push(finite(s.min));
      this.max.push(finite(s.max));
      this.last.push(null);
      this.lastT.push(null);
    } else {
      this.keys.push(null);
      this.counts.push(null);
      this.q50.push(null);
      this.q95.push(null);
      this.q99.push(null);
      this.count.push(null);
      this.min.push(null);
      this.max.push(null);
      if (kind === COUNTER) {
        this.sum.push(s.sum);
        this.last.push(null);
        this.lastT.push(null);
      } else {
        this.sum.push(null);
        this.last.push(finite(s.last));
        this.lastT.push(finite(s.lastTime));
      }
    }
    this.bytes += bytes;
  }
}

/**
 * Writes a batch's steps of series with an id (registering new ones first), marking
 * their minutes for the roll-up; the number of rows sent.
 */
export async function writeBatch(pool: pg.Pool, receiver: number, b: Batch, ids: SeriesIds, rollUps: RollUps): Promise<number> {
  await ids.resolve(b.series);
  const n = b.series.length;
  const series: number[] = [];
  const at: number[] = [];
  const src = [b.count, b.sum, b.min, b.max, b.last, b.lastT, b.keys, b.counts, b.q50, b.q95, b.q99];
  const cols: (number | string | null)[][] = src.map(() => []);
  for (let i = 0; i < n; i++) {
    const id = ids.idOf(b.series[i]);
    if (id < 0) continue;
    series.push(id);
    at.push(b.t[i]);
    for (let c = 0; c < src.length; c++) cols[c].push(src[c][i]);
    rollUps.mark(b.t[i]);
  }
  if (series.length === 0) return 0;
  await pool.query(
    `INSERT INTO ${stepTable(TIERS[0])} (series, t, receiver, count, sum, min, max, last, last_t, keys, counts, q50, q95, q99)
       SELECT s, t, $1, c, su, mn, mx, l, lt, k::integer[], n::integer[], q50, q95, q99
       FROM unnest($2::integer[], $3::integer[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::text[], $11::text[], $12::integer[], $13::integer[], $14::integer[])
         AS u(s, t, c, su, mn, mx, l, lt, k, n, q50, q95, q99)
       ON CONFLICT DO NOTHING`,
    [receiver, series, at, ...cols],
  );
  return series.length;
}
