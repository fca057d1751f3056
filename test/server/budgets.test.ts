// Budgets hold what bodies really cost, in one process and across workers
// (docs/limits.md, "Bytes held, budgets per dyno"): a gzip body is charged what it
// inflates to, every in-flight total is the dyno's whatever DRAINMETER_WORKERS is,
// and an OTLP/JSON body nested past a sane depth is refused before it is parsed.
// Each attack runs over real sockets against `serve` with a dyno's heap, secrets and
// per-app Basic credentials; after or during it a second app's batch must be
// answered and counted exactly as if it were alone.

import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { drainPassword } from '../../src/server/auth.js';
import { GZIP_STATE_BYTES } from '../../src/server/body.js';
import { pool, type Served, startServe } from '../support/served.js';
import { find, parseExposition, SECRET } from './helpers.js';

const TOKEN = 'admin-token-0123456789';
const MB = 1 << 20;
/** The defaults the attacks run against (docs/limits.md). */
const SHARE = 16 * MB; // DRAINMETER_MAX_INFLIGHT / 4
const TOTAL = 64 * MB; // DRAINMETER_MAX_INFLIGHT
const ENV = { DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_GRACE: '1', DRAINMETER_HOST: '127.0.0.1' };
const HEAP = ['--max-old-space-size=512'];

const auth = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(s: Served, app: string, body: string | Buffer, type = 'application/logplex-1'): Promise<Response & { text_: string }> {
  const res = await fetch(`${s.base}/${type === 'application/json' ? 'v1/logs' : 'logs'}`, {
    method: 'POST',
    headers: { 'Content-Type': type, Authorization: auth(app) },
    body,
  });
  return Object.assign(res, { text_: await res.text() });
}

