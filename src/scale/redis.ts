// Receivers joined through Redis (docs/scale-out.md). Keys, all under the hash tag {dm} (one
// slot, so the scripts run on a Redis Cluster too):
//
//   {dm}:s          a stream: one entry per payload (o = origin, n = its number in the
//                   stream, p = payload), kept for the quantile window and a margin,
//                   and at most STREAM_BYTES of payloads: how a receiver gets every
//                   other receiver's lines, and rebuilds its quantile window after a
//                   restart. {dm}:s:n numbers the entries, {dm}:s:z lists each entry's
//                   id and size, oldest first, {dm}:s:b their sum: the script trims by
//                   bytes and time from these, never reading a payload back
//   {dm}:a:APP      a hash per app of every total (HINCRBYFLOAT; samples keep the
//                   newest by time): what a restarted receiver starts from. It
//                   expires whole after DRAINMETER_SERIES_TTL without a line, as the
//                   app's series would
//   {dm}:d:APP      the app's metric definitions: name → kind, the second it was last
//                   used, labels and help. The first claim of a name wins: Redis is
//                   the arbiter of kinds between receivers (kinds.ts). A definition
//                   unused for DRAINMETER_SERIES_TTL is gone, as the name's series
//                   are in every receiver; the hash expires with {dm}:a:APP
//   {dm}:apps       the apps with a hash
//   {dm}:r          request counts;        {dm}:q  each origin's last payload number
//   {dm}:f, {dm}:fc the Frame-Ids accepted in the last 10 minutes, bounded per app and
//                   in total (redis-frame-ids.ts)
//
// One script adds a payload to the stream and its totals to the hashes at once, and
// only once: an origin (instance and boot) numbers its payloads, and a number already
// applied is skipped, so a payload re-sent after a lost reply never counts twice.
// A receiver shows its own payloads as it makes them and others' as it reads the
// stream; at start it reads the hashes and the stream position in one script, then
// the stream's windows up to there. It reads the stream entries in their numbered
// order: a gap (entries trimmed before it read them) reads the totals back whole.
//
// Redis is a budget every app shares (docs/scale-out.md, "Redis as a shared budget").
// Redis trouble never stops a drain and a refusal never loses a payload: payloads wait
// in a queue bounded in bytes (QUEUE_BYTES; past it the oldest are dropped, counted
// and logged) and are tried again with backoff whatever Redis answered (out of
// memory, read-only, loading, any error); only a payload refused MAX_REFUSALS times
// with an error that room cannot cure is set aside (counted, logged). Frame-Id claims
// give up after CLAIM_TIMEOUT_MS and fall back to this receiver's memory, and the
// link reconnects by itself. drainmeter_redis_up says which. Until the first read of
// the totals (or START_TIMEOUT_MS without Redis) the receiver is not ready.

import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import { type Kind, REASONS } from '../model/index.js';
import { encodeTotals, type TotalsSnapshot, type TotalsVisitor } from './delta.js';
import { decodeDef, encodeDef, type KindDef, staleAfterS } from './kinds.js';
import { APP_FULL, CLAIM, claimArgs, RETRY } from './redis-frame-ids.js';

/** A Frame-Id claim waits at most this for Redis, then the receiver decides alone, ms. */
export const CLAIM_TIMEOUT_MS = 250;
/** A write (one payload) waits at most this before it is tried again, ms. */
export const WRITE_TIMEOUT_MS = 5_000;
/** Payloads waiting for Redis, at most, bytes. */
export const QUEUE_BYTES = 64 * 1024 * 1024;
/** Payloads the stream holds, at most, bytes (of 25 MB, Heroku's smallest Redis). */
export const STREAM_BYTES = 6 * 1024 * 1024;
/** A receiver waits at most this at start for the totals in Redis, then is ready alone, ms. */
export const START_TIMEOUT_MS = 10_000;
/** A payload refused this many times in a row with an error room cannot cure is set aside. */
export const MAX_REFUSALS = 8;
/** Tries again after 200 ms, doubling to this, ms. */
const MAX_BACKOFF_MS = 5_000;
/** Refusals that pass once Redis has room or a primary again: tried for as long as the queue holds. */
const PASSING = /\b(OOM|READONLY|LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|NOSCRIPT)\b/;
/** The same warning at most this often, ms. */
const WARN_EVERY_MS = 60_000;

