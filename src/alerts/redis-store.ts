// Alert state in Redis, for receivers joined by REDIS_URL (docs/alerts.md), on a
// connection of its own. Keys, under the hash tag {dm}:
//
//   {dm}:alert:lease   the evaluator holding the lease (SET NX PX, renewed by a
//                      script that checks it is still ours); when it dies the
//                      lease runs out and another receiver takes it
//   {dm}:alert:state   a hash: alert key → its entry (JSON)
//   {dm}:alert:log     a list of the recent transitions (JSON), newest first

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Entry } from './evaluator.js';
import { type AlertStore, RECENT, type Recorded } from './store.js';

const LEASE = '{dm}:alert:lease';
const STATE = '{dm}:alert:state';
const LOG = '{dm}:alert:log';
/** The lease runs out this long after its last renewal, ms. */
export const LEASE_MS = 15_000;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class RedisStore implements AlertStore {
  readonly name = 'redis';
  private readonly redis: Redis;
  /** This process: instance and boot, so a restart is a new holder. */
  private readonly me: string;

  constructor(url: string, instance: string, private readonly log: Logger) {
    this.me = `${instance}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.redis = new Redis(url, {
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      tls: url.startsWith('rediss:') ? { rejectUnauthorized: false } : undefined,
    });
    this.redis.on('error', () => {}); // the lease is simply lost; lease() says so
  }

  async load(): Promise<Entry[]> {
    const all = await this.redis.hgetall(STATE);
    return Object.values(all).map((v) => JSON.parse(v) as Entry);
  }

  entries(): Promise<Entry[]> {
    return this.load().catch(() => []);
  }

  async put(key: string, e: Entry | null): Promise<void> {
    try {
      if (e === null) await this.redis.hdel(STATE, key);
      else await this.redis.hset(STATE, key, JSON.stringify(e));
    } catch (err) {
      this.log.warn('alert state not written to Redis', { error: (err as Error).message });
    }
  }

  record(r: Recorded): void {
    this.redis
      .multi()
      .lpush(LOG, JSON.stringify(r))
      .ltrim(LOG, 0, RECENT - 1)
      .exec()
      .catch(() => {});
  }

  async recent(): Promise<Recorded[]> {
    try {
      return (await this.redis.lrange(LOG, 0, RECENT - 1)).map((v) => JSON.parse(v) as Recorded);
    } catch {
      return [];
    }
  }

  async lease(): Promise<boolean> {
    try {
      return (await this.redis.eval(RENEW, 1, LEASE, this.me, String(LEASE_MS))) === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    try {
      await this.redis.eval(RELEASE, 1, LEASE, this.me);
    } catch {
      // gone already: the lease runs out by itself
    }
    this.redis.disconnect();
  }
}
