// Everything `serve` runs, assembled from a Config, with the clock injected: the same
// pieces the tests drive through app.request().

import type { Config } from '../config.js';
import { type Logger, silentLogger } from '../log.js';
import { pipeline } from '../pipeline.js';
import { lookAt } from '../outlets/look.js';
import type { Receiver } from '../scale/receiver.js';
import { createApp } from './app.js';

/**
 * With a receiver (scale-out, scale/receiver.ts): Frame-Ids decided and /metrics
 * rendered elsewhere, lines collected for a merge.
 */
export function build(config: Config, now: () => number = Date.now, log: Logger = silentLogger, receiver?: Receiver) {
  // A worker is one of config.workers processes taking the dyno's drains.
  const processes = receiver === undefined ? 1 : config.workers;
  const p = pipeline(config, now(), { exporting: receiver !== undefined, processes });
  p.outlet.log = log;
  const release = receiver?.release;
  if (release !== undefined) p.ingest.releases = { release: (app, time, text) => release.call(receiver, app, time, text) };
  const { app, state } = createApp({
    config,
    aggregator: p.aggregator,
    ingest: p.ingest,
    outlet: p.outlet,
    now,
    log,
    frames: receiver?.frames,
    render: receiver?.render,
    look: receiver?.look ?? lookAt(p.history),
    processes,
    starting: receiver?.starting?.bind(receiver),
  });
  return { ...p, app, state };
}
