// Per app (drain user): the tenant record (budgets held, self-metrics) and its
// series, found by metric id then label values.

import { type Metric, Tenant } from '../model/index.js';
import type { Series } from './series.js';

type ByLabel = Map<string, Series>;
type ByTwoLabels = Map<string, Map<string, Series>>;

export class AppState extends Tenant {
  /** Live series of this app. */
  series = 0;
  /** Of them, series of `heroku_*` families (the platform's share: aggregator.ts). */
  platformSeries = 0;
  /** Series by metric id, then label1 (then label2 for two-label metrics): find() by array index. */
  private readonly byMetric: (ByLabel | ByTwoLabels | undefined)[] = [];
  /**
   * The metrics held, to walk: byMetric is indexed by catalog-wide ids, so walking
   * it would cost the catalog's size for every app (apps × names).
   */
  private readonly heldMetrics = new Map<Metric, ByLabel | ByTwoLabels>();

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

  /** Adds a series; true when it is the app's first of its metric. */
  add(s: Series): boolean {
    const metric = s.metric;
    let index = this.byMetric[metric.id];
    const first = index === undefined;
    if (index === undefined) {
      index = new Map();
      this.byMetric[metric.id] = index;
      this.heldMetrics.set(metric, index);
      this.metrics++;
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
    return first;
  }

  /** Removes a series; true when it was the app's last of its metric. */
  remove(s: Series): boolean {
    const id = s.metric.id;
    const index = this.byMetric[id];
    if (index === undefined) return false;
    if (s.metric.labels.length < 2) {
      (index as ByLabel).delete(s.label1);
    } else {
      const inner = (index as ByTwoLabels).get(s.label1);
      inner?.delete(s.label2);
      if (inner?.size === 0) (index as ByTwoLabels).delete(s.label1);
    }
    this.series--;
    if (index.size > 0) return false;
    // Metric ids are reused once a metric retires: no index may outlive its series.
    this.byMetric[id] = undefined;
    this.heldMetrics.delete(s.metric);
    this.metrics--;
    return true;
  }

  /** Metrics with a live series of this app, by id: a cost in the app's metrics, not the catalog's. */
  metricsHeld(): IterableIterator<Metric> {
    return this.heldMetrics.keys();
  }

  /** Every series of a metric (or of every metric), for exposition and sweeps. */
  *each(metric?: Metric): Generator<Series> {
    const indexes = metric === undefined ? this.heldMetrics.values() : [this.byMetric[metric.id]];
    for (const index of indexes) {
      if (index === undefined) continue;
      for (const v of index.values()) {
        if (v instanceof Map) yield* v.values();
        else yield v;
      }
    }
  }
}
