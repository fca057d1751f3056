// Logplex-Frame-Ids in Redis, bounded as a shared budget (docs/scale-out.md, "Redis
// as a shared budget"). One sorted set holds every receiver's accepted ids for 10
// minutes, member `APP:ID` (an id over 64 bytes kept as its SHA-256, as this
// receiver's own memory keeps it), score the time it expires; a hash counts each
// app's ids. Past an app's share, or past the total, Redis keeps no more and the
// claim is decided by this receiver's memory alone: a flood of ids can only make the
// flooding app's own retries count twice when they land on another receiver.
//
//   {dm}:f    sorted set APP:ID → expiry, ms     {dm}:fc   hash APP → ids held
//
// Every claim first removes up to EXPIRED_PER_CLAIM expired ids: an id is added once
// and removed once, so the set never holds many expired ones.

import { keyOf } from '../frame-ids.js';

/** Ids one app may hold in Redis. */
export const FRAME_IDS_PER_APP = 4_000;
/** Ids every app together may hold in Redis. */
export const FRAME_IDS_TOTAL = 32_000;
export const FRAME_ID_TTL_MS = 600_000;
const EXPIRED_PER_CLAIM = 16;

export const FRAME_IDS_KEY = '{dm}:f';
export const FRAME_COUNTS_KEY = '{dm}:fc';

/** What a claim answers. */
export const NEW = 1;
export const RETRY = 0;
/** Not kept in Redis: the app's share is full. */
export const APP_FULL = 2;
/** Not kept in Redis: the total is full. */
export const ALL_FULL = 3;

export const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ${EXPIRED_PER_CLAIM})) do
  local app = string.match(m, '^([^:]*):')
  if redis.call('HINCRBY', KEYS[2], app, -1) <= 0 then redis.call('HDEL', KEYS[2], app) end
  redis.call('ZREM', KEYS[1], m)
end
local expires = redis.call('ZSCORE', KEYS[1], ARGV[2])
if expires then
  if tonumber(expires) > now then return ${RETRY} end
  redis.call('ZADD', KEYS[1], now + ${FRAME_ID_TTL_MS}, ARGV[2])
  return ${NEW}
end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') >= ${FRAME_IDS_PER_APP} then return ${APP_FULL} end
if redis.call('ZCARD', KEYS[1]) >= ${FRAME_IDS_TOTAL} then return ${ALL_FULL} end
redis.call('ZADD', KEYS[1], now + ${FRAME_ID_TTL_MS}, ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return ${NEW}
`;

/** The arguments of CLAIM for one app's id (app names hold no ':'; see server/auth.ts). */
export function claimArgs(app: string, id: string): [number, string, string, string, string] {
  return [2, FRAME_IDS_KEY, FRAME_COUNTS_KEY, app, `${app}:${keyOf(id)}`];
}
