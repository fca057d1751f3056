// The live terminal view of `tail --format table` (SPEC §9), a `top` for log metrics:
// one row per series, sorted by traffic; a rate per second and p50/p95/p99 over the
// last RECENT_S seconds of the stream's closed windows, in human units with the unit
// shown (ms, MB); rows with no window for RECENT_S dimmed, gone after STALE_S; fitted
// to the terminal's width (narrow terminals lose p50, then p95); drawn on the
// alternate screen, at most four times a second, and left on the main screen once at
// the end. Colour (a slow p99: yellow from 250 ms, red from 1 s) only where the
// terminal has it and NO_COLOR is unset.

import type { ClosedWindow } from '../aggregate/index.js';
import { Histogram } from '../aggregate/index.js';
import { COUNTER, MEASURE } from '../model/index.js';
import { printable } from '../model/printable.js';
import { quantileKey } from './windows.js';

export const RECENT_S = 10;
export const STALE_S = 60;
const QUANTILES = [0.5, 0.95, 0.99];
const MAX_ROWS = 2000;

const ESC = '\u001b[';
const ALT_ON = `${ESC}?1049h${ESC}?25l`;
const ALT_OFF = `${ESC}?25h${ESC}?1049l`;

interface Recent {
  end: number;
  count: number;
  sum: number;
  last: number;
  keys: number[];
  counts: number[];
  min: number;
  max: number;
}

interface Row {
  name: string;
  kind: number;
  unit: string;
  recent: Recent[];
  lastEnd: number;
  /** A sample's latest value, kept while the row is shown. */
  last: number;
}

export interface TableOptions {
  /** The terminal's width now (columns), or 0 when unknown. */
  columns: () => number;
  rows: () => number;
  color: boolean;
}

/** The unit a metric's name says its values are in (Prometheus base units). */
function unitOf(metric: string): string {
  if (/_seconds(_total)?$/.test(metric)) return 's';
  if (/_bytes(_total)?$/.test(metric)) return 'B';
  return '';
}

/** Three significant digits (what the histogram holds: ≤ 1%), in a human unit. */
export function human(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  const three = (x: number) => String(Number(x.toPrecision(3)));
  if (unit === 's') {
    if (a === 0) return '0 s';
    if (a < 1e-3) return `${three(v * 1e6)} µs`;
    if (a < 1) return `${three(v * 1e3)} ms`;
    if (a < 60) return `${three(v)} s`;
    return `${three(v / 60)} min`;
  }
  const si = unit === 'B' ? ['B', 'kB', 'MB', 'GB', 'TB'] : ['', 'k', 'M', 'G', 'T'];
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1000 && i < si.length - 1) {
    x /= 1000;
    i++;
  }
  if (unit !== 'B' && i === 0 && Number.isInteger(x)) return String(x);
  return `${three(x)}${unit === 'B' ? ' ' : ''}${si[i]}`;
}

export class Table {
  private readonly rows = new Map<string, Row>();
  private readonly write: (text: string) => void;
  private readonly options: TableOptions;
  private lastDraw = 0;
  /** The stream's time: the latest window end seen, epoch s. */
  private now = 0;
  private onScreen = false;
  private readonly merged = new Histogram();
  lines = 0;

  constructor(write: (text: string) => void, options: TableOptions) {
    this.write = write;
    this.options = options;
  }

  window(c: ClosedWindow): void {
    const s = c.series;
    const labels = s.labels
      .filter(([k]) => k !== 'app')
      .map(([k, v]) => `${k}=${printable(v)}`)
      .join(' ');
    const key = `${s.metric.name}\u0000${labels}`;
    let row = this.rows.get(key);
    if (row === undefined) {
      if (this.rows.size >= MAX_ROWS) return;
      row = { name: labels === '' ? s.metric.name : `${s.metric.name} ${labels}`, kind: s.metric.kind, unit: unitOf(s.metric.name), recent: [], lastEnd: 0, last: NaN };
      this.rows.set(key, row);
    }
    const w = c.window;
    const r: Recent = { end: c.end, count: w.count, sum: w.sum, last: w.last, keys: [], counts: [], min: w.min, max: w.max };
    if (s.metric.kind === MEASURE) {
      w.buckets((k, n) => {
        r.keys.push(k);
        r.counts.push(n);
      });
    }
    row.recent.push(r);
    if (c.end >= row.lastEnd) row.last = w.last;
    row.lastEnd = Math.max(row.lastEnd, c.end);
    if (c.end > this.now) this.now = c.end;
  }

