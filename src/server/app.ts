// The hono app (SPEC §3): POST /logs, GET /metrics, GET /healthz. Pure of sockets and
// timers: the wall clock is injected, and app.request() tests it whole.

import type { IncomingMessage } from 'node:http';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { LRUCache } from 'lru-cache';
import type { Aggregator } from '../aggregate/index.js';
import { type Config, RESOLUTIONS } from '../config.js';
import { type Ingest, ingestLogplex, ingestText } from '../ingest/index.js';
import type { Logger } from '../log.js';
import type { PrometheusOutlet } from '../outlets/prometheus.js';
import { APP_NAME, basicCredentials, verifyBearer, verifyDrain } from './auth.js';
import { readBody } from './body.js';

export interface AppDeps {
  config: Config;
  aggregator: Aggregator;
  ingest: Ingest;
  outlet: PrometheusOutlet;
  /** Wall clock, epoch ms. */
  now: () => number;
  log: Logger;
}

/** What the process around the app needs to see: requests in flight, draining. */
export class ServerState {
  /** Requests being answered. */
  active = 0;
  /** Body bytes being read. */
  inflight = 0;
  /** Shutting down: new drains get 503. */
  draining = false;
}

type Env = { Bindings: { incoming?: IncomingMessage } };

const DEDUPE_TTL_MS = 10 * 60_000;
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;
const RETRY_AFTER = '5';

/** The exposition's buffers as a byte stream: no 50 MB body in one piece. */
function streamOf(chunks: Buffer[]): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= chunks.length) controller.close();
      else controller.enqueue(chunks[at++]);
    },
  });
}

