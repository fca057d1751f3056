// GET /healthz (SPEC §3): 200 `ok` while the process can take drains.

import { Hono } from 'hono';
import type { Env, RouteContext } from '../context.js';

export function healthzRoute(ctx: RouteContext): Hono<Env> {
  const r = new Hono<Env>();
  r.get('/healthz', (c) => (ctx.state.draining ? ctx.answer(c, 'healthz', 503, 'draining') : ctx.answer(c, 'healthz', 200, 'ok')));
  return r;
}
