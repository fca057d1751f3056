// A measure's p50, p95 and p99 kept with each stored step as the key of the bucket
// that holds it (schema.ts: q50, q95, q99), so a step one receiver wrote is read
// without its buckets (docs/history.md).

import { valueOf } from '../aggregate/buckets.js';

/** The quantiles the store keeps a key of, and the ring shows. */
export const QUANTILES = [0.5, 0.95, 0.99];

/** A quantile key past every bucket (the buckets hold fewer values than the count): the quantile is the max. */
export const PAST = 2147483647;

/**
 * The key of the bucket holding the ceil(q·count)-th value of buckets in key order, as
 * sortedQuantile (aggregate/histogram.ts) finds it; PAST when they end before it.
 */
export function quantileKey(keys: Int32Array, counts: Float64Array, n: number, q: number, count: number): number | null {
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
export function quantileOf(key: number, min: number, max: number, count: number): number {
  if (count <= 0) return NaN;
  if (key === PAST) return max;
  return Math.min(max, Math.max(min, valueOf(key)));
}
