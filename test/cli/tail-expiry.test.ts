// A long `heroku logs -t | drainmeter tail`: series expire by the stream's clock, as
// serve's do by the wall clock, so sources that went quiet never fill series_limit.

import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { syslog } from '../../fixtures/heroku.js';
import { find, parseExposition } from '../server/helpers.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;
const T = Date.UTC(2026, 10, 21, 12, 0, 0);

it('expires series by the stream clock, so a stream of short-lived sources never hits series_limit', () => {
  // 300 seconds, a new source each second; 50 series at most, 10 s of TTL.
  const lines = Array.from({ length: 300 }, (_, i) => syslog(new Date(T + i * 1000).toISOString(), 'app', 'web.1', `count#hits=1 source=s${i}`));
  const r = spawnSync(process.execPath, [CLI, 'tail', '--format', 'prom', '--max-series', '50', '--series-ttl', '10', '-'], { input: lines.join(''), encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  const samples = parseExposition(r.stdout);
  expect(find(samples, 'drainmeter_rejected_total', { reason: 'series_limit' })[0].value).toBe(0);
  // Live at EOF: the sources of the last TTL (and the one sweep interval) only.
  const live = find(samples, 'drainmeter_series')[0].value;
  expect(live).toBeLessThanOrEqual(10 + 5 + 1);
  expect(find(samples, 'drainmeter_series_evicted_total')[0].value).toBe(300 - live);
});
