// The exposition, written directly: text format 0.0.4 or OpenMetrics 1.0.
// prom-client formats a sample in about 2 µs (labels re-joined, arrays spread per
// sample); with 100,000 summaries that is 700,000 samples and a 1.6 s scrape
// (bench/series.ts). Here each series' label text is encoded once and kept (weakly)
// for later scrapes, and samples are written straight into 64 KB buffers: no string
// per sample, nothing to join or encode.

import type { AppState, Series } from '../aggregate/index.js';
import { COUNTER, MEASURE, type Metric } from '../model/index.js';

/** A label value escaped as the exposition formats require: \\, \", \n. */
export function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
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

const CHUNK = 1 << 16;

/** Bytes in 64 KB buffers: ASCII text, pre-encoded bytes and numbers. */
export class ByteWriter {
  readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(CHUNK);
  private at = 0;

  /** ASCII text (names, punctuation, numbers). */
  ascii(text: string): void {
    if (this.at + text.length > this.buf.length) this.next(text.length);
    this.at += this.buf.write(text, this.at, 'latin1');
  }

  bytes(b: Buffer): void {
    if (this.at + b.length > this.buf.length) this.next(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
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
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, need));
    this.at = 0;
  }
}

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
    out.ascii(name + '{');
    out.bytes(labels);
    out.ascii('} ' + formatValue(value) + '\n');
  } else {
    out.text(labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`);
  }
}

/** What a family writes around its samples, encoded once per metric (100,000 families are 100,000 headers). */
interface FamilyText {
  header: Buffer;
  headerOm: Buffer;
  open: string;
  sumOpen: string;
  countOpen: string;
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
    t = { header: head(false), headerOm: head(true), open: `${metric.name}{`, sumOpen: `${metric.name}_sum{`, countOpen: `${metric.name}_count{` };
    familyTexts.set(metric, t);
  }
  return t;
}

/** `,quantile="0.99"} `, per quantile asked. */
export function quantileSuffixes(qs: readonly number[]): string[] {
  return qs.map((q) => `,quantile="${q}"} `);
}

export interface FamilyOptions {
  quantiles: readonly number[];
  /** quantileSuffixes(quantiles), made once per scrape. */
  qSuffixes: readonly string[];
  openMetrics: boolean;
  /** Called on a measure series before its quantiles are read (drops old windows). */
  expire: (s: Series) => void;
  /** Called every SERIES_PER_CHECK series: the writer may yield to the event loop there. */
  pause: () => Promise<void> | null;
}

const SERIES_PER_CHECK = 512;

/** Writes the family of `metric` over the apps given (each has a series of it). */
export async function writeFamily(metric: Metric, apps: Iterable<AppState>, options: FamilyOptions, out: ByteWriter): Promise<void> {
  const kind = metric.kind;
  const t = familyText(metric);
  out.bytes(options.openMetrics ? t.headerOm : t.header);
  const qs = options.quantiles;
  const { open, sumOpen, countOpen } = t;
  const qSuffixes = options.qSuffixes;
  const values: number[] = [];
  let n = 0;
  for (const app of apps) {
    for (const s of app.each(metric)) {
      const lt = labelText(s);
      if (kind === MEASURE) {
        if (s.sliding !== null) {
          options.expire(s);
          s.sliding.quantiles(qs, values);
          for (let i = 0; i < qs.length; i++) {
            out.ascii(open);
            out.bytes(lt);
            out.ascii(qSuffixes[i] + formatValue(values[i]) + '\n');
          }
        }
        out.ascii(sumOpen);
        out.bytes(lt);
        out.ascii(`} ${formatValue(s.sum)}\n${countOpen}`);
        out.bytes(lt);
        out.ascii(`} ${formatValue(s.count)}\n`);
      } else {
        out.ascii(open);
        out.bytes(lt);
        out.ascii(`} ${formatValue(kind === COUNTER ? s.count : s.last)}\n`);
      }
      if (++n === SERIES_PER_CHECK) {
        n = 0;
        const wait = options.pause();
        if (wait !== null) await wait;
      }
    }
  }
}
