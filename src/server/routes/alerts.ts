// GET /alerts (docs/alerts.md): each alert's state, value and since, and the recent
// transitions, as JSON, with the credentials of /metrics (an app's Basic credentials
// see its own alerts only).

import { Hono } from 'hono';
import { readerScope } from '../auth.js';
import type { Env, RouteContext } from '../context.js';

export function alertsRoute(ctx: RouteContext): Hono<Env> {
  const { config, answer, outlet } = ctx;
  const r = new Hono<Env>();
  r.get('/alerts', async (c) => {
    const scope = readerScope(ctx.open, c.req.header('authorization'), config.secrets, config.metricsToken);
    if (scope === undefined) {
      return answer(c, 'alerts', 401, 'credentials missing or wrong: Basic APP:PASSWORD for one app, Bearer DRAINMETER_METRICS_TOKEN for all', {
        'WWW-Authenticate': 'Basic realm="drainmeter"',
      });
    }
    const own = ctx.state.alerts;
    const json = own !== null ? await own(scope) : await ctx.look('alerts', { scope });
    outlet.requests.add('alerts', 200);
    return c.body(json, 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  });
  return r;
}
