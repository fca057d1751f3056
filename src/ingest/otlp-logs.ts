// OTLP logs (docs/http-api.md, Heroku Fir's telemetry drains) to a table of records over one
// buffer: each record's body range, time and platform source, so the ingest reads
// them as it reads logplex frames, with no object per record.
//
// Protobuf is decoded here, over the bytes, rather than with a library: the request
// has five message types of which we read six fields, a walker over varints and
// lengths is ~150 lines that cannot allocate per record, and every length is checked
// against its parent's end, so a truncated body, a wrong wire type or a declared 1 GB
// length is an error, never a throw or a read past the end (test/ingest/otlp-logs
// property tests). JSON (OTLP/JSON: lowerCamelCase, int64 as strings) is parsed with
// JSON.parse and its strings written into the same kind of table.
//
//   ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
//   ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
//   Resource     { repeated KeyValue attributes = 1; }
//   ScopeLogs    { repeated LogRecord log_records = 2; }
//   LogRecord    { fixed64 time_unix_nano = 1; AnyValue body = 5;
//                  repeated KeyValue attributes = 6; fixed64 observed_time_unix_nano = 11; }
//   KeyValue     { string key = 1; AnyValue value = 2; }
//   AnyValue     { oneof { string string_value = 1; … } }

import { readVarint, VARINT_TRUNCATED, type VarintCursor, varintSize, writeVarint } from '../model/varint.js';
import { jsonCost } from './json-depth.js';

/** Where a record comes from, by the resource's `service.name` (docs/http-api.md). */
export const SOURCE_APP = 0; // the app's own lines: l2met conventions
export const SOURCE_ROUTER = 1; // heroku-router
export const SOURCE_RUNTIME = 2; // heroku-runtime: a dyno's platform lines
export const SOURCE_POSTGRES = 3; // heroku-postgres
export const SOURCE_REDIS = 4; // heroku-redis
export const SOURCE_PGBOUNCER = 5; // heroku-pgbouncer

const SERVICES: [string, number][] = [
  ['heroku-router', SOURCE_ROUTER],
  ['heroku-runtime', SOURCE_RUNTIME],
  ['heroku-postgres', SOURCE_POSTGRES],
  ['heroku-redis', SOURCE_REDIS],
  ['heroku-pgbouncer', SOURCE_PGBOUNCER],
];
const SERVICE_BYTES = SERVICES.map(([name, source]) => [Buffer.from(name), source] as const);
const SERVICE_NAME = Buffer.from('service.name');
/** Attributes naming the dyno of a heroku-runtime record: the record's `dyno`, else the resource's. */
const DYNO = Buffer.from('dyno');
const INSTANCE_ID = Buffer.from('service.instance.id');

/** Fields per record in RecordTable.ints. */
const F = 5;
const BODY_START = 0;
const BODY_END = 1;
const PROC_START = 2;
const PROC_END = 3;
const SOURCE = 4;

/** The records of one request, over `buf`. */
export class RecordTable {
  buf: Buffer = Buffer.alloc(0);
  /** Records with a string body. */
  count = 0;
  /** Records refused (a body that is not a string): partial success. */
  rejected = 0;
  ints = new Int32Array(F * 64);
  /** Epoch ms of each record; NaN when it gave none. */
  times = new Float64Array(64);

  reset(buf: Buffer): void {
    this.buf = buf;
    this.count = 0;
    this.rejected = 0;
  }

  add(bodyStart: number, bodyEnd: number, procStart: number, procEnd: number, source: number, time: number): void {
    const i = this.count;
    if (i === this.times.length) {
      const ints = new Int32Array(this.ints.length * 2);
      ints.set(this.ints);
      this.ints = ints;
      const times = new Float64Array(this.times.length * 2);
      times.set(this.times);
      this.times = times;
    }
    const p = i * F;
    this.ints[p + BODY_START] = bodyStart;
    this.ints[p + BODY_END] = bodyEnd;
    this.ints[p + PROC_START] = procStart;
    this.ints[p + PROC_END] = procEnd;
    this.ints[p + SOURCE] = source;
    this.times[i] = time;
    this.count = i + 1;
  }

