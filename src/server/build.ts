// Everything `serve` runs, assembled from a Config, with the clock injected: the same
// pieces the tests drive through app.request().

import type { Config } from '../config.js';
import { type Logger, silentLogger } from '../log.js';
import { pipeline } from '../pipeline.js';
import { createApp } from './app.js';

export function build(config: Config, now: () => number = Date.now, log: Logger = silentLogger) {
  const p = pipeline(config, now());
  const { app, state } = createApp({ config, aggregator: p.aggregator, ingest: p.ingest, outlet: p.outlet, now, log });
  return { ...p, app, state };
}
