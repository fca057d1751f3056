import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NumberReader } from '../../src/ingest/index.js';

const num = new NumberReader();

function read(text: string): { value: number; unit: string } | null {
  const buf = Buffer.from(text);
  if (!num.read(buf, 0, buf.length)) return null;
  return { value: num.value, unit: buf.toString('utf8', num.unitStart, num.unitEnd) };
}

describe('NumberReader', () => {
  it.each([
    ['21', 21, ''],
    ['-4.5', -4.5, ''],
    ['+3', 3, ''],
    ['1.5e3ms', 1500, 'ms'],
    ['1.5E-3s', 0.0015, 's'],
    ['8945836.0bytes', 8945836, 'bytes'],
    ['4045592.0kB', 4045592, 'kB'],
    ['21.00MB', 21, 'MB'],
    ['50%', 50, '%'],
    ['348836pages', 348836, 'pages'],
    ['12µs', 12, 'µs'],
    ['12μs', 12, 'μs'],
    ['.5', 0.5, ''],
    ['5.', 5, ''],
    ['0.1', 0.1, ''],
    ['5em', 5, 'em'],
    ['1e', 1, 'e'],
    ['007', 7, ''],
    ['90071992547409934', 90071992547409934, ''],
    ['0.30000000000000004', 0.30000000000000004, ''],
    ['1e-400', 0, ''],
  ])('reads %s', (text, value, unit) => {
    expect(read(text)).toEqual({ value, unit });
  });

  it.each(['', '-', '.', 'NaN', 'Infinity', '-Infinity', '0x10', 'abc', '5req/s', '1.2.3', '1e999', '--1', '5 ms', '5_ms', 'µ5', '½'])(
    'rejects %j',
    (text) => {
      expect(read(text)).toBeNull();
    },
  );

  it('reads every double exactly as Number() does, from its shortest decimal form', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const text = String(x);
        const got = read(text);
        expect(got?.value).toBe(Number(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('reads any decimal written with digits, fraction and exponent as Number() does', () => {
    const digits = fc.stringMatching(/^[0-9]{1,25}$/);
    fc.assert(
      fc.property(
        fc.constantFrom('', '-', '+'),
        digits,
        fc.option(digits),
        fc.option(fc.integer({ min: -330, max: 330 })),
        fc.constantFrom('', 'ms', 'kB', '%'),
        (sign, int, frac, exp, unit) => {
          const numText = `${sign}${int}${frac === null ? '' : '.' + frac}${exp === null ? '' : 'e' + exp}`;
          const expected = Number(numText);
          const got = read(numText + unit);
          if (!Number.isFinite(expected)) expect(got).toBeNull();
          else expect(got).toEqual({ value: expected, unit });
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('scales to base units with one rounding: 4.2ms is 0.0042 seconds, not 4.2 / 1000', () => {
    const buf = Buffer.from('4.2ms');
    expect(num.read(buf, 0, buf.length)).toBe(true);
    expect(num.scaled(3)).toBe(0.0042);
    expect(4.2 / 1000).not.toBe(0.0042);
  });

  it('scales any decimal of up to 15 digits by a power of ten as Number() reads the shifted decimal', () => {
    const digits = fc.stringMatching(/^[0-9]{1,7}$/);
    fc.assert(
      fc.property(fc.constantFrom('', '-'), digits, digits, fc.integer({ min: -30, max: 30 }), fc.constantFrom(0, 3, 6, 9), (sign, int, frac, exp, shift) => {
        const text = `${sign}${int}.${frac}e${exp}`;
        const buf = Buffer.from(text);
        expect(num.read(buf, 0, buf.length)).toBe(true);
        expect(num.scaled(shift)).toBe(Number(`${sign}${int}.${frac}e${exp - shift}`));
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws and never reads outside its range, on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const buf = Buffer.concat([Buffer.from(bytes), Buffer.from([0xb5, 0x30])]);
        if (num.read(buf, 0, bytes.length)) {
          expect(num.unitEnd).toBe(bytes.length);
          expect(Number.isFinite(num.value)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
