// The exposition of app series, written directly: text format 0.0.4 or OpenMetrics
// 1.0. prom-client formats a sample in about 2 µs (labels re-joined, arrays spread
// per sample); with 100,000 summaries that is 700,000 samples and a 1.6 s scrape that
// blocks the event loop, drains included (bench/series.ts). Here each series'
// label text is rendered once and kept (weakly) for later scrapes, and a sample is
// one template string.

import type { AppState, Series } from '../aggregate/index.js';
import { COUNTER, MEASURE, type Metric } from '../ingest/index.js';

/** A label value escaped as the exposition formats require: \\, \", \n. */
export function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const texts = new WeakMap<Series, string>();

/** `app="shop",source="web.1"`: the label text of a series, rendered once. */
export function labelText(s: Series): string {
  let text = texts.get(s);
  if (text === undefined) {
    text = s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
    texts.set(s, text);
  }
  return text;
}

export function formatValue(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return `${v}`;
}

const TYPE: Record<number, string> = { [MEASURE]: 'summary', [COUNTER]: 'counter', 2: 'gauge' };

export interface FamilyOptions {
  quantiles: readonly number[];
  openMetrics: boolean;
  /** Called on a measure series before its quantiles are read (drops old windows). */
  expire: (s: Series) => void;
}

/** Appends the family of `metric` over `apps` to `out`; nothing when no app has a series of it. */
export function writeFamily(metric: Metric, apps: readonly AppState[], options: FamilyOptions, out: string[]): void {
  if (!apps.some((a) => a.has(metric))) return;
  const name = metric.name;
  const kind = metric.kind;
  // OpenMetrics names a counter family without _total; its samples keep it.
  const family = options.openMetrics && kind === COUNTER ? name.replace(/_total$/, '') : name;
  out.push(`# HELP ${family} ${escapeHelp(metric.help)}\n# TYPE ${family} ${TYPE[kind]}\n`);
  const qs = options.quantiles;
  const prefixes = qs.map((q) => `${name}{`);
  const suffixes = qs.map((q) => `,quantile="${q}"} `);
  const values: number[] = [];
  for (const app of apps) {
    for (const s of app.each(metric)) {
      const lt = labelText(s);
      // One string per series, not per sample: a scrape of 100,000 summaries is
      // 100,000 strings to collect, not 700,000 (bench/series.ts).
      if (kind === COUNTER) {
        out.push(`${name}{${lt}} ${formatValue(s.count)}\n`);
      } else if (kind === MEASURE) {
        let text = '';
        if (s.sliding !== null) {
          options.expire(s);
          s.sliding.quantiles(qs, values);
          for (let i = 0; i < qs.length; i++) text += `${prefixes[i]}${lt}${suffixes[i]}${formatValue(values[i])}\n`;
        }
        out.push(`${text}${name}_sum{${lt}} ${formatValue(s.sum)}\n${name}_count{${lt}} ${formatValue(s.count)}\n`);
      } else {
        out.push(`${name}{${lt}} ${formatValue(s.last)}\n`);
      }
    }
  }
}
