// GET / and /dashboard/* (SPEC §9): the live dashboard, with the credentials of
// /metrics (a browser's Basic prompt works; an app sees its own series only).

import { Hono } from 'hono';
import { readerScope } from '../auth.js';
import type { Env, RouteContext } from '../context.js';
import { dashboard, isDashboard, needsCredentials } from '../dashboard.js';

export function dashboardRoute(ctx: RouteContext): Hono<Env> {
  const { config, look, answer, outlet } = ctx;
  const r = new Hono<Env>();
  r.get('*', async (c, next) => {
    const path = c.req.path;
    if (!isDashboard(path)) return next();
    const scope = readerScope(ctx.open, c.req.header('authorization'), config.secrets, config.metricsToken);
    const url = new URL(c.req.url);
    if (scope === undefined && needsCredentials(path)) {
      return answer(c, 'dashboard', 401, 'credentials missing or wrong: Basic APP:PASSWORD for one app; for all, any user name and DRAINMETER_METRICS_TOKEN as the password', {
        'WWW-Authenticate': 'Basic realm="drainmeter"',
      });
    }
    const a = await dashboard(path, url.searchParams, scope ?? null, look);
    outlet.requests.add('dashboard', a.status);
    return c.body(typeof a.body === 'string' ? a.body : new Uint8Array(a.body), a.status as 200, {
      'Content-Type': a.type,
      'Cache-Control': needsCredentials(path) ? 'no-store' : 'public, max-age=3600',
    });
  });
  return r;
}
