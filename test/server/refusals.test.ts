// Nothing is lost silently: a refusal inside a 204 is counted and, rate-limited,
// said in the log with the app and the reason.

import { expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { stdoutLogger } from '../../src/log.js';
import { refusalReporter } from '../../src/server/refusals.js';
import { server, T0 } from './helpers.js';

it('says each refusal in the log once, by app and reason, at most 20 lines a report', async () => {
  const s = server();
  const lines: string[] = [];
  const report = refusalReporter(s.aggregator.apps, stdoutLogger((l) => lines.push(l)));
  const post = (app: string, message: string) =>
    s.app.request('/logs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/logplex-1', Authorization: 'Basic ' + Buffer.from(`${app}:x`).toString('base64') },
      body: logplexBody([syslog(iso(T0), 'app', 'web.1', message)]),
    });
  expect((await post('shop', 'measure#a=abc measure#b=NaN count#ok=1')).status).toBe(204);
  report();
  expect(lines).toEqual(['at=warn msg=refused app=shop reason=bad_value lines=2 seconds=10']);
  report();
  expect(lines).toHaveLength(1); // told once
  // Many apps at once: 20 lines, then one saying how many more.
  for (let i = 0; i < 25; i++) expect((await post(`app${i}`, 'measure#a=abc')).status).toBe(204);
  lines.length = 0;
  report();
  expect(lines).toHaveLength(21);
  expect(lines[20]).toBe('at=warn msg="refused, more" reports=5 seconds=10 see="drainmeter_rejected_total on /metrics"');
});
