// A stored row's bucket arrays, fetched as array_send's bytes (bytea, hex in the text
// protocol) and read straight into Int32Arrays (range-read.ts says why).

import pg from 'pg';

export const NO_INTS = new Int32Array(0);

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
/** A query's `types`: its bytea columns (array_send of an int4[]) parsed as Int32Arrays. */
export const SENT_TYPES = {
  getTypeParser: ((oid: number) => {
    if (oid === BYTEA) return sentArray;
    return pg.types.getTypeParser(oid, 'text');
  }) as unknown as typeof pg.types.getTypeParser,
};
