// GET /metrics (docs/limits.md): Basic APP:PASSWORD sees that app's series, the bearer
// token every app's (open mode: all, no credentials). Concurrent scrapes of one scope
// share a rendering; past MAX_SCRAPES_PER_SCOPE at once, 429; a reader that takes
// nothing for SCRAPE_STALL_MS is cut off.

import { Hono } from 'hono';
import { readerScope } from '../auth.js';
import type { Env, RouteContext } from '../context.js';

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

export function metricsRoute(ctx: RouteContext): Hono<Env> {
  const { config, aggregator, outlet, now, state, answer, render } = ctx;
  const r = new Hono<Env>();
  r.get('/metrics', async (c) => {
    const scope = readerScope(ctx.open, c.req.header('authorization'), config.secrets, config.metricsToken);
    if (scope === undefined) {
      return answer(c, 'metrics', 401, 'credentials missing or wrong: Basic APP:PASSWORD for one app, Bearer DRAINMETER_METRICS_TOKEN for all', {
        'WWW-Authenticate': 'Basic realm="drainmeter"',
      });
    }
    // Not ready (scale-out: the global totals not read yet): a 503 is a failed scrape,
    // where counters missing or lower would read as a reset of every series.
    const starting = ctx.starting();
    if (starting !== null) return answer(c, 'metrics', 503, starting, { 'Retry-After': '1' });
    const key = scope ?? '';
    const writing = state.scrapes.get(key) ?? 0;
    if (writing >= state.maxScrapesPerScope) return answer(c, 'metrics', 429, 'too many scrapes of this scope at once', { 'Retry-After': '1' });
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
      rendering = await render(scope, openMetrics);
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
  return r;
}
