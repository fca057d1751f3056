// Per app (drain user): its series, found by metric id then label values, and the
// self-metrics of SPEC §6 counted for it.

import type { IngestStats, Metric } from '../model/index.js';
import { REASONS } from '../model/index.js';
import type { Series } from './series.js';

type ByLabel = Map<string, Series>;
type ByTwoLabels = Map<string, Map<string, Series>>;

export class AppState {
  readonly name: string;
  /** Live series of this app. */
  series = 0;
  lines = 0;
  late = 0;
  duplicates = 0;
  evicted = 0;
  readonly rejected = new Float64Array(REASONS.length);
  /** Series by metric id, then label1 (then label2 for two-label metrics). */
  private readonly byMetric: (ByLabel | ByTwoLabels | undefined)[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /** Adds what ingest counted for a body or chunk of this app's lines. */
  count(stats: IngestStats): void {
    this.lines += stats.lines;
    for (let r = 0; r < REASONS.length; r++) this.rejected[r] += stats.rejected[r];
  }

  /** True when the app has a series of this metric. */
  has(metric: Metric): boolean {
    const index = this.byMetric[metric.id];
    return index !== undefined && index.size > 0;
  }

  find(metric: Metric, l1: string, l2: string): Series | undefined {
    const index = this.byMetric[metric.id];
    if (index === undefined) return undefined;
    if (metric.labels.length < 2) return (index as ByLabel).get(l1);
    return (index as ByTwoLabels).get(l1)?.get(l2);
  }

  add(s: Series): void {
    const metric = s.metric;
    let index = this.byMetric[metric.id];
    if (index === undefined) {
      index = new Map();
      this.byMetric[metric.id] = index;
    }
    if (metric.labels.length < 2) {
      (index as ByLabel).set(s.label1, s);
    } else {
      const two = index as ByTwoLabels;
      let inner = two.get(s.label1);
      if (inner === undefined) {
        inner = new Map();
        two.set(s.label1, inner);
      }
      inner.set(s.label2, s);
    }
    this.series++;
  }

  remove(s: Series): void {
    const index = this.byMetric[s.metric.id];
    if (index === undefined) return;
    if (s.metric.labels.length < 2) {
      (index as ByLabel).delete(s.label1);
    } else {
      const inner = (index as ByTwoLabels).get(s.label1);
      inner?.delete(s.label2);
      if (inner?.size === 0) (index as ByTwoLabels).delete(s.label1);
    }
    this.series--;
  }

  /** Every series of a metric (or of every metric), for exposition and sweeps. */
  *each(metric?: Metric): Generator<Series> {
    const indexes = metric === undefined ? this.byMetric : [this.byMetric[metric.id]];
    for (const index of indexes) {
      if (index === undefined) continue;
      for (const v of index.values()) {
        if (v instanceof Map) yield* v.values();
        else yield v;
      }
    }
  }
}
