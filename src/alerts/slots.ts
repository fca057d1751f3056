// What one alert keeps of the closed windows inside its `over`: a ring of steps (10 s
// at resolutions 1, 5 and 10; 30 s at 15 and 30; 60 s at 60), each the exact sum of
// the windows that started in it: counts, sums, min, max, the newest value, and for
// a quantile stat the merged histogram. Evaluation runs on step boundaries, so the
// steps inside `over` are exactly the windows inside it (docs/alerts.md).

import type { ClosedWindow } from '../aggregate/index.js';
import { Histogram } from '../aggregate/histogram.js';
import { COUNTER, MEASURE } from '../model/index.js';

/** Bytes a step costs without its histogram (the object and its numbers). */
export const STEP_BYTES = 120;

export class Step {
  start = -1;
  /** Lines. */
  lines = 0;
  /** Counter: the increase; measure: the sum of observations; sample: the sum of each window's value. */
  total = 0;
  /** Values the mean, min, max and quantiles are over: observations (measure), one per window (counter, sample). */
  values = 0;
  valueSum = 0;
  min = Infinity;
  max = -Infinity;
  last = NaN;
  lastTime = -Infinity;
  readonly hist: Histogram | null;

  constructor(quantile: boolean) {
    this.hist = quantile ? new Histogram() : null;
  }

  reset(start: number): void {
    this.start = start;
    this.lines = this.total = this.values = this.valueSum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.last = NaN;
    this.lastTime = -Infinity;
    this.hist?.clear();
  }

  add(c: ClosedWindow): void {
    const w = c.window;
    if (w.count === 0) return;
    const kind = c.series.metric.kind;
    this.lines += w.count;
    if (kind === MEASURE) {
      this.total += w.sum;
      this.values += w.count;
      this.valueSum += w.sum;
      if (w.min < this.min) this.min = w.min;
      if (w.max > this.max) this.max = w.max;
      if (this.hist !== null) w.mergeInto(this.hist);
      this.newest(w.sum / w.count, c.start * 1000);
      return;
    }
    // A counter's window is its sum, a sample's its last value (docs/alerts.md).
    const v = kind === COUNTER ? w.sum : w.last;
    this.total += v;
    this.values++;
    this.valueSum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.hist?.add(v);
    this.newest(v, kind === COUNTER ? c.start * 1000 : w.lastTime);
  }

  private newest(v: number, time: number): void {
    if (time >= this.lastTime) {
      this.last = v;
      this.lastTime = time;
    }
  }
}

const scratch = new Histogram();

/** The steps of one alert's series (or merged series), a ring covering `over` and the step being filled. */
export class Steps {
  readonly ring: Step[];
  readonly step: number;
  /** Kind of the series seen (COUNTER sums lines differently for count and rate). */
  kind = MEASURE as number;
  /** End of the newest window holding a line, epoch s; -1 when none was seen. */
  lastEnd = -1;

  /** `quantiles`: each step keeps a histogram of its values, for a quantile rule. */
  constructor(overS: number, step: number, { quantiles }: { quantiles: boolean }) {
    this.step = step;
    this.ring = Array.from({ length: Math.ceil(overS / step) + 2 }, () => new Step(quantiles));
  }

  get bytes(): number {
    let b = this.ring.length * STEP_BYTES;
    for (const s of this.ring) if (s.hist !== null) b += s.hist.bytes();
    return b;
  }

  add(c: ClosedWindow): void {
    const start = Math.floor(c.start / this.step) * this.step;
    const s = this.ring[(start / this.step) % this.ring.length];
    if (s.start !== start) {
      if (s.start > start) return; // older than the ring holds
      s.reset(start);
    }
    this.kind = c.series.metric.kind;
    s.add(c);
    if (c.window.count > 0 && c.end > this.lastEnd) this.lastEnd = c.end;
  }

  /** True when no step holds data from `from` on. */
  idleSince(from: number): boolean {
    for (const s of this.ring) if (s.start >= from && s.lines > 0) return false;
    return true;
  }

  /**
   * The stat over the windows that started in [to - over, to): NaN when there were
   * none (0 for count, sum and rate, which count nothing as nothing).
   */
  stat(stat: string, q: number, to: number, overS: number): number {
    const from = to - overS;
    let lines = 0;
    let total = 0;
    let values = 0;
    let valueSum = 0;
    let min = Infinity;
    let max = -Infinity;
    let last = NaN;
    let lastTime = -Infinity;
    if (q >= 0) scratch.clear();
    for (const s of this.ring) {
      if (s.start < from || s.start >= to) continue;
      lines += s.lines;
      total += s.total;
      values += s.values;
      valueSum += s.valueSum;
      if (s.min < min) min = s.min;
      if (s.max > max) max = s.max;
      if (s.lastTime > lastTime) {
        last = s.last;
        lastTime = s.lastTime;
      }
      if (q >= 0 && s.hist !== null) scratch.merge(s.hist);
    }
    const counter = this.kind === COUNTER;
    if (q >= 0) return values === 0 ? NaN : scratch.quantile(q, min, max, values);
    switch (stat) {
      case 'count':
        return counter ? total : lines;
      case 'sum':
        return total;
      case 'rate':
        return (counter ? total : lines) / overS;
      case 'mean':
        return values === 0 ? NaN : valueSum / values;
      case 'min':
        return values === 0 ? NaN : min;
      case 'max':
        return values === 0 ? NaN : max;
      default:
        return last;
    }
  }
}
