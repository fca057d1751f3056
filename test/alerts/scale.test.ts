// Three `drainmeter serve` joined by a real Redis (maxmemory 25mb, noeviction), lines
// spread over them: the alert is evaluated on the merged numbers (a threshold no
// receiver reaches alone), one receiver holds the lease and notifies, and each
// transition is notified once, also when the lease holder is killed with SIGKILL
// while the alert fires: the next holder sends the resolve, and no second firing.

import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, installed, type RedisServer, sleep, startRedis, until } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';

const have = installed('the Redis alert tests', 'redis-server', ['redis-server', '--version']);

let redis: RedisServer;
let hook: Server;
let hookPort = 0;
const got: { state: string; value: number; since: string; alert: string }[] = [];
const receivers: Served[] = [];

beforeAll(async () => {
  if (!have) return;
  redis = await startRedis(['--maxmemory', '25mb', '--maxmemory-policy', 'noeviction']);
  hookPort = await freePort();
  hook = createServer((req, res) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => {
      got.push(JSON.parse(b));
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(hookPort, '127.0.0.1', r));
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await redis?.stop();
  hook?.close();
});

/** Epoch ms of every line sent, by its timestamp. */
const sent: number[] = [];

/** Sends a timestamped `count#checkouts=1` line `perSecond` times a second, each to the next live receiver. */
function keepSending(perSecond: number): () => Promise<void> {
  let going = true;
  let next = 0;
  const loop = (async () => {
    while (going) {
      const live = receivers.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
      const r = live[next++ % live.length];
      const t = Date.now();
      const line = `${new Date(t).toISOString()} app[web.1]: count#checkouts=1\n`;
      const ok = await fetch(`${r.base}/logs`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: line }).then(
        (x) => x.status === 204,
        () => false,
      );
      if (ok) sent.push(t);
      await sleep(1000 / perSecond);
    }
  })();
  return async () => {
    going = false;
    await loop;
  };
}

describe.runIf(have)('alerts across receivers joined by Redis', () => {
  it('evaluates the merged numbers once, and notifies each transition once through a SIGKILL of the lease holder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-alert-scale-'));
    const rules = join(dir, 'alerts.yml');
    // 30 in 10 s: the three together at 4 lines a second reach it, none alone (about 13 each).
    writeFileSync(
      rules,
      `notify:
  hook: { webhook: "http://127.0.0.1:${hookPort}/" }
alerts:
  - { name: busy, app: default, metric: checkouts_total, stat: count, above: 30, over: 10s, each: all, notify: hook }
`,
    );
    for (const name of ['r1', 'r2', 'r3']) {
      receivers.push(await startServe({ REDIS_URL: redis.url, DRAINMETER_INSTANCE: name, DRAINMETER_ALERTS: rules, DRAINMETER_STATE_FILE: join(dir, `${name}.json`) }));
    }
    const holders = () => redis.cli('GET', '{dm}:alert:lease').trim();
    const first = await until(async () => holders(), (h) => h !== '', 20_000);
    expect(first).toMatch(/^r[123]:\d+:/);

    // Warm (longer than `over`) at 1 line a second, then busy at 4.
    let stop = keepSending(1);
    await sleep(11_000);
    await stop();
    stop = keepSending(4);
    await until(async () => got, (g) => g.length >= 1, 60_000);
    await sleep(3_000);
    expect(got.map((g) => g.state)).toEqual(['firing']);
    // The value is the count of the lines whose timestamps lie in the 10 s before `since` (for: 0).
    const since = Date.parse(got[0].since);
    expect(got[0].value).toBe(sent.filter((t) => t >= since - 10_000 && t < since).length);
    expect(got[0].value).toBeGreaterThan(30);

    // Every receiver shows it firing (the holder's state, read from Redis by the others).
    for (const r of receivers) {
      const view = (await (await fetch(`${r.base}/alerts`)).json()) as { alerts: { state: string }[] };
      expect(view.alerts.map((a) => a.state)).toEqual(['firing']);
    }

    // The holder dies while the alert fires.
    const holder = holders();
    const victim = receivers.find((r) => holder.includes(`:${r.child.pid}:`));
    expect(victim).toBeDefined();
    victim!.child.kill('SIGKILL');
    await sleep(2_000);
    // Quiet again: the next holder (after the lease runs out) resolves, once.
    await stop();
    stop = keepSending(1);
    await until(async () => got, (g) => g.length >= 2, 90_000);
    await sleep(12_000);
    await stop();
    expect(got.map((g) => g.state)).toEqual(['firing', 'resolved']);
    expect(got[1].since).toBe(got[0].since);
    const next = holders();
    expect(next).not.toBe(holder);
    expect(next).not.toBe('');
    // Redis held it all within its 25 MB, nothing evicted (noeviction would have refused writes).
    expect(Number(/used_memory:(\d+)/.exec(redis.cli('INFO', 'memory'))?.[1])).toBeLessThan(25 * 1024 * 1024);
  }, 240_000);
});

describe('alerts with DRAINMETER_WORKERS', () => {
  it('evaluates once, in the primary, on the merged view; every worker answers /alerts from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-alert-workers-'));
    const port = await freePort();
    const seen: { state: string; value: number }[] = [];
    const server = createServer((req, res) => {
      let b = '';
      req.on('data', (d: Buffer) => (b += d.toString()));
      req.on('end', () => {
        seen.push(JSON.parse(b));
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const rules = join(dir, 'alerts.yml');
    writeFileSync(rules, `notify:\n  hook: { webhook: "http://127.0.0.1:${port}/" }\nalerts:\n  - { name: deep, app: default, metric: queue_depth, stat: max, above: 10, over: 10s, each: all, notify: hook }\n`);
    const s = await startServe({ DRAINMETER_WORKERS: '2', DRAINMETER_ALERTS: rules, DRAINMETER_STATE_FILE: join(dir, 'state.json') });
    try {
      let going = true;
      const loop = (async () => {
        for (let i = 0; going; i++) {
          // Several connections, so both workers take lines.
          await Promise.all([1, 2, 3].map((k) => fetch(`${s.base}/logs`, { method: 'POST', headers: { 'Content-Type': 'text/plain', Connection: 'close' }, body: `sample#queue.depth=${20 + k} source=w.${k}\n` }).then((r) => r.arrayBuffer())));
          await sleep(300);
        }
      })();
      await until(async () => seen, (x) => x.length >= 1, 60_000);
      await sleep(11_000);
      going = false;
      await loop;
      // Merged (each: all): the largest of the three sources, once.
      expect(seen.map((x) => [x.state, x.value])).toEqual([['firing', 23]]);
      for (let i = 0; i < 4; i++) {
        const view = (await (await fetch(`${s.base}/alerts`, { headers: { Connection: 'close' } })).json()) as { evaluator: { active: boolean }; alerts: { state: string }[] };
        expect(view.evaluator.active).toBe(true);
        expect(view.alerts.map((a) => a.state)).toEqual(['firing']);
      }
    } finally {
      await s.stop();
      server.close();
    }
  }, 120_000);
});
