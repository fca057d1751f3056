// The remote-write outlet against a real Prometheus (Debian prometheus 2.42, started
// here with its remote-write receiver on a free port, data in a temp dir): drains
// posted to `serve` arrive; PromQL over the native histograms agrees with the values
// posted, bucket by bucket and by quantile; counters and gauges are exact; the
// quantile gauges equal /metrics. A Prometheus without native histograms still gets
// everything else. Faults through a receiver in front of Prometheus that we control:
// down at the start, 500s, 400s, a stall. Skips where Prometheus is missing; fails in CI.

import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { cliLine, logplexBody, syslog } from '../../fixtures/heroku.js';
import type { Config } from '../../src/config.js';
import { type Logger, silentLogger } from '../../src/log.js';
import type { PushStats } from '../../src/outlets/index.js';
import { type Running, serve } from '../../src/server/serve.js';
import { basic, config, find, parseExposition, SECRET } from '../server/helpers.js';
import { startServe } from '../support/served.js';
import { nearestRank } from '../helpers.js';
import { freePort, type HistogramValue, installed, type Prometheus, sleep, startPrometheus, until } from '../support/real.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;
const available = installed('the remote-write tests', 'prometheus', ['prometheus', '--version']);

const EMPTY = 'global:\n  scrape_interval: 15s\n';
const RECEIVER = ['--web.enable-remote-write-receiver'];
const NATIVE = [...RECEIVER, '--enable-feature=native-histograms'];

const running: Running[] = [];
const proms: Prometheus[] = [];
const servers: Server[] = [];
afterAll(async () => {
  for (const p of proms) p.stop();
  for (const s of servers) s.closeAllConnections(), s.close();
  await Promise.all(running.map((d) => d.stop('test over')));
}, 40_000);

async function prometheus(flags: string[], port?: number): Promise<Prometheus> {
  const p = await startPrometheus(EMPTY, flags, port);
  proms.push(p);
  return p;
}

/** serve pushing to `url`; `tune` adjusts the outlet's settings (smaller bounds in tests). */
async function drain(url: string, env: Record<string, string>, log: Logger = silentLogger, tune: Record<string, number> = {}): Promise<Running> {
  const cfg: Config = config({ PORT: '0', DRAINMETER_SECRETS: SECRET, DRAINMETER_GRACE: '1', DRAINMETER_REMOTE_WRITE_URL: url, ...env });
  const rw = cfg.outlets.find((o) => o.definition.name === 'remote_write');
  Object.assign(rw?.settings as object, tune);
  const d = await serve(cfg, log);
  running.push(d);
  return d;
}

