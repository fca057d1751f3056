// The whole POST /logs handler under arbitrary bodies and headers: no crash, no
// exception escaping (that would be a 500), a status from the documented set, and
// nothing counted for a refused body.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { frame, syslog } from '../../fixtures/heroku.js';
import { basic, SECRET, server } from './helpers.js';

const STATUSES = new Set([204, 400, 401, 413, 415, 503]);
// Enough cases in CI to matter; fewer on a laptop.
const RUNS = Number(process.env.FUZZ_RUNS ?? (process.env.CI === 'true' ? 20_000 : 3000));

const part = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.string({ maxLength: 200 }).map((m) => frame(m)),
  fc.string({ maxLength: 120 }).map((m) => frame(syslog(iso(Date.UTC(2026, 10, 22, 10)), 'app', 'web.1', m))),
  fc.constantFrom('99999999999 ', '0 ', '\n', '<190>1 - - - - - count#x=1\n', 'count#x=NaN', '\u0000'),
);

/** Lines, series and every series' cumulative count: what an accepted body changes. */
function counted(s: ReturnType<typeof server>): number[] {
  let lines = 0;
  let total = 0;
  for (const a of s.aggregator.apps.values()) {
    lines += a.lines;
    for (const x of a.each()) total += x.count;
  }
  return [lines, s.aggregator.seriesCount, total];
}

const header = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', ' ', 'Basic', 'Basic !!!', 'Bearer x', '\u0000'));

describe('fuzzing POST /logs', () => {
  it('answers every request with a documented status, never an error', async () => {
    const s = server({ DRAINMETER_SECRETS: SECRET, DRAINMETER_MAX_BODY: '4096' });
    await fc.assert(
      fc.asyncProperty(
        fc.array(part, { maxLength: 12 }),
        fc.constantFrom('application/logplex-1', 'text/plain', 'application/logplex-1; charset=utf-8', 'text/html', ''),
        fc.oneof(fc.constant(basic('shop')), header),
        fc.option(header),
        fc.option(fc.stringMatching(/^[a-z0-9=&?.:-]{0,30}$/)),
        async (parts, type, authorization, frameId, query) => {
          const headers: Record<string, string> = {};
          const safe = (v: string) => /^[\t\x20-\x7e]*$/.test(v) && v.trim() === v;
          if (safe(type)) headers['Content-Type'] = type;
          if (safe(authorization)) headers.Authorization = authorization;
          if (frameId !== null && safe(frameId)) headers['Logplex-Frame-Id'] = frameId;
          const before = counted(s);
          const res = await s.app.request(`/logs${query === null ? '' : `?${query}`}`, { method: 'POST', headers, body: parts.join('') });
          expect(STATUSES.has(res.status), `status ${res.status}: ${await res.text()}`).toBe(true);
          // A refused body counts no line and makes or moves no series.
          if (res.status !== 204) expect(counted(s)).toEqual(before);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});
