// The OTLP metrics outlet, read by an independent decoder: the protobufjs code
// generated from the official opentelemetry-proto definitions, as published in
// @opentelemetry/otlp-transformer 0.52 (dev dependency `otlp-proto-0.52`), not our
// encoder run backwards. Values equal /metrics; buckets hold the values posted by
// the OTLP definition of a bucket; protobuf, JSON and gzip; the standard variables;
// retryable and other failures; partial success.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { silentLogger } from '../../src/log.js';
import type { PushStats } from '../../src/outlets/index.js';
import { type Running, serve } from '../../src/server/serve.js';
import { basic, config, find, parseExposition, SECRET } from '../server/helpers.js';
import { sleep } from '../support/real.js';

interface Decoder {
  decode(b: Uint8Array): unknown;
  fromObject(o: unknown): unknown;
  toObject(m: unknown, o: { longs: StringConstructor; enums: NumberConstructor; defaults: boolean }): unknown;
}
const root = createRequire(import.meta.url)('otlp-proto-0.52/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: Decoder; ExportMetricsServiceResponse: Decoder & { encode(m: unknown): { finish(): Uint8Array } } } } } } };
};
const Response = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
const Request = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

interface KV {
  key: string;
  value: { stringValue: string };
}
interface Point {
  attributes: KV[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asDouble?: number;
  count?: string;
  sum?: number;
  scale?: number;
  zeroCount?: string;
  positive?: { offset: number; bucketCounts: string[] };
  min?: number;
  max?: number;
}
interface Metric {
  name: string;
  unit: string;
  sum?: { dataPoints: Point[]; aggregationTemporality: number; isMonotonic: boolean };
  gauge?: { dataPoints: Point[] };
  exponentialHistogram?: { dataPoints: Point[]; aggregationTemporality: number };
}
interface Decoded {
  resourceMetrics: { resource: { attributes: KV[] }; scopeMetrics: { metrics: Metric[] }[] }[];
}

interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A receiver answering each request with `answer()`; every request kept. */
async function receiver(answer: () => { status: number; body?: string | Buffer } = () => ({ status: 200 })): Promise<{ port: number; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const a = answer();
      res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  servers.push(server);
  return { port: (server.address() as { port: number }).port, got, server };
}

const servers: Server[] = [];
const running: Running[] = [];
afterAll(async () => {
  for (const s of servers) s.closeAllConnections(), s.close();
  await Promise.all(running.map((d) => d.stop('test over')));
}, 40_000);

async function drain(env: Record<string, string>): Promise<Running> {
  const d = await serve(config({ PORT: '0', DRAINMETER_SECRETS: SECRET, DRAINMETER_GRACE: '1', ...env }), silentLogger);
  running.push(d);
  return d;
}

async function post(d: Running, messages: string[]): Promise<void> {
  const now = Date.now();
  const body = logplexBody(messages.map((m) => syslog(iso(now), 'app', 'web.1', m)));
  const res = await fetch(`http://127.0.0.1:${d.port}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1', Authorization: basic('shop') }, body });
  expect(res.status).toBe(204);
}

const pushOf = (d: Running) => d.outlets.find((o) => o.name === 'otlp')?.push as PushStats;

/** One request decoded by the independent decoder, 64-bit integers as strings. */
function decode(r: Received): Decoded {
  let body = r.body;
  if (r.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
  const message = r.headers['content-type'] === 'application/json' ? Request.fromObject(JSON.parse(body.toString('utf8'))) : Request.decode(body);
  return Request.toObject(message, { longs: String, enums: Number, defaults: true }) as Decoded;
}

/** The latest point of each metric, by name. */
function latest(got: Received[]): Map<string, { metric: Metric; point: Point }> {
  const out = new Map<string, { metric: Metric; point: Point }>();
  for (const r of got) {
    for (const m of decode(r).resourceMetrics[0].scopeMetrics[0].metrics) {
      const points = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? m.exponentialHistogram?.dataPoints ?? [];
      for (const p of points) {
        const had = out.get(m.name);
        if (had === undefined || BigInt(p.timeUnixNano) >= BigInt(had.point.timeUnixNano)) out.set(m.name, { metric: m, point: p });
      }
    }
  }
  return out;
}

const attrs = (kvs: KV[]) => Object.fromEntries(kvs.map((kv) => [kv.key, kv.value.stringValue]));

/** Posts windows of latencies, counters and a gauge; returns the latencies, ms. */
async function postWindows(d: Running): Promise<number[]> {
  const ms = Array.from({ length: 120 }, (_, i) => ((i * 37) % 120) * 2.5 + 0.5);
  let depth = 0;
  for (const w of [ms.slice(0, 40), ms.slice(40, 80), ms.slice(80)]) {
    await post(d, w.map((v) => `measure#db.latency=${v}ms count#orders=3 sample#depth=${++depth} source=web.1`));
    await sleep(1000);
  }
  return ms;
}

describe('the OTLP metrics outlet', () => {
  it('refuses what it cannot use, naming the standard variable', () => {
    expect(() => config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/^OTEL_EXPORTER_OTLP_ENDPOINT must be an http or https URL/);
    expect(() => config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/^OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/);
    expect(() => config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'zstd' })).toThrow(/^OTEL_EXPORTER_OTLP_METRICS_COMPRESSION must be gzip or none/);
    expect(() => config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key' })).toThrow(/^OTEL_EXPORTER_OTLP_HEADERS must be name=value/);
    const on = (env: Record<string, string>) => config(env).outlets.some((o) => o.definition.name === 'otlp');
    expect(on({})).toBe(false);
    expect(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(true);
    expect(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_METRICS_EXPORTER: 'none' })).toBe(false);
  });

