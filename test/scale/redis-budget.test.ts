// Redis as a budget every app shares (docs/scale-out.md, "Redis as a shared budget"),
// against a real redis-server the size of Heroku's smallest (25 MB, noeviction) and
// real `serve` receivers joined by it. Each attack is followed by a victim app's
// batches, counted here from the lines sent: the receiver that took them must show
// exactly those numbers, and a second receiver must show the same.

import { afterEach, describe, expect, it } from 'vitest';
import { FRAME_IDS_PER_APP } from '../../src/scale/redis/frame-ids.js';
import { HAND_OVER_APP_BYTES, HAND_OVER_BYTES } from '../../src/scale/hand-over.js';
import { STREAM_BYTES } from '../../src/scale/redis/index.js';
import { drainPassword } from '../../src/server/auth.js';
import { parseExposition, type Sample } from '../server/helpers.js';
import { installed, type RedisServer, sleep, startRedis } from '../support/real.js';
import { pool, type Served, startServe } from '../support/served.js';

const SECRET = 'budget-secret-0123456789';
const TOKEN = 'budget-token-0123456789';
const HEROKU_MINI = ['--maxmemory', '25mb', '--maxmemory-policy', 'noeviction'];
const MAXMEMORY = 25 * 1024 * 1024;

const available = installed('the Redis budget tests', 'redis-server', ['redis-server', '--version']);

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

const basicOf = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

async function post(port: number, app: string, body: string, frameId?: string): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'text/plain', authorization: basicOf(app) };
  if (frameId !== undefined) headers['logplex-frame-id'] = frameId;
  const r = await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', headers, body });
  await r.arrayBuffer();
  return r.status;
}

async function scrape(port: number): Promise<Sample[]> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`/metrics ${r.status}: ${text}`);
  return parseExposition(text);
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

async function healthz(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
}

async function ready(port: number): Promise<void> {
  for (let i = 0; i < 100 && (await healthz(port)) !== 200; i++) await sleep(200);
}

async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}

/** A redis-cli command's output, an error reply included. */
function cli(redis: RedisServer, ...args: string[]): string {
  try {
    return redis.cli(...args);
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? '') + (err as Error).message;
  }
}

function info(redis: RedisServer, field: string): number {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(redis.cli('info', 'memory'));
  return Number(m?.[1]);
}

/** Receivers joined by `redis`, once each is ready; `extra`: more variables by name. */
async function receivers(redis: RedisServer, names: string[], extra: Record<string, Record<string, string>> = {}): Promise<Served[]> {
  const env = (name: string) => ({ DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_HOST: '127.0.0.1', REDIS_URL: redis.url, DRAINMETER_INSTANCE: name, ...extra[name] });
  const all = await Promise.all(names.map((n) => startServe(env(n))));
  for (const r of all) cleanup.push(() => r.stop());
  for (const r of all) await ready(r.port);
  return all;
}

async function heroku(): Promise<RedisServer> {
  const redis = await startRedis(HEROKU_MINI);
  cleanup.push(() => redis.stop());
  expect(redis.cli('config', 'get', 'maxmemory')).toContain(String(MAXMEMORY));
  return redis;
}

/** The victim app: what it sent, counted from its lines. */
class Victim {
  readonly app = 'victim';
  lines = 0;
  orders = 0;
  duplicates = 0;
  private n = 0;

  /** A batch of 20 lines; `retryAt`: the same batch (same Frame-Id) again at that port. */
  async send(port: number, retryAt?: number): Promise<void> {
    const id = `victim-${process.pid}-${this.n++}`;
    const lines: string[] = [];
    let orders = 0;
    for (let i = 0; i < 20; i++) {
      const k = 1 + ((this.n * 7 + i) % 5);
      orders += k;
      lines.push(`${new Date().toISOString()} app[web.1]: count#orders=${k} measure#db.latency=${1 + i}ms source=web.1`);
    }
    expect(await post(port, this.app, lines.join('\n') + '\n', id)).toBe(204);
    this.lines += lines.length;
    this.orders += orders;
    if (retryAt !== undefined) {
      expect(await post(retryAt, this.app, lines.join('\n') + '\n', id)).toBe(204);
      this.duplicates++;
    }
  }

