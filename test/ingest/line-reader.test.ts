import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FrameSink, LineReader } from '../../src/ingest/index.js';
import { split } from '../helpers.js';

class Collect implements FrameSink {
  readonly lines: string[] = [];
  frame(buf: Buffer, start: number, end: number): void {
    this.lines.push(buf.toString('latin1', start, end));
  }
}

function read(chunks: Buffer[], maxLine = 1 << 16) {
  const sink = new Collect();
  const reader = new LineReader(sink, maxLine);
  for (const c of chunks) reader.push(c);
  reader.end();
  return { lines: sink.lines, count: reader.lines, long: reader.longLines };
}

describe('LineReader', () => {
  it('splits on LF, drops a trailing CR, skips blank lines, and keeps a last line without LF', () => {
    const r = read([Buffer.from('a=1\r\nb=2\n\n\nc=3')]);
    expect(r).toEqual({ lines: ['a=1', 'b=2', 'c=3'], count: 3, long: 0 });
  });

  it('joins a line that spans chunks', () => {
    const r = read([Buffer.from('first=1\nsec'), Buffer.from('ond='), Buffer.from('2\nthird=3\n')]);
    expect(r.lines).toEqual(['first=1', 'second=2', 'third=3']);
  });

  it('skips and counts a line longer than maxLine, inside one chunk or across chunks', () => {
    const long = 'x'.repeat(100);
    expect(read([Buffer.from(`a=1\n${long}\nb=2\n`)], 50)).toEqual({ lines: ['a=1', 'b=2'], count: 2, long: 1 });
    const chunks = split(Buffer.from(`a=1\n${long}\nb=2\n`), [10, 40, 80]);
    expect(read(chunks, 50)).toEqual({ lines: ['a=1', 'b=2'], count: 2, long: 1 });
  });

  it('gives the same lines however the input is split into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('\n', '\r\n', 'x'.repeat(70))), { maxLength: 15 }),
        fc.array(fc.nat({ max: 400 }), { maxLength: 10 }),
        (parts, cuts) => {
          const body = Buffer.from(parts.join('\n'));
          expect(read(split(body, cuts), 64)).toEqual(read([body], 64));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
