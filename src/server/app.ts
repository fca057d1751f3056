// The hono app (SPEC §3): POST /logs, GET /metrics, GET /healthz. Pure of sockets and
// timers: the wall clock is injected, and app.request() tests it whole.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Aggregator } from '../aggregate/index.js';
import { type Config, RESOLUTIONS } from '../config.js';
import { type Ingest, ingestLogplex, ingestText } from '../ingest/index.js';
import type { Logger } from '../log.js';
import type { PrometheusOutlet } from '../outlets/prometheus.js';
import { APP_NAME, basicCredentials, verifyBearer, verifyDrain } from './auth.js';
import { BodyReads, readBody } from './body.js';
import { FrameIds } from './frame-ids.js';

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
  /** Shutting down: new drains get 503. */
  draining = false;
  /** Bodies being read from sockets: the tick stops the slow ones. */
  readonly reads = new BodyReads();
  /** /metrics responses being written, by scope. */
  readonly scrapes = new Map<string, number>();
  frameIds: FrameIds | null = null;
}

type Env = { Bindings: { incoming?: IncomingMessage; outgoing?: ServerResponse } };

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;
const RETRY_AFTER = '5';
/** /metrics responses of one scope being written at once; past it, 429. */
export const MAX_SCRAPES_PER_SCOPE = 16;
/** A /metrics response whose reader takes nothing for this long is cut off, ms. */
export const SCRAPE_STALL_MS = 10_000;

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
  const budgets = aggregator.budgets;
  // Frame-Ids of each app for 10 minutes (logplex retries a batch with the same id).
  // The clock is ours, so tests need no sleeping.
  const frameIds = new FrameIds(budgets.frameIds, now);
  state.frameIds = frameIds;

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
    const encoding = (c.req.header('content-encoding') ?? '').trim().toLowerCase();
    if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip') {
      return answer(c, 'logs', 415, `content encoding must be gzip or none, not ${JSON.stringify(encoding)}`);
    }
    const resolutionText = c.req.query('resolution');
    const resolution = resolutionText === undefined ? config.resolution : Number(resolutionText);
    if (!RESOLUTIONS.includes(resolution)) return answer(c, 'logs', 400, `resolution must be one of ${RESOLUTIONS.join(', ')}`);
    const prefix = c.req.query('prefix') ?? '';
    if (prefix !== '' && !PREFIX.test(prefix)) return answer(c, 'logs', 400, 'prefix must be 1 to 64 of A-Z a-z 0-9 _ . : -');
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (declared > config.maxBody) return answer(c, 'logs', 413, `body over ${config.maxBody} bytes`, { Connection: 'close' });

    const tenant = aggregator.appState(appName);
    const t0 = now();
    tenant.lastActive = Math.floor(t0 / 1000);
    // The body's bytes are reserved before it is read, from the app's share of the
    // in-flight budget: an app's slow or large bodies fill its own share, not others'.
    const reserve = Number.isFinite(declared) ? declared : config.maxBody;
    if (!budgets.inflight.take(tenant, reserve)) {
      return answer(c, 'logs', 503, 'overloaded: too many bytes in flight, retry', { 'Retry-After': RETRY_AFTER });
    }
    let body;
    try {
      // c.req.raw.body only without a Node request: touching it makes
      // @hono/node-server build a web Request and stream (bench/http.ts: 18% of CPU).
      const incoming = c.env?.incoming;
      body = await readBody(incoming, incoming === undefined ? c.req.raw.body : null, {
        max: config.maxBody,
        gzip: encoding === 'gzip',
        reads: state.reads,
        now,
        declared: reserve,
      });
    } finally {
      budgets.inflight.give(tenant, reserve);
    }
    if (body === 'too_large') return answer(c, 'logs', 413, `body over ${config.maxBody} bytes`, { Connection: 'close' });
    if (body === 'aborted') return answer(c, 'logs', 400, 'body cut off before its end');
    if (body === 'bad_gzip') return answer(c, 'logs', 400, 'body is not valid gzip');
    if (body === 'too_slow') return answer(c, 'logs', 408, 'body arrived too slowly', { Connection: 'close' });
    const names = ingest.nameTable(tenant, prefix);
    if (names === null) return answer(c, 'logs', 400, 'too many distinct prefixes for this app');

    const frameId = c.req.header('logplex-frame-id');
    if (frameId !== undefined && frameIds.has(tenant, frameId)) {
      tenant.duplicates++;
      return answer(c, 'logs', 204);
    }

    const t = now();
    aggregator.advance(t);
    aggregator.arrival = t;
    aggregator.resolution = resolution;
    ingest.stats.reset();
    ingest.begin(tenant, names, t);
    const reader = logplex ? ingestLogplex(ingest, body.chunks, config.maxBody) : ingestText(ingest, body.chunks, config.maxBody);
    const stats = ingest.stats;
    tenant.count(stats);
    aggregator.version++;
    if (stats.lines === 0) {
      const why = body.size === 0 ? 'empty body' : 'err' in reader && reader.err !== null ? reader.err : logplex ? 'no RFC 5424 frame in the body' : 'no line in the body';
      return answer(c, 'logs', 400, `no usable frame: ${why}`);
    }
    if (frameId !== undefined) frameIds.add(tenant, frameId);
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
    const key = scope ?? '';
    const writing = state.scrapes.get(key) ?? 0;
    if (writing >= MAX_SCRAPES_PER_SCOPE) return answer(c, 'metrics', 429, 'too many scrapes of this scope at once', { 'Retry-After': '1' });
    state.scrapes.set(key, writing + 1);
    const done = () => {
      const n = (state.scrapes.get(key) ?? 1) - 1;
      if (n <= 0) state.scrapes.delete(key);
      else state.scrapes.set(key, n);
    };
    const outgoing = c.env?.outgoing;
    let rendering;
    try {
      aggregator.advance(now());
      const openMetrics = (c.req.header('accept') ?? '').includes('application/openmetrics-text');
      rendering = await outlet.scrape(scope, openMetrics);
    } catch (err) {
      done();
      throw err;
    }
    outlet.requests.add('metrics', 200);
    if (outgoing === undefined) done();
    else {
      // A reader that takes nothing for SCRAPE_STALL_MS is cut off: its socket would
      // otherwise hold the rendering for as long as it likes.
      outgoing.setTimeout(SCRAPE_STALL_MS, () => outgoing.destroy());
      outgoing.once('close', () => {
        outgoing.setTimeout(0);
        done();
      });
    }
    return c.body(streamOf(rendering.chunks), 200, { 'Content-Type': rendering.contentType });
  });

  app.get('/healthz', (c) => (state.draining ? answer(c, 'healthz', 503, 'draining') : answer(c, 'healthz', 200, 'ok')));

  app.notFound((c) => answer(c, 'other', 404, 'not found: POST /logs, GET /metrics, GET /healthz'));
  app.onError((err, c) => {
    log.error('request failed', { error: err.message, stack: err.stack });
    return answer(c, 'other', 500, 'internal error');
  });

  return { app, state };
}
