// What every route is given: the pipeline, the config, the clock, the server's state,
// and answer(), which counts every response in drainmeter_requests_total.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { Aggregator } from '../aggregate/index.js';
import type { Config } from '../config.js';
import type { Ingest } from '../ingest/index.js';
import type { Logger } from '../log.js';
import type { Look } from '../outlets/look.js';
import type { PrometheusOutlet } from '../outlets/prometheus.js';
import type { FrameIds } from '../scale/frame-ids.js';
import type { FrameGate, Render } from '../scale/receiver.js';
import { BodyReads } from './body.js';

export type Env = { Bindings: { incoming?: IncomingMessage; outgoing?: ServerResponse } };

export interface AppDeps {
  config: Config;
  aggregator: Aggregator;
  ingest: Ingest;
  outlet: PrometheusOutlet;
  /** Wall clock, epoch ms. */
  now: () => number;
  log: Logger;
  /** Frame-Id decisions; default: this process's FrameIds. */
  frames?: FrameGate;
  /** What /metrics shows; default: this process's outlet (scale-out: the merged view). */
  render?: Render;
  /** What the dashboard shows; default: nothing kept (scale-out: the merged view's history). */
  look?: Look;
  /**
   * Serving processes that share the dyno's budgets (DRAINMETER_WORKERS when this is
   * a worker; default 1): what this process enforces alone is its part of each total.
   */
  processes?: number;
  /** Why the process is not ready yet (scale-out: totals not read from Redis yet), or null; default: ready. */
  starting?: () => string | null;
}

/** What the process around the app needs to see: requests in flight, draining. */
export class ServerState {
  /** Requests being answered. */
  active = 0;
  /** Shutting down: new drains get 503. */
  draining = false;
  /** Bodies being read from sockets: the tick stops the slow ones. */
  readonly reads = new BodyReads();
  /** /metrics responses being written, by scope. */
  readonly scrapes = new Map<string, number>();
  /** /metrics responses one scope may have in flight here: this process's part of the dyno's. */
  maxScrapesPerScope = 16;
  /** Dashboard queries being answered, by scope. */
  readonly looks = new Map<string, number>();
  frameIds: FrameIds | null = null;
  /** GET /alerts of this process's evaluator, when it has one (else asked of look). */
  alerts: ((scope: string | null) => Promise<string>) | null = null;
}

export interface RouteContext extends AppDeps {
  state: ServerState;
  frameIds: FrameIds;
  frames: FrameGate;
  render: Render;
  look: Look;
  starting: () => string | null;
  /** No DRAINMETER_SECRETS: drains need no credentials. */
  open: boolean;
  /** A text answer (204 without a body), counted by route and status. */
  answer(c: Context<Env>, route: string, status: number, text?: string, headers?: Record<string, string>): Response;
}

export const RETRY_AFTER = '5';