const P = '{dm}';
const STREAM = `${P}:s`;
const SEQS = `${P}:q`;
const REQUESTS = `${P}:r`;
const APPS = `${P}:apps`;
const appKey = (app: string) => `${P}:a:${app}`;
const defsKey = (app: string) => `${P}:d:${app}`;

const APPLY = (streamBytes: number) => `
local done = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local seq = tonumber(ARGV[2])
if seq <= done then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], seq)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('INCR', KEYS[1] .. ':n')
local id = redis.call('XADD', KEYS[1], '*', 'o', ARGV[1], 'n', n, 'p', ARGV[3])
local sizes, bytes = KEYS[1] .. ':z', KEYS[1] .. ':b'
redis.call('RPUSH', sizes, id .. ' ' .. #ARGV[3])
local held = redis.call('INCRBY', bytes, #ARGV[3])
local oldest = now - tonumber(ARGV[4])
while true do
  local hid, hsize = string.match(redis.call('LINDEX', sizes, 0), '^(%S+) (%d+)$')
  if hid == id or (held <= ${streamBytes} and tonumber(string.match(hid, '^%d+')) >= oldest) then break end
  redis.call('LPOP', sizes)
  held = redis.call('DECRBY', bytes, hsize)
end
redis.call('XTRIM', KEYS[1], 'MINID', string.match(redis.call('LINDEX', sizes, 0), '^%S+'))
local i = 6
local r = tonumber(ARGV[i]); i = i + 1
for j = 1, r do redis.call('HINCRBYFLOAT', KEYS[3], ARGV[i], ARGV[i + 1]); i = i + 2 end
local lost = {}
local ttl = tonumber(ARGV[5])
-- kinds.ts staleAfterS: past a receiver's own release of the name (TTL and a sweep).
local stale = ttl + ttl / 4 + 10
local sec = math.floor(now / 1000)
for k = 5, #KEYS, 2 do
  local app = ARGV[i]; i = i + 1
  local g = tonumber(ARGV[i]); i = i + 1
  local conflicts = 0
  for j = 1, g do
    -- A group: one metric's fields (or, named '', the app's own counts), applied
    -- only when the app's definition of the name is of the payload's kind.
    local name, def, n, f = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
    i = i + 4
    local cur = def
    if def ~= '' then
      -- The app's definition of the name ('K SECOND JSON'), unless unused for the TTL.
      local old = redis.call('HGET', KEYS[k + 1], name)
      local at = old and tonumber(string.match(old, '^%d (%d+) '))
      if at and sec - at <= stale then
        cur = old
        if string.sub(old, 1, 1) == string.sub(def, 1, 1) and sec - at > ttl / 4 then
          redis.call('HSET', KEYS[k + 1], name, string.sub(def, 1, 2) .. sec .. ' ' .. string.sub(def, 3))
        end
      else
        redis.call('HSET', KEYS[k + 1], name, string.sub(def, 1, 2) .. sec .. ' ' .. string.sub(def, 3))
      end
    end
    if string.sub(cur, 1, 1) ~= string.sub(def, 1, 1) then
      i = i + 3 * f
      conflicts = conflicts + n
      table.insert(lost, app); table.insert(lost, name); table.insert(lost, cur)
    else
      for x = 1, f do
        local op, field, v = ARGV[i], ARGV[i + 1], ARGV[i + 2]
        i = i + 3
        if op == 'i' then
          redis.call('HINCRBYFLOAT', KEYS[k], field, v)
        else
          local old = redis.call('HGET', KEYS[k], field)
          if not old or tonumber(string.match(old, '^%S+')) <= tonumber(string.match(v, '^%S+')) then
            redis.call('HSET', KEYS[k], field, v)
          end
        end
      end
    end
  end
  if conflicts > 0 then redis.call('HINCRBYFLOAT', KEYS[k], '["rejected","type_conflict"]', conflicts) end
  redis.call('EXPIRE', KEYS[k], ARGV[5])
  redis.call('EXPIRE', KEYS[k + 1], math.ceil(stale))
  redis.call('SADD', KEYS[4], app)
end
return lost
`;

