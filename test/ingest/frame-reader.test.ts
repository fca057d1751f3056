import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frame } from '../../fixtures/heroku.js';
import { FrameReader, type FrameSink } from '../../src/ingest/index.js';
import { split } from '../helpers.js';

class Collect implements FrameSink {
  readonly frames: string[] = [];
  frame(buf: Buffer, start: number, end: number): void {
    this.frames.push(buf.toString('latin1', start, end));
  }
}

function read(chunks: Buffer[], maxFrame = 1 << 20) {
  const sink = new Collect();
  const reader = new FrameReader(sink, maxFrame);
  for (const c of chunks) reader.push(c);
  reader.end();
  return { frames: sink.frames, good: reader.frames, bad: reader.badFrames, err: reader.err };
}

const MSG = '<174>1 2012-07-22T00:06:26+00:00 host erlang console - Hi from erlang\n';

describe('FrameReader', () => {
  it('reads the logplex documentation example: ten frames back to back', () => {
    const body = Buffer.from(frame(MSG).repeat(10));
    expect(body.toString().startsWith('70 <174>1')).toBe(true);
    const r = read([body]);
    expect(r.frames).toEqual(Array(10).fill(MSG));
    expect(r).toMatchObject({ good: 10, bad: 0, err: null });
  });

  it('reads a frame split at every byte position between two chunks', () => {
    const body = Buffer.from(frame(MSG) + frame('<1>1 - h a p - second\n'));
    for (let cut = 0; cut <= body.length; cut++) {
      const r = read([body.subarray(0, cut), body.subarray(cut)]);
      expect(r.frames, `cut at ${cut}`).toEqual([MSG, '<1>1 - h a p - second\n']);
      expect(r.bad).toBe(0);
    }
  });

  it('reads a body delivered one byte at a time', () => {
    const body = Buffer.from(frame(MSG).repeat(3));
    const r = read(split(body, [...body.keys()]));
    expect(r.frames).toEqual([MSG, MSG, MSG]);
  });

  it('skips a non-digit length, counts it, and reads the next frame', () => {
    const r = read([Buffer.from('abc <1>1 junk\n' + frame(MSG))]);
    expect(r).toMatchObject({ frames: [MSG], good: 1, bad: 1, err: 'FRAME_BAD_LENGTH' });
  });

  it('refuses a length with a leading zero (RFC 6587: NONZERO-DIGIT)', () => {
    const r = read([Buffer.from('070 ' + MSG + frame(MSG))]);
    expect(r).toMatchObject({ frames: [MSG], bad: 1, err: 'FRAME_BAD_LENGTH' });
  });

  it('refuses a ten-digit length as too long without buffering it', () => {
    const r = read([Buffer.from('1234567890 ' + MSG + frame(MSG))]);
    expect(r).toMatchObject({ frames: [MSG], bad: 1, err: 'FRAME_TOO_LONG' });
  });

  it('refuses a frame longer than maxFrame', () => {
    const r = read([Buffer.from(frame(MSG) + frame(MSG))], 50);
    expect(r).toMatchObject({ frames: [], bad: 2, err: 'FRAME_TOO_LONG' });
  });

  it('counts a length longer than the body as a truncated frame and keeps the frames before it', () => {
    const r = read([Buffer.from(frame(MSG) + '500 ' + MSG)]);
    expect(r).toMatchObject({ frames: [MSG], good: 1, bad: 1, err: 'FRAME_TRUNCATED' });
  });

  it('counts a body that ends inside a length as truncated', () => {
    const r = read([Buffer.from(frame(MSG) + '12')]);
    expect(r).toMatchObject({ frames: [MSG], bad: 1, err: 'FRAME_TRUNCATED' });
  });

  it('resynchronises after a length shorter than its message', () => {
    // "5 " takes `<174>` as the frame; then "1 2" reads as a one-byte frame (octet
    // counting cannot tell), "012-…" is a bad length, and the reader resynchronises
    // at the LF. The junk frames fail the syslog header check in Ingest.
    const r = read([Buffer.from('5 ' + MSG + frame(MSG))]);
    expect(r.frames).toEqual(['<174>', '2', MSG]);
    expect(r.bad).toBe(1);
  });

  it('tolerates line breaks between frames without counting them', () => {
    const r = read([Buffer.from(frame(MSG) + '\r\n\n' + frame(MSG))]);
    expect(r).toMatchObject({ frames: [MSG, MSG], bad: 0, err: null });
  });

  it('keeps the first error when several occur', () => {
    const r = read([Buffer.from('x\n' + '1234567890 \n' + frame(MSG))]);
    expect(r).toMatchObject({ bad: 2, err: 'FRAME_BAD_LENGTH' });
  });

  it('reads nothing from an empty body, without error', () => {
    expect(read([])).toMatchObject({ frames: [], good: 0, bad: 0, err: null });
  });

  it('never throws and always ends, on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 700 }), (bytes, maxFrame) => {
        const r = read([Buffer.from(bytes)], maxFrame);
        expect(r.good + r.bad).toBeLessThanOrEqual(bytes.length);
        for (const f of r.frames) expect(f.length).toBeLessThanOrEqual(maxFrame);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same frames, counts and error however the body is split into chunks', () => {
    const part = fc.oneof(
      fc.string({ maxLength: 40 }).map((s) => frame(s + '\n')),
      fc.constantFrom('x\n', '0 ', '99999999999 ', '\n', '12', ' ', '5 <1>'),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), fc.array(fc.nat({ max: 700 }), { maxLength: 8 }), (parts, cuts) => {
        const body = Buffer.from(parts.join(''));
        expect(read(split(body, cuts))).toEqual(read([body]));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns exactly the messages that were framed', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 80 }), { maxLength: 20 }), (messages) => {
        const body = Buffer.from(messages.map(frame).join(''));
        const r = read([body]);
        expect(r.frames.map((f) => Buffer.from(f, 'latin1').toString())).toEqual(messages);
        expect(r.bad).toBe(0);
      }),
    );
  });
});
