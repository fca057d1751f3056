// `drainmeter serve`: the app on a socket, the wall clock closing windows, series
// swept, and SIGTERM handled as Heroku expects (30 s to stop): refuse new drains,
// finish requests in flight, close every open window, exit 0.

import type { Server } from 'node:http';
import { serve as listen } from '@hono/node-server';
import { type Config, ConfigError, isLoopback } from '../config.js';
import { listenError } from '../options.js';
import type { Logger } from '../log.js';
import type { Alerts } from '../alerts/index.js';
import { flushOutlets, type Outlet, startOutlets } from '../outlets/index.js';
import { sweep as sweepPipeline } from '../pipeline.js';
import { exportDelta } from '../scale/delta.js';
import { HandOverShare } from '../scale/hand-over.js';
import type { Receiver } from '../scale/receiver.js';
import { build } from './build.js';
import { REPORT_MS, refusalReporter } from './refusals.js';

const TICK_MS = 250;
const STOP_DEADLINE_MS = 25_000;
/** Heroku kills a dyno 30 s after SIGTERM: outlets must have flushed by then. */
const FLUSH_DEADLINE_MS = 28_000;
/** The hand-over's "changes wait" warning, at most this often, ms. */
const WAITING_WARN_MS = 60_000;

export interface Running {
  port: number;
  server: Server;
  stop(reason: string): Promise<void>;
  parts: ReturnType<typeof build>;
  /** The outlets the configuration turned on. */
  outlets: Outlet[];
}

/** Socket limits; the defaults suit a public drain, tests shorten them. */
export interface ServeLimits {
  /** A request's headers must arrive within this (ms). */
  headersTimeout: number;
  /** A whole request, body included, must arrive within this (ms). */
  requestTimeout: number;
  /** How often Node looks for requests past those limits (ms). */
  checkInterval: number;
}

const LIMITS: ServeLimits = { headersTimeout: 10_000, requestTimeout: 60_000, checkInterval: 1_000 };

export async function serve(config: Config, log: Logger, limits: ServeLimits = LIMITS, receiver?: Receiver): Promise<Running> {
  const open = config.secrets.length === 0;
  if (open && !isLoopback(config.host) && !config.insecure) {
    throw new ConfigError(
      `DRAINMETER_HOST ${config.host} without DRAINMETER_SECRETS would take anyone's drains: set DRAINMETER_SECRETS, or pass --insecure`,
    );
  }
  const parts = build(config, Date.now, log, receiver);
  const { app, state, aggregator } = parts;
  // Each hand-over is bounded in bytes with a share per app (scale/hand-over.ts).
  const share = new HandOverShare();
  let warned = -Infinity;
  const handOver = () => {
    if (receiver === undefined) return;
    const payload = exportDelta(aggregator, parts.outlet.requests, { share });
    if (payload !== null) receiver.handOver(payload);
    receiver.waiting?.(share.waitingSeries);
    if (share.waitingApps.length > 0 && Date.now() - warned >= WAITING_WARN_MS) {
      warned = Date.now();
      log.warn('hand-over share full: changes wait for the next hand-over', { app: share.waitingApps[0], apps: share.waitingApps.length, series: share.waitingSeries });
    }
  };
  const outlets: Outlet[] = startOutlets(receiver === undefined ? config.outlets : [], {
    aggregator,
    quantiles: config.quantiles,
    log,
    now: Date.now,
    write: (t) => process.stdout.write(t),
  });
  parts.outlet.pushers = outlets;
  // Alerts on this process's windows; scale-out evaluates them on the hub's merged view.
  let alerts: Alerts | null = null;
  if (receiver === undefined && config.alerts !== null) {
    const { Alerts } = await import('../alerts/index.js');
    alerts = new Alerts(config.alerts, { aggregator, log, now: Date.now, redisUrl: '', instance: config.instance });
    await alerts.start();
    const a = alerts;
    parts.outlet.families.push((out, scope, om) => a.writeMetrics(out, scope, om));
    state.alerts = (scope) => a.json(scope);
  }
  // A client that sends headers and then nothing, or a body at a crawl, is cut off
  // (Node checks every checkInterval; its default, 30 s, would let them linger).
  const serverOptions = {
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    connectionsCheckingInterval: limits.checkInterval,
  };
  const server = await new Promise<Server>((resolve, reject) => {
    const s = listen({ fetch: app.fetch, port: config.port, hostname: config.host, serverOptions }, () => resolve(s as Server)) as Server;
    s.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, config.host, config.port, 'PORT / --port')));
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  // Says what is true: loopback only, or every address it listens on (--insecure).
  if (open && isLoopback(config.host)) log.warn('open mode: no DRAINMETER_SECRETS, drains need no credentials, listening on loopback only', { host: config.host });
  else if (open) log.warn('open mode on a non-loopback address (--insecure): no DRAINMETER_SECRETS, anyone who reaches this address can send drains and read /metrics', { host: config.host });
  log.info('listening', { port, host: config.host, resolution: config.resolution, grace: config.grace, ...receiver?.fields });

  const tick = setInterval(() => {
    const now = Date.now();
    aggregator.advance(now);
    state.reads.check(now);
    handOver();
  }, TICK_MS);
  // Every 10 s, or twice per TTL when the TTL is shorter.
  const sweepMs = Math.min(10_000, Math.max(500, config.seriesTtl * 500));
  const sweep = setInterval(() => {
    state.frameIds?.purge();
    const gone = sweepPipeline(parts);
    if (gone.series > 0 || gone.apps > 0) log.info('expired', { series: gone.series, apps: gone.apps, live: aggregator.seriesCount });
  }, sweepMs);
  // Refusals inside a 204, said in the log (rate-limited: refusals.ts).
  const report = refusalReporter(aggregator.apps, log);
  const reports = setInterval(report, REPORT_MS);
  tick.unref();
  sweep.unref();
  reports.unref();

  let stopping: Promise<void> | null = null;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      const started = Date.now();
      log.info('stopping', { reason, in_flight: state.active });
      state.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + STOP_DEADLINE_MS;
      while (state.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      server.closeAllConnections();
      await closed;
      clearInterval(tick);
      clearInterval(sweep);
      clearInterval(reports);
      report();
      aggregator.advance(Date.now());
      // Everything, share by share: each hand-over takes at least a series of every app waiting.
      do handOver();
      while (share.waitingSeries > 0);
      await receiver?.stop?.(started + FLUSH_DEADLINE_MS);
      aggregator.closeAll();
      await Promise.all([flushOutlets(outlets, started + FLUSH_DEADLINE_MS, log), alerts?.stop(started + FLUSH_DEADLINE_MS)]);
      log.info('stopped', { series: aggregator.seriesCount });
    })();
    return stopping;
  };
  return { port, server, stop, parts, outlets };
}
