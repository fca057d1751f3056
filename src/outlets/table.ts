// The live terminal view of `tail --format table` (docs/dashboard.md), a `top` for log metrics:
// one row per series, sorted by traffic; a rate per second and p50/p95/p99 over the
// last RECENT_S seconds of the stream's closed windows, in human units with the unit
// shown (ms, MB); rows with no window for RECENT_S dimmed, gone after STALE_S; fitted
// to the terminal's width (narrow terminals lose p50, then p95; a name too long is
// cut only where it stays distinct from the others: `status=20…` never stands for
// both 200 and 204). The clock is the stream's (a file replays at its own pace),
// and, for a live stream that has gone quiet, the stream's plus the wall-clock time
// since its last input, so rows age while nothing comes. Drawn on the
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
  /** The metric's name and the labels' `k=v`, each cut apart when the row is too wide. */
  parts: string[];
  kind: number;
  unit: string;
  recent: Recent[];
  lastEnd: number;
  /** A sample's latest value, kept while the row is shown. */
  last: number;
}

export interface TableOptions {
  /** A live stream (a pipe or a terminal, not a file): rows age on the wall clock while it is quiet. */
  live?: boolean;
  /** Wall clock, epoch ms (default Date.now). */
  wall?: () => number;
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
  /** Wall clock (ms) of the last input, and the stream's time then: a quiet live stream ages from there. */
  private inputAt = -Infinity;
  private streamAtInput = 0;
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
      const parts = [s.metric.name];
      for (const [k, v] of s.labels) if (k !== 'app') parts.push(`${k}=${printable(v)}`);
      row = { name: labels === '' ? s.metric.name : `${s.metric.name} ${labels}`, parts, kind: s.metric.kind, unit: unitOf(s.metric.name), recent: [], lastEnd: 0, last: NaN };
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

  /** Input came at wall time `wall` (ms): a live stream's clock runs from here while it is quiet. */
  input(wall: number): void {
    this.inputAt = wall;
    this.streamAtInput = this.now;
  }

  /** Seconds a live stream has been quiet (0 for a file, or while lines come). */
  quiet(): number {
    if (this.options.live !== true || this.inputAt === -Infinity) return 0;
    return Math.max(0, ((this.options.wall ?? Date.now)() - this.inputAt) / 1000);
  }

  /** The table's clock, epoch s: the stream's, plus the quiet time of a live stream. */
  clock(): number {
    return Math.max(this.now, this.streamAtInput + Math.floor(this.quiet()));
  }

