// Prometheus remote write 1.0 (SPEC §7): every closed window becomes samples of a
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
// The histogram counts windows only: a late line (SPEC §4) is in NAME_count of
// /metrics and of the summary, not in the histogram, which holds no window for it.

import type { ClosedWindow, Series } from '../aggregate/index.js';
import { Histogram, indexOfKey, SCHEMA } from '../aggregate/index.js';
import { COUNTER, MEASURE } from '../model/index.js';
import { ConfigError, type Option } from '../options.js';
import { defineOutlet, type Outlet, type OutletContext, PushStats } from './outlet.js';
import { ProtoWriter } from './protobuf.js';
import { INSTANCE, instanceOf, PUSH_QUEUE_BYTES, retryDelay } from './push.js';
import { snappyBlock, type SnappyPiece, snappyPiece } from './snappy.js';

const URL_OPTION: Option = { flag: 'remote-write-url', env: 'DRAINMETER_REMOTE_WRITE_URL', describe: 'push to a Prometheus remote-write endpoint (Basic credentials in the URL)', default: '' };
const HEADERS_OPTION: Option = { flag: 'remote-write-headers', env: 'DRAINMETER_REMOTE_WRITE_HEADERS', describe: 'extra request headers, k=v,k=v (X-Scope-OrgID=tenant)', default: '' };
const SCHEMA_OPTION: Option = { flag: 'remote-write-schema', env: 'DRAINMETER_REMOTE_WRITE_SCHEMA', describe: 'native histogram schema, -4 to 6 (lower: fewer, wider buckets)', default: '6' };
const MAX_BUCKETS_OPTION: Option = { flag: 'remote-write-max-buckets', env: 'DRAINMETER_REMOTE_WRITE_MAX_BUCKETS', describe: 'most buckets in a native histogram; past it the schema goes down (0: no limit)', default: '160' };
const MEASURES_OPTION: Option = { flag: 'remote-write-measures', env: 'DRAINMETER_REMOTE_WRITE_MEASURES', describe: 'measures as histogram, summary or both', default: 'both' };

/** The lowest schema remote write allows: buckets a factor 2^16 wide. */
const MIN_SCHEMA = -4;

/** Batches are cut and sent this often, ms. */
const SEND_EVERY_MS = 1000;
/** A request failing for longer than this is dropped and counted. */
const MAX_RETRY_MS = 5 * 60_000;
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
interface Batch {
  floats: SnappyPiece;
  hists: SnappyPiece;
  bytes: number;
  samples: number;
  histograms: number;
  since: number;
  attempts: number;
}

/** A series' cumulative histogram of its closed windows. */
class Cumulative {
  readonly h = new Histogram();
  count = 0;
  sum = 0;
  constructor(public schema: number) {}
}

/**
 * A counter's total, or a measure's count and sum, as of its windows closed so far:
 * the cumulative figure less what its open windows hold. Late lines are in it (they
 * are in the cumulative figure and no window), as on /metrics.
 */
function settled(s: Series): { count: number; sum: number } {
  let count = s.count;
  let sum = s.sum;
  const counter = s.metric.kind === COUNTER;
  for (const w of s.open) {
    count -= counter ? w.sum : w.count;
    sum -= w.sum;
  }
  return { count, sum };
}

