// OTLP/HTTP metrics (docs/push.md), configured by the standard OpenTelemetry exporter
// variables: every second, the windows closed since the last request as one
// ExportMetricsServiceRequest, protobuf (default) or JSON, gzip or not.
//
//   counter  Sum, cumulative, monotonic: the total through the window (name without _total)
//   sample   Gauge: the window's last value
//   measure  ExponentialHistogram, cumulative: count, sum, min, max and buckets at
//            scale 6 (ours as they are: OTLP bucket k is our bucket k + 1), lower
//            scales past DRAINMETER_OTLP_MAX_BUCKETS (dense buckets, as OTLP sends them)
//
// Points are stamped at the window's end and start at the series' first window.
// The resource is service.name (OTEL_SERVICE_NAME, else drainmeter) and
// service.instance.id (the instance of docs/push.md); each point's attributes are its
// labels. 429, 502, 503, 504, a network error or a timeout is retried (OTLP's
// retryable codes) with backoff; any other failure is dropped and counted, and so
// are points a receiver reports rejected in a partial success.

import { gzipSync } from 'node:zlib';
import type { ClosedWindow, Series } from '../aggregate/index.js';
import { SCHEMA } from '../aggregate/index.js';
import { COUNTER, type Kind, MEASURE } from '../model/index.js';
import { readVarint } from '../model/varint.js';
import { ConfigError, type Option } from '../options.js';
import { Cumulative, layout, type Layout, settled, type Side } from './native.js';
import { defineOutlet, type Outlet, type OutletContext } from './outlet.js';
import { ProtoWriter } from './protobuf.js';
import { BatchingOutlet, headerPairs, httpUrl, INSTANCE, instanceOf, MAX_RETRY_MS, type Outcome, type Pending, postBody, PUSH_QUEUE_BYTES } from './push.js';

/** A standard exporter variable and its metrics-only override (which wins). */
function pair(name: string, describe: string, dflt = ''): [Option, Option] {
  const flag = name.toLowerCase().replace(/_/g, '-');
  return [
    { flag: `otlp-${flag}`, env: `OTEL_EXPORTER_OTLP_${name}`, describe, default: dflt },
    { flag: `otlp-metrics-${flag}`, env: `OTEL_EXPORTER_OTLP_METRICS_${name}`, describe: `${describe}, for metrics only`, default: '' },
  ];
}

const ENDPOINT = pair('ENDPOINT', 'push to an OTLP/HTTP receiver: its base URL (/v1/metrics is added)');
const HEADERS = pair('HEADERS', 'OTLP request headers, k=v,k=v (values URL-encoded)');
const PROTOCOL = pair('PROTOCOL', 'OTLP encoding: http/protobuf or http/json', 'http/protobuf');
const COMPRESSION = pair('COMPRESSION', 'OTLP compression: gzip or none', 'none');
const TIMEOUT = pair('TIMEOUT', 'OTLP request timeout, ms', '10000');
const SERVICE: Option = { flag: 'otel-service-name', env: 'OTEL_SERVICE_NAME', describe: 'service.name of the pushed OTLP resource', default: 'drainmeter' };
const EXPORTER: Option = { flag: 'otel-metrics-exporter', env: 'OTEL_METRICS_EXPORTER', describe: 'none turns the OTLP outlet off even with an endpoint set', default: 'otlp' };
const MAX_BUCKETS: Option = { flag: 'otlp-max-buckets', env: 'DRAINMETER_OTLP_MAX_BUCKETS', describe: 'most buckets in an OTLP exponential histogram; past it the scale goes down', default: '160' };

const CUMULATIVE = 2;
const RETRYABLE = new Set([429, 502, 503, 504]);

interface Settings {
  url: string;
  headers: Record<string, string>;
  json: boolean;
  gzip: boolean;
  timeoutMs: number;
  maxBuckets: number;
  service: string;
  instance: string;
  queueBytes: number;
  maxRetryMs: number;
}

interface Batch extends Pending {
  body: Buffer;
}

/** A number point: a counter's total or a sample's last value at a window's end. */
interface NumberPoint {
  series: Series;
  value: number;
  end: number;
}

/** A metric's points in this batch. */
interface Group {
  name: string;
  numbers: NumberPoint[];
  /** Measures: the series closed a window, and the latest end (the cumulative is read at the cut). */
  measures: Map<Series, number>;
}

/** Our names are Prometheus'; OTLP's monotonic sums go without _total (receivers add it back). */
function otlpName(name: string, kind: Kind | -1): string {
  return kind === COUNTER && name.endsWith('_total') ? name.slice(0, -6) : name;
}