async function exposition(s: Served, authorization = `Bearer ${TOKEN}`) {
  const res = await fetch(`${s.base}/metrics`, { headers: { Authorization: authorization } });
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

const lines = (n: number, message: (i: number) => string) =>
  logplexBody(Array.from({ length: n }, (_, i) => syslog(iso(Date.now()), 'app', 'web.1', message(i))));

let victims = 0;

/** A new app's batch: answered 204 and counted exactly, its own scope untouched. */
async function victimAlone(s: Served): Promise<void> {
  const app = `victim${victims++}`;
  const res = await post(s, app, lines(20, (i) => `measure#v.latency=${i + 1}ms count#v.orders=2 source=web.1`));
  expect(res.status, res.text_).toBe(204);
  // Workers hand their lines to the primary every 250 ms.
  let m = await exposition(s, auth(app));
  for (let i = 0; i < 20 && find(m, 'drainmeter_lines_total', { app })[0]?.value !== 20; i++) {
    await sleep(100);
    m = await exposition(s, auth(app));
  }
  const v = (name: string) => find(m, name, { app, source: 'web.1' })[0]?.value;
  expect(find(m, 'drainmeter_lines_total', { app })[0]?.value).toBe(20);
  expect(v('v_orders_total')).toBe(40);
  expect(v('v_latency_seconds_count')).toBe(20);
  expect(v('v_latency_seconds_sum')).toBeCloseTo(0.21, 12);
  expect(s.child.exitCode).toBeNull();
}

/** Opens `n` requests of `app` that send `head` and `body` and then stall; their answers as they come. */
function stall(s: Served, app: string, n: number, headers: string, body: Buffer = Buffer.alloc(0)) {
  const sockets: Socket[] = [];
  const answers: string[] = [];
  for (let i = 0; i < n; i++) {
    const sock = connect(s.port, '127.0.0.1');
    let text = '';
    sock.on('data', (d) => {
      text += d.toString();
      if (text.includes('\r\n\r\n')) answers.push(text);
    });
    sock.on('error', () => {});
    sock.write(`POST /logs HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth(app)}\r\nContent-Type: application/logplex-1\r\n${headers}\r\n`);
    if (body.length > 0) sock.write(body);
    sockets.push(sock);
  }
  return { sockets, answers, close: () => sockets.forEach((x) => x.destroy()) };
}

/**
 * Waits (at most 4 s, before the slow-body cut-off at 5 s) until `count()` reaches
 * `expected`, then a little longer, so that a count past it shows too.
 */
async function settle(count: () => number, expected: number): Promise<void> {
  for (let i = 0; i < 40 && count() < expected; i++) await sleep(100);
  await sleep(300);
}

describe('one process', () => {
  let s: Served;
  beforeAll(async () => {
    s = await startServe(ENV, HEAP);
  });
  afterAll(async () => {
    expect(await s?.stop()).toBe(0);
  });

  it('a gzip body is charged what it inflates to: stalled bombs fill their own share, then 503', async () => {
    // A body that inflates to 1,000,000 bytes from a few KB, sent whole but for the
    // gzip trailer, so the server has inflated all of it and waits for the rest.
    const plain = Buffer.alloc(1_000_000, 'count#bomb=1 source=web.1 padding padding padding\n');
    const gz = gzipSync(plain, { level: 9 });
    expect(gz.length).toBeLessThan(8_000);
    const rssBefore = s.rss();
    const n = 300;
    const bombs = stall(s, 'hog', n, `Content-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n`, gz.subarray(0, gz.length - 8));
    // Those not refused are held whole, each charged its decoded bytes and its inflater.
    const heldEach = plain.length + GZIP_STATE_BYTES;
    const held = Math.floor(SHARE / heldEach);
    try {
      await settle(() => bombs.answers.length, n - held);
      const refused = bombs.answers.filter((a) => a.startsWith('HTTP/1.1 503'));
      expect(refused.every((a) => /\r\nretry-after: \d+\r\n/i.test(a))).toBe(true);
      expect(refused[0]).toContain('share');
      expect(bombs.answers).toHaveLength(n - held);
      expect(refused).toHaveLength(n - held);
      const m = await exposition(s);
      expect(find(m, 'drainmeter_app_budget_used', { app: 'hog', budget: 'inflight' })[0].value).toBe(held * heldEach);
      expect(find(m, 'drainmeter_budget_used', { budget: 'inflight' })[0].value).toBe(held * heldEach);
      // 300 inflated bodies would be 300 MB; what is held is the share and change.
      expect(s.rss() - rssBefore).toBeLessThan(120 * MB);
      await victimAlone(s);
    } finally {
      bombs.close();
    }
    await sleep(200);
    const m = await exposition(s);
    expect(find(m, 'drainmeter_budget_used', { budget: 'inflight' })[0].value).toBe(0);
    // Nothing of a refused body counted.
    expect(find(m, 'drainmeter_lines_total', { app: 'hog' })[0]?.value ?? 0).toBe(0);
  }, 30_000);

  it('an OTLP/JSON body nested past the depth limit, or crowded with empty objects, is refused (400, bad_frame); a victim is answered during a flood of them', async () => {
    const depth = 200_000;
    const nested = `{"resourceLogs":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const res = await post(s, 'nester', nested, 'application/json');
    expect(res.status).toBe(400);
    const status = JSON.parse(res.text_) as { code: number; message: string };
    expect(status.code).toBe(3); // google.rpc.Code INVALID_ARGUMENT
    expect(status.message).toContain('nested');
    // A flood of them while the victim posts.
    const flood = pool(8, 64, async () => (await post(s, 'nester', nested, 'application/json')).status);
    await victimAlone(s);
    expect((await flood).every((x) => x === 400)).toBe(true);
    const m = await exposition(s, auth('nester'));
    expect(find(m, 'drainmeter_rejected_total', { app: 'nester', reason: 'bad_frame' })[0].value).toBe(65);
    // As wide as 1 MB goes instead: a third of a million objects of nothing.
    const crowded = await post(s, 'nester', `{"resourceLogs":[${Array.from({ length: 340_000 }, () => '{}').join(',')}]}`, 'application/json');
    expect(crowded.status).toBe(400);
    expect(JSON.parse(crowded.text_).message).toContain('JSON object or array');
    // A real request nested as deep as OTLP goes is still read.
    const record = { timeUnixNano: String(Date.now() * 1e6), body: { stringValue: 'count#ok=1 source=web.1' } };
    const ok = await post(s, 'nester', JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords: [record] }] }] }), 'application/json');
    expect(ok.status).toBe(200);
  }, 60_000);
});

describe('DRAINMETER_WORKERS=2', () => {
  let s: Served;
  beforeAll(async () => {
    s = await startServe({ ...ENV, DRAINMETER_WORKERS: '2' }, HEAP);
    // Both workers listening, so the primary deals connections to both.
    for (let i = 0; i < 100 && (s.output().match(/msg=listening/g) ?? []).length < 2; i++) await sleep(50);
    expect(s.output().match(/msg=listening/g)).toHaveLength(2);
  });
  afterAll(async () => {
    expect(await s?.stop()).toBe(0);
  });

  const declared = `Content-Length: ${MB}\r\n`;

  it("an app's stalled bodies fill the share one process would give it, not one per worker", async () => {
    const hog = stall(s, 'hog', 40, declared);
    try {
      await settle(() => hog.answers.length, 40 - SHARE / MB);
      // One process holds 16 of them (16 MB share of 1 MB bodies): 24 refused. The
      // workers hold as many at most (fewer when the primary deals them unevenly).
      const held = 40 - hog.answers.filter((a) => a.startsWith('HTTP/1.1 503')).length;
      expect(held).toBeLessThanOrEqual(SHARE / MB);
      expect(held).toBeGreaterThanOrEqual(SHARE / MB / 2);
      await victimAlone(s);
    } finally {
      hog.close();
    }
    await sleep(500); // the closed bodies given back
  }, 30_000);

  it("stalled bodies past the dyno's total get 503, however the workers split them", async () => {
    const apps = Array.from({ length: 6 }, (_, i) => stall(s, `hog${i}`, 16, declared));
    try {
      await settle(() => apps.reduce((n, a) => n + a.answers.length, 0), 96 - TOTAL / MB);
      // 96 bodies of 1 MB, six apps within their shares: the dyno holds 64 MB of them.
      const refused = apps.reduce((n, a) => n + a.answers.filter((x) => x.startsWith('HTTP/1.1 503')).length, 0);
      // At most the dyno's total, however the primary dealt the connections.
      expect(96 - refused).toBeLessThanOrEqual(TOTAL / MB);
      expect(96 - refused).toBeGreaterThanOrEqual(TOTAL / MB / 2);
    } finally {
      apps.forEach((a) => a.close());
    }
    await sleep(300);
    await victimAlone(s);
  }, 30_000);
});
