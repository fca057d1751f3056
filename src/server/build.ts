// Everything `serve` runs, assembled from a Config, with the clock injected: the same
// pieces the tests drive through app.request().

import type { Config } from '../config.js';
import { type Logger, silentLogger } from '../log.js';
import { pipeline } from '../pipeline.js';
import { createApp } from './app.js';
import { type FrameGate, type Look, lookAt, type Render } from './context.js';

/** Scale-out: Frame-Ids decided and /metrics rendered elsewhere, lines collected for a merge. */
export interface Elsewhere {
  frames: FrameGate;
  render: Render;
  look: Look;
  starting?: () => string | null;
  /** Release lines, for the history kept elsewhere. */
  release?(app: string, time: number, text: string): void;
}

export function build(config: Config, now: () => number = Date.now, log: Logger = silentLogger, elsewhere?: Elsewhere) {
  // A worker is one of config.workers processes taking the dyno's drains.
  const processes = elsewhere === undefined ? 1 : config.workers;
  const p = pipeline(config, now(), { exporting: elsewhere !== undefined, processes });
  p.outlet.log = log;
  const release = elsewhere?.release;
  if (release !== undefined) p.ingest.releases = { release: (app, time, text) => release.call(elsewhere, app, time, text) };
  const { app, state } = createApp({
    config,
    aggregator: p.aggregator,
    ingest: p.ingest,
    outlet: p.outlet,
    now,
    log,
    frames: elsewhere?.frames,
    render: elsewhere?.render,
    look: elsewhere?.look ?? lookAt(p.history),
    processes,
    starting: elsewhere?.starting?.bind(elsewhere),
  });
  return { ...p, app, state };
}
