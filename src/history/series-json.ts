// One series' stored rows as the JSON points the ring writes (outlets/history/history-json.ts):
// receivers' rows of one step merged, a step one receiver wrote read from its
// quantile keys (quantile-keys.ts), null where there is none.

import type { WindowBuckets } from '../aggregate/index.js';
import { sortedQuantile } from '../aggregate/histogram.js';
import { KIND_NAMES, MEASURE, COUNTER } from '../model/index.js';
import { NO_INTS } from './int4-arrays.js';
import { QUANTILES, quantileOf } from './quantile-keys.js';

/** A stored step row as a read fetches it: keys and counts only where its series merges. */
export interface PointRow {
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

/** The ring's fields, and a measure's sum, min and max, which the store keeps too. */
const FIELDS: Record<string, readonly string[]> = { measure: ['count', 'p50', 'p95', 'p99', 'sum', 'min', 'max'], counter: ['sum'], sample: ['last'] };

/** One series' points as the ring writes them: receivers' rows of one step merged, null where none. */
export function seriesJson(s: { app: string; metric: string; kind: number; labels: string }, rows: PointRow[], step: number, h: WindowBuckets): string {
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

/** A point as JSON: null for none, else every digit (sums add up exactly). */
function number(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}
