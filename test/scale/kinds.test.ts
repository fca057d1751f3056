// Kinds across processes (docs/isolation.md, "Kinds and platform families"): within an
// app the first claim of a name anywhere wins, so three receivers joined by a real
// Redis (25 MB, noeviction: Heroku's smallest) and one dyno of two workers answer as
// one process does for the same lines: the same families, counts and type_conflict
// rejections. Expected numbers are counted from the lines posted here. Redis keeps
// an app's metric definitions only as long as the app's series.

import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { drainPassword } from '../../src/server/auth.js';
import { installed, type RedisServer, startRedis, until } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';
import { strictAvailable, strictProblems } from '../support/strict.js';
import { find, parseExposition, type Sample } from '../server/helpers.js';

const SECRET = 'kinds-secret-0123456789';
const TOKEN = 'kinds-token-0123456789';
const available = installed('the Redis scale-out tests', 'redis-server', ['redis-server', '--version'], ['redis-cli', '--version']);

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

const env = (extra: Record<string, string>) => ({ DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_HOST: '127.0.0.1', ...extra });
const basic = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

/** POSTs text lines on a connection of its own (so a dyno's workers share them out). */
function post(port: number, app: string, lines: string[]): Promise<number> {
  const body = lines.map((l) => `${new Date().toISOString()} app[web.1]: ${l}`).join('\n') + '\n';
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/logs', method: 'POST', agent: false, headers: { 'content-type': 'text/plain', authorization: basic(app), 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function scrapeText(port: number, authorization: string, openMetrics = false): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization, ...(openMetrics ? { accept: 'application/openmetrics-text; version=1.0.0' } : {}) } });
  return r.text();
}

async function scrape(port: number, authorization = `Bearer ${TOKEN}`): Promise<Sample[]> {
  return parseExposition(await scrapeText(port, authorization));
}

const value = (m: Sample[], name: string, labels: Record<string, string>) => find(m, name, labels)[0]?.value;

/**
 * The lines: app `kq` sends q first as a measure, then as a sample, then as a measure
 * again, batch after batch, each batch to the next process; app `other` sends q as a
 * sample only. Counted here: what one process makes of them.
 */
function plan(): { batches: { app: string; lines: string[] }[]; measures: number; sum: number; samples: number } {
  const batches: { app: string; lines: string[] }[] = [];
  let measures = 0;
  let sum = 0;
  let samples = 0;
  for (let round = 0; round < 9; round++) {
    if (round % 3 === 1) {
      batches.push({ app: 'kq', lines: Array.from({ length: 3 }, () => 'sample#q=2 source=a') });
      samples += 3;
    } else {
      const lines = Array.from({ length: 4 + round }, (_, i) => `measure#q=${round + i + 1} source=a`);
      batches.push({ app: 'kq', lines });
      measures += lines.length;
      for (let i = 0; i < lines.length; i++) sum += round + i + 1;
    }
  }
  batches.push({ app: 'other', lines: ['sample#q=11 source=a'] });
  return { batches, measures, sum, samples };
}

/** What one process shows for the plan's lines, on a combined scrape and on each app's own. */
function asOneProcess(all: Sample[], kq: Sample[], other: Sample[], p: ReturnType<typeof plan>): string[] {
  const problems: string[] = [];
  const want = (what: string, got: number | undefined, expected: number) => {
    if (got !== expected) problems.push(`${what} = ${got}, not ${expected}`);
  };
  for (const [who, m] of [['combined', all], ['kq', kq]] as const) {
    want(`${who} q_count{kq}`, value(m, 'q_count', { app: 'kq', source: 'a' }), p.measures);
    want(`${who} q_sum{kq}`, value(m, 'q_sum', { app: 'kq', source: 'a' }), p.sum);
    want(`${who} type_conflict{kq}`, value(m, 'drainmeter_rejected_total', { app: 'kq', reason: 'type_conflict' }), p.samples);
    want(`${who} lines{kq}`, value(m, 'drainmeter_lines_total', { app: 'kq' }), p.measures + p.samples);
  }
  // A summary's `q` lines are its quantiles; a gauge's would have none.
  if (find(kq, 'q', { app: 'kq' }).some((x) => x.labels.quantile === undefined)) problems.push('kq has a gauge q');
  // `other`'s gauge q: whole in its own scrape; in the combined one `kq` (first by name) wins.
  want('own q{other}', value(other, 'q', { app: 'other', source: 'a' }), 11);
  want('own type_conflict{other}', value(other, 'drainmeter_rejected_total', { app: 'other', reason: 'type_conflict' }), 0);
  if (find(all, 'q', { app: 'other' }).length !== 0 || find(all, 'q', { app: 'kq' }).some((x) => x.labels.quantile === undefined)) problems.push("the combined scrape has other's gauge q");
  want('exposition_conflicts{other,q}', value(all, 'drainmeter_exposition_conflicts', { app: 'other', metric: 'q' }), 1);
  return problems;
}

async function strictOk(port: number, authorization: string): Promise<void> {
  if (!strictAvailable) return;
  expect(strictProblems(await scrapeText(port, authorization), await scrapeText(port, authorization, true))).toBe('');
}

