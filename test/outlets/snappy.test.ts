// Our snappy block compressor, decoded by an independent implementation (snappyjs):
// any bytes come back the same, and repetitive input gets smaller.

import fc from 'fast-check';
import SnappyJS from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { snappyBlock, snappyCompress, snappyPiece } from '../../src/outlets/snappy.js';

const roundTrip = (b: Buffer) => Buffer.from(SnappyJS.uncompress(snappyCompress(b)));

describe('snappy block compression', () => {
  it('round-trips any bytes through an independent decoder (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => {
        expect(roundTrip(Buffer.from(bytes)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips repetitive text across 64 KB fragments, and compresses it', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('app', 'shop', 'db_latency_seconds', 'instance', 'web.1', '\u0000', 'é'), { minLength: 1, maxLength: 40_000 }), (words) => {
        const b = Buffer.from(words.join(''));
        expect(roundTrip(b).equals(b)).toBe(true);
      }),
      { numRuns: 30 },
    );
    const big = Buffer.from('__name__ app shop db_latency_seconds instance web.1 '.repeat(10_000));
    expect(roundTrip(big).equals(big)).toBe(true);
    expect(snappyCompress(big).length).toBeLessThan(big.length / 10);
    expect(roundTrip(Buffer.alloc(0)).length).toBe(0);
  });

  it('pieces compressed apart and joined decode to their inputs joined (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.constantFrom(Buffer.from('instance web.1 '.repeat(9000)))), { maxLength: 4 }), (parts) => {
        const bufs = parts.map((p) => Buffer.from(p));
        const joined = Buffer.from(SnappyJS.uncompress(snappyBlock(bufs.map(snappyPiece))));
        expect(joined.equals(Buffer.concat(bufs))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
