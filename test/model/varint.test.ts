// model/varint.ts: the one varint and zigzag codec the walker, the push encoders,
// snappy and the receivers' payloads share.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readVarint, unzigzag, VARINT_TOO_LONG, VARINT_TRUNCATED, varintSize, writeVarint, zigzag } from '../../src/model/varint.js';

describe('varint', () => {
  it('reads back what it writes, in varintSize bytes, for every whole number below 2^53', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const buf = Buffer.alloc(12);
        const end = writeVarint(buf, 2, n);
        expect(end - 2).toBe(varintSize(n));
        const c = { buf, pos: 2 };
        expect(readVarint(c, end, 10)).toBe(n);
        expect(c.pos).toBe(end);
      }),
    );
  });

  it('writes protobuf bytes: 300 is ac 02', () => {
    const buf = Buffer.alloc(4);
    expect(writeVarint(buf, 0, 300)).toBe(2);
    expect([...buf.subarray(0, 2)]).toEqual([0xac, 0x02]);
  });

  it('reports a varint cut short and one too long, past every byte it read', () => {
    const cut = { buf: Buffer.from([0x80, 0x80]), pos: 0 };
    expect(readVarint(cut, 2, 10)).toBe(VARINT_TRUNCATED);
    expect(cut.pos).toBe(2);
    const long = { buf: Buffer.alloc(12, 0xff), pos: 0 };
    expect(readVarint(long, 12, 10)).toBe(VARINT_TOO_LONG);
    expect(long.pos).toBe(10);
  });

  it('zigzag: 0, -1, 1, -2 as 0, 1, 2, 3, and back for |n| below 2^52', () => {
    expect([0, -1, 1, -2].map(zigzag)).toEqual([0, 1, 2, 3]);
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 }), (n) => {
        expect(unzigzag(zigzag(n))).toBe(n);
      }),
    );
  });
});
