// Conformance over real platform lines (fixtures/heroku-real.ts): every line gives
// exactly the metrics the documentation says, at the line's own time, through the
// logplex framing it arrived in (or as `heroku logs` text), and nothing is rejected.

import { describe, expect, it } from 'vitest';
import { frame } from '../../fixtures/heroku.js';
import { type Expected, REAL_LINES } from '../../fixtures/heroku-real.js';
import { feedLines, feedLogplex, newRun, type Observation } from '../helpers.js';

const key = (o: Expected | Observation) => JSON.stringify([o.name, o.labels, o.value]);
const sorted = (xs: (Expected | Observation)[]) => xs.map(key).sort();

describe('real Heroku lines', () => {
  for (const c of REAL_LINES) {
    it(`${c.from}`, () => {
      const r = newRun();
      if (c.shape === 'syslog') {
        const reader = feedLogplex(r, [Buffer.from(frame(c.line + '\n'))], 'shop');
        expect(reader.err).toBeNull();
      } else {
        feedLines(r, [c.line], 'shop');
      }
      expect(r.ingest.stats.lines).toBe(1);
      expect(sorted(r.sink.seen)).toEqual(sorted(c.metrics));
      expect(r.ingest.stats.rejections()).toEqual({});
      const at = Date.parse(c.time);
      for (const o of r.sink.seen) {
        expect(o.app).toBe('shop');
        expect(Math.abs(o.time - at)).toBeLessThan(1); // the line's time, to the millisecond
      }
    });
  }

  it('reads every line the same in one body as alone', () => {
    const r = newRun();
    const body = REAL_LINES.filter((c) => c.shape === 'syslog').map((c) => frame(c.line + '\n'));
    feedLogplex(r, [Buffer.from(body.join(''))], 'shop');
    const want = REAL_LINES.filter((c) => c.shape === 'syslog').flatMap((c) => c.metrics);
    expect(sorted(r.sink.seen)).toEqual(sorted(want));
  });
});
