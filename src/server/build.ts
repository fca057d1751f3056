// Everything `serve` runs, assembled from a Config, with the clock injected: the same
// pieces the tests drive through app.request().

import { Aggregator } from '../aggregate/index.js';
import type { Config } from '../config.js';
import { Catalog, Ingest } from '../ingest/index.js';
import { type Logger, silentLogger } from '../log.js';
import { PrometheusOutlet } from '../outlets/prometheus.js';
import { createApp } from './app.js';

/**
 * Ingest into an aggregator, as the configuration says: `serve` closes windows by a
 * clock it advances, `tail` (watermark) by the largest timestamp seen.
 */
export function pipeline(config: Config, clock: number, watermark = false) {
  const catalog = new Catalog();
  const aggregator = new Aggregator(
    {
      resolution: config.resolution,
      grace: config.grace,
      quantileWindow: config.quantileWindow,
      maxSeries: config.maxSeries,
      maxSeriesPerApp: config.maxSeriesPerApp,
      seriesTtl: config.seriesTtl,
      watermark,
    },
    clock,
  );
  // Metric keys are remembered up to twice the series limits (all prefixes).
  const ingest = new Ingest(aggregator, { maxNames: config.maxSeries * 2, maxNamesPerApp: config.maxSeriesPerApp * 2 }, catalog);
  const outlet = new PrometheusOutlet(aggregator, catalog, config.quantiles);
  return { catalog, aggregator, ingest, outlet };
}

export function build(config: Config, now: () => number = Date.now, log: Logger = silentLogger) {
  const { catalog, aggregator, ingest, outlet } = pipeline(config, now());
  const { app, state } = createApp({ config, aggregator, ingest, outlet, now, log });
  return { app, state, aggregator, ingest, outlet, catalog };
}
