// Against a real Prometheus (Debian package `prometheus`, which has promtool):
// promtool accepts a scrape, and a Prometheus server scraping drainmeter answers
// PromQL with the values posted. Skips where Prometheus is missing; fails in CI.

import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { silentLogger } from '../../src/log.js';
import { type Running, serve } from '../../src/server/serve.js';
import { installed, sleep, startPrometheus } from '../support/real.js';
import { config } from './helpers.js';

const available = installed('the Prometheus tests', 'prometheus', ['promtool', '--version'], ['prometheus', '--version']);

describe.skipIf(!available)('with a real Prometheus', () => {
  let drain: Running;
  let base: string;
  let values: number[];

  beforeAll(async () => {
    // Grace 1 s and lines stamped around now: with grace 0, lines 500 ms old would be
    // late whenever the second had just turned (their window already due), and the
    // quantiles empty. (A flaky test, fixed.)
    drain = await serve(config({ PORT: '0', DRAINMETER_GRACE: '1' }), silentLogger);
    base = `http://127.0.0.1:${drain.port}`;
    values = Array.from({ length: 200 }, (_, i) => (i + 1) * 1.5);
    const now = Date.now();
    const messages = values.map((v, i) => syslog(iso(now - 100 + i), 'app', 'web.1', `measure#db.latency=${v}ms count#orders=2 sample#depth=${i} source=web.1`));
    const res = await fetch(`${base}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1' }, body: logplexBody(messages) });
    expect(res.status).toBe(204);
    // The last window ends by now + 1.1 s and closes 1 s later.
    await sleep(2600);
    const late = /drainmeter_late_lines_total\{app="default"\} (\d+)/.exec(await (await fetch(`${base}/metrics`)).text());
    expect(late?.[1]).toBe('0');
  });

  afterAll(async () => {
    await drain?.stop('test over');
  });

  it('promtool check metrics accepts a scrape with no problem', async () => {
    // promtool reads the text format only (the OpenMetrics exposition is checked
    // for shape in app.test.ts).
    const body = await (await fetch(`${base}/metrics`)).text();
    expect(body).toMatch(/db_latency_seconds\{app="default",source="web.1",quantile="0.99"\} \d/);
    expect(body).toContain('process_cpu_seconds_total');
    const out = execFileSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(out.trim()).toBe('');
  });

  it('a Prometheus server scraping drainmeter answers PromQL with the posted values', async () => {
    const prom = await startPrometheus(`global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: drainmeter\n    static_configs:\n      - targets: ['127.0.0.1:${drain.port}']\n`);
    const query = prom.query;
    try {
      let orders: number | null = null;
      for (let i = 0; i < 60 && orders === null; i++) {
        await sleep(500);
        orders = await query('orders_total{app="default",source="web.1"}');
      }
      expect(orders).toBe(400);
      const sorted = [...values].sort((a, b) => a - b);
      const p99 = sorted[Math.ceil(0.99 * sorted.length) - 1] / 1000;
      const got = await query('db_latency_seconds{quantile="0.99",source="web.1"}');
      expect(got).not.toBeNull();
      expect(Math.abs((got as number) - p99)).toBeLessThanOrEqual(0.01 * p99);
      expect(await query('db_latency_seconds_count{source="web.1"}')).toBe(200);
      expect(await query('depth{source="web.1"}')).toBe(199);
    } finally {
      prom.stop();
    }
  }, 60_000);
});
