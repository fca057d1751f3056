// GET / and /dashboard/* (docs/dashboard.md): the live dashboard, with the credentials of
// /metrics (a browser's Basic prompt works; an app sees its own series only). Its
// queries work in slices of a few milliseconds (outlets/history/slicer.ts), and at most
// MAX_LOOKS_PER_SCOPE of one scope run at once: past it, 429 with Retry-After, so
// one app's heavy queries cannot slow another app's drain (docs/dashboard.md).

import { Hono } from 'hono';
import { readerScope } from '../auth.js';
import type { Env, RouteContext } from '../context.js';
import { dashboard, isDashboard, isQuery, needsCredentials } from '../dashboard.js';

/** Dashboard queries of one scope running at once; past it, 429. */
export const MAX_LOOKS_PER_SCOPE = 2;

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
    const key = scope ?? '';
    const query = isQuery(path);
    if (query) {
      const running = ctx.state.looks.get(key) ?? 0;
      if (running >= MAX_LOOKS_PER_SCOPE) return answer(c, 'dashboard', 429, 'too many dashboard queries of this scope at once', { 'Retry-After': '1' });
      ctx.state.looks.set(key, running + 1);
    }
    let a;
    try {
      a = await dashboard(path, url.searchParams, scope ?? null, look);
    } finally {
      if (query) {
        const n = (ctx.state.looks.get(key) ?? 1) - 1;
        if (n <= 0) ctx.state.looks.delete(key);
        else ctx.state.looks.set(key, n);
      }
    }
    outlet.requests.add('dashboard', a.status);
    return c.body(typeof a.body === 'string' ? a.body : new Uint8Array(a.body), a.status as 200, {
      'Content-Type': a.type,
      'Cache-Control': needsCredentials(path) ? 'no-store' : 'public, max-age=3600',
    });
  });
  return r;
}
