// What the push outlets share about measures: a series' cumulative histogram of its
// closed windows, and its buckets laid out at a schema, as remote write's native
// histograms and OTLP's exponential histograms want them (docs/push.md).
//
// Our buckets are the native-histogram scheme at schema 6 (aggregate/buckets.ts):
// bucket i holds (2^((i-1)/64), 2^(i/64)]. At schema s < 6 bucket j holds the 2^(6-s)
// buckets i with ceil(i / 2^(6-s)) = j, so lowering the schema merges exactly.

import type { Series, Window } from '../aggregate/index.js';
import { Histogram, indexOfKey, SCHEMA } from '../aggregate/index.js';
import { COUNTER } from '../model/index.js';

/** The lowest schema either protocol allows: buckets a factor 2^16 wide. */
export const MIN_SCHEMA = -4;

/** A series' histogram of every window closed so far, with count, sum, min and max. */
export class Cumulative {
  readonly h = new Histogram();
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** When the first window started, epoch ms. */
  readonly start: number;
  /** The schema it is sent at; only ever goes down, as the histogram only widens. */
  schema: number;

  constructor(schema: number, start: number) {
    this.schema = schema;
    this.start = start;
  }

  /** Takes in a closed window. */
  add(w: Window): void {
    w.mergeInto(this.h);
    this.count += w.count;
    this.sum += w.sum;
    if (w.min < this.min) this.min = w.min;
    if (w.max > this.max) this.max = w.max;
  }
}

/** Buckets at one schema: indices ascending, each once, with their counts. */
export interface Side {
  index: number[];
  count: number[];
}

export interface Layout {
  schema: number;
  zero: number;
  positive: Side;
  negative: Side;
}

function push(side: Side, index: number, count: number): void {
  const n = side.index.length;
  if (n > 0 && side.index[n - 1] === index) side.count[n - 1] += count;
  else side.index.push(index), side.count.push(count);
}

/** How many buckets a side takes: each index once (spans), or every index from the first to the last (dense). */
function width(side: Side, dense: boolean): number {
  const n = side.index.length;
  if (n === 0) return 0;
  return dense ? side.index[n - 1] - side.index[0] + 1 : n;
}

/**
 * The buckets of `cum` at its schema, lowered (and remembered) until they number at
 * most `maxBuckets`; `dense` counts every index between the first and last (OTLP
 * sends them all), otherwise each index holding something (remote write's spans).
 */
export function layout(cum: Cumulative, maxBuckets: number, { dense }: { dense: boolean }): Layout {
  const h = cum.h;
  for (;;) {
    const f = 2 ** (SCHEMA - cum.schema);
    const positive: Side = { index: [], count: [] };
    const negative: Side = { index: [], count: [] };
    let zero = 0;
    // Keys are sorted: negatives first (largest |v| first), then zero, then positives ascending.
    for (let i = 0; i < h.n; i++) {
      const key = h.keys[i];
      if (key === 0) zero += h.counts[i];
      else if (key > 0) push(positive, Math.ceil(indexOfKey(key) / f), h.counts[i]);
    }
    for (let i = h.n - 1; i >= 0; i--) {
      const key = h.keys[i];
      if (key < 0) push(negative, Math.ceil(indexOfKey(key) / f), h.counts[i]);
    }
    if (width(positive, dense) + width(negative, dense) <= maxBuckets || cum.schema === MIN_SCHEMA) {
      return { schema: cum.schema, zero, positive, negative };
    }
    cum.schema--;
  }
}

/**
 * A counter's total, or a measure's count and sum, as of its windows closed so far:
 * the cumulative figure less what its open windows hold. Late lines are in it (they
 * are in the cumulative figure and no window), as on /metrics.
 */
export function settled(s: Series): { count: number; sum: number } {
  let count = s.count;
  let sum = s.sum;
  const counter = s.metric.kind === COUNTER;
  for (let w = s.firstOpen; w !== null; w = w.next) {
    count -= counter ? w.sum : w.count;
    sum -= w.sum;
  }
  return { count, sum };
}