function unitOf(name: string): string {
  if (name.endsWith('_seconds')) return 's';
  if (name.endsWith('_bytes')) return 'By';
  return '';
}

const nanos = (ms: number) => BigInt(Math.round(ms)) * 1_000_000n;

/** OTLP bucket k is (base^k, base^(k+1)]; native (ours) i is (base^(i-1), base^i]. */
function dense(side: Side): { offset: number; counts: number[] } {
  if (side.index.length === 0) return { offset: 0, counts: [] };
  const first = side.index[0];
  const counts = new Array<number>(side.index[side.index.length - 1] - first + 1).fill(0);
  for (let k = 0; k < side.index.length; k++) counts[side.index[k] - first] = side.count[k];
  return { offset: first - 1, counts };
}

class OtlpOutlet extends BatchingOutlet<Batch> implements Outlet {
  readonly name = 'otlp';
  readonly window: (c: ClosedWindow) => void;
  private groups = new Map<string, Group>();
  private points = 0;
  private readonly cumulative = new WeakMap<Series, Cumulative>();
  /** Start of each counter and sample series' first window, ms. */
  private readonly starts = new WeakMap<Series, number>();
  private readonly w = new ProtoWriter();

  constructor(
    private readonly settings: Settings,
    private readonly ctx: OutletContext,
  ) {
    super(settings, ctx.now);
    this.window = (c) => this.add(c);
  }

  /** A metric's points, by name and kind: kinds are per app, so two apps may send one name as two kinds (docs/isolation.md). */
  private group(s: Series): Group {
    const key = `${s.metric.kind} ${s.metric.name}`;
    let g = this.groups.get(key);
    if (g === undefined) this.groups.set(key, (g = { name: s.metric.name, numbers: [], measures: new Map() }));
    return g;
  }

  private add(c: ClosedWindow): void {
    const s = c.series;
    const kind = s.metric.kind;
    const end = c.end * 1000;
    if (kind === MEASURE) {
      let cum = this.cumulative.get(s);
      if (cum === undefined) this.cumulative.set(s, (cum = new Cumulative(SCHEMA, c.start * 1000)));
      cum.add(c.window);
      const m = this.group(s).measures;
      if (!m.has(s)) this.points++;
      m.set(s, end);
      return;
    }
    if (!this.starts.has(s)) this.starts.set(s, c.start * 1000);
    this.group(s).numbers.push({ series: s, value: kind === COUNTER ? settled(s).count : c.window.last, end });
    this.points++;
  }

  protected cut(): void {
    if (this.points === 0) return;
    const groups = this.groups;
    const points = this.points;
    this.groups = new Map();
    this.points = 0;
    let body = this.settings.json ? Buffer.from(JSON.stringify(this.json(groups))) : Buffer.from(this.protobuf(groups));
    if (this.settings.gzip) body = gzipSync(body);
    this.queue.add({ body, bytes: body.length, samples: points, since: this.ctx.now(), attempts: 0 });
  }

  private attributes(w: ProtoWriter, field: number, pairs: readonly (readonly [string, string])[]): void {
    for (const [k, v] of pairs) {
      const kv = w.begin(field);
      w.string(1, k);
      const any = w.begin(2);
      w.string(1, v);
      w.end(any);
      w.end(kv);
    }
  }

  private protobuf(groups: Map<string, Group>): Buffer {
    const w = this.w;
    w.reset();
    const rm = w.begin(1);
    const res = w.begin(1);
    this.attributes(w, 1, this.resource());
    w.end(res);
    const sm = w.begin(2);
    const scope = w.begin(1);
    w.string(1, 'drainmeter');
    w.end(scope);
    for (const g of groups.values()) {
      const name = g.name;
      const kind = g.measures.size > 0 ? MEASURE : (g.numbers[0]?.series.metric.kind ?? -1);
      const m = w.begin(2);
      w.string(1, otlpName(name, kind));
      const unit = unitOf(name);
      if (unit !== '') w.string(3, unit);
      if (kind === MEASURE) {
        const eh = w.begin(10);
        for (const [s, end] of g.measures) this.histogramPoint(w, s, end);
        w.uint(2, CUMULATIVE);
        w.end(eh);
      } else {
        const counter = kind === COUNTER;
        const data = w.begin(counter ? 7 : 5);
        for (const p of g.numbers) {
          const dp = w.begin(1);
          if (counter) w.fixed64(2, nanos(this.starts.get(p.series) ?? p.end));
          w.fixed64(3, nanos(p.end));
          w.double(4, p.value);
          this.attributes(w, 7, p.series.labels);
          w.end(dp);
        }
        if (counter) {
          w.uint(2, CUMULATIVE);
          w.uint(3, 1);
        }
        w.end(data);
      }
      w.end(m);
    }
    w.end(sm);
    w.end(rm);
    return Buffer.from(w.finish());
  }