  for (const [label, env] of [
    ['protobuf', {}],
    ['JSON', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }],
    ['gzip protobuf', { OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip' }],
  ] as const) {
    it(`${label}: sums, gauges and exponential histograms equal to /metrics, buckets holding the values posted`, async () => {
      const rx = await receiver();
      const d = await drain({
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${rx.port}/`,
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%20cret,x-team=shop',
        DRAINMETER_INSTANCE: 'web.7',
        // 0.5 ms to 300 ms at scale 6 is 590 dense buckets: room for them all.
        DRAINMETER_OTLP_MAX_BUCKETS: '1000',
        ...env,
      });
      const ms = await postWindows(d);
      // Until the last window is out: 120 lines of count#orders=3.
      for (let i = 0; i < 100 && latest(rx.got).get('orders')?.point.asDouble !== 360; i++) await sleep(100);
      const r = rx.got[0];
      expect(r.headers['api-key']).toBe('s cret');
      expect(r.headers['x-team']).toBe('shop');
      expect(r.headers['content-type']).toBe('JSON' === label ? 'application/json' : 'application/x-protobuf');
      const decoded = decode(r);
      expect(attrs(decoded.resourceMetrics[0].resource.attributes)).toEqual({ 'service.name': 'drainmeter', 'service.instance.id': 'web.7' });

      const scraped = parseExposition(await (await fetch(`http://127.0.0.1:${d.port}/metrics`, { headers: { Authorization: basic('shop') } })).text());
      const at = { app: 'shop', source: 'web.1' };
      const points = latest(rx.got);

      const orders = points.get('orders');
      expect(orders?.metric.sum?.isMonotonic).toBe(true);
      expect(orders?.metric.sum?.aggregationTemporality).toBe(2);
      expect(attrs(orders?.point.attributes ?? [])).toEqual(at);
      expect(orders?.point.asDouble).toBe(find(scraped, 'orders_total', at)[0].value);
      expect(orders?.point.asDouble).toBe(360);
      expect(BigInt(orders?.point.startTimeUnixNano ?? 0)).toBeLessThan(BigInt(orders?.point.timeUnixNano ?? 0));

      expect(points.get('depth')?.point.asDouble).toBe(find(scraped, 'depth', at)[0].value);
      expect(points.get('depth')?.metric.gauge).toBeDefined();

      const lat = points.get('db_latency_seconds');
      const h = lat?.point as Point;
      expect(lat?.metric.unit).toBe('s');
      expect(lat?.metric.exponentialHistogram?.aggregationTemporality).toBe(2);
      expect(Number(h.count)).toBe(find(scraped, 'db_latency_seconds_count', at)[0].value);
      expect(h.sum).toBeCloseTo(find(scraped, 'db_latency_seconds_sum', at)[0].value, 12);
      const seconds = ms.map((v) => v / 1000);
      expect(h.min).toBe(Math.min(...seconds));
      expect(h.max).toBe(Math.max(...seconds));
      expect(h.scale).toBe(6);
      expect(Number(h.zeroCount)).toBe(0);
      // OTLP: at scale s, bucket k (offset + position) holds (2^(k/2^s), 2^((k+1)/2^s)].
      const base = 2 ** 2 ** -(h.scale as number);
      const counts = (h.positive?.bucketCounts ?? []).map(Number);
      let total = 0;
      counts.forEach((c, j) => {
        const k = (h.positive?.offset ?? 0) + j;
        const inside = seconds.filter((v) => v > base ** k && v <= base ** (k + 1)).length;
        expect({ k, c }).toEqual({ k, c: inside });
        total += c;
      });
      expect(total).toBe(120);
    }, 30_000);
  }

  it('lowers the scale to keep within DRAINMETER_OTLP_MAX_BUCKETS (dense buckets, first to last)', async () => {
    const rx = await receiver();
    const d = await drain({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${rx.port}/custom/path`, DRAINMETER_OTLP_MAX_BUCKETS: '20' });
    await post(d, ['measure#wide=1ms', 'measure#wide=1s', 'measure#wide=100s']);
    for (let i = 0; i < 100 && latest(rx.got).get('wide_seconds') === undefined; i++) await sleep(100);
    const h = latest(rx.got).get('wide_seconds')?.point as Point;
    expect(h.positive?.bucketCounts.length).toBeLessThanOrEqual(20);
    // 1e-3 to 100 spans 2^16.6: at most 20 dense buckets means scale 0 (17 buckets).
    expect(h.scale).toBe(0);
    expect((h.positive?.bucketCounts ?? []).map(Number).reduce((a, b) => a + b, 0)).toBe(3);
  }, 30_000);

  it('retries 503 and 429 until taken; drops and counts a 400; counts points a partial success rejects', async () => {
    const answers = [503, 429, 200];
    const rx = await receiver(() => ({ status: answers.shift() ?? 200 }));
    const d = await drain({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${rx.port}` });
    await post(d, ['count#orders=2 source=web.1']);
    const push = pushOf(d);
    for (let i = 0; i < 100 && push.samples < 1; i++) await sleep(100);
    expect(push.samples).toBe(1);
    expect(push.failures.get('http_503')).toBe(1);
    expect(push.failures.get('http_429')).toBe(1);
    expect(rx.got.length).toBe(3);
    expect(rx.got[0].body.equals(rx.got[2].body)).toBe(true);

    answers.push(400);
    await post(d, ['count#orders=2 source=web.1']);
    for (let i = 0; i < 50 && push.dropped < 1; i++) await sleep(100);
    expect(push.dropped).toBe(1);
    expect(rx.got.length).toBe(4);

    const partial = await receiver(() => ({ status: 200, body: JSON.stringify({ partialSuccess: { rejectedDataPoints: '1', errorMessage: 'no' } }) }));
    const dj = await drain({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${partial.port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    await post(dj, ['count#orders=2 sample#depth=3 source=web.1']);
    const pj = pushOf(dj);
    for (let i = 0; i < 50 && pj.dropped < 1; i++) await sleep(100);
    expect(pj.dropped).toBe(1);
    expect(pj.samples).toBe(1);
    expect(pj.failures.get('partial')).toBe(1);

    // The same over protobuf, encoded by the independent encoder, with an error message
    // long enough that partial_success's length takes two bytes: 300 points rejected.
    const answer = Buffer.from(Response.encode(Response.fromObject({ partialSuccess: { rejectedDataPoints: 300, errorMessage: 'x'.repeat(200) } })).finish());
    const pb = await receiver(() => ({ status: 200, body: answer }));
    const dp = await drain({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${pb.port}` });
    await post(dp, ['count#orders=2 sample#depth=3 source=web.1']);
    const pp = pushOf(dp);
    for (let i = 0; i < 50 && pp.dropped < 300; i++) await sleep(100);
    expect(pp.dropped).toBe(300);
    expect(pp.failures.get('partial')).toBe(1);
  }, 30_000);
});