/** Label pairs sorted by name, as remote write requires. */
function sortedLabels(pairs: [string, string][]): [string, string][] {
  return pairs.filter(([, v]) => v !== '').sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

class RemoteWriteOutlet implements Outlet {
  readonly name = 'remote_write';
  readonly push = new PushStats();
  readonly window: (c: ClosedWindow) => void;
  /** The batch being written: float series, and histogram series apart, so a receiver refusing histograms still gets the rest. */
  private readonly w = new ProtoWriter();
  private readonly hw = new ProtoWriter();
  private samples = 0;
  private histograms = 0;
  private readonly queue: Batch[] = [];
  private sending = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
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
    this.window = (c) => this.add(c);
    this.timer = setInterval(() => this.cut(), SEND_EVERY_MS);
    this.timer.unref();
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
    if (cum === undefined) this.cumulative.set(s, (cum = new Cumulative(this.settings.schema)));
    c.window.mergeInto(cum.h);
    cum.count += c.window.count;
    cum.sum += c.window.sum;
    this.histogram(this.labelsOf(s)[0], cum, ms);
  }

  /** One TimeSeries with one native histogram: spans and deltas at the configured schema. */
  private histogram(labels: Buffer, cum: Cumulative, ms: number): void {
    const h = cum.h;
    // Buckets by index at the target schema, ascending; keys are sorted with the
    // negatives first (largest |v| first), then zero, then positives ascending. Past
    // the bucket limit, the schema goes down (the cumulative only widens, so it never
    // comes back up).
    const pos: number[] = [];
    const neg: number[] = [];
    let zero = 0;
    for (;;) {
      const f = 2 ** (SCHEMA - cum.schema);
      pos.length = 0;
      neg.length = 0;
      zero = 0;
      let buckets = 0;
      let lastPos = NaN;
      let lastNeg = NaN;
      for (let i = 0; i < h.n; i++) {
        const key = h.keys[i];
        const count = h.counts[i];
        if (key === 0) {
          zero += count;
          continue;
        }
        const index = Math.ceil(indexOfKey(key) / f);
        if (key > 0) {
          if (index !== lastPos) buckets++;
          lastPos = index;
          pos.push(index, count);
        } else {
          if (index !== lastNeg) buckets++;
          lastNeg = index;
          neg.push(index, count);
        }
      }
      if (buckets <= this.settings.maxBuckets || cum.schema === MIN_SCHEMA) break;
      cum.schema--;
    }
    const w = this.hw;
    const ts = w.begin(1);
    w.raw(labels);
    const hg = w.begin(4);
    w.uint(1, cum.count);
    w.double(3, cum.sum);
    w.sint(4, cum.schema);
    // zero_threshold 0: only exact zeros are in the zero bucket.
    w.uint(6, zero);
    this.buckets(neg, true, 8, 9);
    this.buckets(pos, false, 11, 12);
    w.uint(15, ms);
    w.end(hg);
    w.end(ts);
    this.histograms++;
  }

  /** Spans and deltas of (index, count) pairs; `reversed` pairs come in descending index. */
  private buckets(pairs: number[], reversed: boolean, spansField: number, deltasField: number): void {
    const w = this.hw;
    if (pairs.length === 0) return;
    const idx: number[] = [];
    const cnt: number[] = [];
    const n = pairs.length / 2;
    for (let k = 0; k < n; k++) {
      const p = (reversed ? n - 1 - k : k) * 2;
      const i = pairs[p];
      if (idx.length > 0 && idx[idx.length - 1] === i) cnt[cnt.length - 1] += pairs[p + 1];
      else idx.push(i), cnt.push(pairs[p + 1]);
    }
    let start = 0;
    let prevEnd = 0;
    for (let k = 1; k <= idx.length; k++) {
      if (k < idx.length && idx[k] === idx[k - 1] + 1) continue;
      const span = w.begin(spansField);
      w.sint(1, start === 0 ? idx[0] : idx[start] - prevEnd);
      w.uint(2, k - start);
      w.end(span);
      prevEnd = idx[k - 1] + 1;
      start = k;
    }
    const packed = w.begin(deltasField);
    let prev = 0;
    for (const c of cnt) {
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
  private cut(): void {
    this.summaries();
    if (this.samples + this.histograms === 0) return;
    const floats = snappyPiece(this.w.finish());
    const hists = snappyPiece(this.hw.finish());
    const bytes = floats.elements.length + hists.elements.length;
    const batch: Batch = { floats, hists, bytes, samples: this.samples, histograms: this.histograms, since: this.ctx.now(), attempts: 0 };
    this.w.reset();
    this.hw.reset();
    this.samples = 0;
    this.histograms = 0;
    if (this.push.queueBytes + bytes > this.settings.queueBytes) {
      this.push.dropped += batch.samples + batch.histograms;
      this.push.fail('queue_full');
      return;
    }
    this.queue.push(batch);
    this.push.queueBytes += bytes;
    void this.send();
  }

  /** Sends queued requests, one at a time, in order. */
  private async send(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const b = this.queue[0];
        const outcome = await this.post(snappyBlock(b.histograms > 0 && this.settings.histograms ? [b.floats, b.hists] : [b.floats]));
        if (outcome === 'refused_histograms') {
          this.refuseHistograms();
          continue;
        }
        if (outcome === 'retry' && this.ctx.now() - b.since <= this.settings.maxRetryMs) {
          await new Promise((r) => setTimeout(r, retryDelay(b.attempts++)).unref());
          continue;
        }
        const sent = b.samples + (this.settings.histograms ? b.histograms : 0);
        if (outcome === 'ok') this.push.samples += sent;
        else {
          this.push.dropped += sent;
          if (outcome === 'retry') this.push.fail('expired');
        }
        this.queue.shift();
        this.push.queueBytes -= b.bytes;
      }
    } finally {
      this.sending = false;
    }
  }

  /**
   * The receiver refuses native histograms (Prometheus without
   * --enable-feature=native-histograms answers 500 "native histograms are disabled"):
   * from now on measures go as quantile gauges with _sum and _count only, and the
   * histograms already queued are dropped and counted. Said once, with the fix.
   */
  private refuseHistograms(): void {
    this.settings.histograms = false;
    this.settings.summaries = true;
    let dropped = 0;
    for (const b of this.queue) dropped += b.histograms;
    this.push.dropped += dropped;
    this.ctx.log.error('remote write: the receiver refuses native histograms; measures go as quantile gauges with _sum and _count from now on', {
      fix: 'enable native histograms on the receiver (Prometheus: --enable-feature=native-histograms) and restart, or set DRAINMETER_REMOTE_WRITE_MEASURES=summary',
      dropped,
    });
  }

  private async post(body: Buffer): Promise<'ok' | 'retry' | 'drop' | 'refused_histograms'> {
    try {
      const res = await fetch(this.settings.url, {
        method: 'POST',
        headers: {
          'Content-Encoding': 'snappy',
          'Content-Type': 'application/x-protobuf',
          'User-Agent': 'drainmeter',
          'X-Prometheus-Remote-Write-Version': '0.1.0',
          ...this.settings.headers,
        },
        body,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      const text = await res.text().catch(() => '');
      if (res.ok) return 'ok';
      this.push.fail(`http_${res.status}`);
      if (this.settings.histograms && /histogram/i.test(text.slice(0, 1024))) return 'refused_histograms';
      return res.status === 429 || res.status >= 500 ? 'retry' : 'drop';
    } catch (err) {
      this.push.fail((err as Error).name === 'TimeoutError' ? 'timeout' : 'network');
      return 'retry';
    }
  }

  async flush(deadline: number): Promise<void> {
    clearInterval(this.timer);
    this.cut();
    while (this.queue.length > 0 && this.ctx.now() < deadline) {
      if (!this.sending) void this.send();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopped = true;
    for (const b of this.queue) this.push.dropped += b.samples + (this.settings.histograms ? b.histograms : 0);
    this.queue.length = 0;
    this.push.queueBytes = 0;
  }
}

export const remoteWriteOutlet = defineOutlet<Settings>({
  name: 'remote_write',
  options: [URL_OPTION, HEADERS_OPTION, SCHEMA_OPTION, MAX_BUCKETS_OPTION, MEASURES_OPTION, INSTANCE],
  configure(values) {
    const text = values.get(URL_OPTION.flag) ?? '';
    if (text === '') return null;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      url = new URL('invalid:');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(`DRAINMETER_REMOTE_WRITE_URL (--remote-write-url) must be an http or https URL, such as https://user:key@prometheus.example.com/api/v1/write, not ${JSON.stringify(text)}`);
    }
    const headers: Record<string, string> = {};
    if (url.username !== '' || url.password !== '') {
      headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    const headerText = values.get(HEADERS_OPTION.flag) ?? '';
    for (const kv of headerText === '' ? [] : headerText.split(',')) {
      const eq = kv.indexOf('=');
      if (eq <= 0 || !/^[A-Za-z0-9-]+$/.test(kv.slice(0, eq).trim())) {
        throw new ConfigError(`DRAINMETER_REMOTE_WRITE_HEADERS (--remote-write-headers) must be name=value pairs separated by commas, not ${JSON.stringify(headerText)}`);
      }
      headers[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
    }
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
