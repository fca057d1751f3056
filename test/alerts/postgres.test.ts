// Alert state in a real PostgreSQL (DATABASE_URL, no Redis, no state file): a
// restart of `serve` neither fires again inside `rearm` nor loses the resolve; and two
// `serve` sharing only the database notify a transition once, through a SIGKILL of
// the lease holder (the lease row runs out, the other takes it and sends the resolve).
// In process: a database of the history's first schema version migrated to the
// alerts' tables; the lease raced for by eight stores; a holder whose lease another
// took writes nothing.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAlertStore } from '../../src/alerts/postgres-store.js';
import type { Entry } from '../../src/alerts/evaluator.js';
import { MIGRATIONS } from '../../src/history/schema.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { drainPassword } from '../../src/server/auth.js';
import { type Postgres, postgresInstalled, startPostgres } from '../support/postgres.js';
import { freePort, sleep, until } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';

const available = postgresInstalled();
const SECRET = 'alerts-secret-0123456789';

let db: Postgres;
let client: pg.Client;
let hook: Server;
let port = 0;
const got: { path: string; body: Record<string, unknown> }[] = [];

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => resolve(b));
  });
}

const basic = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');
const of = (path: string) => got.filter((g) => g.path === path).map((g) => g.body);
const alive = (r: Served) => r.child.exitCode === null && r.child.signalCode === null;

/** Posts `line()` as app shop to every live receiver every `ms` until stop(); `sent` gets the epoch ms of each line all of them took. */
function keepSending(to: () => Served[], line: (t: number) => string, ms: number, sent: number[] = []): () => Promise<void> {
  let going = true;
  const loop = (async () => {
    while (going) {
      const t = Date.now();
      const oks = await Promise.all(
        to()
          .filter(alive)
          .map((r) =>
            fetch(`${r.base}/logs`, { method: 'POST', headers: { 'Content-Type': 'text/plain', Authorization: basic('shop') }, body: `${line(t)}\n` }).then(
              (x) => x.status === 204,
              () => false, // the server stopped
            ),
          ),
      );
      if (oks.length > 0 && oks.every(Boolean)) sent.push(t);
      await sleep(ms);
    }
  })();
  return async () => {
    going = false;
    await loop;
  };
}

beforeAll(async () => {
  if (!available) return;
  db = await startPostgres();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  port = await freePort();
  hook = createServer(async (req, res) => {
    got.push({ path: req.url ?? '', body: JSON.parse(await read(req)) as Record<string, unknown> });
    res.writeHead(req.url === '/pd' ? 202 : 200, { 'Content-Type': 'application/json' }).end('{"status":"success"}');
  });
  await new Promise<void>((r) => hook.listen(port, '127.0.0.1', r));
}, 60_000);

afterAll(async () => {
  await client?.end();
  hook?.close();
  db?.remove();
});

const entry = (value: number): Entry => ({ rule: 'r', app: 'shop', labels: { source: 'web.1' }, state: 'firing', since: 100, firedAt: 100, owe: null, value });

