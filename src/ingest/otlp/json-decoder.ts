// OTLP/JSON logs (lowerCamelCase, int64 as strings; snake_case accepted too) to a
// RecordTable: parsed with JSON.parse once its nesting and container count are within
// bounds (json-depth.ts), and its strings written into one buffer the table's ranges
// are over.

import { jsonCost } from '../json-depth.js';
import { type RecordTable, SERVICES, SOURCE_APP } from './record-table.js';

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
