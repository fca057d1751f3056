// POST /v1/logs (docs/http-api.md): OTLP/HTTP logs, protobuf or JSON, as Heroku Fir's
// telemetry drains send them. Answers follow the OTLP/HTTP spec: 200 with an
// ExportLogsServiceResponse in the request's encoding (records that are not lines in
// its partial_success), 400 with a google.rpc.Status for a body that cannot be
// decoded, and the drain's 401, 413, 415, 429/503 with Retry-After.

import { Hono } from 'hono';
import { formatsOf } from '../../ingest/formats/index.js';
import type { Env, RouteContext } from '../context.js';
import { ingestBody, receive } from '../drain.js';

const FORMATS = formatsOf('/v1/logs');

export function otlpLogsRoute(ctx: RouteContext): Hono<Env> {
  const r = new Hono<Env>();
  r.post('/v1/logs', async (c) => {
    const got = await receive(c, ctx, FORMATS, 'otlp_logs');
    if (got instanceof Response) return got;
    const answers = got.format.answers;
    if (answers === undefined) throw new Error(`format ${got.format.name} on /v1/logs has no OTLP answers`);
    const type = got.format.contentTypes[0];
    const result = ingestBody(ctx, got);
    if (result.error !== null) {
      ctx.outlet.requests.add('otlp_logs', 400);
      return c.body(new Uint8Array(answers.error(result.error)), 400, { 'Content-Type': type });
    }
    ctx.outlet.requests.add('otlp_logs', 200);
    const why = result.rejected > 0 ? `${result.rejected} log records without a string body` : '';
    return c.body(new Uint8Array(answers.ok(result.rejected, why)), 200, { 'Content-Type': type });
  });
  return r;
}