  bodyStart(i: number): number {
    return this.ints[i * F + BODY_START];
  }
  bodyEnd(i: number): number {
    return this.ints[i * F + BODY_END];
  }
  procStart(i: number): number {
    return this.ints[i * F + PROC_START];
  }
  procEnd(i: number): number {
    return this.ints[i * F + PROC_END];
  }
  source(i: number): number {
    return this.ints[i * F + SOURCE];
  }
}

function bytesEqual(buf: Buffer, start: number, end: number, word: Buffer): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word[i]) return false;
  return true;
}

function sourceOf(buf: Buffer, start: number, end: number): number {
  for (const [name, source] of SERVICE_BYTES) if (bytesEqual(buf, start, end, name)) return source;
  return SOURCE_APP;
}

/** ns (as two 32-bit halves) to epoch ms; NaN for 0 (not set). */
function nanosToMs(lo: number, hi: number): number {
  if (lo === 0 && hi === 0) return NaN;
  // Whole µs first (below 2^53, so exact), then ms: a whole-ms time stays whole.
  return Math.round((hi * 4294967296 + lo) / 1000) / 1000;
}

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32', 'type 6', 'type 7'];

/** A walker over protobuf bytes; every read is bounded by `end`, and the first error stays. */
class Proto implements VarintCursor {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  err: string | null = null;

  fail(why: string): void {
    this.err ??= `${why} at byte ${this.pos}`;
  }

  /** A varint of up to 2^53 (larger values read as their low 53 bits are of no use here). */
  varint(end: number): number {
    const v = readVarint(this, end, 10);
    if (v >= 0) return v;
    this.fail(v === VARINT_TRUNCATED ? 'truncated varint' : 'varint longer than 10 bytes');
    return -1;
  }

  /** The end of a length-delimited field starting at pos, or -1. */
  length(end: number): number {
    const n = this.varint(end);
    if (n < 0) return -1;
    if (n > end - this.pos) {
      this.fail(`length ${n} runs past the end of its message`);
      return -1;
    }
    return this.pos + n;
  }

  /** Skips a field of wire type `wt`; false on error. */
  skip(wt: number, end: number): boolean {
    switch (wt) {
      case 0:
        return this.varint(end) >= 0;
      case 1:
        if (end - this.pos < 8) break;
        this.pos += 8;
        return true;
      case 2: {
        const e = this.length(end);
        if (e < 0) return false;
        this.pos = e;
        return true;
      }
      case 5:
        if (end - this.pos < 4) break;
        this.pos += 4;
        return true;
      default:
        this.fail(`unsupported wire type ${WIRE_NAMES[wt]}`);
        return false;
    }
    this.fail('truncated fixed-width field');
    return false;
  }

  /** Reads a tag; returns it, or -1 (error set) . */
  tag(end: number): number {
    const t = this.varint(end);
    if (t < 0) return -1;
    if (t >>> 3 === 0) {
      this.fail('field number 0');
      return -1;
    }
    return t;
  }

  /** A field the schema says is length-delimited, read with another wire type. */
  wrongType(field: number, wt: number, message: string): void {
    this.fail(`${message} field ${field} has wire type ${WIRE_NAMES[wt]}`);
  }
}

/** Decodes OTLP logs protobuf into records. */
export class OtlpProtoDecoder {
  private readonly p = new Proto();
  // Per ResourceLogs: its source and the resource's dyno (byte ranges into buf).
  private source = SOURCE_APP;
  private procStart = 0;
  private procEnd = 0;
  // Per AnyValue read: the string's range, or -1 when the value is not a string.
  private strStart = -1;
  private strEnd = -1;

  /** Fills `table` from `buf`; returns why the body cannot be decoded, or null. */
  decode(buf: Buffer, table: RecordTable): string | null {
    const p = this.p;
    p.buf = buf;
    p.pos = 0;
    p.err = null;
    table.reset(buf);
    const end = buf.length;
    while (p.pos < end && p.err === null) {
      const t = p.tag(end);
      if (t < 0) break;
      const field = t >>> 3;
      const wt = t & 7;
      if (field === 1) {
        if (wt !== 2) {
          p.wrongType(field, wt, 'ExportLogsServiceRequest');
          break;
        }
        const e = p.length(end);
        if (e < 0) break;
        this.resourceLogs(e, table);
        p.pos = e;
      } else if (!p.skip(wt, end)) break;
    }
    return p.err;
  }

