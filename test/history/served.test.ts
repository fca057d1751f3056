// The history of real `drainmeter serve` processes in a real PostgreSQL: points from
// before a restart and after it in one history.json; three receivers writing their
// parts of the same series, one killed with SIGKILL and started again, merged counts
// equal to the lines posted (less at most the killed one's step that was not written,
// and nothing counted twice); the database stopped and started while lines keep
// coming (every request answered, steps written after, the log saying so).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainPassword } from '../../src/server/auth.js';
import { type Postgres, postgresInstalled, startPostgres } from '../support/postgres.js';
import { sleep } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';

const SECRET = 'history-secret-0123456789';
const TOKEN = 'history-token-0123456789';
const available = postgresInstalled();

interface Answer {
  tier?: string;
  releases: { app: string; t: number; text: string }[];
  series: { metric: string; labels: Record<string, string>; step: number; start: number; count?: (number | null)[]; sum?: (number | null)[] }[];
}

let frame = 0;
/** Posts `n` lines stamped now, each `count#orders=1 measure#db.latency=…`, and `extra` lines; resolves with the status. */
async function post(s: Served, app: string, n: number, extra: string[] = []): Promise<number> {
  const stamp = new Date().toISOString();
  const lines = Array.from({ length: n }, (_, i) => `${stamp} app[web.1]: count#orders=1 measure#db.latency=${1 + (i % 50)}ms`);
  for (const line of extra) lines.push(`${stamp} ${line}`);
  const r = await fetch(`${s.base}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'logplex-frame-id': `f-${process.pid}-${frame++}`, authorization: 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64') },
    body: lines.join('\n') + '\n',
  });
  await r.arrayBuffer();
  return r.status;
}

async function metric(s: Served, name: string): Promise<number> {
  const text = await (await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

async function history(s: Served, app: string, from: number): Promise<Answer> {
  const r = await fetch(`${s.base}/dashboard/history.json?app=${app}&metric=orders_total&from=${from}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as Answer;
}

/** Waits until `f` holds, polling; fails the test after `ms`. */
async function until(f: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 250) {
    if (await f()) return;
    await sleep(250);
  }
  throw new Error(`waited ${ms} ms for ${what}`);
}

const total = (a: Answer) => a.series.reduce((n, s) => n + (s.sum ?? []).reduce<number>((x, v) => x + (v ?? 0), 0), 0);