describe.runIf(available)('alert state in PostgreSQL', () => {
  it("migrates a database at the history's first version, and one store of eight racing gets the lease", async () => {
    await client.query('CREATE DATABASE v1');
    const url = db.url.replace(/\/postgres$/, '/v1');
    const v1 = new pg.Client({ connectionString: url });
    await v1.connect();
    const said: string[] = [];
    const warned: string[] = [];
    const log: Logger = { ...silentLogger, info: (msg: string, f?: Record<string, unknown>) => said.push(`${msg} ${JSON.stringify(f)}`) };
    const others: Logger = { ...silentLogger, warn: (msg: string) => warned.push(msg) };
    const stores: PostgresAlertStore[] = [];
    try {
      await v1.query('CREATE TABLE drainmeter_schema_version (version integer NOT NULL)');
      await v1.query(MIGRATIONS[0]);
      await v1.query('INSERT INTO drainmeter_schema_version VALUES (1)');
      for (let i = 0; i < 8; i++) stores.push(new PostgresAlertStore(url, `r${i}`, i === 0 ? log : others));
      expect(await stores[0].lease()).toBe(true);
      expect(said).toEqual([`alert schema migrated {"from":1,"to":${MIGRATIONS.length}}`]);
      expect((await v1.query('SELECT max(version) AS v FROM drainmeter_schema_version')).rows[0].v).toBe(MIGRATIONS.length);
      await stores[0].close();
      stores.shift();
      // Seven at once for a free lease: one holds it, and the row names that one.
      const won = await Promise.all(stores.map((s) => s.lease()));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(warned).toEqual([]); // the six lost the race, none failed to ask
      const holder = stores[won.indexOf(true)];
      expect((await v1.query('SELECT holder FROM drainmeter_alert_lease')).rows.map((r) => r.holder)).toEqual([holder.me]);
      await holder.put('k\u0000web.1', entry(1));
      // Its lease runs out (as if paused past it) and another takes it: the old holder's write is refused.
      await v1.query("UPDATE drainmeter_alert_lease SET expires = now() - interval '1 second'");
      const other = stores.find((s) => s !== holder)!;
      expect(await other.lease()).toBe(true);
      expect(await holder.lease()).toBe(false);
      await holder.put('k\u0000web.1', entry(2));
      expect(warned).toEqual(['alert state not written: another receiver holds the lease']);
      expect((await other.load()).map((e) => e.value)).toEqual([1]);
      await other.put('k\u0000web.1', entry(3));
      expect((await holder.entries()).map((e) => e.value)).toEqual([3]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await v1.end();
    }
  }, 60_000);

  it('after a restart, does not fire again inside rearm and still sends the resolve', async () => {
    got.length = 0;
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-alerts-pg-'));
    const rules = join(dir, 'alerts.yml');
    writeFileSync(
      rules,
      `notify:
  pd: { pagerduty: "ROUTING-KEY-1", url: "http://127.0.0.1:${port}/pd" }
alerts:
  - { name: slow-checkout, app: shop, metric: checkout_latency_seconds, where: { source: web.1 }, stat: max, above: 0.5, over: 10s, rearm: 10m, notify: pd }
`,
    );
    const stateFile = join(dir, 'state.json');
    const env = { DRAINMETER_SECRETS: SECRET, DRAINMETER_ALERTS: rules, DRAINMETER_STATE_FILE: stateFile, DATABASE_URL: db.url, DRAINMETER_INSTANCE: 'web.1' };
    let s = await startServe(env);
    const one = () => [s];
    let stop = keepSending(one, () => 'measure#checkout.latency=900ms source=web.1', 250);
    try {
      await until(async () => of('/pd'), (x) => x.length >= 1, 60_000);
      await stop();
      // Kept in the database, as the webhook was told (the alert firing, nothing owed).
      const kept = await client.query<{ entry: { state: string; owe: string | null; firedAt: number } }>('SELECT entry FROM drainmeter_alert_state');
      expect(kept.rows.map((r) => [r.entry.state, r.entry.owe])).toEqual([['firing', null]]);
      await s.stop();
      // Restarted while still breaching: warm for `over`, then still firing, nothing sent again.
      s = await startServe(env);
      stop = keepSending(one, () => 'measure#checkout.latency=900ms source=web.1', 250);
      const view = await until(
        async () => (await (await fetch(`${s.base}/alerts`, { headers: { Authorization: basic('shop') } })).json()) as { evaluator: { store: string }; alerts: { state: string; value: number }[] },
        (v) => v.alerts.length > 0 && v.alerts[0].value === 0.9,
        40_000,
      );
      expect(view.evaluator.store).toBe('postgres');
      expect(view.alerts[0].state).toBe('firing');
      await sleep(11_000); // one more evaluation step
      expect(of('/pd').map((b) => b.event_action)).toEqual(['trigger']);
      await stop();
      // Then good lines: the new process resolves what the old one fired.
      stop = keepSending(one, () => 'measure#checkout.latency=100ms source=web.1', 250);
      await until(async () => of('/pd'), (x) => x.length >= 2, 60_000);
      expect(of('/pd').map((b) => b.event_action)).toEqual(['trigger', 'resolve']);
      expect(of('/pd')[1].dedup_key).toBe(of('/pd')[0].dedup_key);
      // No state file: the state lived in the database only.
      expect(existsSync(stateFile)).toBe(false);
    } finally {
      await stop();
      await s.stop();
    }
  }, 240_000);

  it('two receivers sharing only PostgreSQL notify each transition once, through a SIGKILL of the lease holder', async () => {
    got.length = 0;
    await client.query('DELETE FROM drainmeter_alert_state; DELETE FROM drainmeter_alert_log; DELETE FROM drainmeter_alert_lease');
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-alerts-pg2-'));
    const rules = join(dir, 'alerts.yml');
    // Each line goes to both receivers (no Redis merges their numbers): both see 30+ in 10 s at 4 a second.
    writeFileSync(
      rules,
      `notify:
  hook: { webhook: "http://127.0.0.1:${port}/hook" }
alerts:
  - { name: busy, app: shop, metric: checkouts_total, stat: count, above: 30, over: 10s, each: all, notify: hook }
`,
    );
    const receivers: Served[] = [];
    const all = () => receivers;
    const sent: number[] = [];
    let stop = async () => {};
    try {
      for (const name of ['r1', 'r2']) {
        receivers.push(await startServe({ DRAINMETER_SECRETS: SECRET, DRAINMETER_ALERTS: rules, DATABASE_URL: db.url, DRAINMETER_INSTANCE: name, DRAINMETER_STATE_FILE: join(dir, `${name}.json`) }));
      }
      const holder = async () => (await client.query<{ holder: string }>('SELECT holder FROM drainmeter_alert_lease WHERE expires > now()')).rows[0]?.holder ?? '';
      expect(await until(holder, (h) => h !== '', 20_000)).toMatch(/^r[12]:\d+:/);

      const line = (t: number) => `${new Date(t).toISOString()} app[web.1]: count#checkouts=1`;
      stop = keepSending(all, line, 1000, sent);
      await sleep(11_000);
      await stop();
      stop = keepSending(all, line, 250, sent);
      await until(async () => of('/hook'), (g) => g.length >= 1, 60_000);
      await sleep(3_000);
      expect(of('/hook').map((g) => g.state)).toEqual(['firing']);
      // The value is the count of the lines whose timestamps lie in the 10 s before `since` (for: 0).
      const since = Date.parse(of('/hook')[0].since as string);
      expect(of('/hook')[0].value).toBe(sent.filter((t) => t >= since - 10_000 && t < since).length);
      expect(of('/hook')[0].value).toBeGreaterThan(30);

      // Both show it firing: the holder from its evaluator, the other from the database.
      for (const r of receivers) {
        const view = (await (await fetch(`${r.base}/alerts`, { headers: { Authorization: basic('shop') } })).json()) as { evaluator: { active: boolean; store: string }; alerts: { state: string }[] };
        expect(view.evaluator.store).toBe('postgres');
        expect(view.alerts.map((a) => a.state)).toEqual(['firing']);
      }
      const actives = await Promise.all(receivers.map(async (r) => ((await (await fetch(`${r.base}/alerts`, { headers: { Authorization: basic('shop') } })).json()) as { evaluator: { active: boolean } }).evaluator.active));
      expect(actives.filter(Boolean)).toHaveLength(1);

      // The holder dies while the alert fires; its lease row stays until it runs out.
      const first = await holder();
      const victim = receivers.find((r) => first.includes(`:${r.child.pid}:`));
      expect(victim).toBeDefined();
      victim!.child.kill('SIGKILL');
      await sleep(2_000);
      await stop();
      stop = keepSending(all, line, 1000, sent);
      await until(async () => of('/hook'), (g) => g.length >= 2, 90_000);
      await sleep(12_000);
      await stop();
      expect(of('/hook').map((g) => g.state)).toEqual(['firing', 'resolved']);
      expect(of('/hook')[1].since).toBe(of('/hook')[0].since);
      const next = await holder();
      expect(next).not.toBe(first);
      expect(next).toMatch(/^r[12]:\d+:/);
      const log = await client.query<{ entry: { state: string } }>('SELECT entry FROM drainmeter_alert_log ORDER BY id');
      expect(log.rows.map((r) => r.entry.state)).toEqual(['firing', 'resolved']);
    } finally {
      await stop();
      await Promise.all(receivers.map((r) => r.stop()));
    }
  }, 240_000);
});