  private histogramPoint(w: ProtoWriter, s: Series, end: number): void {
    const cum = this.cumulative.get(s) as Cumulative;
    const l: Layout = layout(cum, this.settings.maxBuckets, { dense: true });
    const dp = w.begin(1);
    this.attributes(w, 1, s.labels);
    w.fixed64(2, nanos(cum.start));
    w.fixed64(3, nanos(end));
    w.fixed64(4, BigInt(cum.count));
    w.double(5, cum.sum);
    w.sint(6, l.schema);
    w.fixed64(7, BigInt(l.zero));
    for (const [field, side] of [[8, l.positive], [9, l.negative]] as const) {
      if (side.index.length === 0) continue;
      const { offset, counts } = dense(side);
      const b = w.begin(field);
      w.sint(1, offset);
      const packed = w.begin(2);
      for (const c of counts) w.varint(c);
      w.end(packed);
      w.end(b);
    }
    if (cum.count > 0) {
      w.double(12, cum.min);
      w.double(13, cum.max);
    }
    w.end(dp);
  }

  private resource(): [string, string][] {
    return [
      ['service.name', this.settings.service],
      ['service.instance.id', this.settings.instance],
    ];
  }

  /** The OTLP/JSON form: lowerCamelCase fields, 64-bit integers as strings, enums as numbers. */
  private json(groups: Map<string, Group>): unknown {
    const attrs = (pairs: readonly (readonly [string, string])[]) => pairs.map(([key, v]) => ({ key, value: { stringValue: v } }));
    const metrics = [];
    for (const g of groups.values()) {
      const name = g.name;
      const kind = g.measures.size > 0 ? MEASURE : (g.numbers[0]?.series.metric.kind ?? -1);
      const unit = unitOf(name);
      const metric: Record<string, unknown> = { name: otlpName(name, kind), ...(unit === '' ? {} : { unit }) };
      if (kind === MEASURE) {
        const dataPoints = [...g.measures].map(([s, end]) => {
          const cum = this.cumulative.get(s) as Cumulative;
          const l = layout(cum, this.settings.maxBuckets, { dense: true });
          const pos = dense(l.positive);
          const neg = dense(l.negative);
          return {
            attributes: attrs(s.labels),
            startTimeUnixNano: String(nanos(cum.start)),
            timeUnixNano: String(nanos(end)),
            count: String(cum.count),
            sum: cum.sum,
            scale: l.schema,
            zeroCount: String(l.zero),
            positive: { offset: pos.offset, bucketCounts: pos.counts.map(String) },
            negative: { offset: neg.offset, bucketCounts: neg.counts.map(String) },
            ...(cum.count > 0 ? { min: cum.min, max: cum.max } : {}),
          };
        });
        metric.exponentialHistogram = { dataPoints, aggregationTemporality: CUMULATIVE };
      } else {
        const counter = kind === COUNTER;
        const dataPoints = g.numbers.map((p) => ({
          attributes: attrs(p.series.labels),
          ...(counter ? { startTimeUnixNano: String(nanos(this.starts.get(p.series) ?? p.end)) } : {}),
          timeUnixNano: String(nanos(p.end)),
          asDouble: p.value,
        }));
        if (counter) metric.sum = { dataPoints, aggregationTemporality: CUMULATIVE, isMonotonic: true };
        else metric.gauge = { dataPoints };
      }
      metrics.push(metric);
    }
    return { resourceMetrics: [{ resource: { attributes: attrs(this.resource()) }, scopeMetrics: [{ scope: { name: 'drainmeter' }, metrics }] }] };
  }

  protected async post(b: Batch): Promise<Outcome> {
    const headers: Record<string, string> = {
      'Content-Type': this.settings.json ? 'application/json' : 'application/x-protobuf',
      'User-Agent': 'drainmeter',
      ...(this.settings.gzip ? { 'Content-Encoding': 'gzip' } : {}),
      ...this.settings.headers,
    };
    const res = await postBody(this.settings.url, headers, b.body, this.settings.timeoutMs, this.push);
    if (res === null) return 'retry';
    if (res.status >= 200 && res.status < 300) {
      const rejected = rejectedPoints(res.bytes, this.settings.json);
      if (rejected > 0) {
        this.push.fail('partial');
        this.push.dropped += rejected;
        b.samples = Math.max(0, b.samples - rejected);
      }
      return 'ok';
    }
    return RETRYABLE.has(res.status) ? 'retry' : 'drop';
  }
}

