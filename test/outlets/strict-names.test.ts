// Property (docs/limits.md): whatever metric names apps send, in whatever order and kind —
// the suffix tricks (`x` and `x_count`, `z` and `z_total`, `h` and `h_created`),
// reserved prefixes, units that add suffixes, drain prefixes — every exposition is
// accepted by the strict parsers: promtool for the text format (parse errors never;
// lint only on names an app chose) and the Python OpenMetrics parser.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { openMetricsErrors, strictAvailable, strictProblems } from '../support/strict.js';
import { server, T0 } from '../server/helpers.js';

const RUNS = process.env.CI === 'true' ? 60 : 25;

// Few stems and many suffixes, so that names collide often within a run.
const base = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('x', 'z', 'h'), fc.constantFrom('', '_count', '_sum', '_total', '_created', '_bucket', '_info')).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.constantFrom('a:b', '1abc', 'é.x', 'drainmeter_lines', 'drainmeter.series', 'process_resident_memory', 'nodejs_heap', 'heroku.router.requests', 'heroku_dyno_x', 'quantile') },
);
const unit = fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('ms', 's', 'B', 'kB', '%', 'req', 'total', 'count', 'sum', 'created') });
const kind = fc.constantFrom('measure#', 'count#', 'sample#');
const key = fc.tuple(kind, base, unit, fc.integer({ min: 1, max: 9 })).map(([k, b, u, v]) => `${k}${b}=${v}${u}`);
const batch = fc.record({
  app: fc.constantFrom('one', 'two', 'three'),
  prefix: fc.constantFrom('', 'x', 'heroku', 'drainmeter', 'z.total'),
  keys: fc.array(key, { minLength: 1, maxLength: 6 }),
  source: fc.constantFrom('', 'web.1', 'we"b\\1', 'ünï'),
});

describe.skipIf(!strictAvailable)('strict parsers accept every exposition', () => {
  it('for arbitrary sets of app metric names', async () => {
    const cases: { text: string; om: string; input: unknown }[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 8 }), async (batches) => {
        const s = server();
        for (const b of batches) {
          const msg = `${b.keys.join(' ')}${b.source === '' ? '' : ` source="${b.source.replace(/["\\]/g, '\\$&')}"`}`;
          const res = await s.app.request(`/logs${b.prefix === '' ? '' : `?prefix=${b.prefix}`}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/logplex-1', Authorization: 'Basic ' + Buffer.from(`${b.app}:x`).toString('base64') },
            body: logplexBody([syslog(iso(T0), 'app', 'web.1', msg)]),
          });
          expect(res.status).toBe(204);
        }
        s.clock.now = T0 + 5000; // windows closed: summaries with quantiles
        const text = await (await s.app.request('/metrics')).text();
        const om = await (await s.app.request('/metrics', { headers: { Accept: 'application/openmetrics-text' } })).text();
        cases.push({ text, om, input: batches });
        // promtool here, per case; the OpenMetrics parser once for all cases below.
        expect(strictProblems(text, '# EOF\n'), JSON.stringify(batches)).toBe('');
      }),
      { numRuns: RUNS },
    );
    const errors = openMetricsErrors(cases.map((c) => c.om));
    const failed = errors.map((e, i) => (e === null ? null : { error: e, input: cases[i].input })).filter((x) => x !== null);
    expect(failed).toEqual([]);
  }, 120_000);
});
