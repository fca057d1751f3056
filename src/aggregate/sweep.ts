// What leaves, and when: series past their TTL, idle apps, families another process
// claimed as another kind, and closed windows past the quantile span. A sweep over
// every series costs far less than bookkeeping per observation.

import { type EpochSec, epochSec, type Metric, toSec, TYPE_CONFLICT } from '../model/index.js';
import type { Aggregator } from './aggregator.js';
import type { AppState } from './app-state.js';
import type { Series } from './series.js';

/**
 * Drops series without data for seriesTtl seconds and no open window; returns how
 * many. When the sliding windows' arena holds more free than used, they move into
 * fresh slabs (arena.ts).
 */
export function sweep(agg: Aggregator): number {
  const cutoff = epochSec(toSec(agg.clock) - agg.options.seriesTtl);
  const registry = agg.registry;
  let dropped = 0;
  for (const app of registry.apps.values()) {
    for (const s of app.each()) {
      if (s.lastSeen <= cutoff && s.openCount === 0) {
        registry.remove(app, s);
        app.evicted++;
        dropped++;
      }
    }
  }
  if (dropped > 0) agg.version++;
  agg.pool.shrink(registry.count);
  if (agg.arena.sparse) {
    agg.arena.renew();
    for (const app of registry.apps.values()) for (const s of app.each()) s.sliding?.move();
  }
  return dropped;
}

/**
 * The apps idle since `cutoff` (clock seconds) that hold nothing of any budget (no
 * series, names, Frame-Ids or bodies in flight), forgotten: a drain user seen once
 * costs nothing for good. Their self-metric counters start again if they come back.
 */
export function removeIdle(agg: Aggregator, cutoff: EpochSec): AppState[] {
  const apps = agg.registry.apps;
  const gone: AppState[] = [];
  for (const app of apps.values()) {
    if (app.series === 0 && app.lastActive <= cutoff && app.holdsNothing()) gone.push(app);
  }
  for (const app of gone) apps.delete(app.name);
  return gone;
}

/**
 * Drops every series of an app's family whose name another process claimed first
 * as another kind (docs/isolation.md): their observations become type_conflict, as
 * one process would have counted them. Returns the series dropped.
 */
export function dropMetric(agg: Aggregator, app: AppState, metric: Metric): number {
  let n = 0;
  for (const s of [...app.each(metric)]) {
    app.rejected[TYPE_CONFLICT] += s.observed;
    while (s.firstOpen !== null) {
      const w = s.firstOpen;
      s.firstOpen = w.next;
      w.next = null;
      agg.recycle(w);
    }
    s.openCount = 0;
    agg.registry.remove(app, s);
    n++;
  }
  if (n > 0) agg.version++;
  return n;
}

/**
 * Takes windows that left the quantile span out of a series' sliding window. The
 * newest closed window ends at clock − grace; the span keeps the windows ending
 * in the quantileWindow seconds before that.
 */
export function expire(agg: Aggregator, s: Series): void {
  s.sliding?.expire(horizon(agg, s));
}

/** The earliest window start the quantile span of `s` still covers. */
export function horizon(agg: Aggregator, s: Series): EpochSec {
  const o = agg.options;
  return epochSec(toSec(agg.clock) - o.grace - o.quantileWindow - s.resolution + 1);
}
