// Prometheus remote write 1.0 (docs/push.md): every closed window becomes samples of a
// WriteRequest (protobuf.ts), snappy-compressed (snappy.ts), POSTed once a second.
//
//   counter  NAME_total{…}          the total through the window, at its end
//   sample   NAME{…}                the window's last value, at its end
//   measure  NAME{…}                a native histogram (schema 6, our buckets as they
//                                   are, or downscaled exactly to
//                                   DRAINMETER_REMOTE_WRITE_SCHEMA), cumulative
//                                   with at most DRAINMETER_REMOTE_WRITE_MAX_BUCKETS
//                                   buckets (lower schemas past it)
//            NAME{…,quantile="q"}, NAME_sum, NAME_count
//                                   the quantile gauges of /metrics, as /metrics has
//                                   them, for stores without native histograms
//
// DRAINMETER_REMOTE_WRITE_MEASURES picks `histogram`, `summary` or `both` (default).
// Every series carries `instance`. Labels are sorted; a series' samples go in time
// order (windows close in order). A request that fails with 5xx, 429 or a network
// error is retried with backoff and jitter, one request at a time, in order, for at
// most MAX_RETRY_MS; a 4xx is dropped and counted. Requests waiting are bounded in
// bytes (PUSH_QUEUE_BYTES); past it, the newest batch is dropped and counted.
//
// The histogram counts windows only: a late line (docs/conventions.md) is in NAME_count of
// /metrics and of the summary, not in the histogram, which holds no window for it.

import type { ClosedWindow, Series } from '../aggregate/index.js';
import { SCHEMA } from '../aggregate/index.js';
import { COUNTER, MEASURE } from '../model/index.js';
import { ConfigError, type Option } from '../options.js';
import { Cumulative, layout, MIN_SCHEMA, settled, type Side } from './native.js';
import { defineOutlet, type Outlet, type OutletContext } from './outlet.js';
import { ProtoWriter } from './protobuf.js';
import { BatchingOutlet, headerPairs, httpUrl, INSTANCE, instanceOf, MAX_RETRY_MS, type Outcome, type Pending, postBody, PUSH_QUEUE_BYTES } from './push.js';
import { snappyBlock, type SnappyPiece, snappyPiece } from './snappy.js';

const URL_OPTION: Option = { flag: 'remote-write-url', env: 'DRAINMETER_REMOTE_WRITE_URL', describe: 'push to a Prometheus remote-write endpoint (Basic credentials in the URL)', default: '' };
const HEADERS_OPTION: Option = { flag: 'remote-write-headers', env: 'DRAINMETER_REMOTE_WRITE_HEADERS', describe: 'extra request headers, k=v,k=v (X-Scope-OrgID=tenant)', default: '' };
const SCHEMA_OPTION: Option = { flag: 'remote-write-schema', env: 'DRAINMETER_REMOTE_WRITE_SCHEMA', describe: 'native histogram schema, -4 to 6 (lower: fewer, wider buckets)', default: '6' };
const MAX_BUCKETS_OPTION: Option = { flag: 'remote-write-max-buckets', env: 'DRAINMETER_REMOTE_WRITE_MAX_BUCKETS', describe: 'most buckets in a native histogram; past it the schema goes down (0: no limit)', default: '160' };
const MEASURES_OPTION: Option = { flag: 'remote-write-measures', env: 'DRAINMETER_REMOTE_WRITE_MEASURES', describe: 'measures as histogram, summary or both', default: 'both' };

/** A receiver that has not answered in this long has failed (and the request is retried). */
const REQUEST_TIMEOUT_MS = 30_000;

interface Settings {
  url: string;
  headers: Record<string, string>;
  schema: number;
  maxBuckets: number;
  histograms: boolean;
  summaries: boolean;
  instance: string;
  /** Bounds, fixed here and smaller in tests. */
  queueBytes: number;
  timeoutMs: number;
  maxRetryMs: number;
}

/**
 * A request waiting: its WriteRequest's float series and histogram series, each
 * compressed apart, joined into one snappy block when sent (snappy.ts), or the floats
 * alone for a receiver that refuses histograms.
 */
interface Batch extends Pending {
  floats: SnappyPiece;
  hists: SnappyPiece;
  /** Of `samples`, those in histogram series. */
  histograms: number;
}