  private resourceLogs(end: number, table: RecordTable): void {
    const p = this.p;
    const start = p.pos;
    this.source = SOURCE_APP;
    this.procStart = this.procEnd = 0;
    // The resource first, wherever it is: it decides how every record reads.
    while (p.pos < end && p.err === null) {
      const t = p.tag(end);
      if (t < 0) return;
      if (t >>> 3 === 1 && (t & 7) === 2) {
        const e = p.length(end);
        if (e < 0) return;
        this.resource(e);
        p.pos = e;
      } else if (t >>> 3 === 1) {
        return p.wrongType(1, t & 7, 'ResourceLogs');
      } else if (!p.skip(t & 7, end)) return;
    }
    p.pos = start;
    while (p.pos < end && p.err === null) {
      const t = p.tag(end);
      if (t < 0) return;
      if (t >>> 3 === 2) {
        if ((t & 7) !== 2) return p.wrongType(2, t & 7, 'ResourceLogs');
        const e = p.length(end);
        if (e < 0) return;
        this.scopeLogs(e, table);
        p.pos = e;
      } else if (!p.skip(t & 7, end)) return;
    }
  }

  private resource(end: number): void {
    const p = this.p;
    while (p.pos < end && p.err === null) {
      const t = p.tag(end);
      if (t < 0) return;
      if (t >>> 3 === 1) {
        if ((t & 7) !== 2) return p.wrongType(1, t & 7, 'Resource');
        const e = p.length(end);
        if (e < 0) return;
        this.keyValue(e, true);
        p.pos = e;
      } else if (!p.skip(t & 7, end)) return;
    }
  }

  /** A KeyValue: service.name sets the source (resource), dyno the dyno. */
  private keyValue(end: number, resource: boolean): void {
    const p = this.p;
    const buf = p.buf;
    let keyStart = -1;
    let keyEnd = -1;
    this.strStart = this.strEnd = -1;
    while (p.pos < end && p.err === null) {
      const t = p.tag(end);
      if (t < 0) return;
      const field = t >>> 3;
      if ((field === 1 || field === 2) && (t & 7) !== 2) return p.wrongType(field, t & 7, 'KeyValue');
      if (field === 1) {
        const e = p.length(end);
        if (e < 0) return;
        keyStart = p.pos;
        keyEnd = e;
        p.pos = e;
      } else if (field === 2) {
        const e = p.length(end);
        if (e < 0) return;
        this.anyValue(e);
        p.pos = e;
      } else if (!p.skip(t & 7, end)) return;
    }
    if (this.strStart < 0 || keyStart < 0) return;
    if (resource && bytesEqual(buf, keyStart, keyEnd, SERVICE_NAME)) {
      this.source = sourceOf(buf, this.strStart, this.strEnd);
    } else if (bytesEqual(buf, keyStart, keyEnd, DYNO) || (resource && this.procEnd === 0 && bytesEqual(buf, keyStart, keyEnd, INSTANCE_ID))) {
      this.procStart = this.strStart;
      this.procEnd = this.strEnd;
    }
  }

  /** An AnyValue: sets strStart/strEnd when it holds a string. */
  private anyValue(end: number): void {
    const p = this.p;
    this.strStart = this.strEnd = -1;
    while (p.pos < end && p.err === null) {
      const t = p.tag(end);
      if (t < 0) return;
      if (t >>> 3 === 1) {
        if ((t & 7) !== 2) return p.wrongType(1, t & 7, 'AnyValue');
        const e = p.length(end);
        if (e < 0) return;
        this.strStart = p.pos;
        this.strEnd = e;
        p.pos = e;
      } else {
        this.strStart = this.strEnd = -1; // a oneof: the last value set wins
        if (!p.skip(t & 7, end)) return;
      }
    }
  }

