// What every drain route does before and around reading a body (docs/http-api.md, docs/limits.md):
// credentials, content type and encoding, query parameters, the body limit, the
// app's share of the in-flight bytes, a bounded and rate-checked read; then the
// body goes through its format into the ingest. Routes differ only in how they
// answer.

import type { Context } from 'hono';
import { RESOLUTIONS } from '../config.js';
import type { NameTable } from '../ingest/index.js';
import type { InputFormat, ReadResult } from '../ingest/formats/index.js';
import { formatFor } from '../ingest/formats/index.js';
import { Hold, type Tenant } from '../model/index.js';
import { APP_NAME, basicCredentials, verifyDrain } from './auth.js';
import { GZIP_STATE_BYTES, readBody } from './body.js';
import { type Env, RETRY_AFTER, type RouteContext } from './context.js';

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface Drained {
  tenant: Tenant;
  names: NameTable;
  format: InputFormat;
  chunks: Buffer[];
  size: number;
  resolution: number;
  /** The body's in-flight bytes: held until release(). */
  hold: Hold;
}

/** Checks and reads a drain request; a Response when it is answered already. */
export async function receive(c: Context<Env>, ctx: RouteContext, formats: readonly InputFormat[], route: string): Promise<Drained | Response> {
  const { config, aggregator, ingest, now, state, answer } = ctx;
  if (state.draining) return answer(c, route, 503, 'shutting down', { 'Retry-After': RETRY_AFTER });
  const creds = basicCredentials(c.req.header('authorization'));
  let appName = 'default';
  if (creds !== null || !ctx.open) {
    if (creds === null || !APP_NAME.test(creds.user) || (!ctx.open && !verifyDrain(config.secrets, creds.user, creds.password))) {
      return answer(c, route, 401, 'drain credentials missing or wrong: use https://APP:PASSWORD@host/logs (drainmeter token APP)', {
        'WWW-Authenticate': 'Basic realm="drainmeter"',
      });
    }
    appName = creds.user;
  }
  const format = formatFor(formats, c.req.header('content-type'));
  if (format === undefined) {
    const types = formats.flatMap((f) => f.contentTypes).join(' or ');
    const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    return answer(c, route, 415, `content type must be ${types}, not ${JSON.stringify(type)}`);
  }
  const encoding = (c.req.header('content-encoding') ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip') {
    return answer(c, route, 415, `content encoding must be gzip or none, not ${JSON.stringify(encoding)}`);
  }
  const resolutionText = c.req.query('resolution');
  const resolution = resolutionText === undefined ? config.resolution : Number(resolutionText);
  if (!RESOLUTIONS.includes(resolution)) return answer(c, route, 400, `resolution must be one of ${RESOLUTIONS.join(', ')}`);
  const prefix = c.req.query('prefix') ?? '';
  if (prefix !== '' && !PREFIX.test(prefix)) return answer(c, route, 400, 'prefix must be 1 to 64 of A-Z a-z 0-9 _ . : -');
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > config.maxBody) return answer(c, route, 413, `body over ${config.maxBody} bytes`, { Connection: 'close' });

  const tenant = aggregator.appState(appName);
  tenant.lastActive = Math.floor(now() / 1000);
  // The body's bytes are charged to the app's share of the in-flight budget as they
  // are held (docs/limits.md): its declared length up front, then every decoded byte
  // kept beyond it, with the inflater's state for a gzip body. An app's slow, large
  // or inflating bodies fill its own share, not others'.
  const gzip = encoding === 'gzip';
  const hold = new Hold(aggregator.budgets.inflight, tenant);
  const upFront = (Number.isFinite(declared) ? declared : 0) + (gzip ? GZIP_STATE_BYTES : 0);
  const refused = hold.grow(upFront);
  if (refused !== null) return overloaded(c, ctx, route, refused);
  let body;
  try {
    // c.req.raw.body only without a Node request: touching it makes
    // @hono/node-server build a web Request and stream (bench/http.ts: 18% of CPU).
    const incoming = c.env?.incoming;
    body = await readBody(incoming, incoming === undefined ? c.req.raw.body : null, {
      max: config.maxBody,
      gzip,
      reads: state.reads,
      now,
      declared: Number.isFinite(declared) ? declared : config.maxBody,
      hold: (bytes) => hold.grow(bytes),
    });
  } catch (err) {
    hold.release();
    throw err;
  }
  if (typeof body === 'string') hold.release();
  if (body === 'over_share' || body === 'over_total') return overloaded(c, ctx, route, body === 'over_share' ? 'share' : 'total');
  if (body === 'too_large') return answer(c, route, 413, `body over ${config.maxBody} bytes`, { Connection: 'close' });
  if (body === 'aborted') return answer(c, route, 400, 'body cut off before its end');
  if (body === 'bad_gzip') return answer(c, route, 400, 'body is not valid gzip');
  if (body === 'too_slow') return answer(c, route, 408, 'body arrived too slowly', { Connection: 'close' });
  const names = ingest.nameTable(tenant, prefix);
  if (names === null) {
    hold.release();
    return answer(c, route, 400, 'too many distinct prefixes for this app');
  }
  return { tenant, names, format, chunks: body.chunks, size: body.size, resolution, hold };
}

/** 503 for a body the in-flight budget cannot hold: the app's share, or all apps' total. */
function overloaded(c: Context<Env>, ctx: RouteContext, route: string, why: 'share' | 'total'): Response {
  const text =
    why === 'share' ? "overloaded: this app's bodies in flight fill its share of the server, retry" : 'overloaded: too many bytes in flight, retry';
  return ctx.answer(c, route, 503, text, { 'Retry-After': RETRY_AFTER, Connection: 'close' });
}

/** Gives back the bytes a received body holds, once it is read or answered. */
export function release(d: Drained): void {
  d.hold.release();
}

/** Reads a received body into the pipeline through its format, then gives its bytes back. */
export function ingestBody(ctx: RouteContext, d: Drained): ReadResult {
  try {
    return read(ctx, d);
  } finally {
    d.hold.release();
  }
}

function read(ctx: RouteContext, d: Drained): ReadResult {
  const { aggregator, ingest, now, config } = ctx;
  const t = now();
  aggregator.advance(t);
  aggregator.arrival = t;
  aggregator.resolution = d.resolution;
  ingest.stats.reset();
  ingest.begin(d.tenant, d.names, t);
  const result = d.format.read(ingest, d.chunks, d.size, config.maxBody);
  d.tenant.count(ingest.stats);
  aggregator.version++;
  return result;
}
