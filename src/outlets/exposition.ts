// The exposition, written directly: text format 0.0.4 or OpenMetrics 1.0.
// prom-client formats a sample in about 2 µs (labels re-joined, arrays spread per
// sample); with 100,000 summaries that is 700,000 samples and a 1.6 s scrape
// (bench/series.ts). Here each series' label text is encoded once and kept (weakly)
// for later scrapes, and samples are written straight into large buffers: no string
// per sample, nothing to join or encode.

import type { AppState, Series } from '../aggregate/index.js';
import { valueOf } from '../aggregate/buckets.js';
import { COUNTER, MEASURE, type Metric } from '../model/index.js';
import { printable } from '../model/printable.js';

/** A label value escaped as the exposition formats require: \\, \", \n. */
export function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/**
 * An exposition for a terminal (`tail --format prom`): each control character in a
 * label value (model/printable.ts) written as its visible escape with the backslash
 * doubled, so the text is still a valid exposition whose value reads `\x1b`. Line
 * ends stay: a label value's own LF is already `\n`.
 */
const NOT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

export function printableExposition(text: string): string {
  return text.replace(NOT_LF, (c) => `\\${printable(c)}`);
}

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const texts = new WeakMap<Series, Buffer>();

/** `k="v",k2="v2"` for label pairs ('' values left out). */
export function labelPairs(pairs: ReadonlyArray<readonly [string, string]>): string {
  let out = '';
  for (const [k, v] of pairs) if (v !== '') out += `${out === '' ? '' : ','}${k}="${escapeLabel(v)}"`;
  return out;
}

/** `app="shop",source="web.1"`: the label text of a series, encoded once. */
export function labelText(s: Series): Buffer {
  let text = texts.get(s);
  if (text === undefined) {
    text = Buffer.from(labelPairs(s.labels));
    texts.set(s, text);
  }
  return text;
}

/** The first buffer's size; each next one is twice the last, up to MAX_CHUNK (a 50 MB scrape made 800 of 64 KB: 25 µs each). */
const CHUNK = 1 << 16;
const MAX_CHUNK = 1 << 22;

/** Below these lengths a loop in JS copies faster than a call into the runtime (bench/series.ts scrape). */
const SHORT_TEXT = 40;
const SHORT_BYTES = 12;

/** Bytes in buffers of 64 KB and up: ASCII text, pre-encoded bytes and numbers. */
export class ByteWriter {
  readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(CHUNK);
  private at = 0;
  /** The last span(): its buffer's index among the chunks, and where in it. */
  private spanChunk = -1;
  private spanFrom = 0;
  private spanTo = 0;

  /** ASCII text (names, punctuation, numbers). */
  ascii(text: string): void {
    const n = text.length;
    if (this.at + n > this.buf.length) this.next(n);
    if (n > SHORT_TEXT) {
      this.at += this.buf.write(text, this.at, 'latin1');
      return;
    }
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
    this.at = at;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.at + n > this.buf.length) this.next(n);
    if (n > SHORT_BYTES) {
      this.buf.set(b, this.at);
      this.at += n;
      return;
    }
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) buf[at++] = b[i];
    this.at = at;
  }

  /** A sample value as formatValue() writes it; integers digit by digit, with no string made. */
  value(v: number): void {
    if (v >= 0 && v < 2147483648 && (v | 0) === v) {
      if (this.at + 10 > this.buf.length) this.next(10);
      const buf = this.buf;
      let digits = 1;
      for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
      const end = this.at + digits;
      for (let i = end - 1, x = v; i >= this.at; i--, x = (x / 10) | 0) buf[i] = 48 + (x % 10);
      this.at = end;
      return;
    }
    this.ascii(formatValue(v));
  }

  /** The end of a sample line, `} VALUE` and LF, after its name and labels. */
  endSample(v: number): void {
    this.ascii('} ');
    this.value(v);
    this.ascii('\n');
  }

  /** The value of bucket `key` (buckets.ts valueOf), from text made once per bucket. */
  bucket(key: number): void {
    let text = bucketTexts.get(key);
    if (text === undefined) {
      text = Buffer.from(formatValue(valueOf(key)), 'latin1');
      if (bucketTexts.size < MAX_BUCKET_TEXTS) bucketTexts.set(key, text);
    }
    this.bytes(text);
  }

  /** Makes room for `n` bytes in the current buffer (again() copies within one buffer). */
  reserve(n: number): void {
    if (this.at + n > this.buf.length) this.next(n);
  }

  /** Writes `a` then `b`, in one buffer, and keeps where: again() writes them once more. */
  span(a: Uint8Array, b: Uint8Array): void {
    this.reserve(a.length + b.length);
    this.spanChunk = this.chunks.length;
    this.spanFrom = this.at;
    this.bytes(a);
    this.bytes(b);
    this.spanTo = this.at;
  }

  /**
   * The last span() once more: one copy within the buffer for a line's repeated
   * start (name and labels), or from the chunk it went out in when a new buffer
   * began since.
   */
  again(): void {
    const n = this.spanTo - this.spanFrom;
    if (this.spanChunk === this.chunks.length) {
      if (this.at + n <= this.buf.length) {
        this.buf.copyWithin(this.at, this.spanFrom, this.spanTo);
        this.at += n;
        return;
      }
      this.next(n);
    }
    this.bytes(this.chunks[this.spanChunk].subarray(this.spanFrom, this.spanTo));
  }

  /** Any text, UTF-8. */
  text(s: string): void {
    this.bytes(Buffer.from(s));
  }

  /** The buffers written, the last one trimmed. */
  finish(): Buffer[] {
    if (this.at > 0) this.chunks.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(0);
    this.at = 0;
    return this.chunks;
  }

  private next(need: number): void {
    if (this.at > 0) this.chunks.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(Math.max(Math.min(this.buf.length * 2, MAX_CHUNK), need));
    this.at = 0;
  }
}