  private scopeLogs(end: number, table: RecordTable): void {
    const p = this.p;
    while (p.pos < end && p.err === null) {
      const t = p.tag(end);
      if (t < 0) return;
      if (t >>> 3 === 2) {
        if ((t & 7) !== 2) return p.wrongType(2, t & 7, 'ScopeLogs');
        const e = p.length(end);
        if (e < 0) return;
        this.logRecord(e, table);
        p.pos = e;
      } else if (!p.skip(t & 7, end)) return;
    }
  }

  private logRecord(end: number, table: RecordTable): void {
    const p = this.p;
    const buf = p.buf;
    let time = NaN;
    let observed = NaN;
    let bodyStart = -1;
    let bodyEnd = -1;
    let body = false;
    const resourceProcStart = this.procStart;
    const resourceProcEnd = this.procEnd;
    while (p.pos < end && p.err === null) {
      const t = p.tag(end);
      if (t < 0) return;
      const field = t >>> 3;
      const wt = t & 7;
      if (field === 1 || field === 11) {
        if (wt !== 1) return p.wrongType(field, wt, 'LogRecord');
        if (end - p.pos < 8) return p.fail('truncated time');
        const ms = nanosToMs(buf.readUInt32LE(p.pos), buf.readUInt32LE(p.pos + 4));
        if (field === 1) time = ms;
        else observed = ms;
        p.pos += 8;
      } else if (field === 5 || field === 6) {
        if (wt !== 2) return p.wrongType(field, wt, 'LogRecord');
        const e = p.length(end);
        if (e < 0) return;
        if (field === 5) {
          this.anyValue(e);
          body = true;
          bodyStart = this.strStart;
          bodyEnd = this.strEnd;
        } else {
          this.keyValue(e, false);
        }
        p.pos = e;
      } else if (!p.skip(wt, end)) return;
    }
    if (p.err !== null) return;
    const procStart = this.procStart;
    const procEnd = this.procEnd;
    this.procStart = resourceProcStart;
    this.procEnd = resourceProcEnd;
    if (!body || bodyStart < 0) {
      table.rejected++;
      return;
    }
    table.add(bodyStart, bodyEnd, procStart, procEnd, this.source, time === time ? time : observed);
  }
}

interface JsonKeyValue {
  key?: unknown;
  value?: { stringValue?: unknown; string_value?: unknown };
}

/** The string of an OTLP/JSON AnyValue, or null. */
function jsonString(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as { stringValue?: unknown; string_value?: unknown };
  const s = o.stringValue ?? o.string_value;
  return typeof s === 'string' ? s : null;
}

function jsonAttr(attrs: unknown, key: string): string | null {
  if (!Array.isArray(attrs)) return null;
  for (const kv of attrs as JsonKeyValue[]) if (kv !== null && typeof kv === 'object' && kv.key === key) return jsonString(kv.value);
  return null;
}

/** OTLP/JSON time: a decimal string or a number of ns; NaN when absent or 0. */
function jsonNanos(v: unknown): number {
  // ns since the epoch pass 2^53: read as whole µs (exact), then ms, as protobuf's.
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) {
    const ms = v.length > 3 ? Number(v.slice(0, -3)) / 1000 : 0;
    return ms > 0 ? ms : NaN;
  }
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v / 1e6;
  return NaN;
}

const pick = (o: Record<string, unknown>, camel: string, snake: string): unknown => o[camel] ?? o[snake];

/**
 * Arrays and objects one OTLP/JSON body may nest: a log record's body sits 8 deep,
 * and each AnyValue inside it adds 3, so 64 leaves room for 18 levels of nested values.
 */
export const MAX_JSON_DEPTH = 64;
/**
 * Objects and arrays an OTLP/JSON body may open: this many, and one for every
 * JSON_BYTES_PER_CONTAINER bytes. A record with a timestamp, a string body and an
 * attribute opens 4 in about 120 bytes; an exporter's, with its empty fields, 3 in 250.
 */
export const JSON_CONTAINERS_FREE = 4096;
export const JSON_BYTES_PER_CONTAINER = 16;

