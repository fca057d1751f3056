// GET /healthz (docs/http-api.md): 200 `ok` while the process can take drains; 503 while it
// shuts down, and while it starts (scale-out: until it has read the global totals
// from Redis, docs/scale-out.md).

import { Hono } from 'hono';
import { type Env, RETRY_AFTER, type RouteContext } from '../context.js';

export function healthzRoute(ctx: RouteContext): Hono<Env> {
  const r = new Hono<Env>();
  r.get('/healthz', (c) => {
    if (ctx.state.draining) return ctx.answer(c, 'healthz', 503, 'draining');
    const starting = ctx.starting();
    if (starting !== null) return ctx.answer(c, 'healthz', 503, starting, { 'Retry-After': RETRY_AFTER });
    return ctx.answer(c, 'healthz', 200, 'ok');
  });
  return r;
}
