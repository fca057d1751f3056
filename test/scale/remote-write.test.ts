// docs/scale-out.md on the push path: three `drainmeter serve` joined by a real Redis, each
// remote-writing to a real Prometheus (native histograms on). Each receiver pushes the
// lines it took itself, with its own `instance`; a batch retried to another receiver
// is a duplicate there (Frame-Ids in Redis) and is pushed once. So a sum over
// instances in PromQL is the whole drain: counts exact, and
// histogram_quantile(0.99, sum(rate(…))) within one bucket of the exact nearest-rank
// p99 of the lines posted (computed here from the values).

import { afterAll, describe, expect, it } from 'vitest';
import { drainPassword } from '../../src/server/auth.js';
import { nearestRank } from '../helpers.js';
import { installed, type Prometheus, type RedisServer, sleep, startPrometheus, startRedis, until } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';

const SECRET = 'scale-rw-secret-0123456789';
// 7 × 3 × 41 = 861 lines after the first round: q·n falls between two ranks for the
// quantiles checked, so a rank is never decided by the rounding of rate()'s scaling.
const ROUNDS = 7;
const LINES = 41;
const TOKEN = 'scale-rw-token-0123456789';

const available =
  installed('the scale-out remote-write test', 'redis-server', ['redis-server', '--version']) &&
  installed('the scale-out remote-write test', 'prometheus', ['prometheus', '--version']);

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
}, 30_000);

let seed = 7;
const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

async function post(port: number, frameId: string, body: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'logplex-frame-id': frameId, authorization: 'Basic ' + Buffer.from(`shop:${drainPassword(SECRET, 'shop')}`).toString('base64') },
    body,
  });
  await r.arrayBuffer();
  return r.status;
}


describe.skipIf(!available)('three receivers remote-writing to a real Prometheus', () => {
  it('sum over instances to the whole drain: counts exact, histogram_quantile of the summed rate within a bucket of the exact p99', async () => {
    const prom: Prometheus = await startPrometheus('global:\n  scrape_interval: 15s\n', ['--web.enable-remote-write-receiver', '--enable-feature=native-histograms']);
    cleanup.push(async () => prom.stop());
    const redis: RedisServer = await startRedis();
    cleanup.push(() => redis.stop());
    const receivers: Served[] = await Promise.all(
      ['rw-a', 'rw-b', 'rw-c'].map((name) =>
        startServe({
          DRAINMETER_SECRETS: SECRET,
          DRAINMETER_METRICS_TOKEN: TOKEN,
          DRAINMETER_HOST: '127.0.0.1',
          DRAINMETER_GRACE: '1',
          REDIS_URL: redis.url,
          DRAINMETER_INSTANCE: name,
          DRAINMETER_REMOTE_WRITE_URL: `http://127.0.0.1:${prom.port}/api/v1/write`,
          // Schema 6 whatever the spread: one bucket is 2^(1/64) wide.
          DRAINMETER_REMOTE_WRITE_MAX_BUCKETS: '0',
        }),
      ),
    );
    for (const r of receivers) cleanup.push(() => r.stop());

    // Round 0 gives every instance its first sample, the base rate() counts from; then
    // each second every receiver takes one batch stamped in that second, so the three
    // push at the same window ends (and rate() extrapolates each alike). Every third
    // batch is retried to the next receiver, as logplex retries land anywhere.
    const base = Math.ceil(Date.now() / 1000) + 1;
    const later: number[] = [];
    let all = 0;
    let batchNo = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      const second = base + round;
      while (Date.now() < second * 1000 + 100) await sleep(20);
      for (const [i, r] of receivers.entries()) {
        const lines: string[] = [];
        for (let n = 0; n < LINES; n++) {
          const v = Math.round(Math.exp(rand() * 7) * 100) / 100;
          if (round > 0) later.push(v / 1000);
          all++;
          lines.push(`${new Date(second * 1000 + n).toISOString()} app[web.1]: measure#db.latency=${v}ms count#orders=1 source=web.1`);
        }
        const frameId = `rw-${process.pid}-${batchNo++}`;
        const body = lines.join('\n') + '\n';
        expect(await post(r.port, frameId, body)).toBe(204);
        if (batchNo % 3 === 0) expect(await post(receivers[(i + 1) % 3].port, frameId, body)).toBe(204);
      }
    }

    const sel = 'app="shop",source="web.1"';
    // Every line once, whichever receiver took it or its retry.
    const count = await until(() => prom.query(`sum(orders_total{${sel}})`), (v) => v === all, 20_000);
    expect(count).toBe(all);
    expect(await prom.query(`count(orders_total{${sel}})`)).toBe(3);
    expect(await until(() => prom.query(`sum(db_latency_seconds_count{${sel}})`), (v) => v === all, 10_000)).toBe(all);
    // Every window of every instance was pushed: the same sample times for all three,
    // so rate() extrapolates each by the same factor and the sum keeps the proportions.
    const times = await Promise.all(['rw-a', 'rw-b', 'rw-c'].map(async (i) => (await prom.results(`orders_total{${sel},instance="${i}"}[5m]`))[0]?.values?.map(([t]) => t)));
    expect(times[0]).toHaveLength(ROUNDS + 1);
    expect(times[1]).toEqual(times[0]);
    expect(times[2]).toEqual(times[0]);
    for (const r of receivers) {
      const self = await (await fetch(`${r.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      expect(self).toMatch(/^drainmeter_push_samples_total\{outlet="remote_write"\} [1-9]/m);
      expect(self).not.toMatch(/^drainmeter_push_(dropped|failures)_total\{[^}]*\} [1-9]/m);
    }
    // The lines after each instance's first sample: what rate() sees.
    const query = `histogram_quantile(0.99, sum(rate(db_latency_seconds{${sel},quantile=""}[5m])))`;
    const exact = nearestRank(later, 0.99);
    const width = 2 ** (1 / 64);
    const got = await until(() => prom.query(query), (v) => v !== null && v >= exact / width && v <= exact * width, 10_000);
    expect(got).not.toBeNull();
    expect(got as number, `${query} = ${got}, exact p99 ${exact}`).toBeGreaterThanOrEqual(exact / width);
    expect(got as number, `${query} = ${got}, exact p99 ${exact}`).toBeLessThanOrEqual(exact * width);
    // And the median, the same way.
    const median = await prom.query(query.replace('0.99', '0.5'));
    const exactMedian = nearestRank(later, 0.5);
    expect(median as number).toBeGreaterThanOrEqual(exactMedian / width);
    expect(median as number).toBeLessThanOrEqual(exactMedian * width);
  }, 90_000);
});
