// The hono app (docs/http-api.md): the routes of routes/, mounted on one app. Pure of
// sockets and timers: the wall clock is injected, and app.request() tests it whole.

import { Hono } from 'hono';
import type { Context } from 'hono';
import { lookAt } from '../outlets/look.js';
import { FrameIds } from '../scale/frame-ids.js';
import { type AppDeps, type Env, type RouteContext, ServerState } from './context.js';
import { ROUTES } from './routes/index.js';
import { MAX_SCRAPES_PER_SCOPE } from './routes/metrics.js';

export { type AppDeps, ServerState } from './context.js';
export { MAX_SCRAPES_PER_SCOPE, SCRAPE_STALL_MS } from './routes/metrics.js';

export function createApp(deps: AppDeps): { app: Hono<Env>; state: ServerState } {
  const { config, aggregator, outlet, now, log } = deps;
  const state = new ServerState();
  // Frame-Ids of each app for 10 minutes (logplex retries a batch with the same id).
  // The clock is ours, so tests need no sleeping.
  const frameIds = new FrameIds(aggregator.budgets.frameIds, now);
  state.frameIds = frameIds;
  state.maxScrapesPerScope = Math.ceil(MAX_SCRAPES_PER_SCOPE / (deps.processes ?? 1));

  const answer = (c: Context<Env>, route: string, status: number, text?: string, headers?: Record<string, string>) => {
    outlet.requests.add(route, status);
    if (status === 204) return c.body(null, 204);
    return c.text(text === undefined ? '' : text + '\n', status as 200, headers);
  };
  const ctx: RouteContext = {
    ...deps,
    state,
    frameIds,
    frames: deps.frames ?? frameIds,
    render: deps.render ?? ((scope, om) => outlet.scrape(scope, { openMetrics: om })),
    look: deps.look ?? lookAt(null),
    starting: deps.starting ?? (() => null),
    open: config.secrets.length === 0,
    answer,
  };

  const app = new Hono<Env>();
  app.use('*', async (_c, next) => {
    state.active++;
    try {
      await next();
    } finally {
      state.active--;
    }
  });
  for (const route of ROUTES) app.route('/', route(ctx));

  app.notFound((c) => answer(c, 'other', 404, 'not found: POST /logs, POST /v1/logs, GET /metrics, GET / (the dashboard), GET /healthz'));
  app.onError((err, c) => {
    log.error('request failed', { error: err.message, stack: err.stack });
    return answer(c, 'other', 500, 'internal error');
  });

  return { app, state };
}
