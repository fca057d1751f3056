// Ingest + aggregate + the Prometheus outlet, from a Config: what `serve` and `tail`
// both run. `serve` closes windows by a clock it advances, `tail` (watermark) by the
// largest timestamp seen.

import { Aggregator } from './aggregate/index.js';
import type { Config } from './config.js';
import { Ingest } from './ingest/index.js';
import { Catalog } from './model/index.js';
import { PrometheusOutlet } from './outlets/prometheus.js';

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

export type Pipeline = ReturnType<typeof pipeline>;
