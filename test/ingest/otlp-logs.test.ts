// The OTLP logs decoders (src/ingest/otlp/) against requests made by the
// official OpenTelemetry JS SDK and its serializers: bodies, times and sources
// exact; and, like the framer's, property tests: never a throw, whatever the bytes.

import { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OtlpJsonDecoder, OtlpProtoDecoder, RecordTable, SOURCE_APP, SOURCE_ROUTER, SOURCE_RUNTIME } from '../../src/ingest/otlp/index.js';

interface Emit {
  body: unknown;
  time?: number;
  attributes?: Record<string, string>;
}

/** Log records as the SDK makes them, one resource per service. */
function records(service: Record<string, string>, emits: Emit[]): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes(service), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('test');
  for (const e of emits) logger.emit({ body: e.body as string, timestamp: e.time, attributes: e.attributes });
  return exporter.getFinishedLogRecords();
}

function proto(recs: ReadableLogRecord[]): Buffer {
  const bytes = ProtobufLogsSerializer.serializeRequest(recs);
  if (bytes === undefined) throw new Error('no bytes');
  return Buffer.from(bytes);
}

function json(recs: ReadableLogRecord[]): string {
  const bytes = JsonLogsSerializer.serializeRequest(recs);
  if (bytes === undefined) throw new Error('no bytes');
  return Buffer.from(bytes).toString('utf8');
}

/** What a table holds, as plain data. */
function read(t: RecordTable) {
  const out = [];
  for (let i = 0; i < t.count; i++) {
    out.push({
      body: t.buf.toString('utf8', t.bodyStart(i), t.bodyEnd(i)),
      proc: t.buf.toString('utf8', t.procStart(i), t.procEnd(i)),
      source: t.source(i),
      time: t.times[i],
    });
  }
  return out;
}

const T = Date.UTC(2026, 10, 22, 10, 0, 1, 123);

describe('OTLP logs decoding', () => {
  const app = records({ 'service.name': 'shop' }, [
    { body: 'measure#db.latency=21ms source=web.1', time: T },
    { body: 'count#orders=1', time: T + 1 },
  ]);
  const router = records({ 'service.name': 'heroku-router' }, [{ body: 'at=info dyno=web.1 connect=1ms service=3ms status=200 bytes=9', time: T + 2 }]);
  const runtime = records({ 'service.name': 'heroku-runtime', 'service.instance.id': 'web.2' }, [
    { body: 'Error R14 (Memory quota exceeded)', time: T + 3 },
    { body: 'Error R14 (Memory quota exceeded)', time: T + 4, attributes: { dyno: 'worker.1' } },
  ]);
  const want = [
    { body: 'measure#db.latency=21ms source=web.1', proc: '', source: SOURCE_APP, time: T },
    { body: 'count#orders=1', proc: '', source: SOURCE_APP, time: T + 1 },
    { body: 'at=info dyno=web.1 connect=1ms service=3ms status=200 bytes=9', proc: '', source: SOURCE_ROUTER, time: T + 2 },
    { body: 'Error R14 (Memory quota exceeded)', proc: 'web.2', source: SOURCE_RUNTIME, time: T + 3 },
    { body: 'Error R14 (Memory quota exceeded)', proc: 'worker.1', source: SOURCE_RUNTIME, time: T + 4 },
  ];

  it('reads the SDK protobuf: bodies, times, sources by service.name, the dyno of a record or its resource', () => {
    const t = new RecordTable();
    expect(new OtlpProtoDecoder().decode(proto([...app, ...router, ...runtime]), t)).toBeNull();
    expect(read(t)).toEqual(want);
    expect(t.rejected).toBe(0);
  });

  it('reads the SDK JSON the same', () => {
    const t = new RecordTable();
    expect(new OtlpJsonDecoder().decode(json([...app, ...router, ...runtime]), t)).toBeNull();
    expect(read(t)).toEqual(want);
  });

  it('refuses records whose body is not a string, and counts them', () => {
    const recs = records({ 'service.name': 'shop' }, [{ body: { a: 1 }, time: T }, { body: 'count#x', time: T }, { body: undefined, time: T }]);
    const p = new RecordTable();
    expect(new OtlpProtoDecoder().decode(proto(recs), p)).toBeNull();
    expect(read(p).map((r) => r.body)).toEqual(['count#x']);
    expect(p.rejected).toBe(2);
    const j = new RecordTable();
    expect(new OtlpJsonDecoder().decode(json(recs), j)).toBeNull();
    expect(read(j).map((r) => r.body)).toEqual(['count#x']);
    expect(j.rejected).toBe(2);
  });

  it('says why bytes are not a request: wrong wire type, a length past the end, a truncated varint, a group', () => {
    const t = new RecordTable();
    const d = new OtlpProtoDecoder();
    expect(d.decode(Buffer.from([0x08, 0x01]), t)).toMatch(/wire type varint/);
    expect(d.decode(Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x04]), t)).toMatch(/length 1073741824 runs past/);
    expect(d.decode(Buffer.from([0x0a, 0xff]), t)).toMatch(/truncated varint/);
    expect(d.decode(Buffer.from([0x0b]), t)).toMatch(/group start/);
    expect(new OtlpJsonDecoder().decode('{"resourceLogs": [', t)).toMatch(/not JSON/);
    expect(new OtlpJsonDecoder().decode('[1]', t)).toMatch(/not an ExportLogsServiceRequest/);
  });

  it('gives the same bodies back for any strings (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 20 }), (bodies) => {
        const recs = records({ 'service.name': 'x' }, bodies.map((body) => ({ body, time: T })));
        const t = new RecordTable();
        expect(new OtlpProtoDecoder().decode(proto(recs), t)).toBeNull();
        expect(read(t).map((r) => r.body)).toEqual(bodies);
        const j = new RecordTable();
        expect(new OtlpJsonDecoder().decode(json(recs), j)).toBeNull();
        expect(read(j).map((r) => r.body)).toEqual(bodies);
      }),
      { numRuns: 50 },
    );
  });

  it('never throws on a request cut anywhere or with bytes changed, and never reads past the end (property)', () => {
    const whole = proto([...app, ...router, ...runtime]);
    const d = new OtlpProtoDecoder();
    const t = new RecordTable();
    for (let cut = 0; cut < whole.length; cut++) {
      const err = d.decode(whole.subarray(0, cut), t);
      // A cut at a record's end is a valid shorter request; elsewhere, an error.
      if (err === null) expect(t.count).toBeLessThanOrEqual(want.length);
      for (let i = 0; i < t.count; i++) expect(t.bodyEnd(i)).toBeLessThanOrEqual(cut);
    }
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: whole.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.uint8Array({ maxLength: 64 }), (flips, tail) => {
        const b = Buffer.concat([whole, Buffer.from(tail)]);
        for (const [at, v] of flips) b[at] = v;
        const err = d.decode(b, t);
        expect(err === null || typeof err === 'string').toBe(true);
        for (let i = 0; i < t.count; i++) expect(t.bodyEnd(i)).toBeLessThanOrEqual(b.length);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const err = d.decode(Buffer.from(bytes), t);
        expect(err === null || typeof err === 'string').toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