/** Posts one logplex body of `messages`, stamped now, for tenant `app`. */
async function post(d: Running, app: string, messages: string[]): Promise<void> {
  const now = Date.now();
  const body = logplexBody(messages.map((m) => syslog(iso(now), 'app', 'web.1', m)));
  const res = await fetch(`http://127.0.0.1:${d.port}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1', Authorization: basic(app) }, body });
  expect(res.status).toBe(204);
}

function pushOf(d: Running): PushStats {
  const o = d.outlets.find((x) => x.name === 'remote_write');
  return o?.push as PushStats;
}


/** The native histogram of the one series `q` selects. */
async function histogramOf(prom: Prometheus, q: string): Promise<HistogramValue | undefined> {
  return (await prom.results(q)).find((r) => r.histogram !== undefined)?.histogram?.[1];
}

/** Every bucket Prometheus reports holds exactly the posted values inside its bounds, and all are in one. */
function expectBucketsHold(h: HistogramValue, seconds: number[]): void {
  let total = 0;
  for (const [rule, lo, hi, count] of h.buckets ?? []) {
    // Rule 0: (lower, upper], the rule of every positive bucket.
    expect(rule).toBe(0);
    const inside = seconds.filter((v) => v > Number(lo) && v <= Number(hi)).length;
    expect({ lo, hi, count: Number(count) }).toEqual({ lo, hi, count: inside });
    total += inside;
  }
  expect(total).toBe(seconds.length);
}

describe.skipIf(!available)('the remote-write outlet, against a real Prometheus', () => {
  it('refuses a URL, schema or measures it cannot use, naming the variable', () => {
    expect(() => config({ DRAINMETER_REMOTE_WRITE_URL: 'prometheus:9090' })).toThrow(/^DRAINMETER_REMOTE_WRITE_URL \(--remote-write-url\) must be an http or https URL/);
    expect(() => config({ DRAINMETER_REMOTE_WRITE_URL: 'http://p/api/v1/write', DRAINMETER_REMOTE_WRITE_SCHEMA: '7' })).toThrow(/DRAINMETER_REMOTE_WRITE_SCHEMA/);
    expect(() => config({ DRAINMETER_REMOTE_WRITE_URL: 'http://p/api/v1/write', DRAINMETER_REMOTE_WRITE_MEASURES: 'all' })).toThrow(/DRAINMETER_REMOTE_WRITE_MEASURES/);
    expect(() => config({ DRAINMETER_REMOTE_WRITE_URL: 'http://p/api/v1/write', DRAINMETER_REMOTE_WRITE_HEADERS: 'X-Scope-OrgID' })).toThrow(/DRAINMETER_REMOTE_WRITE_HEADERS/);
  });

  it('delivers counters and gauges exactly, measures as native histograms PromQL reads right, and quantile gauges equal to /metrics', async () => {
    const prom = await prometheus(NATIVE);
    const url = `http://127.0.0.1:${prom.port}/api/v1/write`;
    const d6 = await drain(url, { DRAINMETER_INSTANCE: 'rw-6', DRAINMETER_REMOTE_WRITE_MAX_BUCKETS: '0' });
    // The default bucket limit (160, Grafana Cloud's): the schema goes down until the buckets fit.
    const dMax = await drain(url, { DRAINMETER_INSTANCE: 'rw-max', DRAINMETER_REMOTE_WRITE_MEASURES: 'histogram' });
    // The same lines at schema 0 (buckets a power of two wide), histograms only.
    const d0 = await drain(url, { DRAINMETER_INSTANCE: 'rw-0', DRAINMETER_REMOTE_WRITE_SCHEMA: '0', DRAINMETER_REMOTE_WRITE_MEASURES: 'histogram' });
    // 300 latencies, 1.5 ms apart, over four one-second windows.
    const ms = Array.from({ length: 300 }, (_, i) => ((i * 7919) % 300) * 1.5 + 1.5);
    const windows = [ms.slice(0, 60), ms.slice(60, 140), ms.slice(140, 220), ms.slice(220)];
    let depth = 0;
    for (const w of windows) {
      const lines = w.map((v) => `measure#db.latency=${v}ms count#orders=2 sample#depth=${++depth} source=web.1`);
      await post(d6, 'shop', lines);
      await post(d0, 'shop', lines);
      await post(dMax, 'shop', lines);
      await sleep(1000);
    }
    const at = (instance: string) => `app="shop",source="web.1",instance="${instance}"`;
    // Each window's total is the lines through it, at its end: 2 per line.
    const seen = await until(() => prom.results(`orders_total{${at('rw-6')}}[1m]`), (r) => r[0]?.values?.at(-1)?.[1] === '600');
    const totals = (seen[0]?.values ?? []).map(([, v]) => Number(v));
    expect(totals.at(-1)).toBe(600);
    // and the line numbered `depth` is the last of its window: the total through a
    // window is twice the depth at its end.
    const depths = (await prom.results(`depth{${at('rw-6')}}[1m]`))[0]?.values?.map(([, v]) => Number(v));
    expect(depths?.at(-1)).toBe(300);
    expect(depths).toEqual(totals.map((t) => t / 2));
    const seconds = ms.map((v) => v / 1000);

    // The histogram: every bucket holds exactly the values within its bounds.
    const h6 = await until(() => histogramOf(prom, `db_latency_seconds{${at('rw-6')},quantile=""}`), (h) => Number(h?.count) === 300);
    expect(Number(h6?.count)).toBe(300);
    expect(Number(h6?.sum)).toBeCloseTo(seconds.reduce((a, b) => a + b, 0), 9);
    expectBucketsHold(h6 as HistogramValue, seconds);
    const h0 = await until(() => histogramOf(prom, `db_latency_seconds{${at('rw-0')}}`), (h) => Number(h?.count) === 300);
    expectBucketsHold(h0 as HistogramValue, seconds);
    expect((h0?.buckets ?? []).every(([, lo, hi]) => Number(hi) === 2 * Number(lo))).toBe(true);
    // The highest schema whose buckets (index ceil(log2(v)·2^s), the native-histogram
    // definition) number at most 160.
    let fits = 6;
    while (new Set(seconds.map((v) => Math.ceil(Math.log2(v) * 2 ** fits))).size > 160) fits--;
    expect(fits).toBeLessThan(6);
    const hMax = await until(() => histogramOf(prom, `db_latency_seconds{${at('rw-max')}}`), (h) => Number(h?.count) === 300);
    expectBucketsHold(hMax as HistogramValue, seconds);
    expect((hMax?.buckets ?? []).length).toBeLessThanOrEqual(160);
    for (const [, lo, hi] of hMax?.buckets ?? []) expect(Number(hi) / Number(lo)).toBeCloseTo(2 ** 2 ** -fits, 9);

    // histogram_quantile lands in the bucket of the exact nearest-rank value, so within
    // one bucket's width, 2^(1/64), of it. Over all values, and as a rate: the increase
    // over the minute is what came after the first window.
    const width = 2 ** (1 / 64);
    const within = (got: number | null, exact: number) => {
      expect(got).not.toBeNull();
      expect(got as number).toBeGreaterThanOrEqual(exact / width);
      expect(got as number).toBeLessThanOrEqual(exact * width);
    };
    within(await prom.query(`histogram_quantile(0.99, db_latency_seconds{${at('rw-6')},quantile=""})`), nearestRank(seconds, 0.99));
    within(await prom.query(`histogram_quantile(0.5, db_latency_seconds{${at('rw-6')},quantile=""})`), nearestRank(seconds, 0.5));
    const later = windows.slice(1).flat().map((v) => v / 1000);
    within(await prom.query(`histogram_quantile(0.99, sum(rate(db_latency_seconds{${at('rw-6')},quantile=""}[1m])))`), nearestRank(later, 0.99));
    expect(await prom.query(`count(db_latency_seconds{${at('rw-0')},quantile!=""})`)).toBeNull();

    // The quantile gauges, _sum and _count are /metrics' own.
    const text = await (await fetch(`http://127.0.0.1:${d6.port}/metrics`, { headers: { Authorization: basic('shop') } })).text();
    const scraped = parseExposition(text);
    for (const q of ['0', '0.5', '0.95', '0.99', '1']) {
      const mine = find(scraped, 'db_latency_seconds', { source: 'web.1', quantile: q })[0]?.value;
      expect(mine).toBeDefined();
      expect(await prom.query(`db_latency_seconds{${at('rw-6')},quantile="${q}"}`)).toBe(mine);
    }
    expect(await prom.query(`db_latency_seconds_count{${at('rw-6')}}`)).toBe(find(scraped, 'db_latency_seconds_count', { source: 'web.1' })[0]?.value);
    expect(await prom.query(`db_latency_seconds_sum{${at('rw-6')}}`)).toBe(find(scraped, 'db_latency_seconds_sum', { source: 'web.1' })[0]?.value);

    expect(pushOf(d6).dropped).toBe(0);
    expect([...pushOf(d6).failures]).toEqual([]);
  }, 60_000);

  it('a Prometheus without native histograms (500 "native histograms are disabled") still gets counters, gauges and quantile gauges; histograms are dropped, counted and said once', async () => {
    const prom = await prometheus(RECEIVER);
    const said: string[] = [];
    const log: Logger = { ...silentLogger, error: (msg) => said.push(msg) };
    const d = await drain(`http://127.0.0.1:${prom.port}/api/v1/write`, { DRAINMETER_INSTANCE: 'plain' }, log);
    for (let i = 0; i < 3; i++) {
      await post(d, 'shop', ['measure#db.latency=21ms count#orders=1 sample#depth=4 source=web.1', 'measure#db.latency=40ms source=web.1']);
      await sleep(1000);
    }
    expect(await until(() => prom.query('orders_total{instance="plain"}'), (v) => v === 3)).toBe(3);
    expect(await until(() => prom.query('depth{instance="plain"}'), (v) => v === 4)).toBe(4);
    expect(await until(() => prom.query('db_latency_seconds_count{instance="plain"}'), (v) => v === 6)).toBe(6);
    expect(Math.abs(((await prom.query('db_latency_seconds{instance="plain",quantile="0.99"}')) ?? 0) - 0.04)).toBeLessThanOrEqual(0.0004);
    const push = pushOf(d);
    expect(await until(async () => push.queueBytes, (b) => b === 0)).toBe(0);
    expect(push.failures.get('http_500')).toBe(1);
    expect(push.dropped).toBeGreaterThanOrEqual(1);
    expect(said).toEqual(['remote write: the receiver refuses native histograms; measures go as quantile gauges with _sum and _count from now on']);
  }, 60_000);

  it('windows that close while the refusing answer is on its way lose their histograms too: refused once, said once', async () => {
    const prom = await prometheus(RECEIVER);
    const g = gate(`http://127.0.0.1:${prom.port}/api/v1/write`, await freePort());
    g.delayMs = 2500;
    await g.listen();
    const said: string[] = [];
    const d = await drain(`http://127.0.0.1:${g.port}/api/v1/write`, { DRAINMETER_INSTANCE: 'slow' }, { ...silentLogger, error: (msg) => said.push(msg) });
    for (let i = 0; i < 4; i++) {
      await post(d, 'shop', ['measure#db.latency=21ms count#orders=1 source=web.1']);
      await sleep(1000);
    }
    expect(await until(() => prom.query('orders_total{instance="slow"}'), (v) => v === 4, 40_000)).toBe(4);
    expect(await until(() => prom.query('db_latency_seconds_count{instance="slow"}'), (v) => v === 4, 20_000)).toBe(4);
    const push = pushOf(d);
    expect(push.failures.get('http_500')).toBe(1);
    expect(said).toHaveLength(1);
  }, 90_000);
});