  /** Redraws if a quarter second has passed (or always, with `force`). */
  draw(now: number, options?: { force?: boolean }): void {
    if (options?.force !== true && now - this.lastDraw < 250) return;
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
    const clock = this.clock();
    const from = clock - RECENT_S;
    const shown: { row: Row; rate: number; cells: string[]; stale: boolean; slow: number }[] = [];
    for (const [key, row] of this.rows) {
      row.recent = row.recent.filter((r) => r.end > from);
      if (row.lastEnd <= clock - STALE_S) {
        this.rows.delete(key);
        continue;
      }
      shown.push(this.cells(row, clock));
    }
    shown.sort((a, b) => Number(a.stale) - Number(b.stale) || b.rate - a.rate || (a.row.name < b.row.name ? -1 : 1));
    // Numbers first; the name column takes what is left. Narrow terminals lose p50, then p95.
    const numbers = ['per s', ...QUANTILES.map(quantileKey), 'max/last'];
    let keep = [0, 1, 2, 3, 4];
    const NUM = 10;
    if (width < 100) keep = [0, 2, 3, 4];
    if (width < 70) keep = [0, 3, 4];
    const room = Math.max(1, height - 4);
    const visible = shown.slice(0, room);
    // Names that cannot be cut short enough and stay distinct take the optional columns (p50, p95, then max/last).
    const names = visible.map((r) => r.row.parts);
    const { floor } = cutsOf(names, 0);
    for (const drop of [1, 2, 4]) {
      if (floor + 1 <= width - keep.length * NUM || keep.length <= 2 || !keep.includes(drop)) continue;
      keep = keep.filter((i) => i !== drop);
    }
    const nameWidth = Math.max(12, width - keep.length * NUM);
    const cut = distinctCuts(names, nameWidth - 1);
    const fit = (s: string) => (s.length > nameWidth - 1 ? `${s.slice(0, nameWidth - 2)}…` : s.padEnd(nameWidth - 1));
    const when = this.now > 0 ? new Date(this.now * 1000).toISOString().replace('.000Z', 'Z') : '-';
    const quiet = this.quiet();
    const idle = quiet >= RECENT_S ? `; no input for ${Math.floor(quiet)} s` : '';
    const title = `drainmeter tail: ${this.lines} lines, ${this.rows.size} series, windows closed up to ${when}${idle}; rates and quantiles over the last ${RECENT_S} s`;
    const out = [title.slice(0, width), '', `${fit('metric labels')} ${keep.map((i) => numbers[i].padStart(NUM - 1)).join(' ')}`];
    for (let v = 0; v < visible.length; v++) {
      const r = visible[v];
      let line = `${cut[v].padEnd(nameWidth - 1)} ${keep
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

  private cells(row: Row, clock: number): { row: Row; rate: number; cells: string[]; stale: boolean; slow: number } {
    const stale = row.lastEnd <= clock - RECENT_S;
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

/** Characters of `a` that `b` shares at its start. */
function common(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Each row's name (its parts: metric, then `k=v`) within `width`, cut so rows stay
 * told apart: a part is cut (`…`) no shorter than one character past what it shares
 * with any other value in its place (`status=200` and `status=204` become
 * `status=200` and `status=204`, or at the least `status=20…` never for both). The
 * room left after every part's shortest distinct form goes to the labels, then the name.
 * Only a part whose distinct form alone is wider than the terminal is cut blindly.
 */
export function distinctCuts(rows: string[][], width: number): string[] {
  return cutsOf(rows, width).texts;
}

/** The cuts, and how wide the widest row is at its shortest distinct form. */
function cutsOf(rows: string[][], width: number): { texts: string[]; floor: number } {
  // The shortest length each part can show and stay distinct among its place's values (same metric, same label key).
  const places = new Map<string, string[]>();
  const placeOf = (parts: string[], i: number) => (i === 0 ? '' : `${parts[0]}\u0000${parts[i].slice(0, parts[i].indexOf('=') + 1)}`);
  for (const parts of rows) {
    for (let i = 0; i < parts.length; i++) {
      const key = placeOf(parts, i);
      const list = places.get(key);
      if (list === undefined) places.set(key, [parts[i]]);
      else list.push(parts[i]);
    }
  }
  const need = new Map<string, number>();
  for (const [key, list] of places) {
    const values = [...new Set(list)].sort();
    for (let j = 0; j < values.length; j++) {
      const v = values[j];
      const floor = key === '' ? 0 : v.indexOf('=') + 1;
      let shared = 0;
      if (j > 0) shared = Math.max(shared, common(v, values[j - 1]));
      if (j + 1 < values.length) shared = Math.max(shared, common(v, values[j + 1]));
      need.set(`${key}\u0001${v}`, Math.max(floor + 1, shared + 1));
    }
  }
  let floor = 0;
  const texts = rows.map((parts) => {
    const full = parts.join(' ');
    // Each part at its shortest distinct form: a prefix and `…` (or whole, if that is no longer).
    const keep = parts.map((p, i) => Math.min(p.length, need.get(`${placeOf(parts, i)}\u0001${p}`) ?? p.length));
    const shown = (i: number) => (keep[i] >= parts[i].length ? parts[i].length : keep[i] + 1);
    let total = parts.length - 1;
    for (let i = 0; i < parts.length; i++) total += shown(i);
    floor = Math.max(floor, Math.min(total, full.length));
    if (full.length <= width) return full;
    // Label values first (short, and what tells rows apart), then the metric's name.
    for (let o = 1; o <= parts.length && total < width; o++) {
      const i = o % parts.length;
      const extra = width - total;
      const now = shown(i);
      if (parts[i].length - now <= extra) keep[i] = parts[i].length;
      else keep[i] = now + extra - 1;
      total += shown(i) - now;
    }
    const text = parts.map((p, i) => (keep[i] >= p.length ? p : `${p.slice(0, keep[i])}…`)).join(' ');
    return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
  });
  return { texts, floor };
}