  /** What a receiver shows of the victim. */
  static seen(samples: Sample[]): { lines?: number; orders?: number; measured?: number; duplicates?: number } {
    const app = 'victim';
    return {
      lines: value(samples, 'drainmeter_lines_total', { app }),
      orders: value(samples, 'orders_total', { app, source: 'web.1' }),
      measured: value(samples, 'db_latency_seconds_count', { app, source: 'web.1' }),
      duplicates: value(samples, 'drainmeter_duplicate_batches_total', { app }),
    };
  }

  get want() {
    return { lines: this.lines, orders: this.orders, measured: this.lines, duplicates: this.duplicates };
  }

  /** Every receiver shows exactly what the victim sent. */
  async converged(all: Served[]): Promise<void> {
    const want = this.want;
    await until('every receiver shows the victim as sent', async () => {
      for (const r of all) if (JSON.stringify(Victim.seen(await scrape(r.port))) !== JSON.stringify(want)) return false;
      return true;
    }).catch(() => {});
    const seen = await Promise.all(all.map(async (r) => Victim.seen(await scrape(r.port))));
    for (const [i, got] of seen.entries()) expect(got, `receiver ${i + 1} (all: ${JSON.stringify(seen)})`).toEqual(want);
  }
}

describe.skipIf(!available)('Redis as a shared budget (25 MB, noeviction)', () => {
  it('distinct 12 KB Frame-Ids fill only the flooding app share of Redis', async () => {
    const redis = await heroku();
    const [a, b] = await receivers(redis, ['a', 'b']);
    const before = info(redis, 'used_memory');
    // More ids than the app's share, each 12 KB: 60 MB of ids, were they kept whole.
    const flood = FRAME_IDS_PER_APP + 400;
    const statuses = await pool(16, flood, (i) => post(i % 2 === 0 ? a.port : b.port, 'flood', `${new Date().toISOString()} app[web.1]: count#hits=1\n`, `${'x'.repeat(12 * 1024 - 12)}${String(i).padStart(12, '0')}`));
    expect(statuses.every((s) => s === 204)).toBe(true);
    // The victim's ids are still shared: a batch retried at the other receiver is a duplicate there.
    const victim = new Victim();
    for (let i = 0; i < 20; i++) await victim.send(i % 2 === 0 ? a.port : b.port, i % 2 === 0 ? b.port : a.port);
    await victim.converged([a, b]);

    // Redis holds the app's share, each id as its SHA-256: well under a tenth of the 25 MB.
    expect(Number(redis.cli('hget', '{dm}:fc', 'flood').trim())).toBe(FRAME_IDS_PER_APP);
    expect(Number(redis.cli('hget', '{dm}:fc', 'victim').trim())).toBe(20);
    expect(Number(redis.cli('zcard', '{dm}:f').trim())).toBe(FRAME_IDS_PER_APP + 20);
    expect(info(redis, 'used_memory') - before).toBeLessThan(MAXMEMORY / 10);
    const fellBack = (await Promise.all([a, b].map(async (r) => value(await scrape(r.port), 'drainmeter_redis_frame_ids_local_total') ?? 0))).reduce((x, y) => x + y, 0);
    // The ids past the share were decided by each receiver alone (a claim that timed out also is).
    expect(fellBack).toBeGreaterThan(0);
    expect(fellBack).toBeLessThanOrEqual(flood - FRAME_IDS_PER_APP);
    expect(a.output()).toContain('Frame-Id share full');

    for (const r of [a, b]) expect(value(await scrape(r.port), 'drainmeter_redis_dropped_payloads_total')).toBe(0);
  }, 180_000);

  it('a full Redis refuses payloads: they wait, are retried, and receivers converge once it has room', async () => {
    const redis = await heroku();
    const [a, b] = await receivers(redis, ['a', 'b']);
    const victim = new Victim();
    for (let i = 0; i < 5; i++) await victim.send(a.port, b.port);
    await victim.converged([a, b]);

    // Another program fills Redis past maxmemory: every write is refused with OOM.
    redis.cli('eval', "for i = 1, 260 do redis.call('SET', 'filler:' .. i, string.rep('x', 100000)) end", '0');
    expect(info(redis, 'used_memory')).toBeGreaterThan(MAXMEMORY);
    expect(cli(redis, 'set', 'probe', '1')).toContain('OOM');
    for (let i = 0; i < 30; i++) await victim.send(a.port);
    await until('a says its payloads wait', async () => (value(await scrape(a.port), 'drainmeter_redis_pending_payloads') ?? 0) > 0);
    await sleep(2_000);
    const waiting = await scrape(a.port);
    expect(value(waiting, 'drainmeter_redis_pending_bytes')).toBeGreaterThan(0);
    expect(value(waiting, 'drainmeter_redis_retries_total')).toBeGreaterThan(0);
    expect(value(waiting, 'drainmeter_redis_up')).toBe(0);
    expect(value(waiting, 'drainmeter_redis_dropped_payloads_total')).toBe(0);
    // a shows what it took; b does not have it yet.
    expect(Victim.seen(waiting)).toEqual(victim.want);
    expect(Victim.seen(await scrape(b.port)).lines).toBeLessThan(victim.lines);
    expect(a.output()).toMatch(/redis refusing payloads.*OOM/);

    // Room again: the filler goes, the waiting payloads go in, b converges exactly.
    redis.cli('eval', "for i = 1, 260 do redis.call('DEL', 'filler:' .. i) end", '0');
    for (let i = 0; i < 5; i++) await victim.send(b.port, a.port);
    await victim.converged([a, b]);
    const after = await scrape(a.port);
    expect(value(after, 'drainmeter_redis_pending_payloads')).toBe(0);
    expect(value(after, 'drainmeter_redis_dropped_payloads_total')).toBe(0);
    expect(value(after, 'drainmeter_redis_up')).toBe(1);
    expect(a.output()).toContain('redis taking payloads again');
  }, 120_000);

  it('one app churning 10,000 series uses its share of each hand-over; the stream stays bounded', async () => {
    const redis = await heroku();
    // 10,000 series of app metrics fit an app's own share (four fifths of the per-app
    // limit: the rest is the platform's) at 12,500 an app.
    const roomy = { DRAINMETER_MAX_SERIES_PER_APP: '12500' };
    const [a, b] = await receivers(redis, ['a', 'b'], { a: roomy, b: roomy });
    const victim = new Victim();
    let churned = 0;
    let sawWaiting = false;
    const started = Date.now();
    for (let round = 0; Date.now() - started < 20_000; round++) {
      // 10,000 series of one app, each changed every round: 10 batches of 1,000 lines.
      await pool(2, 10, async (batch) => {
        const lines: string[] = [];
        for (let i = 0; i < 1_000; i++) lines.push(`${new Date().toISOString()} app[web.1]: count#churn=1 source=s${batch * 1_000 + i}`);
        expect(await post(a.port, 'churn', lines.join('\n') + '\n', `churn-${round}-${batch}`)).toBe(204);
      });
      churned += 10_000;
      await victim.send(a.port, b.port);
      if ((value(await scrape(a.port), 'drainmeter_handover_waiting_series') ?? 0) > 0) sawWaiting = true;
    }
    expect(info(redis, 'used_memory')).toBeLessThan(MAXMEMORY);
    await victim.converged([a, b]);
    // The churn waited for its share of later hand-overs.
    expect(sawWaiting).toBe(true);
    expect(a.output()).toMatch(/hand-over share full.*app=churn/);
    // Every entry of the stream is one hand-over, bounded; the stream is bounded in bytes.
    // (Read in one script: the receivers go on writing.)
    const [held, ...entries] = redis.cli('eval', "return {redis.call('GET', KEYS[1]), unpack(redis.call('LRANGE', KEYS[2], 0, -1))}", '2', '{dm}:s:b', '{dm}:s:z').trim().split('\n');
    const sizes = entries.map((l) => Number(l.split(' ')[1]));
    expect(sizes.length).toBeGreaterThan(20);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(HAND_OVER_BYTES);
    expect(Math.max(...sizes)).toBeLessThan(HAND_OVER_APP_BYTES * 2);
    expect(Number(held)).toBeLessThanOrEqual(STREAM_BYTES);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(Number(held));

    // Nothing of the churn was lost: it only waited. Both receivers show every line of it.
    const churnTotal = (samples: Sample[]) => samples.filter((s) => s.name === 'churn_total' && s.labels.app === 'churn').reduce((x, s) => x + s.value, 0);
    await until('the churn handed over whole', async () => (await Promise.all([a, b].map(async (r) => churnTotal(await scrape(r.port))))).every((n) => n === churned), 60_000).catch(() => {});
    for (const r of [a, b]) expect(churnTotal(await scrape(r.port))).toBe(churned);
    expect(value(await scrape(a.port), 'drainmeter_handover_waiting_series')).toBe(0);
    for (const r of [a, b]) expect(value(await scrape(r.port), 'drainmeter_redis_dropped_payloads_total')).toBe(0);
  }, 180_000);

  it('a restarted receiver is not ready until it has the global counters', async () => {
    const redis = await heroku();
    // r3 is a dyno of two workers: they wait for their primary's read of the totals.
    const all = await receivers(redis, ['r1', 'r2', 'r3'], { r3: { DRAINMETER_WORKERS: '2' } });
    const victim = new Victim();
    for (let i = 0; i < 15; i++) await victim.send(all[i % 3].port, all[(i + 1) % 3].port);
    await victim.converged(all);

    all[1].child.kill('SIGKILL');
    await all[1].stop();
    // Redis answers nobody for 4 s: the restarted receiver cannot read the totals yet.
    redis.cli('client', 'pause', '4000', 'ALL');
    const env = { DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_HOST: '127.0.0.1', REDIS_URL: redis.url, DRAINMETER_INSTANCE: 'r2' };
    all[1] = await startServe(env);
    cleanup.push(() => all[1].stop());
    const port = all[1].port;
    let starting = 0;
    for (;;) {
      const h = await fetch(`http://127.0.0.1:${port}/healthz`);
      const text = await h.text();
      if (h.status === 200) break;
      expect(h.status).toBe(503);
      expect(text.trim()).toBe('starting: reading totals from Redis');
      const m = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      await m.text();
      expect(m.status).toBe(503);
      expect(m.headers.get('retry-after')).not.toBeNull();
      starting++;
      await sleep(100);
    }
    // The first scrape once ready has every counter: none absent, none lower.
    const first = await scrape(port);
    expect(Victim.seen(first)).toEqual(victim.want);
    expect(starting).toBeGreaterThan(0);
    expect(value(first, 'drainmeter_redis_synced')).toBe(1);

    for (let i = 0; i < 15; i++) await victim.send(all[(i + 1) % 3].port, all[(i + 2) % 3].port);
    await victim.converged(all);
  }, 120_000);

  it('a receiver that cannot reach Redis at start becomes ready alone and says so', async () => {
    const redis = await heroku();
    await redis.stop();
    const env = { DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_HOST: '127.0.0.1', REDIS_URL: redis.url, DRAINMETER_INSTANCE: 'alone' };
    const r = await startServe(env);
    cleanup.push(() => r.stop());
    expect(await healthz(r.port)).toBe(503);
    // Drains are taken meanwhile.
    const victim = new Victim();
    await victim.send(r.port);
    await until('ready alone', async () => (await healthz(r.port)) === 200, 20_000);
    const seen = await scrape(r.port);
    expect(value(seen, 'drainmeter_redis_synced')).toBe(0);
    expect(Victim.seen(seen)).toMatchObject({ lines: victim.lines, orders: victim.orders });
    expect(r.output()).toContain('ready alone');
    // Redis comes back: the totals are read, the batch taken alone is in them.
    await redis.start();
    await until('synced', async () => value(await scrape(r.port), 'drainmeter_redis_synced') === 1, 20_000);
    const [other] = await receivers(redis, ['other']);
    await victim.send(other.port, r.port);
    await victim.converged([r, other]);
  }, 120_000);
});