/** Label pairs sorted by name, as remote write requires. */
function sortedLabels(pairs: [string, string][]): [string, string][] {
  return pairs.filter(([, v]) => v !== '').sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

class RemoteWriteOutlet extends BatchingOutlet<Batch> implements Outlet {
  readonly name = 'remote_write';
  readonly window: (c: ClosedWindow) => void;
  /** The batch being written: float series, and histogram series apart, so a receiver refusing histograms still gets the rest. */
  private readonly w = new ProtoWriter();
  private readonly hw = new ProtoWriter();
  private samples = 0;
  private histograms = 0;
  /** Encoded labels of each series (and of its _sum, _count and quantile series). */
  private readonly labels = new WeakMap<Series, Buffer[]>();
  private readonly cumulative = new WeakMap<Series, Cumulative>();
  /** Measure series with a window closed since the last batch, and that window's end. */
  private readonly touched = new Map<Series, number>();
  private readonly quantileValues: number[] = [];
  private readonly labelWriter = new ProtoWriter(1024);

  constructor(
    private readonly settings: Settings,
    private readonly ctx: OutletContext,
  ) {
    super(settings, ctx.now);
    this.window = (c) => this.add(c);
  }

  /** The encoded Label fields of a series: [0] itself, [1] _sum, [2] _count, [3 + i] quantile i. */
  private labelsOf(s: Series): Buffer[] {
    let l = this.labels.get(s);
    if (l !== undefined) return l;
    const base: [string, string][] = [...s.labels.map(([k, v]) => [k, v] as [string, string]), ['instance', this.settings.instance]];
    const encode = (name: string, extra: [string, string][] = []) => {
      const w = this.labelWriter;
      w.reset();
      for (const [k, v] of sortedLabels([['__name__', name], ...base, ...extra])) {
        const at = w.begin(1);
        w.string(1, k);
        w.string(2, v);
        w.end(at);
      }
      return Buffer.from(w.finish());
    };
    const name = s.metric.name;
    l = [encode(name)];
    if (s.metric.kind === MEASURE) {
      l.push(encode(`${name}_sum`), encode(`${name}_count`));
      for (const q of this.ctx.quantiles) l.push(encode(name, [['quantile', String(q)]]));
    }
    this.labels.set(s, l);
    return l;
  }

  private sample(labels: Buffer, value: number, ms: number): void {
    const w = this.w;
    const ts = w.begin(1);
    w.raw(labels);
    const smp = w.begin(2);
    w.double(1, value);
    w.uint(2, ms);
    w.end(smp);
    w.end(ts);
    this.samples++;
  }

  private add(c: ClosedWindow): void {
    const s = c.series;
    const kind = s.metric.kind;
    const ms = c.end * 1000;
    if (kind === COUNTER) return this.sample(this.labelsOf(s)[0], settled(s).count, ms);
    if (kind !== MEASURE) return this.sample(this.labelsOf(s)[0], c.window.last, ms);
    if (this.settings.summaries) this.touched.set(s, ms);
    if (!this.settings.histograms) return;
    let cum = this.cumulative.get(s);
    if (cum === undefined) this.cumulative.set(s, (cum = new Cumulative(this.settings.schema, c.start * 1000)));
    cum.add(c.window);
    this.histogram(this.labelsOf(s)[0], cum, ms);
  }

  /** One TimeSeries with one native histogram: spans and deltas, at the series' schema. */
  private histogram(labels: Buffer, cum: Cumulative, ms: number): void {
    const l = layout(cum, this.settings.maxBuckets, { dense: false });
    const w = this.hw;
    const ts = w.begin(1);
    w.raw(labels);
    const hg = w.begin(4);
    w.uint(1, cum.count);
    w.double(3, cum.sum);
    w.sint(4, l.schema);
    // zero_threshold 0: only exact zeros are in the zero bucket.
    w.uint(6, l.zero);
    this.buckets(l.negative, 8, 9);
    this.buckets(l.positive, 11, 12);
    w.uint(15, ms);
    w.end(hg);
    w.end(ts);
    this.histograms++;
  }

  /** A side's spans (runs of consecutive indices) and the deltas of its counts. */
  private buckets(side: Side, spansField: number, deltasField: number): void {
    const { index, count } = side;
    if (index.length === 0) return;
    const w = this.hw;
    let start = 0;
    let prevEnd = 0;
    for (let k = 1; k <= index.length; k++) {
      if (k < index.length && index[k] === index[k - 1] + 1) continue;
      const span = w.begin(spansField);
      w.sint(1, start === 0 ? index[0] : index[start] - prevEnd);
      w.uint(2, k - start);
      w.end(span);
      prevEnd = index[k - 1] + 1;
      start = k;
    }
    const packed = w.begin(deltasField);
    let prev = 0;
    for (const c of count) {
      const d = c - prev;
      w.varint(d >= 0 ? d * 2 : -d * 2 - 1);
      prev = c;
    }
    w.end(packed);
  }

  /** The summary samples of the measures touched since the last batch, as /metrics has them now. */
  private summaries(): void {
    const qs = this.ctx.quantiles;
    const values = this.quantileValues;
    for (const [s, ms] of this.touched) {
      const l = this.labelsOf(s);
      const { count, sum } = settled(s);
      this.sample(l[1], sum, ms);
      this.sample(l[2], count, ms);
      if (s.sliding === null) continue;
      this.ctx.aggregator.expire(s);
      values.length = qs.length;
      s.sliding.quantiles(qs, values);
      for (let i = 0; i < qs.length; i++) this.sample(l[3 + i], values[i], ms);
    }
    this.touched.clear();
  }

  /** Cuts the batch written so far into a request and sends. */
  protected cut(): void {
    this.summaries();
    if (this.samples + this.histograms === 0) return;
    const floats = snappyPiece(this.w.finish());
    const hists = snappyPiece(this.hw.finish());
    const bytes = floats.elements.length + hists.elements.length;
    this.queue.add({ floats, hists, bytes, samples: this.samples + this.histograms, histograms: this.histograms, since: this.ctx.now(), attempts: 0 });
    this.w.reset();
    this.hw.reset();
    this.samples = 0;
    this.histograms = 0;
  }

  protected async post(b: Batch): Promise<Outcome> {
    const headers = {
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'User-Agent': 'drainmeter',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      ...this.settings.headers,
    };
    const body = snappyBlock(b.histograms > 0 ? [b.floats, b.hists] : [b.floats]);
    const res = await postBody(this.settings.url, headers, body, this.settings.timeoutMs, this.push);
    if (res === null) return 'retry';
    if (res.status >= 200 && res.status < 300) return 'ok';
    if (b.histograms > 0 && /histogram/i.test(res.text)) {
      this.refuseHistograms();
      return 'again';
    }
    return res.status === 429 || res.status >= 500 ? 'retry' : 'drop';
  }

  /**
   * The receiver refuses native histograms (Prometheus without
   * --enable-feature=native-histograms answers 500 "native histograms are disabled"):
   * from now on measures go as quantile gauges with _sum and _count only, and the
   * histograms already queued or written are dropped and counted. Said once, with the fix.
   */
  private refuseHistograms(): void {
    this.settings.histograms = false;
    this.settings.summaries = true;
    // Those queued, and those written since the last cut (windows that closed while
    // the refused request was on its way).
    let dropped = this.histograms;
    this.histograms = 0;
    this.hw.reset();
    for (const b of this.queue.items) {
      dropped += b.histograms;
      b.samples -= b.histograms;
      b.histograms = 0;
    }
    this.push.dropped += dropped;
    this.ctx.log.error('remote write: the receiver refuses native histograms; measures go as quantile gauges with _sum and _count from now on', {
      fix: 'enable native histograms on the receiver (Prometheus: --enable-feature=native-histograms) and restart, or set DRAINMETER_REMOTE_WRITE_MEASURES=summary',
      dropped,
    });
  }
}

export const remoteWriteOutlet = defineOutlet<Settings>({
  name: 'remote_write',
  options: [URL_OPTION, HEADERS_OPTION, SCHEMA_OPTION, MAX_BUCKETS_OPTION, MEASURES_OPTION, INSTANCE],
  configure(values) {
    const text = values.get(URL_OPTION.flag) ?? '';
    if (text === '') return null;
    const url = httpUrl(text);
    if (url === null) {
      throw new ConfigError(`DRAINMETER_REMOTE_WRITE_URL (--remote-write-url) must be an http or https URL, such as https://user:key@prometheus.example.com/api/v1/write, not ${JSON.stringify(text)}`);
    }
    const headers: Record<string, string> = {};
    if (url.username !== '' || url.password !== '') {
      headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    Object.assign(headers, headerPairs(values.get(HEADERS_OPTION.flag) ?? '', 'DRAINMETER_REMOTE_WRITE_HEADERS (--remote-write-headers)', { decode: false }));
    const schemaText = values.get(SCHEMA_OPTION.flag) ?? SCHEMA_OPTION.default;
    const schema = Number(schemaText);
    if (!/^-?\d$/.test(schemaText) || schema < MIN_SCHEMA || schema > SCHEMA) {
      throw new ConfigError(`DRAINMETER_REMOTE_WRITE_SCHEMA (--remote-write-schema) must be a whole number from -4 to ${SCHEMA}, not ${JSON.stringify(schemaText)}`);
    }
    const maxText = values.get(MAX_BUCKETS_OPTION.flag) ?? MAX_BUCKETS_OPTION.default;
    if (!/^\d{1,9}$/.test(maxText)) {
      throw new ConfigError(`DRAINMETER_REMOTE_WRITE_MAX_BUCKETS (--remote-write-max-buckets) must be a whole number, 0 for no limit, not ${JSON.stringify(maxText)}`);
    }
    const maxBuckets = Number(maxText) === 0 ? Infinity : Number(maxText);
    const measures = values.get(MEASURES_OPTION.flag) ?? MEASURES_OPTION.default;
    if (measures !== 'histogram' && measures !== 'summary' && measures !== 'both') {
      throw new ConfigError(`DRAINMETER_REMOTE_WRITE_MEASURES (--remote-write-measures) must be histogram, summary or both, not ${JSON.stringify(measures)}`);
    }
    return {
      url: url.toString(),
      headers,
      schema,
      maxBuckets,
      histograms: measures !== 'summary',
      summaries: measures !== 'histogram',
      instance: instanceOf(values),
      queueBytes: PUSH_QUEUE_BYTES,
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxRetryMs: MAX_RETRY_MS,
    };
  },
  start(settings, ctx) {
    return new RemoteWriteOutlet(settings, ctx);
  },
});
