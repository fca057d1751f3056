import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTimestamp } from '../../src/ingest/index.js';

function parse(text: string): number {
  const buf = Buffer.from(text);
  return parseTimestamp(buf, 0, buf.length);
}

describe('parseTimestamp (RFC 3339)', () => {
  it.each([
    ['2026-11-22T10:00:01Z', Date.UTC(2026, 10, 22, 10, 0, 1)],
    ['2026-11-22T10:00:01.123456+00:00', Date.UTC(2026, 10, 22, 10, 0, 1) + 123.456],
    ['2026-11-22T10:00:01.5Z', Date.UTC(2026, 10, 22, 10, 0, 1, 500)],
    ['2026-11-22T15:30:01+05:30', Date.UTC(2026, 10, 22, 10, 0, 1)],
    ['2026-11-22T02:00:01-08:00', Date.UTC(2026, 10, 22, 10, 0, 1)],
    ['2026-11-22t10:00:01z', Date.UTC(2026, 10, 22, 10, 0, 1)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['1970-01-01T00:00:00Z', 0],
    ['1969-12-31T23:59:59Z', -1000],
    ['2012-07-22T00:06:26+00:00', Date.UTC(2012, 6, 22, 0, 6, 26)],
  ])('reads %s', (text, ms) => {
    expect(parse(text)).toBeCloseTo(ms, 6);
  });

  it.each([
    '',
    '-',
    '2026-11-22',
    '2026-11-22T10:00:01',
    '2026-13-22T10:00:01Z',
    '2026-11-22T24:00:01Z',
    '2026-11-22T10:61:01Z',
    '2026-11-22 10:00:01Z',
    '2026/11/22T10:00:01Z',
    '2026-11-22T10:00:01.Z',
    '2026-11-22T10:00:01+0530',
    '2026-11-22T10:00:01+05:30x',
    'yesterday at noon, roughly',
  ])('rejects %j', (text) => {
    expect(parse(text)).toBeNaN();
  });

  it('agrees with Date for any instant from year 1 to 9998, in UTC and with an offset', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9998-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (date, offsetMin) => {
          expect(parse(date.toISOString())).toBe(date.getTime());
          // The same instant written in local time at another offset.
          const local = new Date(date.getTime() + offsetMin * 60_000).toISOString().slice(0, 23);
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          expect(parse(local + zone)).toBe(date.getTime());
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const t = parse(Buffer.from(bytes).toString('latin1'));
        expect(typeof t).toBe('number');
      }),
    );
  });
});
