// POST /v1/logs (docs/http-api.md) with the official OpenTelemetry JS SDK as the client:
// the proto and JSON exporters, gzip on and off, to a real socket. Every record
// counts once, and the metrics equal those of the same lines sent through /logs.
// Bodies that are not OTLP are a 400 in the request's encoding, and counted.

import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { silentLogger } from '../../src/log.js';
import { type Running, serve } from '../../src/server/serve.js';
import { basic, config, parseExposition, SECRET, type Sample } from './helpers.js';

let drain: Running;
let base = '';

beforeAll(async () => {
  drain = await serve(config({ PORT: '0', DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: 'admin' }), silentLogger);
  base = `http://127.0.0.1:${drain.port}`;
});

afterAll(async () => {
  await drain?.stop('test over');
});

async function samples(): Promise<Sample[]> {
  return parseExposition(await (await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer admin' } })).text());
}

/** One app's samples, without the app label, sorted: comparable across apps. */
function ofApp(all: Sample[], app: string): string[] {
  return all
    .filter((s) => s.labels.app === app && !s.name.startsWith('drainmeter_'))
    .map((s) => {
      const { app: _, ...labels } = s.labels;
      return JSON.stringify([s.name, labels, s.value]);
    })
    .sort();
}

const T = Date.now() - 1500;
const APP_LINES = [
  'measure#db.latency=21ms count#orders=1 sample#queue.depth=7 source=web.1',
  'measure#db.latency=40ms count#orders=2 source=web.1',
  'measure#db.latency=4ms sample#queue.depth=3 source=web.2',
  'at=info no metrics here',
];
const ROUTER_LINES = [
  'at=info method=GET path="/" host=shop.example.com request_id=1 fwd="1.2.3.4" dyno=web.1 connect=1ms service=37ms status=200 bytes=1548 protocol=https',
  'sock=client at=warning code=H27 desc="Client Request Interrupted" method=POST path="/x" host=shop.example.com request_id=2 fwd="1.2.3.4" dyno=web.2 connect=0ms service=5ms status=499 bytes=0 protocol=https',
];

async function viaSdk(app: string, exporterOf: (url: string, headers: Record<string, string>) => ProtoExporter | JsonExporter): Promise<void> {
  const providers = [
    { service: 'shop', lines: APP_LINES },
    { service: 'heroku-router', lines: ROUTER_LINES },
  ].map(({ service, lines }) => {
    const exporter = exporterOf(`${base}/v1/logs`, { Authorization: basic(app) });
    const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }), processors: [new BatchLogRecordProcessor({ exporter })] });
    const logger = provider.getLogger('drainmeter-test');
    lines.forEach((body, i) => logger.emit({ body, timestamp: T + i }));
    return provider;
  });
  for (const p of providers) {
    await p.forceFlush();
    await p.shutdown();
  }
}

describe('OTLP logs from the OpenTelemetry SDK', () => {
  it('counts every record once, with the metrics of the same lines through /logs', async () => {
    const reference = logplexBody([
      ...APP_LINES.map((l, i) => syslog(iso(T + i), 'app', 'web.1', l)),
      ...ROUTER_LINES.map((l, i) => syslog(iso(T + i), 'heroku', 'router', l)),
    ]);
    const ref = await fetch(`${base}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1', Authorization: basic('ref') }, body: reference });
    expect(ref.status).toBe(204);

    const variants: [string, (url: string, headers: Record<string, string>) => ProtoExporter | JsonExporter][] = [
      ['proto', (url, headers) => new ProtoExporter({ url, headers })],
      ['proto-gzip', (url, headers) => new ProtoExporter({ url, headers, compression: 'gzip' as never })],
      ['json', (url, headers) => new JsonExporter({ url, headers })],
      ['json-gzip', (url, headers) => new JsonExporter({ url, headers, compression: 'gzip' as never })],
    ];
    for (const [name, exporterOf] of variants) await viaSdk(`fir-${name}`, exporterOf);

    const all = await samples();
    const want = ofApp(all, 'ref');
    expect(want.length).toBeGreaterThan(10);
    expect(want.some((s) => s.includes('heroku_router_errors_total'))).toBe(true);
    const lines = (app: string) => all.find((s) => s.name === 'drainmeter_lines_total' && s.labels.app === app)?.value;
    for (const [name] of variants) {
      expect(ofApp(all, `fir-${name}`), name).toEqual(want);
      expect(lines(`fir-${name}`), name).toBe(APP_LINES.length + ROUTER_LINES.length);
    }
  });

  it('answers records without a string body in partial_success, the rest counted', async () => {
    const body = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
          scopeLogs: [{ logRecords: [{ timeUnixNano: String(T * 1e6), body: { stringValue: 'count#partial=1' } }, { body: { kvlistValue: { values: [] } } }] }],
        },
      ],
    };
    const res = await fetch(`${base}/v1/logs`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: basic('partial') }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ partialSuccess: { rejectedLogRecords: '1', errorMessage: '1 log records without a string body' } });
    const all = await samples();
    expect(all.find((s) => s.name === 'partial_total' && s.labels.app === 'partial')?.value).toBe(1);
    expect(all.find((s) => s.name === 'drainmeter_rejected_total' && s.labels.app === 'partial' && s.labels.reason === 'bad_frame')?.value).toBe(1);
  });

  it('answers 400 to bodies that are not OTLP, in their encoding, and counts them', async () => {
    const proto = (bytes: number[]) => Buffer.from(bytes);
    const bad: [string, string, Buffer | string][] = [
      ['truncated protobuf', 'application/x-protobuf', proto([0x0a, 0x10, 0x12, 0x0e])],
      ['wrong wire type', 'application/x-protobuf', proto([0x08, 0x01])],
      ['a 1 GB declared length', 'application/x-protobuf', proto([0x0a, 0x80, 0x80, 0x80, 0x80, 0x04, 0x00])],
      ['invalid JSON', 'application/json', '{"resourceLogs": [}'],
    ];
    for (const [what, type, body] of bad) {
      const res = await fetch(`${base}/v1/logs`, { method: 'POST', headers: { 'Content-Type': type, Authorization: basic('bad') }, body });
      expect(res.status, what).toBe(400);
      expect(res.headers.get('content-type'), what).toBe(type);
      const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
      expect(text, what).toContain('not an OTLP logs request');
    }
    const all = await samples();
    expect(all.find((s) => s.name === 'drainmeter_rejected_total' && s.labels.app === 'bad' && s.labels.reason === 'bad_frame')?.value).toBe(4);
    expect(all.find((s) => s.name === 'drainmeter_requests_total' && s.labels.route === 'otlp_logs' && s.labels.status === '400')?.value).toBe(4);
    expect((await fetch(`${base}/v1/logs`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: proto([]) })).status).toBe(401);
    // A gzip body that inflates past DRAINMETER_MAX_BODY: 413, as on /logs.
    const bomb = gzipSync(Buffer.alloc(4 << 20));
    const big = await fetch(`${base}/v1/logs`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'gzip', Authorization: basic('bad') }, body: bomb });
    expect(big.status).toBe(413);
    // An empty request is a valid one: 200, nothing counted.
    const empty = await fetch(`${base}/v1/logs`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf', Authorization: basic('empty') }, body: proto([]) });
    expect(empty.status).toBe(200);
    expect((await empty.arrayBuffer()).byteLength).toBe(0);
    expect((await fetch(`${base}/v1/logs`, { method: 'POST', headers: { 'Content-Type': 'text/plain', Authorization: basic('bad') }, body: 'x' })).status).toBe(415);
  });
});
