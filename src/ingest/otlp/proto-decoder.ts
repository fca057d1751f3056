// OTLP logs protobuf (docs/http-api.md, Heroku Fir's telemetry drains) to a RecordTable,
// decoded over the bytes rather than with a library: the request has five message
// types of which we read six fields, a walker over varints and lengths cannot
// allocate per record, and every length is checked against its parent's end
// (proto-reader.ts), so a truncated body, a wrong wire type or a declared 1 GB length
// is an error, never a throw or a read past the end (test/ingest/otlp-logs property
// tests).
//
//   ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
//   ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
//   Resource     { repeated KeyValue attributes = 1; }
//   ScopeLogs    { repeated LogRecord log_records = 2; }
//   LogRecord    { fixed64 time_unix_nano = 1; AnyValue body = 5;
//                  repeated KeyValue attributes = 6; fixed64 observed_time_unix_nano = 11; }
//   KeyValue     { string key = 1; AnyValue value = 2; }
//   AnyValue     { oneof { string string_value = 1; … } }

import { Proto } from './proto-reader.js';
import { type RecordTable, SERVICES, SOURCE_APP } from './record-table.js';

const SERVICE_BYTES = SERVICES.map(([name, source]) => [Buffer.from(name), source] as const);
const SERVICE_NAME = Buffer.from('service.name');
/** Attributes naming the dyno of a heroku-runtime record: the record's `dyno`, else the resource's. */
const DYNO = Buffer.from('dyno');
const INSTANCE_ID = Buffer.from('service.instance.id');

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