export function createApp(deps: AppDeps): { app: Hono<Env>; state: ServerState } {
  const { config, aggregator, ingest, outlet, now, log } = deps;
  const state = new ServerState();
  const open = config.secrets.length === 0;
  // Frame-Ids accepted in the last 10 minutes, per app (logplex retries a batch with
  // the same id). The clock is ours, so tests need no sleeping.
  const seen = new LRUCache<string, true>({ max: 200_000, ttl: DEDUPE_TTL_MS, perf: { now } });

  const app = new Hono<Env>();

  const answer = (c: Context<Env>, route: string, status: number, text?: string, headers?: Record<string, string>) => {
    outlet.requests.add(route, status);
    if (status === 204) return c.body(null, 204);
    return c.text(text === undefined ? '' : text + '\n', status as 200, headers);
  };

  app.use('*', async (c, next) => {
    state.active++;
    try {
      await next();
    } finally {
      state.active--;
    }
  });

  app.post('/logs', async (c) => {
    if (state.draining) return answer(c, 'logs', 503, 'shutting down', { 'Retry-After': RETRY_AFTER });
    const creds = basicCredentials(c.req.header('authorization'));
    let appName = 'default';
    if (creds !== null || !open) {
      if (creds === null || !APP_NAME.test(creds.user) || (!open && !verifyDrain(config.secrets, creds.user, creds.password))) {
        return answer(c, 'logs', 401, 'drain credentials missing or wrong: use https://APP:PASSWORD@host/logs (drainmeter token APP)', {
          'WWW-Authenticate': 'Basic realm="drainmeter"',
        });
      }
      appName = creds.user;
    }
    const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const logplex = type === 'application/logplex-1';
    if (!logplex && type !== 'text/plain') {
      return answer(c, 'logs', 415, `content type must be application/logplex-1 or text/plain, not ${JSON.stringify(type)}`);
    }
    const resolutionText = c.req.query('resolution');
    const resolution = resolutionText === undefined ? config.resolution : Number(resolutionText);
    if (!RESOLUTIONS.includes(resolution)) return answer(c, 'logs', 400, `resolution must be one of ${RESOLUTIONS.join(', ')}`);
    const prefix = c.req.query('prefix') ?? '';
    if (prefix !== '' && !PREFIX.test(prefix)) return answer(c, 'logs', 400, 'prefix must be 1 to 64 of A-Z a-z 0-9 _ . : -');
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (declared > config.maxBody) return answer(c, 'logs', 413, `body over ${config.maxBody} bytes`, { Connection: 'close' });
    const reserve = Number.isFinite(declared) ? declared : config.maxBody;
    if (state.inflight + reserve > config.maxInflight) {
      return answer(c, 'logs', 503, 'overloaded: too many bytes in flight, retry', { 'Retry-After': RETRY_AFTER });
    }
    state.inflight += reserve;
    let body;
    try {
      // c.req.raw.body only without a Node request: touching it makes
      // @hono/node-server build a web Request and stream (bench/http.ts: 18% of CPU).
      const incoming = c.env?.incoming;
      body = await readBody(incoming, incoming === undefined ? c.req.raw.body : null, config.maxBody);
    } finally {
      state.inflight -= reserve;
    }
    if (body === 'too_large') return answer(c, 'logs', 413, `body over ${config.maxBody} bytes`, { Connection: 'close' });
    if (body === 'aborted') return answer(c, 'logs', 400, 'body cut off before its end');
    const names = ingest.nameTable(prefix);
    if (names === null) return answer(c, 'logs', 400, 'too many distinct prefixes');

    const frameId = c.req.header('logplex-frame-id');
    const dedupeKey = frameId === undefined ? '' : `${appName}\u0000${frameId}`;
    const appState = aggregator.appState(appName);
    if (dedupeKey !== '' && seen.has(dedupeKey)) {
      appState.duplicates++;
      return answer(c, 'logs', 204);
    }

    const t = now();
    aggregator.advance(t);
    aggregator.arrival = t;
    aggregator.resolution = resolution;
    ingest.stats.reset();
    ingest.begin(appName, names, t);
    const reader = logplex ? ingestLogplex(ingest, body.chunks, config.maxBody) : ingestText(ingest, body.chunks, config.maxBody);
    const stats = ingest.stats;
    appState.count(stats);
    if (stats.lines === 0) {
      const why = body.size === 0 ? 'empty body' : 'err' in reader && reader.err !== null ? reader.err : logplex ? 'no RFC 5424 frame in the body' : 'no line in the body';
      return answer(c, 'logs', 400, `no usable frame: ${why}`);
    }
    if (dedupeKey !== '') seen.set(dedupeKey, true);
    return answer(c, 'logs', 204);
  });

  app.get('/metrics', async (c) => {
    let scope: string | null = null;
    if (!open) {
      const authorization = c.req.header('authorization');
      const creds = basicCredentials(authorization);
      if (verifyBearer(authorization, config.metricsToken)) scope = null;
      else if (creds !== null && APP_NAME.test(creds.user) && verifyDrain(config.secrets, creds.user, creds.password)) scope = creds.user;
      else {
        return answer(c, 'metrics', 401, 'credentials missing or wrong: Basic APP:PASSWORD for one app, Bearer DRAINMETER_METRICS_TOKEN for all', {
          'WWW-Authenticate': 'Basic realm="drainmeter"',
        });
      }
    }
    aggregator.advance(now());
    const openMetrics = (c.req.header('accept') ?? '').includes('application/openmetrics-text');
    const { contentType, chunks } = await outlet.scrape(scope, openMetrics);
    outlet.requests.add('metrics', 200);
    return c.body(streamOf(chunks), 200, { 'Content-Type': contentType });
  });

  app.get('/healthz', (c) => (state.draining ? answer(c, 'healthz', 503, 'draining') : answer(c, 'healthz', 200, 'ok')));

  app.notFound((c) => answer(c, 'other', 404, 'not found: POST /logs, GET /metrics, GET /healthz'));
  app.onError((err, c) => {
    log.error('request failed', { error: err.message });
    return answer(c, 'other', 500, 'internal error');
  });

  return { app, state };
}