  /** Redraws if a quarter second has passed (or always, with force). */
  draw(now: number, force = false): void {
    if (!force && now - this.lastDraw < 250) return;
    this.lastDraw = now;
    const text = this.render();
    if (!this.onScreen) {
      this.write(ALT_ON);
      this.onScreen = true;
    }
    this.write(`${ESC}H${text.split('\n').join(`${ESC}K\n`)}${ESC}J`);
  }

  /** Leaves the alternate screen and prints the last table once, on the main screen. */
  end(): void {
    const text = this.render();
    if (this.onScreen) this.write(ALT_OFF);
    this.onScreen = false;
    this.write(`${text}\n`);
  }

  /** The table as the terminal shows it, one string. */
  render(): string {
    const width = this.options.columns() > 0 ? this.options.columns() : 120;
    const height = this.options.rows() > 0 ? this.options.rows() : 1000;
    const from = this.now - RECENT_S;
    const shown: { row: Row; rate: number; cells: string[]; stale: boolean; slow: number }[] = [];
    for (const [key, row] of this.rows) {
      row.recent = row.recent.filter((r) => r.end > from);
      if (row.lastEnd <= this.now - STALE_S) {
        this.rows.delete(key);
        continue;
      }
      shown.push(this.cells(row));
    }
    shown.sort((a, b) => Number(a.stale) - Number(b.stale) || b.rate - a.rate || (a.row.name < b.row.name ? -1 : 1));
    // Numbers first; the name column takes what is left. Narrow terminals lose p50, then p95.
    const numbers = ['per s', ...QUANTILES.map(quantileKey), 'max/last'];
    let keep = [0, 1, 2, 3, 4];
    const NUM = 10;
    if (width < 100) keep = [0, 2, 3, 4];
    if (width < 70) keep = [0, 3, 4];
    const nameWidth = Math.max(12, width - keep.length * NUM);
    const fit = (s: string) => (s.length > nameWidth - 1 ? `${s.slice(0, nameWidth - 2)}…` : s.padEnd(nameWidth - 1));
    const when = this.now > 0 ? new Date(this.now * 1000).toISOString().replace('.000Z', 'Z') : '-';
    const title = `drainmeter tail: ${this.lines} lines, ${this.rows.size} series, windows closed up to ${when}; rates and quantiles over the last ${RECENT_S} s`;
    const out = [title.slice(0, width), '', `${fit('metric labels')} ${keep.map((i) => numbers[i].padStart(NUM - 1)).join(' ')}`];
    const room = Math.max(1, height - out.length - 1);
    for (const r of shown.slice(0, room)) {
      let line = `${fit(r.row.name)} ${keep
        .map((i) => {
          const cell = r.cells[i].padStart(NUM - 1);
          if (i === 3 && r.slow > 0 && this.options.color && !r.stale) return `${ESC}${r.slow > 1 ? '31' : '33'}m${cell}${ESC}0m`;
          return cell;
        })
        .join(' ')}`;
      line = line.trimEnd();
      if (r.stale && this.options.color) line = `${ESC}2m${line}${ESC}0m`;
      out.push(line);
    }
    if (shown.length > room) out.push(`… ${shown.length - room} more rows (a taller terminal shows them)`);
    return out.join('\n');
  }

  private cells(row: Row): { row: Row; rate: number; cells: string[]; stale: boolean; slow: number } {
    const stale = row.lastEnd <= this.now - RECENT_S;
    let total = 0;
    for (const r of row.recent) total += row.kind === COUNTER ? r.sum : r.count;
    const rate = total / RECENT_S;
    const cells = [row.kind === MEASURE || row.kind === COUNTER ? human(rate, '') : '', '', '', '', ''];
    let slow = 0;
    if (row.kind === MEASURE) {
      const h = this.merged;
      h.clear();
      for (const r of row.recent) {
        for (let i = 0; i < r.keys.length; i++) h.addKey(r.keys[i], r.counts[i]);
        h.count += r.count;
        if (r.min < h.min) h.min = r.min;
        if (r.max > h.max) h.max = r.max;
      }
      QUANTILES.forEach((q, i) => (cells[1 + i] = h.count > 0 ? human(h.quantile(q), row.unit) : '-'));
      cells[4] = h.count > 0 ? human(h.max, row.unit) : '-';
      const p99 = h.quantile(0.99);
      if (row.unit === 's' && p99 >= 0.25) slow = p99 >= 1 ? 2 : 1;
    } else if (row.kind !== COUNTER) {
      cells[4] = human(row.last, row.unit);
    }
    return { row, rate, cells, stale, slow };
  }
}