/** A receiver in front of a real Prometheus: each request answered by `mode`, or passed on. */
interface Gate {
  port: number;
  mode: 'forward' | 'fail500' | 'fail400' | 'stall';
  requests: number;
  /** Forwarded requests wait this long first. */
  delayMs: number;
  listen(): Promise<void>;
}

function gate(target: string, port: number): Gate {
  const g: Gate = {
    port,
    mode: 'forward',
    requests: 0,
    delayMs: 0,
    listen: () =>
      new Promise((resolve) => {
        const s = createServer((req: IncomingMessage, res: ServerResponse) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            g.requests++;
            if (g.mode === 'stall') return;
            if (g.mode !== 'forward') {
              res.writeHead(g.mode === 'fail500' ? 500 : 400).end('no');
              return;
            }
            const headers: Record<string, string> = {};
            for (const h of ['content-encoding', 'content-type', 'x-prometheus-remote-write-version']) headers[h] = String(req.headers[h]);
            sleep(g.delayMs).then(() => fetch(target, { method: 'POST', headers, body: Buffer.concat(chunks) })).then(
              async (r) => res.writeHead(r.status).end(await r.text()),
              () => res.writeHead(502).end(),
            );
          });
        });
        servers.push(s);
        s.listen(port, '127.0.0.1', () => resolve());
      }),
  };
  return g;
}

