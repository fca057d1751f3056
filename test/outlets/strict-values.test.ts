// Property: whatever values and snake_case names a tenant sends (negative, zero,
// huge, tiny, units that scale them, names ending in a suffix Prometheus gives
// another type: _sum, _count, _bucket, _total, _created, _info), every exposition
// passes promtool with nothing to say (exit 0: no error, no lint) and the Python
// OpenMetrics parser. How: docs/cli.md ("Strict expositions").

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { openMetricsErrors, promtool, strictAvailable } from '../support/strict.js';
import { server, T0 } from '../server/helpers.js';

const RUNS = process.env.CI === 'true' ? 60 : 25;

const stem = fc.tuple(fc.constantFrom('q', 'clock_skew', 'jobs'), fc.constantFrom('', '_sum', '_count', '_bucket', '_total', '_created', '_info')).map(([a, b]) => a + b);
const value = fc.oneof(
  fc.constantFrom('-4.5', '0', '-0', '1e300', '-1e300', '1e-300', '-1e-300', '5e-324', '1.7976931348623157e308', '-2.5e3', '7'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => String(v)),
);
// GB on 1e300 is not finite after scaling: refused as bad_value, never written.
const unit = fc.constantFrom('', '', 'ms', 's', 'GB', '%', 'pages');
const kind = fc.constantFrom('measure#', 'count#', 'sample#');
const key = fc.tuple(kind, stem, value, unit).map(([k, s, v, u]) => `${k}${s}=${v}${u}`);

describe.skipIf(!strictAvailable)('strict parsers accept every value and suffix', () => {
  it('for arbitrary values, negative ones included, and names ending in another type\'s suffix', async () => {
    const cases: { om: string; input: unknown }[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(key, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 }), async (lines) => {
        const s = server();
        const res = await s.app.request('/logs', {
          method: 'POST',
          headers: { 'Content-Type': 'application/logplex-1', Authorization: 'Basic ' + Buffer.from('shop:x').toString('base64') },
          body: logplexBody(lines.map((keys) => syslog(iso(T0), 'app', 'web.1', `${keys.join(' ')} source=web.1`))),
        });
        expect(res.status).toBe(204);
        s.clock.now = T0 + 5000; // windows closed: summaries with quantiles
        const text = await (await s.app.request('/metrics')).text();
        const om = await (await s.app.request('/metrics', { headers: { Accept: 'application/openmetrics-text' } })).text();
        cases.push({ om, input: lines });
        expect(promtool(text), JSON.stringify(lines)).toEqual({ error: '', lint: [] });
      }),
      { numRuns: RUNS },
    );
    const errors = openMetricsErrors(cases.map((c) => c.om));
    const failed = errors.map((e, i) => (e === null ? null : { error: e, input: cases[i].input })).filter((x) => x !== null);
    expect(failed).toEqual([]);
  }, 120_000);

  it('writes a negative measure (clock skew) that both parsers accept', async () => {
    const s = server();
    await s.app.request('/logs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/logplex-1', Authorization: 'Basic ' + Buffer.from('shop:x').toString('base64') },
      body: logplexBody([syslog(iso(T0), 'app', 'web.1', 'measure#clock.skew=-4.5ms measure#clock.skew=2ms sample#q_sum=3 source=web.1')]),
    });
    s.clock.now = T0 + 5000;
    const text = await (await s.app.request('/metrics')).text();
    const om = await (await s.app.request('/metrics', { headers: { Accept: 'application/openmetrics-text' } })).text();
    expect(promtool(text)).toEqual({ error: '', lint: [] });
    expect(openMetricsErrors([om])).toEqual([null]);
    // The values are the ones sent: the minimum is -4.5 ms, the sum -2.5 ms.
    expect(text).toContain('clock_skew_seconds{app="shop",source="web.1",quantile="0"} -0.0045\n');
    expect(Number(/^clock_skew_seconds_sum\{app="shop",source="web.1"\} (\S+)$/m.exec(om)?.[1])).toBeCloseTo(-0.0025, 12);
    // A gauge named like a summary's sum gets `_value`.
    expect(text).toContain('q_sum_value{app="shop",source="web.1"} 3\n');
  });
});
