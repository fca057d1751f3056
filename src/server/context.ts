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

/** The dashboard's data as JSON text: the apps and metrics with history (`index`), or a query's points. */
export type Look = (what: 'index' | 'history', q: HistoryQuery) => Promise<string>;

/**
 * A Look over a History in this process (an empty one when there is none), and the
 * store behind it: a range (`from`), or a poll that reaches back past the ring, is
 * the store's (docs/history.md).
 */
export function lookAt(history: History | null, store: HistoryStore | null = null, now: () => number = Date.now): Look {
  return async (what, q) => {
    if (history === null) return what === 'index' ? '{"apps":[]}' : '{"through":null,"series":[],"releases":[]}';
    if (what === 'index') return history.index(q.scope);
    // A range is the store's (every receiver's part, merged); a poll is the ring's unless it reaches back past it.
    const from = q.from ?? q.since;
    if (store !== null && from !== undefined && (q.from !== undefined || from < history.reach())) {
      const to = q.to ?? Math.ceil(now() / 1000);
      return store.read({ scope: q.scope, app: q.app, metric: q.metric, from, to: Math.max(from, to), limit: Math.min(q.limit ?? HISTORY_LIMIT, HISTORY_MAX_LIMIT) });
    }
    return history.read(q);
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
  frameIds: FrameIds | null = null;
}

export interface RouteContext extends AppDeps {
  state: ServerState;
  frameIds: FrameIds;
  frames: FrameGate;
  render: Render;
  look: Look;
  /** No DRAINMETER_SECRETS: drains need no credentials. */
  open: boolean;
  /** A text answer (204 without a body), counted by route and status. */
  answer(c: Context<Env>, route: string, status: number, text?: string, headers?: Record<string, string>): Response;
}

export const RETRY_AFTER = '5';