/** partial_success.rejected_data_points of an ExportMetricsServiceResponse, or 0. */
function rejectedPoints(b: Buffer, json: boolean): number {
  if (b.length === 0) return 0;
  if (json) {
    try {
      const r = JSON.parse(b.toString('utf8')) as { partialSuccess?: { rejectedDataPoints?: string | number } };
      return Number(r.partialSuccess?.rejectedDataPoints ?? 0) || 0;
    } catch {
      return 0;
    }
  }
  // Protobuf: field 1 (partial_success, its length a varint) holding field 1
  // (rejected_data_points, a varint) first, as encoders write fields in order; an
  // absent or malformed one reads as 0.
  if (b[0] !== 0x0a) return 0;
  const c = { buf: b, pos: 1 };
  const len = readVarint(c, b.length, 10);
  const end = Math.min(b.length, c.pos + len);
  if (len < 0 || b[c.pos] !== 0x08) return 0;
  c.pos++;
  const n = readVarint(c, end, 10);
  return n < 0 ? 0 : n;
}

export const otlpOutlet = defineOutlet<Settings>({
  name: 'otlp',
  options: [...ENDPOINT, ...HEADERS, ...PROTOCOL, ...COMPRESSION, ...TIMEOUT, SERVICE, EXPORTER, MAX_BUCKETS, INSTANCE],
  configure(values) {
    // The metrics-only variable wins over the general one.
    const get = ([general, metrics]: [Option, Option]): [string, string] => {
      const m = values.get(metrics.flag) ?? '';
      return m !== '' ? [m, metrics.env] : [values.get(general.flag) || general.default, general.env];
    };
    const metricsEndpoint = values.get(ENDPOINT[1].flag) ?? '';
    const base = values.get(ENDPOINT[0].flag) ?? '';
    if ((metricsEndpoint === '' && base === '') || (values.get(EXPORTER.flag) ?? '').split(',').includes('none')) return null;
    // The general endpoint is a base URL; the metrics one is used as it is.
    const text = metricsEndpoint !== '' ? metricsEndpoint : `${base.replace(/\/+$/, '')}/v1/metrics`;
    const env = metricsEndpoint !== '' ? ENDPOINT[1].env : ENDPOINT[0].env;
    const url = httpUrl(text);
    if (url === null) {
      throw new ConfigError(`${env} must be an http or https URL, such as https://otlp.example.com, not ${JSON.stringify(metricsEndpoint || base)}`);
    }
    const [protocol, protocolEnv] = get(PROTOCOL);
    if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
      throw new ConfigError(`${protocolEnv} must be http/protobuf or http/json (grpc is not supported), not ${JSON.stringify(protocol)}`);
    }
    const [compression, compressionEnv] = get(COMPRESSION);
    if (compression !== 'gzip' && compression !== 'none') throw new ConfigError(`${compressionEnv} must be gzip or none, not ${JSON.stringify(compression)}`);
    const [timeout, timeoutEnv] = get(TIMEOUT);
    if (!/^\d{1,7}$/.test(timeout) || Number(timeout) === 0) throw new ConfigError(`${timeoutEnv} must be a whole number of milliseconds, not ${JSON.stringify(timeout)}`);
    const maxText = values.get(MAX_BUCKETS.flag) ?? MAX_BUCKETS.default;
    if (!/^\d{1,9}$/.test(maxText) || Number(maxText) < 2) throw new ConfigError(`DRAINMETER_OTLP_MAX_BUCKETS (--otlp-max-buckets) must be a whole number, 2 or more, not ${JSON.stringify(maxText)}`);
    const [general, metricsOnly] = HEADERS;
    const headers = { ...headerPairs(values.get(general.flag) ?? '', general.env, { decode: true }), ...headerPairs(values.get(metricsOnly.flag) ?? '', metricsOnly.env, { decode: true }) };
    return {
      url: url.toString(),
      headers,
      json: protocol === 'http/json',
      gzip: compression === 'gzip',
      timeoutMs: Number(timeout),
      maxBuckets: Number(maxText),
      service: values.get(SERVICE.flag) || SERVICE.default,
      instance: instanceOf(values),
      queueBytes: PUSH_QUEUE_BYTES,
      maxRetryMs: MAX_RETRY_MS,
    };
  },
  start(settings, ctx) {
    return new OtlpOutlet(settings, ctx);
  },
});