/** Decodes OTLP/JSON logs into records over a buffer of their strings. */
export class OtlpJsonDecoder {
  private out = Buffer.allocUnsafe(64 * 1024);
  private at = 0;

  decode(text: string, table: RecordTable): string | null {
    const cost = jsonCost(text, MAX_JSON_DEPTH, JSON_CONTAINERS_FREE + text.length / JSON_BYTES_PER_CONTAINER);
    if (cost === 'nested') return `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;
    if (cost === 'crowded') return `more than one JSON object or array for every ${JSON_BYTES_PER_CONTAINER} bytes`;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return `not JSON: ${(err as Error).message}`;
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not an ExportLogsServiceRequest object';
    const resourceLogs = pick(doc as Record<string, unknown>, 'resourceLogs', 'resource_logs') ?? [];
    if (!Array.isArray(resourceLogs)) return 'resourceLogs is not an array';
    // Room for every string, so the table's ranges stay over one buffer.
    if (this.out.length < Buffer.byteLength(text)) this.out = Buffer.allocUnsafe(Buffer.byteLength(text));
    this.at = 0;
    table.reset(this.out);
    for (const rl of resourceLogs) {
      if (typeof rl !== 'object' || rl === null) return 'a resourceLogs entry is not an object';
      const r = rl as Record<string, unknown>;
      const resource = (r.resource ?? {}) as Record<string, unknown>;
      const service = jsonAttr(resource.attributes, 'service.name');
      const source = service === null ? SOURCE_APP : (SERVICES.find(([n]) => n === service)?.[1] ?? SOURCE_APP);
      const resourceDyno = jsonAttr(resource.attributes, 'dyno') ?? jsonAttr(resource.attributes, 'service.instance.id') ?? '';
      const rps = this.at;
      this.at += this.out.write(resourceDyno, this.at);
      const rpe = this.at;
      const scopes = pick(r, 'scopeLogs', 'scope_logs') ?? [];
      if (!Array.isArray(scopes)) return 'scopeLogs is not an array';
      for (const sl of scopes) {
        if (typeof sl !== 'object' || sl === null) return 'a scopeLogs entry is not an object';
        const records = pick(sl as Record<string, unknown>, 'logRecords', 'log_records') ?? [];
        if (!Array.isArray(records)) return 'logRecords is not an array';
        for (const rec of records) {
          if (typeof rec !== 'object' || rec === null) return 'a log record is not an object';
          const o = rec as Record<string, unknown>;
          const body = jsonString(o.body);
          if (body === null) {
            table.rejected++;
            continue;
          }
          const dyno = jsonAttr(o.attributes, 'dyno');
          const t = jsonNanos(pick(o, 'timeUnixNano', 'time_unix_nano'));
          const time = t === t ? t : jsonNanos(pick(o, 'observedTimeUnixNano', 'observed_time_unix_nano'));
          let ps = rps;
          let pe = rpe;
          if (dyno !== null) {
            ps = this.at;
            this.at += this.out.write(dyno, this.at);
            pe = this.at;
          }
          const bs = this.at;
          this.at += this.out.write(body, this.at);
          table.add(bs, this.at, ps, pe, source, time);
        }
      }
    }
    return null;
  }
}

/** ExportLogsServiceResponse, protobuf: empty when nothing was rejected. */
export function protoResponse(rejected: number, message: string): Buffer {
  if (rejected === 0) return Buffer.alloc(0);
  const msg = Buffer.from(message);
  const inner = Buffer.concat([Buffer.from([0x08]), varintBytes(rejected), Buffer.from([0x12]), varintBytes(msg.length), msg]);
  return Buffer.concat([Buffer.from([0x0a]), varintBytes(inner.length), inner]);
}

/** google.rpc.Status { code = 1; message = 2 }, protobuf. */
export function protoStatus(code: number, message: string): Buffer {
  const msg = Buffer.from(message);
  return Buffer.concat([Buffer.from([0x08]), varintBytes(code), Buffer.from([0x12]), varintBytes(msg.length), msg]);
}

function varintBytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(varintSize(n));
  writeVarint(out, 0, n);
  return out;
}
