// POST /logs (docs/http-api.md): logplex frames or text lines; 204 when accepted, 400 when
// the body holds nothing usable. A Logplex-Frame-Id accepted in the last 10 minutes
// (a retry) answers 204 and is not counted twice.

import { type Context, Hono } from 'hono';
import { formatsOf } from '../../ingest/formats/index.js';
import type { Env, RouteContext } from '../context.js';
import { type Drained, ingestBody, receive, release } from '../drain.js';

const FORMATS = formatsOf('/logs');

export function logsRoute(ctx: RouteContext): Hono<Env> {
  const r = new Hono<Env>();
  r.post('/logs', async (c) => {
    const got = await receive(c, ctx, FORMATS, 'logs');
    if (got instanceof Response) return got;
    try {
      return await accept(c, got);
    } finally {
      release(got);
    }
  });
  const accept = async (c: Context<Env>, got: Drained): Promise<Response> => {
    const frameId = c.req.header('logplex-frame-id');
    if (frameId !== undefined) {
      // Claimed before the lines count: of two tries of one batch racing on two
      // receivers, one counts. A batch without a usable frame (400) is not retried.
      const claim = ctx.frames.claim(got.tenant, frameId);
      if (!(typeof claim === 'boolean' ? claim : await claim)) {
        got.tenant.duplicates++;
        return ctx.answer(c, 'logs', 204);
      }
    }
    const result = ingestBody(ctx, got);
    if (result.error !== null) return ctx.answer(c, 'logs', 400, `no usable frame: ${result.error}`);
    return ctx.answer(c, 'logs', 204);
  };
  return r;
}