/**
 * The text of bucket values (buckets.ts valueOf), by key: quantiles are one of them
 * unless clamped to min or max, and a scrape of 100,000 summaries writes 300,000 of
 * a few thousand distinct ones (bench/series.ts: formatting them was a fifth of it).
 */
const bucketTexts = new Map<number, Buffer>();
const MAX_BUCKET_TEXTS = 1 << 16;

export function formatValue(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return `${v}`;
}

export type FamilyType = 'summary' | 'counter' | 'gauge' | 'histogram' | 'untyped';

const TYPE: Record<number, FamilyType> = { [MEASURE]: 'summary', [COUNTER]: 'counter', 2: 'gauge' };

/**
 * `# HELP` and `# TYPE` of a family. OpenMetrics names a counter family without
 * `_total` (its samples keep it); the text format names it as its samples.
 */
export function writeHeader(out: ByteWriter, name: string, help: string, type: FamilyType, openMetrics: boolean): void {
  const family = openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name;
  const t = openMetrics && type === 'untyped' ? 'unknown' : type;
  out.text(`# HELP ${family} ${escapeHelp(help)}\n# TYPE ${family} ${t}\n`);
}

/** One sample: `name{labels} value`; labels as text or, for ones written often, encoded once. */
export function writeSample(out: ByteWriter, name: string, labels: string | Buffer, value: number): void {
  if (typeof labels !== 'string') {
    out.ascii(name);
    out.ascii('{');
    out.bytes(labels);
    out.endSample(value);
  } else {
    out.text(labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`);
  }
}

/** What a family writes around its samples, encoded once per metric (100,000 families are 100,000 headers). */
interface FamilyText {
  header: Buffer;
  headerOm: Buffer;
  /** `name{`, `name_sum{`, `name_count{`. */
  open: Buffer;
  sumOpen: Buffer;
  countOpen: Buffer;
}

const familyTexts = new WeakMap<Metric, FamilyText>();

function familyText(metric: Metric): FamilyText {
  let t = familyTexts.get(metric);
  if (t === undefined) {
    const head = (om: boolean) => {
      const w = new ByteWriter();
      writeHeader(w, metric.name, metric.help, TYPE[metric.kind], om);
      return Buffer.concat(w.finish());
    };
    t = { header: head(false), headerOm: head(true), open: Buffer.from(`${metric.name}{`), sumOpen: Buffer.from(`${metric.name}_sum{`), countOpen: Buffer.from(`${metric.name}_count{`) };
    familyTexts.set(metric, t);
  }
  return t;
}

/** `,quantile="0.99"} `, per quantile asked. */
export function quantileSuffixes(qs: readonly number[]): Buffer[] {
  return qs.map((q) => Buffer.from(`,quantile="${q}"} `));
}

export interface FamilyOptions {
  quantiles: readonly number[];
  /** quantileSuffixes(quantiles), made once per scrape. */
  qSuffixes: readonly Buffer[];
  openMetrics: boolean;
  /** Called on a measure series before its quantiles are read (drops old windows). */
  expire: (s: Series) => void;
  /** Called every SERIES_PER_CHECK series: the writer may yield to the event loop there. */
  pause: () => Promise<void> | null;
}

const SERIES_PER_CHECK = 512;
/**
 * Room a quantile line takes past its name and labels, reserved so that again()
 * copies within one buffer: `,quantile="0.99"} ` and a value's text (the longest
 * double, -2.2250738585072014e-308, is 24). A hint only: again() is right either way.
 */
const LINE_ROOM = 64;

/**
 * A measure that was given a negative value (`measure#clock.skew=-4.5ms`), in
 * OpenMetrics: a summary's quantiles and sum may not be negative there, so it is
 * written as three gauge families with the summary's sample names, `NAME{quantile}`,
 * `NAME_sum` and `NAME_count`, the values as sent. The text format keeps the summary
 * (promtool and Prometheus take negative quantiles); a scrape reads the same samples
 * either way (docs/cli.md, "Strict expositions"). In the combined exposition every
 * app's family of the name is one part, so the three families are each written once.
 */
export async function writeSignedFamilies(parts: readonly { metric: Metric; apps: readonly AppState[] }[], options: FamilyOptions, out: ByteWriter): Promise<void> {
  const name = parts[0].metric.name;
  const help = escapeHelp(parts[0].metric.help);
  const qs = options.quantiles;
  const values: number[] = [];
  const keys: number[] = [];
  let n = 0;
  const check = async () => {
    if (++n < SERIES_PER_CHECK) return;
    n = 0;
    const wait = options.pause();
    if (wait !== null) await wait;
  };
  out.text(`# HELP ${name} ${help}\n# TYPE ${name} gauge\n`);
  for (const { metric, apps } of parts) for (const app of apps) {
    for (const s of app.each(metric)) {
      if (s.sliding === null) continue;
      options.expire(s);
      s.sliding.quantiles(qs, values, keys);
      const lt = labelText(s);
      for (let i = 0; i < qs.length; i++) {
        out.ascii(name);
        out.ascii('{');
        out.bytes(lt);
        out.bytes(options.qSuffixes[i]);
        if (keys[i] !== 0) out.bucket(keys[i]);
        else out.value(values[i]);
        out.ascii('\n');
      }
      await check();
    }
  }
  for (const part of ['sum', 'count'] as const) {
    out.text(`# HELP ${name}_${part} ${help} (the summary's ${part})\n# TYPE ${name}_${part} gauge\n`);
    for (const { metric, apps } of parts) for (const app of apps) {
      for (const s of app.each(metric)) {
        out.ascii(`${name}_${part}{`);
        out.bytes(labelText(s));
        out.endSample(part === 'sum' ? s.sum : s.count);
        await check();
      }
    }
  }
}

/** How writeFamily writes one family. */
export interface FamilyPart {
  /**
   * The family's `# HELP` and `# TYPE` lines (default true); false writes its series
   * only (another app's family of the same name and kind wrote them just before).
   */
  header?: boolean;
}

/** Writes the family of `metric` over the apps given (each has a series of it). */
export async function writeFamily(metric: Metric, apps: Iterable<AppState>, options: FamilyOptions, out: ByteWriter, part?: FamilyPart): Promise<void> {
  const header = part?.header ?? true;
  const kind = metric.kind;
  if (kind === MEASURE && metric.signed && options.openMetrics) return writeSignedFamilies([{ metric, apps: [...apps] }], options, out);
  const t = familyText(metric);
  if (header) out.bytes(options.openMetrics ? t.headerOm : t.header);
  const qs = options.quantiles;
  const { open, sumOpen, countOpen } = t;
  const qSuffixes = options.qSuffixes;
  const values: number[] = [];
  const keys: number[] = [];
  let n = 0;
  for (const app of apps) {
    for (const s of app.each(metric)) {
      const lt = labelText(s);
      if (kind === MEASURE) {
        if (s.sliding !== null) {
          options.expire(s);
          s.sliding.quantiles(qs, values, keys);
          // `name{labels` once, then copied for each next quantile's line.
          out.reserve(qs.length * (open.length + lt.length + LINE_ROOM));
          for (let i = 0; i < qs.length; i++) {
            if (i === 0) out.span(open, lt);
            else out.again();
            out.bytes(qSuffixes[i]);
            if (keys[i] !== 0) out.bucket(keys[i]);
            else out.value(values[i]);
            out.ascii('\n');
          }
        }
        out.bytes(sumOpen);
        out.bytes(lt);
        out.endSample(s.sum);
        out.bytes(countOpen);
        out.bytes(lt);
        out.endSample(s.count);
      } else {
        out.bytes(open);
        out.bytes(lt);
        out.endSample(kind === COUNTER ? s.count : s.last);
      }
      if (++n === SERIES_PER_CHECK) {
        n = 0;
        const wait = options.pause();
        if (wait !== null) await wait;
      }
    }
  }
}