describe.runIf(available)('history across restarts, receivers and outages', () => {
  let pg: Postgres;
  const running: Served[] = [];
  const env = (instance: string, extra: Record<string, string> = {}) => ({
    DRAINMETER_SECRETS: SECRET,
    DRAINMETER_METRICS_TOKEN: TOKEN,
    DRAINMETER_HOST: '127.0.0.1',
    DATABASE_URL: pg.url,
    DRAINMETER_INSTANCE: instance,
    ...extra,
  });
  const start = async (instance: string, extra?: Record<string, string>) => {
    const s = await startServe(env(instance, extra));
    running.push(s);
    return s;
  };
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
    pg?.remove();
  });

  it('answers one history.json with the points from before a restart and after it', async () => {
    const from = Math.floor(Date.now() / 1000);
    const a = await start('web.1');
    // Heroku's wording (devcenter.heroku.com/articles/releases): the platform's `api` process.
    const release = 'Release v42 created by user@example.com';
    const deploy = 'Deploy 1a2b3c4 by user@example.com';
    expect(await post(a, 'restart', 30, [`app[api]: ${release}`, `app[api]: ${deploy}`, 'app[web.1]: Release v43 is not a platform line'])).toBe(204);
    await until(async () => (await metric(a, 'drainmeter_history_written_steps_total')) >= 2, 'the first steps written');
    // The ring's answer (a poll) marks them too.
    const live = await (await fetch(`${a.base}/dashboard/history.json?app=restart`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Answer;
    expect(live.releases.map((r) => r.text).sort()).toEqual([deploy, release]);
    await a.stop();
    expect(a.output()).toMatch(/msg="history schema migrated" from=0 to=4/);
    await sleep(10_000); // the next step: a gap between the runs
    const b = await start('web.1');
    expect(await post(b, 'restart', 12)).toBe(204);
    await until(async () => total(await history(b, 'restart', from)) === 42, 'both runs in the answer');
    const answer = await history(b, 'restart', from);
    expect(b.output()).not.toMatch(/schema migrated/);
    const points = (answer.series[0].sum ?? []).filter((v) => v !== null);
    expect(points).toEqual([30, 12]);
    expect(answer.series[0].step).toBe(10);
    expect(answer.tier).toBe('10s');
    // The releases of the first run, from the database, with their time.
    expect(answer.releases.map((r) => r.text).sort()).toEqual([deploy, release]);
    for (const r of answer.releases) expect(r.t).toBeGreaterThanOrEqual(from);
    await b.stop();
  }, 120_000);

  it('merges three receivers, one killed with SIGKILL and started again, without counting a step twice', async () => {
    const from = Math.floor(Date.now() / 1000);
    const rs = await Promise.all(['r1', 'r2', 'r3'].map((n) => start(n)));
    let posted = 0;
    for (let round = 0; round < 3; round++) {
      for (const r of rs) {
        expect(await post(r, 'merged', 10 + round)).toBe(204);
        posted += 10 + round;
      }
      await sleep(4000);
    }
    // r2's lines so far are written; then a step of it that is not, and SIGKILL.
    await until(async () => total(await history(rs[0], 'merged', from)) === posted, 'every step written');
    expect(await post(rs[1], 'merged', 7)).toBe(204);
    rs[1].child.kill('SIGKILL');
    await rs[1].stop();
    rs[1] = await start('r2');
    for (const r of rs) {
      expect(await post(r, 'merged', 5)).toBe(204);
      posted += 5;
    }
    await until(async () => total(await history(rs[0], 'merged', from)) >= posted, 'the steps after the restart');
    await sleep(15_000); // anything late, or written twice, would show by now
    const merged = total(await history(rs[2], 'merged', from));
    // At most the killed receiver's unwritten step (its 7 lines) is lost; nothing is counted twice.
    expect([posted, posted + 7]).toContain(merged);
    await Promise.all(rs.map((r) => r.stop()));
  }, 180_000);

  it('keeps taking drains while the database is away, and writes the steps when it is back', async () => {
    const from = Math.floor(Date.now() / 1000);
    const s = await start('web.outage');
    expect(await post(s, 'outage', 4)).toBe(204);
    await until(async () => (await metric(s, 'drainmeter_history_written_steps_total')) >= 2, 'the first step written');
    pg.stop();
    let posted = 4;
    for (let i = 0; i < 6; i++) {
      expect(await post(s, 'outage', 3)).toBe(204);
      posted += 3;
      await sleep(2000);
    }
    await until(async () => (await metric(s, 'drainmeter_history_up')) === 0, 'the store saying it is down');
    expect(await metric(s, 'drainmeter_history_queue_bytes')).toBeGreaterThan(0);
    expect(s.output()).toMatch(/at=warn msg="history database away, steps wait in memory"/);
    pg.start();
    await until(async () => (await metric(s, 'drainmeter_history_up')) === 1 && (await metric(s, 'drainmeter_history_queue_bytes')) === 0, 'the queue written', 90_000);
    expect(s.output()).toMatch(/msg="history database back"/);
    expect(await metric(s, 'drainmeter_history_dropped_steps_total')).toBe(0);
    await until(async () => total(await history(s, 'outage', from)) === posted, 'every step in the answer').catch(async (e) => {
      console.log(posted, JSON.stringify(await history(s, 'outage', from)), s.output());
      throw e;
    });
    await s.stop();
  }, 180_000);
});
