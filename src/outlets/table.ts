// The live terminal view of `tail --format table`: the latest closed window of every
// series, redrawn as windows close (at most four times a second) and once at the end.

import type { ClosedWindow } from '../aggregate/index.js';
import { COUNTER, MEASURE } from '../model/index.js';

interface Row {
  metric: string;
  labels: string;
  cells: string[];
}

const CLEAR = '\u001b[H\u001b[2J';

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.001 || a >= 1e7)) return v.toExponential(2);
  return Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, '');
}

export class Table {
  private readonly rows = new Map<string, Row>();
  private readonly write: (text: string) => void;
  private readonly quantiles: readonly number[];
  private lastDraw = 0;
  private windowEnd = 0;
  lines = 0;

  constructor(write: (text: string) => void, quantiles: readonly number[]) {
    this.write = write;
    this.quantiles = quantiles.filter((q) => q > 0 && q < 1);
  }

  window(c: ClosedWindow): void {
    const s = c.series;
    const w = c.window;
    const labels = s.labels
      .filter(([k]) => k !== 'app')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    let cells: string[];
    if (s.metric.kind === MEASURE) cells = [String(w.count), ...this.quantiles.map((q) => num(w.quantile(q))), num(w.max)];
    else if (s.metric.kind === COUNTER) cells = [num(w.sum), ...this.quantiles.map(() => ''), ''];
    else cells = [num(w.last), ...this.quantiles.map(() => ''), ''];
    this.rows.set(`${s.metric.name}\u0000${labels}`, { metric: s.metric.name, labels, cells });
    if (c.end > this.windowEnd) this.windowEnd = c.end;
  }

  /** Redraws if a quarter second has passed (or always, with force). */
  draw(now: number, force = false): void {
    if (!force && now - this.lastDraw < 250) return;
    this.lastDraw = now;
    const header = ['metric', 'labels', 'count/sum/last', ...this.quantiles.map((q) => `p${q * 100}`), 'max'];
    const rows = [...this.rows.values()].sort((a, b) => a.metric.localeCompare(b.metric) || a.labels.localeCompare(b.labels));
    const table = [header, ...rows.map((r) => [r.metric, r.labels, ...r.cells])];
    const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
    const text = table.map((row) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd());
    const when = this.windowEnd > 0 ? new Date(this.windowEnd * 1000).toISOString() : '-';
    this.write(`${CLEAR}drainmeter tail: ${this.lines} lines, windows closed up to ${when}\n\n${text.join('\n')}\n`);
  }
}
