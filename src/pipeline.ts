// Ingest + aggregate + the Prometheus outlet, from a Config: what `serve` and `tail`
// both run. `serve` closes windows by a clock it advances, `tail` (watermark) by the
// largest timestamp seen. Every budget a tenant can use (docs/limits.md) is made here, once,
// and sweep() gives back what expired.

import { Aggregator } from './aggregate/index.js';
import type { Config } from './config.js';
import { Ingest } from './ingest/index.js';
import { budgetsFor, Catalog, FRAME_ID_BYTES, FRAME_ID_BYTES_PER_APP } from './model/index.js';
import { History } from './outlets/history/index.js';
import { PrometheusOutlet } from './outlets/prometheus.js';

export interface PipelineOptions {
  /** Close windows by the largest line time seen (tail). */
  watermark?: boolean;
  /** Collect for a merge elsewhere (scale-out): see AggregatorOptions.exporting. */
  exporting?: boolean;
  /** Keep the dashboard's history (default: unless exporting, whose windows close elsewhere). */
  history?: boolean;
  /**
   * Processes sharing the dyno's budgets (a worker: DRAINMETER_WORKERS). Budgets this
   * process alone enforces, bytes in flight and its fallback Frame-Ids, are its part
   * of the dyno's: ⌈total / processes⌉, the app's share likewise (docs/limits.md).
   */
  processes?: number;
}

export function pipeline(config: Config, clock: number, { watermark = false, exporting = false, history = !exporting, processes = 1 }: PipelineOptions = {}) {
  const catalog = new Catalog();
  const part = (total: number) => Math.ceil(total / processes);
  // Series, names and windows stay whole: the merged view (scale/hub.ts) charges the
  // dyno's total for them, and a worker's own bound must not refuse a series the
  // dyno would take because its lines came through another worker.
  const budgets = budgetsFor({
    ...config,
    maxInflight: part(config.maxInflight),
    maxInflightPerApp: part(Math.ceil(config.maxInflight / 4)),
    maxFrameIdBytes: part(FRAME_ID_BYTES),
    maxFrameIdBytesPerApp: part(FRAME_ID_BYTES_PER_APP),
  });
  const aggregator = new Aggregator(
    {
      resolution: config.resolution,
      grace: config.grace,
      quantileWindow: config.quantileWindow,
      maxSeries: config.maxSeries,
      maxSeriesPerApp: config.maxSeriesPerApp,
      seriesTtl: config.seriesTtl,
      watermark,
      exporting,
    },
    clock,
    budgets,
  );
  // tail (watermark) gives a bare line the stream's latest time; serve its arrival (docs/conventions.md).
  const ingest = new Ingest(aggregator, { names: budgets.names, bareTime: watermark ? 'latest' : 'arrival' }, catalog);
  const outlet = new PrometheusOutlet(aggregator, catalog, config.quantiles);
  const kept = history ? new History(aggregator, budgets.history) : null;
  // Release lines are marked on the charts of the history that keeps them (docs/history.md).
  ingest.releases = kept;
  return { catalog, budgets, aggregator, ingest, outlet, history: kept };
}

export type Pipeline = ReturnType<typeof pipeline>;

/**
 * Gives back what expired, in the order one frees the next: series without data for
 * the TTL, then families with no series left (their names free for any kind again),
 * then the name tables of apps without series, then apps that hold nothing at all.
 */
export function sweep(p: Pipeline): { series: number; apps: number } {
  const series = p.aggregator.sweep();
  p.history?.sweep();
  p.catalog.retireUnused();
  p.ingest.sweep();
  const cutoff = Math.floor(p.aggregator.clock / 1000) - p.aggregator.options.seriesTtl;
  const gone = p.aggregator.removeIdle(cutoff);
  for (const app of gone) p.ingest.release(app);
  return { series, apps: gone.length };
}
