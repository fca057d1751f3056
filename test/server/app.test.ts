import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { iso, prng } from '../../fixtures/corpus.js';
import { frame, logplexBody, ROUTER_INFO, syslog } from '../../fixtures/heroku.js';
import { REASONS } from '../../src/model/index.js';
import { sweep } from '../../src/pipeline.js';
import { openMetrics, promtool, strictAvailable } from '../support/strict.js';
import { basic, find, parseExposition, SECRET, server, T0 } from './helpers.js';

const LOGPLEX = 'application/logplex-1';

async function post(s: ReturnType<typeof server>, body: Buffer | string, headers: Record<string, string> = {}, path = '/logs') {
  return s.app.request(path, { method: 'POST', headers: { 'Content-Type': LOGPLEX, ...headers }, body });
}

async function scrape(s: ReturnType<typeof server>, headers: Record<string, string> = {}) {
  const res = await s.app.request('/metrics', { headers });
  return { res, samples: res.status === 200 ? parseExposition(await res.text()) : [] };
}

function exactRank(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (q <= 0) return sorted[0];
  if (q >= 1) return sorted[sorted.length - 1];
  return sorted[Math.ceil(q * sorted.length) - 1];
}

describe('POST /logs to GET /metrics, end to end', () => {
  it('several apps: counters, last values, _sum and _count exact; quantiles within 1% of exact nearest rank', async () => {
    const s = server({ DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: 'admin-token' });
    const rand = prng(3);
    const latencies: Record<string, number[]> = { shop: [], blog: [] };
    const orders: Record<string, number> = { shop: 0, blog: 0 };
    const lastDepth: Record<string, number> = {};
    for (let batch = 0; batch < 10; batch++) {
      for (const app of ['shop', 'blog']) {
        const messages: string[] = [];
        for (let i = 0; i < 100; i++) {
          const t = T0 + batch * 1000 + i * 9;
          const ms = Math.round(rand() * rand() * 200000) / 100;
          const n = 1 + Math.floor(rand() * 4);
          latencies[app].push(ms / 1000);
          orders[app] += n;
          lastDepth[app] = batch * 100 + i;
          messages.push(syslog(iso(t), 'app', 'web.1', `measure#db.latency=${ms}ms count#orders=${n} sample#depth=${lastDepth[app]} source=web.1`));
        }
        s.clock.now = T0 + batch * 1000 + 950;
        const res = await post(s, logplexBody(messages), { Authorization: basic(app), 'Logplex-Frame-Id': `${app}-${batch}` });
        expect(res.status).toBe(204);
      }
    }
    s.clock.now = T0 + 13_000; // every window closed (10 s of data + grace 2)
    const { samples } = await scrape(s, { Authorization: 'Bearer admin-token' });
    for (const app of ['shop', 'blog']) {
      const labels = { app, source: 'web.1' };
      expect(find(samples, 'orders_total', labels).map((x) => x.value)).toEqual([orders[app]]);
      expect(find(samples, 'depth', labels).map((x) => x.value)).toEqual([lastDepth[app]]);
      expect(find(samples, 'db_latency_seconds_count', labels).map((x) => x.value)).toEqual([1000]);
      const sum = find(samples, 'db_latency_seconds_sum', labels)[0].value;
      expect(sum).toBeCloseTo(latencies[app].reduce((a, b) => a + b, 0), 9);
      for (const q of [0, 0.5, 0.95, 0.99, 1]) {
        const got = find(samples, 'db_latency_seconds', { ...labels, quantile: String(q) })[0].value;
        const truth = exactRank(latencies[app], q);
        expect(Math.abs(got - truth), `${app} q=${q}: ${got} vs ${truth}`).toBeLessThanOrEqual(0.01 * truth);
      }
      expect(find(samples, 'drainmeter_lines_total', { app }).map((x) => x.value)).toEqual([1000]);
    }
  });

  it('counts a retried Logplex-Frame-Id once, per app', async () => {
    const s = server();
    const body = logplexBody([syslog(iso(T0), 'app', 'web.1', 'count#orders=1')]);
    for (let i = 0; i < 3; i++) expect((await post(s, body, { 'Logplex-Frame-Id': 'F1' })).status).toBe(204);
    expect((await post(s, body, { 'Logplex-Frame-Id': 'F1', Authorization: basic('other', 'anything') })).status).toBe(204);
    const { samples } = await scrape(s);
    expect(find(samples, 'orders_total', { app: 'default' })[0].value).toBe(1);
    expect(find(samples, 'orders_total', { app: 'other' })[0].value).toBe(1);
    expect(find(samples, 'drainmeter_duplicate_batches_total', { app: 'default' })[0].value).toBe(2);
  });

  it('takes the same Frame-Id again after ten minutes', async () => {
    const s = server();
    const body = logplexBody([syslog(iso(T0), 'app', 'web.1', 'count#orders=1')]);
    await post(s, body, { 'Logplex-Frame-Id': 'F1' });
    s.clock.now += 10 * 60_000 + 1;
    await post(s, body, { 'Logplex-Frame-Id': 'F1' });
    const { samples } = await scrape(s);
    expect(find(samples, 'orders_total')[0].value).toBe(2);
  });

  it('answers 204 to a body with good and malformed frames, and counts the good ones', async () => {
    const s = server();
    const good = syslog(iso(T0), 'heroku', 'router', ROUTER_INFO);
    const res = await post(s, Buffer.from(frame(good) + 'garbage\n' + frame('not syslog\n') + frame(good)));
    expect(res.status).toBe(204);
    const { samples } = await scrape(s);
    expect(find(samples, 'heroku_router_requests_total', { status: '201' })[0].value).toBe(2);
    expect(find(samples, 'drainmeter_rejected_total', { reason: 'bad_frame' })[0].value).toBe(2);
  });

  it('reads text/plain bodies in any line format, and takes ?prefix and ?resolution', async () => {
    const s = server();
    const body = [`${iso(T0)} app[web.1]: count#a=2`, 'count#a=3', syslog(iso(T0), 'app', 'web.1', 'count#a=4')].join('\n');
    const res = await post(s, body, { 'Content-Type': 'text/plain; charset=utf-8' }, '/logs?prefix=shop&resolution=60');
    expect(res.status).toBe(204);
    const { samples } = await scrape(s);
    expect(find(samples, 'shop_a_total')[0].value).toBe(9);
  });
});