/** An app's claim of a name (kinds.ts): the first wins; a new one goes on the stream for every receiver. */
const CLAIM_KIND = `
local t = redis.call('TIME')
local sec = tonumber(t[1])
local cur = redis.call('HGET', KEYS[1], ARGV[2])
local at = cur and tonumber(string.match(cur, '^%d (%d+) '))
if not at or sec - at > tonumber(ARGV[6]) then
  redis.call('HSET', KEYS[1], ARGV[2], string.sub(ARGV[3], 1, 2) .. sec .. ' ' .. string.sub(ARGV[3], 3))
  redis.call('XADD', KEYS[2], '*', 'o', ARGV[4], 'c', ARGV[5])
  cur = ARGV[3]
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[6])))
redis.call('SADD', KEYS[3], ARGV[1])
return cur
`;

const SNAPSHOT = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
local out = {id, redis.call('HGETALL', KEYS[2])}
for _, a in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local h = redis.call('HGETALL', ARGV[1] .. a)
  local d = redis.call('HGETALL', ARGV[2] .. a)
  if #h == 0 and #d == 0 then redis.call('SREM', KEYS[3], a) else table.insert(out, a); table.insert(out, h); table.insert(out, d) end
end
out[1] = out[1] .. ' ' .. (redis.call('GET', KEYS[1] .. ':n') or '0') .. ' ' .. (redis.call('HGET', ARGV[3], ARGV[4]) or '0')
return out
`;

/** One metric's fields of a payload for an app's hash, under the app's definition of it. */
interface Group {
  def: string;
  /** Observations: type_conflict when the app's definition is of another kind. */
  n: number;
  fields: string[];
}

interface Item {
  seq: number;
  payload: Buffer;
  keys: string[];
  args: (string | Buffer)[];
  bytes: number;
}

interface Scripted {
  dmApply(args: (string | Buffer | number)[]): Promise<number | string[]>;
  dmSnapshot(numKeys: number, ...args: string[]): Promise<unknown[]>;
  dmClaimKind(numKeys: number, ...args: string[]): Promise<string>;
}

interface Claiming {
  dmClaim(...args: (string | number)[]): Promise<number>;
}

/** What the link needs of the hub. */
export interface Joined {
  /** Another receiver's payload. */
  remote(payload: Buffer, totals: boolean, windows: boolean): void;
  /** Every total of the view to zero, before the stored totals are read back. */
  zeroTotals(): void;
  /** A claim Redis holds (another receiver's, or one that beat this receiver's). */
  claimed(d: KindDef): void;
}

export interface RedisLinkOptions {
  url: string;
  /** This receiver, for logs (DRAINMETER_INSTANCE). */
  instance: string;
  /** How long the stream keeps payloads, ms (the quantile window and a margin). */
  retentionMs: number;
  /** An app's totals outlive its last line by this, s (the series TTL). */
  appTtlS: number;
  /** Payloads the stream holds, at most, bytes; default STREAM_BYTES. */
  streamBytes?: number;
  log: Logger;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

function options(url: string, extra: RedisOptions): RedisOptions {
  // Heroku Redis serves TLS with a self-signed certificate (Dev Center, "Connecting to
  // Heroku Key-Value Store"): the connection is encrypted, the peer is not verified.
  const tls = url.startsWith('rediss://') ? { tls: { rejectUnauthorized: false } } : {};
  return { lazyConnect: false, connectTimeout: 5_000, retryStrategy: (n) => Math.min(200 * n, 2_000), ...tls, ...extra };
}

export class RedisLink {
  /** Reachable and answering: drainmeter_redis_up. */
  up = false;
  readonly origin: string;
  /** Payloads dropped: the queue was full, or set aside after MAX_REFUSALS refusals. */
  dropped = 0;
  /** Writes tried again (Redis refused or did not answer). */
  retries = 0;
  /** Frame-Ids decided by this receiver's memory alone: their app's share (or the total) in Redis was full. */
  frameIdsLocal = 0;
  /** The view holds the global totals read from Redis (false until the first read). */
  totalsRead = false;
  /** Ready: the totals were read, or START_TIMEOUT_MS passed without them. */
  ready = false;
  readonly visitor: TotalsVisitor;
  private readonly writer: Redis & Scripted;
  private readonly reader: Redis;
  private readonly claims: Redis & Claiming;
  private readonly o: RedisLinkOptions;
  private hub: Joined | null = null;
  private readonly queue: Item[] = [];
  private queueBytes = 0;
  private seq = 0;
  private lastId = '0-0';
  /** The number of the last stream entry read ({dm}:s:n). */
  private lastN = 0;
  private synced = false;
  /** Bumped by every read of the totals: a stream read begun before one is not merged. */
  private epoch = 0;
  /** Redis refused the last write (it is answering, but not taking). */
  private refusing = false;
  private warned = new Map<string, number>();
  /** The first sync also rebuilds the quantile window from the stream. */
  private rebuilt = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private loops: Promise<void>[] = [];
  // What the visitor gathered of the payload being merged: definitions by kind and
  // name, and per app its groups (the app's own counts under '', then one per metric).
  private defs = new Map<string, string>();
  private requests: string[] = [];
  private apps = new Map<string, Map<string, Group>>();
  private current = new Map<string, Group>();

  constructor(o: RedisLinkOptions) {
    this.o = o;
    this.origin = `${o.instance}:${randomBytes(4).toString('hex')}`;
    // Writes wait for nothing: the queue here holds them across reconnects.
    this.writer = new Redis(o.url, options(o.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: WRITE_TIMEOUT_MS })) as Redis & Scripted;
    this.writer.defineCommand('dmApply', { lua: APPLY(o.streamBytes ?? STREAM_BYTES) });
    this.writer.defineCommand('dmSnapshot', { lua: SNAPSHOT });
    this.reader = new Redis(o.url, options(o.url, { maxRetriesPerRequest: 0 }));
    // No ready check: its INFO would fall under the claims' 250 ms timeout while Redis
    // pauses clients (a failover), and the connection would never become ready.
    this.claims = new Redis(o.url, options(o.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: CLAIM_TIMEOUT_MS, enableReadyCheck: false })) as Redis & Claiming;
    this.claims.defineCommand('dmClaim', { lua: CLAIM });
    this.claims.defineCommand('dmClaimKind', { lua: CLAIM_KIND });
    for (const c of [this.writer, this.reader, this.claims]) c.on('error', () => {}); // said once, by up/down
    this.writer.on('ready', () => this.nudge());
    this.writer.on('close', () => this.down('connection closed'));
    this.visitor = {
      metric: (name, kind, labels, help) => this.defs.set(`${kind} ${name}`, encodeDef({ app: '', name, kind, labels, help })),
      request: (route, status, n) => this.requests.push(`${route} ${status}`, String(n)),
      app: (name, lines, late, duplicates) => {
        let groups = this.apps.get(name);
        if (groups === undefined) this.apps.set(name, (groups = new Map([['', { def: '', n: 0, fields: [] }]])));
        this.current = groups;
        const fields = (groups.get('') as Group).fields;
        if (lines !== 0) fields.push('i', '["lines"]', String(lines));
        if (late !== 0) fields.push('i', '["late"]', String(late));
        if (duplicates !== 0) fields.push('i', '["duplicates"]', String(duplicates));
      },
      rejected: (reason, n) => (this.current.get('') as Group).fields.push('i', JSON.stringify(['rejected', REASONS[reason]]), String(n)),
      series: (metric, kind, l1, l2, res, count, sum, lastTime, last, observed) => {
        const id = JSON.stringify([kind, metric, l1, l2, res]).slice(1, -1);
        let group = this.current.get(metric);
        if (group === undefined) this.current.set(metric, (group = { def: this.defs.get(`${kind} ${metric}`) ?? '', n: 0, fields: [] }));
        group.n += observed;
        const f = group.fields;
        if (count !== 0 && Number.isFinite(count)) f.push('i', `[${id},"count"]`, String(count));
        if (sum !== 0 && Number.isFinite(sum)) f.push('i', `[${id},"sum"]`, String(sum));
        if (lastTime !== -Infinity) f.push('g', `[${id},"last"]`, `${lastTime} ${last}`);
      },
    };
  }

  start(hub: Joined): void {
    this.hub = hub;
    this.loops = [this.writeLoop(), this.readLoop()];
    setTimeout(() => {
      if (this.ready || this.stopped) return;
      this.ready = true;
      this.o.log.warn('redis: totals not read within the start bound, ready alone: this receiver shows its own lines until Redis answers', { after_ms: START_TIMEOUT_MS });
    }, START_TIMEOUT_MS).unref();
  }

  /** Why this receiver is not ready yet (healthz and /metrics answer 503), or null. */
  starting(): string | null {
    return this.ready ? null : 'starting: reading totals from Redis';
  }

  /** Queues the payload the visitor just saw, for every other receiver. */
  send(payload: Buffer): void {
    const keys = [STREAM, SEQS, REQUESTS, APPS];
    const args: (string | Buffer)[] = [this.origin, String(++this.seq), payload, String(this.o.retentionMs), String(this.o.appTtlS)];
    // Loops, not spreads: a payload of 100,000 series is 600,000 arguments.
    const append = (list: string[]) => {
      for (const x of list) args.push(x);
    };
    args.push(String(this.requests.length / 2));
    append(this.requests);
    let bytes = payload.length;
    for (const [app, groups] of this.apps) {
      keys.push(appKey(app), defsKey(app));
      args.push(app, String(groups.size));
      for (const [name, g] of groups) {
        args.push(name, g.def, String(g.n), String(g.fields.length / 3));
        append(g.fields);
        bytes += name.length + g.def.length;
        for (const f of g.fields) bytes += f.length;
      }
    }
    this.defs = new Map();
    this.requests = [];
    this.apps = new Map();
    this.queue.push({ seq: this.seq, payload, keys, args, bytes });
    this.queueBytes += bytes;
    while (this.queueBytes > QUEUE_BYTES && this.queue.length > 1) {
      const old = this.queue.shift() as Item;
      this.queueBytes -= old.bytes;
      this.dropped++;
      this.warn('full', 'redis: queue full, oldest payload dropped: other receivers will not see its lines', { queue_bytes: this.queueBytes, dropped: this.dropped });
    }
    this.nudge();
  }

  /** Forgets what the visitor saw of a payload that was refused. */
  discard(): void {
    this.defs = new Map();
    this.requests = [];
    this.apps = new Map();
  }

  /**
   * True when no receiver accepted this batch id for the app in the last 10 minutes;
   * true also when Redis cannot tell in time or keeps no more of the app's ids (this
   * receiver's memory has decided already).
   */
  async claim(app: string, id: string): Promise<boolean> {
    try {
      const r = await this.claims.dmClaim(...claimArgs(app, id));
      if (r === RETRY) return false;
      if (r !== 1) {
        this.frameIdsLocal++;
        this.warn(`ids ${app}`, 'redis: Frame-Id share full, ids decided by this receiver alone', { app, share: r === APP_FULL ? 'app' : 'total' });
      }
      return true;
    } catch (err) {
      this.down((err as Error).message);
      return true;
    }
  }

  /**
   * Claims a name for an app (kinds.ts); resolves with the claim Redis holds, null
   * when Redis cannot tell in time (the payload's script decides then).
   */
  async claimKind(d: KindDef): Promise<KindDef | null> {
    try {
      const def = encodeDef(d);
      const entry = JSON.stringify([d.app, d.name, def]);
      const cur = await (this.claims as unknown as Redis & Scripted).dmClaimKind(3, defsKey(d.app), STREAM, APPS, d.app, d.name, def, this.origin, entry, String(staleAfterS(this.o.appTtlS)));
      return decodeDef(d.app, d.name, cur);
    } catch {
      return null;
    }
  }

  /** Reads the stored totals again (the view merged some under a kind that lost). */
  resync(): void {
    this.synced = false;
    this.nudge();
  }

  get pending(): number {
    return this.queue.length;
  }

  get pendingBytes(): number {
    return this.queueBytes;
  }

  /** Logs at most once per WARN_EVERY_MS for each `what`. */
  private warn(what: string, msg: string, fields: Record<string, string | number>, level: 'warn' | 'info' = 'warn'): void {
    const now = Date.now();
    if ((this.warned.get(what) ?? -Infinity) > now - WARN_EVERY_MS) return;
    if (this.warned.size > 1_000) this.warned.clear();
    this.warned.set(what, now);
    this.o.log[level](msg, fields);
  }

  async stop(deadline: number): Promise<void> {
    while (this.queue.length > 0 && this.up && Date.now() < deadline) await sleep(20);
    this.stopped = true;
    this.nudge();
    if (this.queue.length > 0) this.o.log.warn('redis: payloads not sent by shutdown', { payloads: this.queue.length });
    this.reader.disconnect();
    await Promise.race([Promise.allSettled(this.loops), sleep(Math.max(0, deadline - Date.now()))]);
    this.writer.disconnect();
    this.claims.disconnect();
  }

  private nudge(): void {
    this.wake?.();
  }

  private down(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.o.log.warn('redis down: taking drains alone, will catch up', { reason, pending: this.queue.length });
  }

  private isUp(): void {
    if (this.up) return;
    this.up = true;
    this.o.log.info('redis up', { origin: this.origin, pending: this.queue.length });
  }

  /** The claims a payload's script found held as another kind: [app, name, definition]… */
  private lost(list: string[]): void {
    for (let i = 0; i + 2 < list.length; i += 3) {
      const d = decodeDef(list[i], list[i + 1], list[i + 2]);
      if (d !== null) (this.hub as Joined).claimed(d);
    }
  }

  /** Redis answered a write with a refusal: down, said once per WARN_EVERY_MS. */
  private refused(error: string): void {
    this.up = false;
    if (this.refusing) return;
    this.refusing = true;
    this.warn('refusing', 'redis refusing payloads: they wait here and are tried again', { error, pending: this.queue.length, pending_bytes: this.queueBytes });
  }

  /** A write went through. */
  private took(): void {
    if (!this.refusing) return this.isUp();
    this.refusing = false;
    this.up = true;
    this.warn('taking', 'redis taking payloads again', { pending: this.queue.length, pending_bytes: this.queueBytes, retries: this.retries }, 'info');
  }

  private async writeLoop(): Promise<void> {
    // Refusals in a row of the payload at the head of the queue.
    let refusals = 0;
    let failures = 0;
    while (!this.stopped) {
      if (this.writer.status !== 'ready' || (this.queue.length === 0 && this.synced)) {
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, 1_000).unref();
        });
        this.wake = null;
        continue;
      }
      let item: Item | undefined;
      try {
        if (!this.synced) await this.sync();
        item = this.queue[0];
        if (item === undefined) continue;
        const lost = await this.writer.dmApply([item.keys.length, ...item.keys, item.args].flat());
        refusals = failures = 0;
        this.took();
        if (Array.isArray(lost)) this.lost(lost);
        if (this.queue[0] === item) {
          this.queue.shift();
          this.queueBytes -= item.bytes;
        }
      } catch (err) {
        const e = err as Error;
        failures++;
        if (item !== undefined) this.retries++;
        if (e.name !== 'ReplyError') this.down(e.message);
        else {
          this.refused(e.message);
          // Out of memory, read-only, loading: room or a primary comes back, and the
          // payload waits for it as long as the queue holds. Any other refusal is tried
          // again too, but one that comes back MAX_REFUSALS times for the same payload
          // (a script error, another program's key of the wrong type) would come back
          // for ever and hold every payload behind it: that payload is set aside.
          refusals = PASSING.test(e.message) || item === undefined ? 0 : refusals + 1;
          if (refusals >= MAX_REFUSALS && item !== undefined && this.queue[0] === item) {
            this.queue.shift();
            this.queueBytes -= item.bytes;
            this.dropped++;
            refusals = 0;
            this.o.log.error('redis: payload set aside after repeated refusals: other receivers will not see its lines', { error: e.message, refusals: MAX_REFUSALS, dropped: this.dropped });
            continue;
          }
        }
        await sleep(Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(failures - 1, 5)));
      }
    }
  }

  /**
   * Reads the stored totals and the stream position in one script: the view's totals
   * become them plus this receiver's payloads not yet stored. The first time, the
   * stream's windows up to that position rebuild the quantile window.
   */
  private async sync(): Promise<void> {
    const hub = this.hub as Joined;
    const raw = (await this.writer.dmSnapshot(3, STREAM, REQUESTS, APPS, `${P}:a:`, `${P}:d:`, SEQS, this.origin)) as [string, string[], ...(string | string[])[]];
    const [id, requestFields, ...appParts] = raw;
    // The stream's last entry id, its number ({dm}:s:n), and the last of this
    // receiver's payloads applied (one whose reply was lost is in the totals already).
    const [lastId, lastN, applied] = id.split(' ');
    this.epoch++;
    const { totals, claims } = snapshotOf(requestFields, appParts, Date.now() / 1000 - staleAfterS(this.o.appTtlS));
    for (const d of claims) hub.claimed(d);
    hub.zeroTotals();
    hub.remote(encodeTotals(totals), true, false);
    for (const item of this.queue) if (item.seq > Number(applied)) hub.remote(item.payload, true, false);
    if (!this.rebuilt) {
      const min = Date.now() - this.o.retentionMs;
      const entries = await this.writer.xrangeBuffer(STREAM, String(min), lastId);
      for (const [, fields] of entries) {
        const e = entryOf(fields);
        if (e !== null && e.origin !== this.origin) hub.remote(e.payload, false, true);
      }
      this.rebuilt = true;
    }
    this.lastId = lastId;
    this.lastN = Number(lastN);
    this.synced = true;
    this.totalsRead = true;
    if (!this.ready) {
      this.ready = true;
      this.o.log.info('redis: totals read, ready', { apps: appParts.length / 2 });
    }
    this.isUp();
  }

  private claimEntry(fields: Buffer[]): void {
    const d = claimOf(fields);
    if (d !== null) (this.hub as Joined).claimed(d);
  }

  private async readLoop(): Promise<void> {
    let failed = false;
    while (!this.stopped) {
      if (!this.synced) {
        await sleep(50);
        continue;
      }
      try {
        if (failed && this.lastId !== '0-0') {
          // Back after trouble: if the stream no longer holds where we were, payloads
          // were trimmed unread, and the totals are read back whole.
          const here = await this.reader.xrange(STREAM, this.lastId, this.lastId);
          failed = false;
          if (here.length === 0) {
            this.o.log.warn('redis: missed payloads while away, reading the totals again');
            this.synced = false;
            this.nudge();
            continue;
          }
        }
        const epoch = this.epoch;
        const got = await this.reader.xreadBuffer('COUNT', 512, 'BLOCK', 1_000, 'STREAMS', STREAM, this.lastId);
        if (got === null || epoch !== this.epoch || !this.synced) continue;
        read: for (const [, entries] of got) {
          for (const [entryId, fields] of entries) {
            const e = entryOf(fields);
            // (An entry without a number comes from a receiver of an earlier version.)
            if (e !== null && !Number.isNaN(e.n) && e.n !== this.lastN + 1) {
              // Entries trimmed before this receiver read them (a flood, or a long
              // pause): their totals are in the hashes, read back whole.
              this.o.log.warn('redis: stream entries trimmed before they were read, reading the totals again', { expected: this.lastN + 1, got: e.n });
              this.synced = false;
              this.nudge();
              break read;
            }
            this.lastId = entryId.toString();
            if (e === null) {
              this.claimEntry(fields);
              continue;
            }
            if (!Number.isNaN(e.n)) this.lastN = e.n;
            if (e.origin !== this.origin) (this.hub as Joined).remote(e.payload, true, true);
          }
        }
      } catch (err) {
        if (this.stopped) return;
        failed = true;
        this.down((err as Error).message);
        await sleep(500);
      }
    }
  }
}

/** A claim entry of the stream ({o, c}: CLAIM_KIND), another receiver's or this one's. */
function claimOf(fields: Buffer[]): KindDef | null {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i].toString() !== 'c') continue;
    try {
      const [app, name, def] = JSON.parse(fields[i + 1].toString()) as [string, string, string];
      return decodeDef(app, name, def);
    } catch {
      return null;
    }
  }
  return null;
}

function entryOf(fields: Buffer[]): { origin: string; n: number; payload: Buffer } | null {
  let origin: string | null = null;
  let payload: Buffer | null = null;
  let n = NaN;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = fields[i].toString();
    if (k === 'o') origin = fields[i + 1].toString();
    else if (k === 'n') n = Number(fields[i + 1].toString());
    else if (k === 'p') payload = fields[i + 1];
  }
  return origin === null || payload === null ? null : { origin, n, payload };
}

/** The stored hashes, as the totals of a payload, and the claims of every app. */
function snapshotOf(requestFields: string[], appParts: (string | string[])[], staleBefore: number): { totals: TotalsSnapshot; claims: KindDef[] } {
  const snap: TotalsSnapshot = { metrics: [], requests: [], apps: [] };
  const claims: KindDef[] = [];
  for (let i = 0; i + 1 < requestFields.length; i += 2) {
    const [route, status] = requestFields[i].split(' ');
    snap.requests.push({ route, status: Number(status), n: Math.round(Number(requestFields[i + 1])) });
  }
  for (let a = 0; a + 2 < appParts.length; a += 3) {
    const name = appParts[a] as string;
    const fields = appParts[a + 1] as string[];
    const defFields = appParts[a + 2] as string[];
    // The app's definitions: its series are read under these, and only of their kind.
    const metricIndex = new Map<string, number>();
    for (let i = 0; i + 1 < defFields.length; i += 2) {
      const d = decodeDef(name, defFields[i], defFields[i + 1]);
      if (d === null || (d.at ?? 0) < staleBefore) continue;
      claims.push(d);
      metricIndex.set(d.name, snap.metrics.length);
      snap.metrics.push({ name: d.name, kind: d.kind, labels: [...d.labels], help: d.help });
    }
    const app: TotalsSnapshot['apps'][number] = { name, lines: 0, late: 0, duplicates: 0, rejected: [], series: [] };
    const series = new Map<string, TotalsSnapshot['apps'][number]['series'][number]>();
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const key = JSON.parse(fields[i]) as (string | number)[];
      const value = fields[i + 1];
      if (key.length === 1) {
        const n = Math.round(Number(value));
        if (key[0] === 'lines') app.lines = n;
        else if (key[0] === 'late') app.late = n;
        else if (key[0] === 'duplicates') app.duplicates = n;
        continue;
      }
      if (key[0] === 'rejected') {
        const r = REASONS.indexOf(key[1] as (typeof REASONS)[number]);
        if (r >= 0) app.rejected.push([r, Math.round(Number(value))]);
        continue;
      }
      const [kind, metric, l1, l2, res, what] = key as [Kind, string, string, string, number, string];
      const m = metricIndex.get(metric);
      if (m === undefined || snap.metrics[m].kind !== kind) continue;
      const id = JSON.stringify(key.slice(0, 5));
      let s = series.get(id);
      if (s === undefined) {
        s = { metric: m, label1: l1, label2: l2, resolution: res, count: 0, sum: 0, lastTime: -Infinity, last: NaN, observed: 0 };
        series.set(id, s);
      }
      if (what === 'count') s.count = Number(value);
      else if (what === 'sum') s.sum = Number(value);
      else {
        const space = value.indexOf(' ');
        s.lastTime = Number(value.slice(0, space));
        s.last = Number(value.slice(space + 1));
      }
    }
    app.series = [...series.values()];
    snap.apps.push(app);
  }
  return { totals: snap, claims };
}
