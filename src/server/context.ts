// What every route is given: the pipeline, the config, the clock, the server's state,
// and answer(), which counts every response in drainmeter_requests_total.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { Aggregator } from '../aggregate/index.js';
import type { Config } from '../config.js';
import type { Ingest } from '../ingest/index.js';
import type { Logger } from '../log.js';
import type { Tenant } from '../model/index.js';
import type { HistoryStore } from '../history/index.js';
import { type History, HISTORY_LIMIT, HISTORY_MAX_LIMIT, type HistoryQuery } from '../outlets/history.js';
import { overview } from '../outlets/overview.js';
import type { PrometheusOutlet, Rendering } from '../outlets/prometheus.js';
import { BodyReads } from './body.js';
import type { FrameIds } from './frame-ids.js';

export type Env = { Bindings: { incoming?: IncomingMessage; outgoing?: ServerResponse } };

/**
 * Decides whether a batch's Logplex-Frame-Id is new for its app, and remembers it:
 * false for a retry of a batch accepted in the last 10 minutes. Local by default;
 * scale-out asks the primary and Redis (scale/).
 */
export interface FrameGate {
  claim(app: Tenant, id: string): boolean | Promise<boolean>;
}

/** The exposition for one app or (null) all, in either format. */
export type Render = (scope: string | null, openMetrics: boolean) => Promise<Rendering>;

/** What the dashboard asks: the apps and metrics with history, a query's points, an app's overview, or the alerts (docs/alerts.md). */
export type LookWhat = 'index' | 'history' | 'overview' | 'alerts';

/** GET /alerts when none are configured. */
export const NO_ALERTS = '{"evaluator":null,"rules":[],"alerts":[],"recent":[]}';

/** The dashboard's data as JSON text. */
export type Look = (what: LookWhat, q: HistoryQuery) => Promise<string>;

/**
 * A Look over a History in this process (an empty one when there is none), and the
 * store behind it: a range (`from`), or a poll that reaches back past the ring, is
 * the store's (docs/history.md). `clock` tells the page the time (epoch ms; the wall
 * clock unless a stream's own).
 */
export function lookAt(history: History | null, store: HistoryStore | null = null, clock: () => number = Date.now): Look {
  return async (what, q) => {
    if (what === 'alerts') return NO_ALERTS;
    const now = Math.floor(clock() / 1000);
    if (history === null) return what === 'history' ? `{"through":null,"now":${now},"total":0,"series":[],"releases":[]}` : `{"now":${now},"apps":[]}`;
    const asked = { ...q, now };
    if (what === 'index') return history.index(q.scope, now);
    if (what === 'overview') return overview(history, asked);
    // A range is the store's (every receiver's part, merged); a poll is the ring's unless it reaches back past it.
    const from = q.from ?? q.since;
    if (store !== null && from !== undefined && (q.from !== undefined || from < history.reach())) {
      const to = q.to ?? now;
      return store.read({ scope: q.scope, app: q.app, metric: q.metric, from, to: Math.max(from, to), limit: Math.min(q.limit ?? HISTORY_LIMIT, HISTORY_MAX_LIMIT) });
    }
    return history.read(asked);
  };
}

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