describe.skipIf(!available)('three receivers joined by a real Redis', () => {
  it('answer as one process: the first claim of a name anywhere wins', async () => {
    const redis: RedisServer = await startRedis();
    cleanup.push(() => redis.stop());
    redis.cli('CONFIG', 'SET', 'maxmemory', '25mb');
    redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    const receivers: Served[] = await Promise.all(['r1', 'r2', 'r3'].map((n) => startServe(env({ REDIS_URL: redis.url, DRAINMETER_INSTANCE: n }))));
    for (const r of receivers) cleanup.push(() => r.stop());
    // Ready once each has read the totals from Redis (/healthz says 503 until then).
    await until(
      async () => Promise.all(receivers.map(async (r) => (await fetch(`http://127.0.0.1:${r.port}/healthz`)).status)),
      (all) => all.every((s) => s === 200),
    );
    await until(
      async () => Promise.all(receivers.map((r) => scrape(r.port))),
      (all) => all.every((s) => s.some((x) => x.name === 'drainmeter_redis_up' && x.value === 1)),
    );
    const p = plan();
    for (const [i, b] of p.batches.entries()) expect(await post(receivers[i % 3].port, b.app, b.lines)).toBe(204);
    const views = async () =>
      Promise.all(receivers.map(async (r) => asOneProcess(await scrape(r.port), await scrape(r.port, basic('kq')), await scrape(r.port, basic('other')), p)));
    const seen = await until(views, (all) => all.every((problems) => problems.length === 0));
    seen.forEach((problems, i) => expect(problems, `receiver ${i + 1}`).toEqual([]));
    for (const r of receivers) {
      await strictOk(r.port, `Bearer ${TOKEN}`);
      await strictOk(r.port, basic('other'));
    }
    // Definitions are per app, in Redis: q is kq's measure and other's sample.
    expect(redis.cli('HGET', '{dm}:d:kq', 'q').startsWith('0 ')).toBe(true);
    expect(redis.cli('HGET', '{dm}:d:other', 'q').startsWith('2 ')).toBe(true);
    expect(redis.cli('EXISTS', '{dm}:m').trim()).toBe('0');
  }, 90_000);

  it("keeps an app's metric definitions only as long as its series", async () => {
    const redis: RedisServer = await startRedis();
    cleanup.push(() => redis.stop());
    redis.cli('CONFIG', 'SET', 'maxmemory', '25mb');
    redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    const r = await startServe(env({ REDIS_URL: redis.url, DRAINMETER_INSTANCE: 'r1', DRAINMETER_SERIES_TTL: '2' }));
    cleanup.push(() => r.stop());
    const names = 300;
    const hlen = (app: string) => Number(redis.cli('HLEN', `{dm}:d:${app}`).trim());
    const allDefs = () =>
      redis
        .cli('--scan', '--pattern', '{dm}:d:*')
        .split('\n')
        .filter((k) => k !== '')
        .reduce((n, k) => n + Number(redis.cli('HLEN', k).trim()), 0);
    for (let round = 0; round < 2; round++) {
      const app = `churn${round}`;
      expect(await post(r.port, app, Array.from({ length: names }, (_, i) => `count#r${round}.n${i}=1 source=a`))).toBe(204);
      expect(await until(async () => hlen(app), (n) => n === names)).toBe(names);
      // Only this round's app holds definitions: every earlier one went with its series.
      expect(await until(async () => allDefs(), (n) => n === names)).toBe(names);
      expect(await until(async () => hlen(app), (n) => n === 0)).toBe(0);
    }
    expect(redis.cli('EXISTS', '{dm}:m').trim()).toBe('0');

    // An app that stays active: a name it stopped using is free again, in Redis too,
    // once a receiver would have released it (TTL 2 s, a quarter, a 10 s sweep).
    const alive = setInterval(() => void post(r.port, 'busy', ['count#alive=1 source=a']).catch(() => {}), 500);
    try {
      expect(await post(r.port, 'busy', ['measure#q=1 source=a', 'measure#q=2 source=a'])).toBe(204);
      await new Promise((done) => setTimeout(done, (2 + 2 / 4 + 10 + 1.5) * 1000));
      expect(redis.cli('EXISTS', '{dm}:d:busy').trim()).toBe('1');
      expect(await post(r.port, 'busy', ['sample#q=7 source=a'])).toBe(204);
      const m = await until(
        async () => scrape(r.port, basic('busy')),
        (x) => value(x, 'q', { app: 'busy', source: 'a' }) === 7,
      );
      expect(value(m, 'q', { app: 'busy', source: 'a' })).toBe(7);
      expect(value(m, 'drainmeter_rejected_total', { app: 'busy', reason: 'type_conflict' }) ?? 0).toBe(0);
      expect(redis.cli('HGET', '{dm}:d:busy', 'q').startsWith('2 ')).toBe(true);
    } finally {
      clearInterval(alive);
    }
  }, 120_000);
});

describe('two workers in one dyno', () => {
  it('answer as one process: the first claim of a name in any worker wins', async () => {
    const workers = await startServe(env({ DRAINMETER_WORKERS: '2' }));
    cleanup.push(() => workers.stop());
    const p = plan();
    for (const b of p.batches) expect(await post(workers.port, b.app, b.lines)).toBe(204);
    const problems = await until(
      async () => asOneProcess(await scrape(workers.port), await scrape(workers.port, basic('kq')), await scrape(workers.port, basic('other')), p),
      (x) => x.length === 0,
    );
    expect(problems).toEqual([]);
    await strictOk(workers.port, `Bearer ${TOKEN}`);
    expect((workers.output().match(/msg=listening/g) ?? []).length).toBe(2);
    expect(await workers.stop()).toBe(0);
  }, 60_000);
});