describe.skipIf(!available)('the remote-write outlet, when the receiver fails', () => {
  let prom: Prometheus;
  const target = () => `http://127.0.0.1:${prom.port}/api/v1/write`;

  it('receiver down at the start, then up: everything is delivered once it is up', async () => {
    prom ??= await prometheus(NATIVE);
    const g = gate(target(), await freePort());
    const d = await drain(`http://127.0.0.1:${g.port}/api/v1/write`, { DRAINMETER_INSTANCE: 'down' });
    for (let i = 0; i < 3; i++) {
      await post(d, 'shop', ['count#orders=5 measure#db.latency=3ms source=web.1']);
      await sleep(1000);
    }
    await sleep(1500);
    const push = pushOf(d);
    expect(push.queueBytes).toBeGreaterThan(0);
    expect(push.failures.get('network')).toBeGreaterThan(0);
    await g.listen();
    expect(await until(() => prom.query('orders_total{instance="down"}'), (v) => v === 15, 40_000)).toBe(15);
    expect(await until(() => prom.query('histogram_count(db_latency_seconds{instance="down",quantile=""})'), (v) => v === 3)).toBe(3);
    expect(push.dropped).toBe(0);
  }, 90_000);

  it('500s for a while: retried with backoff until taken; 400: dropped and counted, never retried', async () => {
    prom ??= await prometheus(NATIVE);
    const g = gate(target(), await freePort());
    await g.listen();
    g.mode = 'fail500';
    const d = await drain(`http://127.0.0.1:${g.port}/api/v1/write`, { DRAINMETER_INSTANCE: 'flaky' });
    await post(d, 'shop', ['count#orders=7 source=web.1']);
    const push = pushOf(d);
    await until(async () => push.failures.get('http_500') ?? 0, (n) => n >= 3);
    g.mode = 'forward';
    expect(await until(() => prom.query('orders_total{instance="flaky"}'), (v) => v === 7, 40_000)).toBe(7);
    expect(push.dropped).toBe(0);

    g.mode = 'fail400';
    const before = g.requests;
    const samples = push.samples;
    await post(d, 'shop', ['count#orders=1 source=web.1']);
    await until(async () => push.failures.get('http_400') ?? 0, (n) => n >= 1);
    await sleep(2500);
    // Each refused request was seen once: the 400s counted equal the requests after the switch.
    expect(push.failures.get('http_400')).toBe(g.requests - before);
    expect(push.dropped).toBeGreaterThanOrEqual(1);
    expect(push.samples).toBe(samples);
    expect(push.queueBytes).toBe(0);
  }, 90_000);

  it('a receiver that stalls: requests time out and are retried, the queue stays within its bytes, what does not fit is dropped and counted', async () => {
    prom ??= await prometheus(NATIVE);
    const g = gate(target(), await freePort());
    await g.listen();
    g.mode = 'stall';
    const bound = 6000;
    const d = await drain(`http://127.0.0.1:${g.port}/api/v1/write`, { DRAINMETER_INSTANCE: 'stall' }, silentLogger, { queueBytes: bound, timeoutMs: 300 });
    const push = pushOf(d);
    let most = 0;
    for (let i = 0; i < 6; i++) {
      // 200 series a second, about 1.7 KB a batch compressed: the queue fills in four.
      await post(d, 'shop', Array.from({ length: 200 }, (_, k) => `count#orders=1 source=web.${k}`));
      for (let t = 0; t < 10; t++) {
        most = Math.max(most, push.queueBytes);
        await sleep(100);
      }
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(bound);
    expect(push.failures.get('queue_full')).toBeGreaterThan(0);
    expect(push.failures.get('timeout')).toBeGreaterThan(0);
    expect(push.dropped).toBeGreaterThan(0);
    // The receiver recovers: what stayed queued arrives; every series' total is what
    // was posted or nothing (a batch dropped whole), never a wrong number.
    g.mode = 'forward';
    await until(async () => push.queueBytes, (b) => b === 0, 40_000);
    const totals = await prom.results('orders_total{instance="stall"}');
    expect(totals.length).toBeGreaterThan(0);
    for (const r of totals) expect(Number(r.value?.[1])).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('tail pushes too: heroku logs -t | drainmeter tail with DRAINMETER_REMOTE_WRITE_URL set sends the stream to the store', async () => {
    prom ??= await prometheus(NATIVE);
    const t0 = Math.floor(Date.now() / 1000) - 20;
    const input = Array.from({ length: 10 }, (_, i) => cliLine(iso(t0 * 1000 + i * 1000 + 5), 'app', 'web.1', `count#orders=1 measure#db.latency=${i + 1}ms source=web.1`)).join('\n') + '\n';
    const r = spawnSync(process.execPath, [CLI, 'tail', '--format', 'logfmt'], {
      input,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, DRAINMETER_REMOTE_WRITE_URL: target(), DRAINMETER_INSTANCE: 'laptop' },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/drainmeter: at=info msg=pushed outlet=remote_write sent=\d+ dropped=0/);
    expect(await prom.query('orders_total{instance="laptop"}', t0 + 10)).toBe(10);
    expect(await prom.query('histogram_count(db_latency_seconds{instance="laptop",quantile=""})', t0 + 10)).toBe(10);
    expect(await prom.query('histogram_sum(db_latency_seconds{instance="laptop",quantile=""})', t0 + 10)).toBeCloseTo(0.055, 12);
  }, 60_000);

  it('SIGTERM with samples waiting: sent if the receiver takes them in time, else counted as dropped and said, and the process is gone within 30 s', async () => {
    prom ??= await prometheus(NATIVE);
    const g = gate(target(), await freePort());
    const env = { DRAINMETER_REMOTE_WRITE_URL: `http://127.0.0.1:${g.port}/api/v1/write`, DRAINMETER_INSTANCE: 'term', DRAINMETER_GRACE: '5' };
    const send = async (base: string) => {
      const body = logplexBody([syslog(iso(Date.now()), 'app', 'web.1', 'count#orders=3 sample#depth=2 source=web.1')]);
      expect((await fetch(`${base}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1' }, body })).status).toBe(204);
    };

    // Receiver down: the two samples (a counter, a gauge) of the window SIGTERM closes are dropped, counted, said.
    const down = await startServe(env);
    await send(down.base);
    const started = Date.now();
    expect(await down.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(down.output()).toMatch(/at=warn msg="pushed, with drops" outlet=remote_write sent=0 dropped=2/);

    // Receiver up: the same window goes out before the process ends.
    await g.listen();
    const up = await startServe(env);
    await send(up.base);
    expect(await up.stop()).toBe(0);
    expect(up.output()).toMatch(/at=info msg=pushed outlet=remote_write sent=2 dropped=0/);
    // Stamped at the window's end, which SIGTERM closed early: ask a little ahead.
    expect(await prom.query('orders_total{instance="term"}', Date.now() / 1000 + 2)).toBe(3);
  }, 90_000);
});
