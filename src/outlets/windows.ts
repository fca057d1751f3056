// Closed windows as text (docs/conventions.md): one line per series per window, logfmt or JSON.
// A measure reports count, sum, min, max, mean and each quantile; a counter its
// window's sum; a sample its last value.

import type { CloseListener, ClosedWindow } from '../aggregate/index.js';
import { COUNTER, KIND_NAMES, MEASURE } from '../model/index.js';
import { logfmt } from '../log.js';
import { jsonLine } from '../model/printable.js';
import { ConfigError, type Option } from '../options.js';
import { defineOutlet } from './outlet.js';

/** `p50`, `p99.9`: the logfmt key of a quantile. */
export function quantileKey(q: number): string {
  return `p${Math.round(q * 100_000) / 1000}`;
}

export interface WindowRecord {
  time: string;
  end: string;
  metric: string;
  kind: string;
  labels: Record<string, string>;
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  mean?: number;
  /** By quantileKey: p0, p50, p99.9, p100. */
  quantiles?: Record<string, number>;
  last?: number;
}

export function windowRecord(c: ClosedWindow, quantiles: readonly number[]): WindowRecord {
  const s = c.series;
  const w = c.window;
  const r: WindowRecord = {
    time: new Date(c.start * 1000).toISOString(),
    end: new Date(c.end * 1000).toISOString(),
    metric: s.metric.name,
    kind: KIND_NAMES[s.metric.kind],
    labels: Object.fromEntries(s.labels),
    count: w.count,
  };
  if (s.metric.kind === MEASURE) {
    r.sum = w.sum;
    r.min = w.min;
    r.max = w.max;
    r.mean = w.sum / w.count;
    r.quantiles = Object.fromEntries(quantiles.map((q) => [quantileKey(q), w.quantile(q)]));
  } else if (s.metric.kind === COUNTER) {
    r.sum = w.sum;
  } else {
    r.last = w.last;
  }
  return r;
}

export function windowLogfmt(r: WindowRecord): string {
  const fields: Record<string, string | number> = { time: r.time, metric: r.metric, ...r.labels, count: r.count };
  if (r.kind === 'measure') {
    Object.assign(fields, { sum: r.sum ?? NaN, min: r.min ?? NaN, max: r.max ?? NaN, mean: r.mean ?? NaN });
    Object.assign(fields, r.quantiles);
  } else if (r.kind === 'counter') {
    fields.sum = r.sum ?? NaN;
  } else {
    fields.last = r.last ?? NaN;
  }
  // logfmt() writes at= and msg= first; a window line has neither.
  return logfmt('window', r.kind, fields).replace(/^at=window msg=\S+ /, '');
}

/** A listener that writes each closed window as a logfmt or JSON line. */
export function windowPrinter(format: 'logfmt' | 'json', quantiles: readonly number[], write: (text: string) => void): CloseListener {
  return format === 'logfmt'
    ? (c) => write(windowLogfmt(windowRecord(c, quantiles)) + '\n')
    : (c) => write(jsonLine(windowRecord(c, quantiles)) + '\n');
}

const WINDOWS: Option = { flag: 'windows', env: 'DRAINMETER_WINDOWS', describe: 'serve: print each closed window to stdout: none, logfmt or json', default: 'none' };

/** serve --windows: every closed window on stdout, as tail prints them. */
export const windowsOutlet = defineOutlet<'logfmt' | 'json'>({
  name: 'windows',
  options: [WINDOWS],
  configure(values) {
    const format = values.get('windows') ?? 'none';
    if (format === 'none') return null;
    if (format !== 'logfmt' && format !== 'json') throw new ConfigError(`DRAINMETER_WINDOWS (--windows) must be none, logfmt or json, not ${JSON.stringify(format)}`);
    return format;
  },
  start(format, ctx) {
    return { name: 'windows', window: windowPrinter(format, ctx.quantiles, ctx.write), flush: async () => {} };
  },
});
