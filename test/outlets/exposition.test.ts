// The exposition writer's number text: what Prometheus and the OpenMetrics parser read
// back must be the value, whichever of its paths (digits, a bucket's kept text, a
// string) wrote it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { valueOf } from '../../src/aggregate/buckets.js';
import { ByteWriter } from '../../src/outlets/exposition.js';

/** Each value as a line; a value given as [key] is bucket `key`'s, written by bucket(). */
function written(values: (number | [number])[]): string[] {
  const out = new ByteWriter();
  for (const v of values) {
    if (typeof v === 'number') out.value(v);
    else out.bucket(v[0]);
    out.ascii('\n');
  }
  return Buffer.concat(out.finish()).toString('latin1').split('\n').slice(0, -1);
}

/** The exposition formats' text of a value (Prometheus text format, OpenMetrics). */
function expected(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

describe('ByteWriter.value', () => {
  it('writes every kind of value as the formats spell it, and reads back to the same double', () => {
    const any = fc.oneof(
      fc.double(),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 + 10 }),
      fc.nat({ max: 100 }),
      fc.maxSafeInteger(),
      fc.constantFrom(0, -0, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e21, 1e-7, NaN, Infinity, -Infinity),
    );
    fc.assert(
      fc.property(fc.array(any, { minLength: 1, maxLength: 50 }), (values) => {
        // Twice: the second time bucket values come from the text kept the first time.
        const doubled = [...values, ...values];
        const lines = written(doubled);
        expect(lines).toEqual(doubled.map(expected));
        lines.forEach((line, i) => {
          const back = line === '+Inf' ? Infinity : line === '-Inf' ? -Infinity : Number(line);
          expect(Object.is(back, doubled[i]) || (back === 0 && doubled[i] === 0)).toBe(true);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a bucket by the text of its value, the first time and after', () => {
    const key = fc.oneof(fc.integer({ min: 1, max: 2 ** 21 }), fc.integer({ min: -(2 ** 21), max: -1 }));
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 20 }), (keys) => {
        const twice = [...keys, ...keys];
        expect(written(twice.map((k) => [k]))).toEqual(twice.map((k) => expected(valueOf(k))));
      }),
      { numRuns: 1000 },
    );
  });

  it('spans chunk boundaries without losing a byte', () => {
    const values = Array.from({ length: 20_000 }, (_, i) => (i % 3 === 0 ? i : i % 3 === 1 ? [(1 << 20) + (i % 500)] : i / 7)) as (number | [number])[];
    expect(written(values)).toEqual(values.map((v) => (typeof v === 'number' ? expected(v) : expected(valueOf(v[0])))));
  });

  it('writes a span again as it was, whether or not a new buffer began since', () => {
    // Pieces of up to 3 KB: 64 KB buffers fill, and the next begins before a span,
    // inside it, or between it and its copies.
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '{', '"', '9'), maxLength: 3000, size: 'max' });
    const piece = fc.record({ a: text, b: text, between: text, copies: fc.nat({ max: 3 }), reserve: fc.boolean() });
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 100, size: 'max' }), (pieces) => {
        const out = new ByteWriter();
        let expected = '';
        for (const p of pieces) {
          if (p.reserve) out.reserve((p.a.length + p.b.length) * (p.copies + 1));
          out.span(Buffer.from(p.a, 'latin1'), Buffer.from(p.b, 'latin1'));
          expected += p.a + p.b;
          for (let c = 0; c < p.copies; c++) {
            out.again();
            out.ascii(p.between);
            expected += p.a + p.b + p.between;
          }
        }
        const got = Buffer.concat(out.finish()).toString('latin1');
        if (got !== expected) {
          // Where they part, not the whole of both (a diff of megabytes takes minutes).
          let i = 0;
          while (got[i] === expected[i]) i++;
          throw new Error(`${got.length} bytes written, ${expected.length} expected; from byte ${i}: ${JSON.stringify(got.slice(i, i + 30))}, expected ${JSON.stringify(expected.slice(i, i + 30))}`);
        }
      }),
      { numRuns: 40, endOnFailure: true }, // shrinking megabytes of pieces takes minutes
    );
  });
});