describe('status codes (docs/http-api.md)', () => {
  const body = logplexBody([syslog(iso(T0), 'app', 'web.1', 'count#x=1')]);

  it('400: a body with no usable frame says why in one line', async () => {
    const s = server();
    const res = await post(s, 'this is not octet counted');
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('no usable frame: FRAME_BAD_LENGTH\n');
    expect((await post(s, '')).status).toBe(400);
    expect((await post(s, body, {}, '/logs?resolution=7')).status).toBe(400);
    expect((await post(s, body, {}, '/logs?prefix=' + encodeURIComponent('no spaces'))).status).toBe(400);
  });

  it('401: missing or wrong drain credentials when secrets are set', async () => {
    const s = server({ DRAINMETER_SECRETS: SECRET });
    expect((await post(s, body)).status).toBe(401);
    expect((await post(s, body, { Authorization: basic('shop', 'wrong') })).status).toBe(401);
    expect((await post(s, body, { Authorization: basic('bad name!') })).status).toBe(401);
    const res = await post(s, body, { Authorization: basic('shop') });
    expect(res.status).toBe(204);
  });

  it('verifies against every secret, so keys can rotate', async () => {
    const s = server({ DRAINMETER_SECRETS: `new-secret-0123456789,${SECRET}` });
    expect((await post(s, body, { Authorization: basic('shop') })).status).toBe(204);
  });

  it('413: a body over DRAINMETER_MAX_BODY, by Content-Length or by bytes read', async () => {
    const s = server({ DRAINMETER_MAX_BODY: '2048' });
    const big = logplexBody(Array(40).fill(syslog(iso(T0), 'app', 'web.1', 'count#x=1')));
    expect((await post(s, big)).status).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(big.subarray(0, 1500));
        c.enqueue(big.subarray(1500));
        c.close();
      },
    });
    const res = await s.app.request('/logs', { method: 'POST', headers: { 'Content-Type': LOGPLEX }, body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    const { samples } = await scrape(s);
    expect(find(samples, 'x_total')).toEqual([]);
  });

  it('415: any other content type', async () => {
    const s = server();
    for (const type of ['application/json', 'application/logplex-2', 'application/x-www-form-urlencoded', 'text/html', '']) {
      expect((await post(s, body, { 'Content-Type': type })).status).toBe(415);
    }
  });

  it('503 with Retry-After: overloaded, and nothing of that body counted', async () => {
    const s = server({ DRAINMETER_MAX_INFLIGHT: '1024' });
    const big = logplexBody(Array(20).fill(syslog(iso(T0), 'app', 'web.1', 'count#x=1')));
    const res = await post(s, big);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const { samples } = await scrape(s);
    expect(find(samples, 'x_total')).toEqual([]);
  });

  it('503 with Retry-After while shutting down; /healthz says so too', async () => {
    const s = server();
    expect(await (await s.app.request('/healthz')).text()).toBe('ok\n');
    s.state.draining = true;
    const res = await post(s, body);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect((await s.app.request('/healthz')).status).toBe(503);
  });

  it('the dashboard data answers 400 naming a parameter out of range, and holds at most `limit` series', async () => {
    const s = server();
    const h = (q: string) => s.app.request(`/dashboard/history.json?${q}`);
    for (const [q, named] of [['since=soon', 'since'], ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=-3', 'limit'], ['app=a%20b', 'app'], ['metric=1x', 'metric']]) {
      const res = await h(q);
      expect(res.status, q).toBe(400);
      expect(await res.text(), q).toMatch(new RegExp(`^${named}: `));
    }
    const lines = Array.from({ length: 5 }, (_, i) => syslog(iso(T0 + 100), 'app', 'web.1', `count#orders=${i + 1} source=web.${i}`));
    expect((await post(s, logplexBody(lines))).status).toBe(204);
    s.aggregator.advance(T0 + 13_000);
    const got = (await (await h('metric=orders_total&limit=2')).json()) as { total: number; series: { labels: { source: string } }[] };
    expect(got.total).toBe(5);
    expect(got.series.map((x) => x.labels.source)).toEqual(['web.4', 'web.3']);
  });

  it('counts requests by route and status', async () => {
    const s = server();
    await post(s, body);
    await post(s, body, { 'Content-Type': 'text/html' });
    const { samples } = await scrape(s);
    expect(find(samples, 'drainmeter_requests_total', { route: 'logs', status: '204' })[0].value).toBe(1);
    expect(find(samples, 'drainmeter_requests_total', { route: 'logs', status: '415' })[0].value).toBe(1);
  });
});

