// Receivers joined by a real Redis and writing one real PostgreSQL history: each
// receiver shows the merged view of every receiver, but writes only the steps of the
// lines it took itself, so history.json counts every line once. A logplex retry of a
// batch at the other receiver (same Logplex-Frame-Id) is counted once there too.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainPassword } from '../../src/server/auth.js';
import { type Postgres, postgresInstalled, startPostgres } from '../support/postgres.js';
import { installed, type RedisServer, sleep, startRedis } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';

const SECRET = 'history-redis-secret-0123456789';
const TOKEN = 'history-redis-token-0123456789';
const available = postgresInstalled() && installed('the Redis history tests', 'redis-server', ['redis-server', '--version']);

interface Answer {
  series: { sum?: (number | null)[] }[];
}

/** Posts `n` lines of `count#orders=1` stamped now as one batch with `frameId`; resolves with the status. */
async function post(s: Served, app: string, n: number, frameId: string): Promise<number> {
  const stamp = new Date().toISOString();
  const body = Array.from({ length: n }, () => `${stamp} app[web.1]: count#orders=1`).join('\n') + '\n';
  const r = await fetch(`${s.base}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'logplex-frame-id': frameId, authorization: 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64') },
    body,
  });
  await r.arrayBuffer();
  return r.status;
}

async function stored(s: Served, app: string, from: number): Promise<number> {
  const r = await fetch(`${s.base}/dashboard/history.json?app=${app}&metric=orders_total&from=${from}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  const a = (await r.json()) as Answer;
  return a.series.reduce((n, x) => n + (x.sum ?? []).reduce<number>((m, v) => m + (v ?? 0), 0), 0);
}

describe.runIf(available)('receivers joined by Redis, one PostgreSQL history', () => {
  let pg: Postgres;
  let redis: RedisServer;
  const running: Served[] = [];
  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await redis?.stop();
    pg?.remove();
  });

  it('counts each line once in history.json, whichever receiver took it and however often it was sent', async () => {
    const from = Math.floor(Date.now() / 1000);
    const env = (instance: string) => ({
      DRAINMETER_SECRETS: SECRET,
      DRAINMETER_METRICS_TOKEN: TOKEN,
      DRAINMETER_HOST: '127.0.0.1',
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      DRAINMETER_INSTANCE: instance,
    });
    const [a, b] = await Promise.all([startServe(env('r1')), startServe(env('r2'))]);
    running.push(a, b);
    let posted = 0;
    for (let round = 0; round < 4; round++) {
      expect(await post(a, 'joined', 10 + round, `a-${round}`)).toBe(204);
      expect(await post(b, 'joined', 20 + round, `b-${round}`)).toBe(204);
      // Logplex's retry of a's batch reaches b: not counted again.
      expect(await post(b, 'joined', 10 + round, `a-${round}`)).toBe(204);
      posted += 30 + 2 * round;
      await sleep(3000);
    }
    // Both receivers' steps are written (each of its own lines), and either answers the sum.
    let seen = [0, 0];
    for (let waited = 0; waited < 90_000 && !(seen[0] === posted && seen[1] === posted); waited += 500) {
      await sleep(500);
      seen = await Promise.all([stored(a, 'joined', from), stored(b, 'joined', from)]);
    }
    expect(seen).toEqual([posted, posted]);
    await sleep(12_000); // a step written twice, or a late one, would show by now
    expect(await Promise.all([stored(a, 'joined', from), stored(b, 'joined', from)])).toEqual([posted, posted]);
  }, 180_000);
});
