import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generate, syslogMessages } from '../../fixtures/corpus.js';
import { frame, logplexBody, ROUTER_INFO, syslog } from '../../fixtures/heroku.js';
import { feedLogplex, named, newRun, split } from '../helpers.js';

const TS = '2026-11-22T10:00:01.123456+00:00';

describe('a whole logplex body', () => {
  it('reads a generated drain: every line, no rejection, one request per router line', () => {
    const lines = generate(3000, { seed: 7 });
    const r = newRun();
    const reader = feedLogplex(r, [logplexBody(syslogMessages(lines))], 'shop');
    expect(reader.frames).toBe(3000);
    expect(r.ingest.stats.lines).toBe(3000);
    expect(r.ingest.stats.rejectedTotal()).toBe(0);
    const routerLines = lines.filter((l) => l.app === 'heroku' && l.proc === 'router').length;
    expect(named(r.sink.seen, 'heroku_router_requests_total')).toHaveLength(routerLines);
    const counted = lines.filter((l) => l.message.includes('count#orders.created=')).map((l) => Number(/count#orders\.created=(\d+)/.exec(l.message)?.[1]));
    const seen = named(r.sink.seen, 'orders_created_total').map((o) => o.value);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(counted.reduce((a, b) => a + b, 0));
    expect(r.sink.seen.every((o) => o.app === 'shop')).toBe(true);
  });

  it('counts the good frames of a body with malformed ones, and the junk as bad_frame', () => {
    const good = syslog(TS, 'heroku', 'router', ROUTER_INFO);
    const body = Buffer.from(frame(good) + 'garbage\n' + frame('not syslog at all\n') + '5 ' + good + frame(good));
    const r = newRun();
    const reader = feedLogplex(r, [body]);
    expect(named(r.sink.seen, 'heroku_router_requests_total')).toHaveLength(2);
    expect(reader.err).toBe('FRAME_BAD_LENGTH');
    // garbage and `012-…` are bad lengths; `not syslog`, `<158>` and `2` fail the header.
    expect(r.ingest.stats.rejections()).toEqual({ bad_frame: 5 });
    expect(r.ingest.stats.lines).toBe(2);
  });

  it('gives the same observations and counts however the body is split into chunks', () => {
    const messages = syslogMessages(generate(40, { seed: 11 }));
    const junk = ['x\n', '99999999999 ', '3 abc', '0 ', '\n', 'count#x=1\n'];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...messages).map(frame), fc.constantFrom(...junk)), { maxLength: 25 }),
        fc.array(fc.nat({ max: 8000 }), { maxLength: 12 }),
        (parts, cuts) => {
          const body = Buffer.from(parts.join(''));
          const whole = newRun();
          feedLogplex(whole, [body]);
          const pieces = newRun();
          feedLogplex(pieces, split(body, cuts));
          expect(pieces.sink.seen).toEqual(whole.sink.seen);
          expect(pieces.ingest.stats).toEqual(whole.ingest.stats);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes, and counts every frame it reads as a line or a bad frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (bytes) => {
        const r = newRun();
        const reader = feedLogplex(r, [Buffer.from(bytes)]);
        const s = r.ingest.stats;
        expect(s.lines + s.rejected[0]).toBe(reader.frames + reader.badFrames);
      }),
      { numRuns: 2000 },
    );
  });
});