describe('gzip bodies (docs/http-api.md)', () => {
  const lines = logplexBody(Array.from({ length: 50 }, () => syslog(iso(T0), 'app', 'web.1', 'count#zipped=1')));

  it('decodes Content-Encoding: gzip, and counts every line', async () => {
    const s = server();
    expect((await post(s, gzipSync(lines), { 'Content-Encoding': 'gzip' })).status).toBe(204);
    expect(find((await scrape(s)).samples, 'zipped_total')[0].value).toBe(50);
  });

  it('413 for a body over the limit once decoded (a zip bomb), nothing counted', async () => {
    const s = server({ DRAINMETER_MAX_BODY: '65536' });
    // 10 MB of frames in about 10 KB: stopped at 64 KB decoded.
    const bomb = gzipSync(Buffer.concat(Array(2500).fill(lines)));
    expect(bomb.length).toBeLessThan(65536);
    const res = await post(s, bomb, { 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(find((await scrape(s)).samples, 'zipped_total')).toEqual([]);
  });

  it('400 for a body that is not gzip, 415 for another encoding', async () => {
    const s = server();
    const bad = await post(s, lines, { 'Content-Encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('body is not valid gzip\n');
    const truncated = gzipSync(lines);
    expect((await post(s, truncated.subarray(0, truncated.length - 10), { 'Content-Encoding': 'gzip' })).status).toBe(400);
    expect((await post(s, lines, { 'Content-Encoding': 'br' })).status).toBe(415);
    expect(find((await scrape(s)).samples, 'zipped_total')).toEqual([]);
  });
});

describe('tenants (docs/limits.md)', () => {
  it('exposes every rejection reason of an app from its first batch, at 0', async () => {
    const s = server();
    await post(s, logplexBody([syslog(iso(T0), 'app', 'web.1', 'count#fine=1')]));
    const rejected = find((await scrape(s)).samples, 'drainmeter_rejected_total', { app: 'default' });
    expect(rejected.map((x) => [x.labels.reason, x.value])).toEqual(REASONS.map((r) => [r, 0]));
  });

  it('forgets an open-mode Basic user once its series expire and it holds nothing', async () => {
    const s = server({ DRAINMETER_SERIES_TTL: '60' });
    for (let i = 0; i < 50; i++) {
      const auth = 'Basic ' + Buffer.from(`user${i}:x`).toString('base64');
      expect((await post(s, logplexBody([syslog(iso(T0), 'app', 'web.1', 'count#once=1')]), { Authorization: auth })).status).toBe(204);
    }
    expect(s.aggregator.apps.size).toBe(50);
    s.clock.now = T0 + 120_000;
    s.aggregator.advance(s.clock.now);
    expect(sweep(s)).toEqual({ series: 50, apps: 50 });
    expect(s.aggregator.apps.size).toBe(0);
    expect(s.budgets.series.used + s.budgets.names.used + s.budgets.windows.used).toBe(0);
    expect(find((await scrape(s)).samples, 'drainmeter_lines_total')).toEqual([]);
  });

  it("gives a name back once its last series expires: the app may take it as another kind; another app may at once", async () => {
    const s = server({ DRAINMETER_SERIES_TTL: '60' });
    const one = { Authorization: 'Basic ' + Buffer.from('one:x').toString('base64') };
    const two = { Authorization: 'Basic ' + Buffer.from('two:x').toString('base64') };
    await post(s, logplexBody([syslog(iso(T0), 'app', 'web.1', 'count#depth=1')]), one);
    await post(s, logplexBody([syslog(iso(T0), 'app', 'web.1', 'sample#depth=7')]), one);
    await post(s, logplexBody([syslog(iso(T0), 'app', 'web.1', 'sample#depth=5')]), two);
    const samples = (await scrape(s)).samples;
    expect(find(samples, 'drainmeter_rejected_total', { app: 'one', reason: 'type_conflict' })[0].value).toBe(1);
    expect(find(samples, 'drainmeter_rejected_total', { app: 'two', reason: 'type_conflict' })[0].value).toBe(0);
    // Both in the combined exposition cannot be: one's counter family `depth` ranks first.
    expect(find(samples, 'depth_total', { app: 'one' })[0].value).toBe(1);
    expect(find(samples, 'depth', { app: 'two' })).toEqual([]);
    expect(find(samples, 'drainmeter_exposition_conflicts', { app: 'two', metric: 'depth' })[0].value).toBe(1);
    s.clock.now = T0 + 120_000;
    s.aggregator.advance(s.clock.now);
    sweep(s);
    await post(s, logplexBody([syslog(iso(s.clock.now), 'app', 'web.1', 'sample#depth=7')]), one);
    expect(find((await scrape(s)).samples, 'depth', { app: 'one' })[0].value).toBe(7);
  });
});

describe('GET /metrics access', () => {
  async function twoApps() {
    const s = server({ DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: 'admin-token' });
    for (const app of ['shop', 'blog']) {
      await post(s, logplexBody([syslog(iso(T0), 'app', 'web.1', `count#${app}.orders=1`)]), { Authorization: basic(app) });
    }
    return s;
  }

  it('401 without credentials when secrets are set', async () => {
    const s = await twoApps();
    expect((await scrape(s)).res.status).toBe(401);
    expect((await scrape(s, { Authorization: 'Bearer wrong' })).res.status).toBe(401);
    expect((await scrape(s, { Authorization: basic('shop', 'wrong') })).res.status).toBe(401);
  });

  it("Basic APP:PASSWORD shows that app's series only", async () => {
    const s = await twoApps();
    const { samples } = await scrape(s, { Authorization: basic('shop') });
    expect(find(samples, 'shop_orders_total')).toHaveLength(1);
    expect(find(samples, 'blog_orders_total')).toEqual([]);
    expect(samples.every((x) => x.labels.app === 'shop')).toBe(true);
  });

  it('Bearer DRAINMETER_METRICS_TOKEN shows every app, and the process', async () => {
    const s = await twoApps();
    const { samples } = await scrape(s, { Authorization: 'Bearer admin-token' });
    expect(find(samples, 'shop_orders_total')).toHaveLength(1);
    expect(find(samples, 'blog_orders_total')).toHaveLength(1);
    expect(find(samples, 'process_cpu_user_seconds_total').length).toBe(1);
  });

  it('answers OpenMetrics when Accept asks for it, which the strict parser accepts', async () => {
    const s = server();
    await post(s, logplexBody([syslog(iso(T0), 'app', 'web.1', 'count#orders=2 measure#db=3ms sample#depth=4'), syslog(iso(T0), 'heroku', 'router', ROUTER_INFO)]));
    s.clock.now = T0 + 5000;
    const res = await s.app.request('/metrics', { headers: { Accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(res.headers.get('content-type')).toContain('application/openmetrics-text');
    const text = await res.text();
    if (strictAvailable) {
      expect(openMetrics(text)).toBeNull();
      const plain = await (await s.app.request('/metrics')).text();
      expect(promtool(plain)).toEqual({ error: '', lint: [] });
    }
    expect(text).toContain('# TYPE orders counter');
    expect(text).toContain('orders_total{app="default"} 2');
    expect(text.endsWith('# EOF\n')).toBe(true);
    const plain = await (await s.app.request('/metrics')).text();
    expect(plain).toContain('# TYPE orders_total counter');
  });
});
