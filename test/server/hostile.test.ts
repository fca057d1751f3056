// Hostile tenants (docs/limits.md): one app with valid credentials tries, over a real socket,
// everything that once crashed the server, blinded other apps or corrupted /metrics,
// against `serve` with a dyno's heap (--max-old-space-size=512). After each attack a
// second app posts a known batch and must be answered and counted exactly as if it
// were alone; the process stays up with its RSS bounded; every scrape passes the
// strict parsers (promtool, the Python OpenMetrics parser).

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { REASONS } from '../../src/model/index.js';
import { drainPassword } from '../../src/server/auth.js';
import { strictAvailable, strictProblems } from '../support/strict.js';
import { pool, type Served, startServe } from '../support/served.js';
import { find, parseExposition, SECRET } from './helpers.js';

const TOKEN = 'admin-token-0123456789';
/** Resident memory allowed: the 512 MB heap, plus what Node keeps outside it. */
const RSS_BOUND = 700 * 1024 * 1024;

let s: Served;
const auth = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(app: string, body: string | Buffer, headers: Record<string, string> = {}, query = ''): Promise<Response> {
  const res = await fetch(`${s.base}/logs${query}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/logplex-1', Authorization: auth(app), ...headers },
    body,
  });
  await res.arrayBuffer();
  return res;
}

async function scrape(authorization: string, openMetrics = false): Promise<string> {
  const res = await fetch(`${s.base}/metrics`, {
    headers: { Authorization: authorization, ...(openMetrics ? { Accept: 'application/openmetrics-text; version=1.0.0' } : {}) },
  });
  expect(res.status).toBe(200);
  return res.text();
}

/** Both formats of a scope, through the strict parsers. */
async function strictScrape(authorization: string): Promise<string> {
  const text = await scrape(authorization);
  if (strictAvailable) expect(strictProblems(text, await scrape(authorization, true))).toBe('');
  return text;
}

const lines = (app: string, n: number, message: (i: number) => string, at = Date.now()) =>
  logplexBody(Array.from({ length: n }, (_, i) => syslog(iso(at), app, 'web.1', message(i))));

/** The body of a whole HTTP/1.1 response read off a socket, chunked or not. */
function body(response: string): string {
  const head = response.indexOf('\r\n\r\n');
  let rest = response.slice(head + 4);
  if (!/^transfer-encoding: *chunked/im.test(response.slice(0, head))) return rest;
  let out = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

let victims = 0;

/**
 * A second app, alone as far as it can tell: its batch (and a logplex retry of it) is
 * answered and counted exactly. A new app each time, so no series of an earlier
 * check can have expired under it.
 */
async function victimAlone(): Promise<void> {
  const app = `victim${victims++}`;
  const body = lines('app', 20, (i) => `measure#v.latency=${i + 1}ms count#v.orders=2 sample#v.depth=${i} source=web.1`);
  expect((await post(app, body, { 'Logplex-Frame-Id': 'batch-1' })).status).toBe(204);
  expect((await post(app, body, { 'Logplex-Frame-Id': 'batch-1' })).status).toBe(204);
  const m = parseExposition(await strictScrape(auth(app)));
  const v = (name: string, labels: Record<string, string> = {}) => find(m, name, { app, ...labels })[0]?.value;
  expect(v('v_orders_total', { source: 'web.1' })).toBe(40);
  expect(v('v_latency_seconds_count', { source: 'web.1' })).toBe(20);
  expect(v('v_latency_seconds_sum', { source: 'web.1' })).toBeCloseTo(0.21, 12);
  expect(v('v_depth', { source: 'web.1' })).toBe(19);
  expect(v('drainmeter_lines_total')).toBe(20);
  expect(v('drainmeter_duplicate_batches_total')).toBe(1);
  for (const reason of REASONS) expect(v('drainmeter_rejected_total', { reason }), reason).toBe(0);
  // Its own app only: nothing of another app's leaks into its scope.
  expect(m.filter((x) => x.labels.app !== undefined && x.labels.app !== app)).toEqual([]);
  expect(s.child.exitCode).toBeNull();
  expect(s.rss()).toBeLessThan(RSS_BOUND);
}

async function hogRejected(reason: string): Promise<number> {
  return find(parseExposition(await scrape(auth('hog'))), 'drainmeter_rejected_total', { app: 'hog', reason })[0]?.value ?? 0;
}

beforeAll(async () => {
  s = await startServe(
    { DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_GRACE: '1', DRAINMETER_SERIES_TTL: '5', DRAINMETER_HOST: '127.0.0.1' },
    ['--max-old-space-size=512'],
  );
  await victimAlone();
});

afterAll(async () => {
  expect(await s?.stop()).toBe(0);
});

describe('one tenant cannot hurt another', () => {
  it('future timestamps do not multiply windows: 8 open windows a series, the rest counted in totals only', async () => {
    // 2,000 series, each with a line for every second of the next five minutes.
    const now = Date.now();
    const keys = Array.from({ length: 20 }, (_, k) => `count#f${k}=1`).join(' ');
    const bodies: Buffer[] = [];
    let batch: string[] = [];
    for (let d = 0; d < 300; d++) {
      for (let src = 0; src < 100; src++) {
        batch.push(syslog(iso(now + d * 1000), 'app', 'web.1', `${keys} source=s${src}`));
        if (batch.length === 3000) {
          bodies.push(logplexBody(batch));
          batch = [];
        }
      }
    }
    for (const b of bodies) expect((await post('hog', b)).status).toBe(204);
    const m = parseExposition(await scrape(auth('hog')));
    // Every observation is in the cumulative total; those past 8 windows in no window.
    expect(find(m, 'f0_total', { source: 's0' })[0].value).toBe(300);
    expect(find(m, 'drainmeter_rejected_total', { reason: 'window_limit' })[0].value).toBeGreaterThan(2000 * 200);
    await victimAlone();
  });

  it('label values and names have a length limit: a 450 KB source= is refused, not exposed', async () => {
    const keys = Array.from({ length: 2000 }, (_, k) => `count#k${k}=1`).join(' ');
    const body = lines('app', 1, () => `${keys} source=${'x'.repeat(450_000)}`);
    expect((await post('hog', body)).status).toBe(204);
    expect(await hogRejected('bad_label')).toBe(2000);
    const long = lines('app', 1, () => `count#${'n'.repeat(200)}=1 measure#x=1${'u'.repeat(40)}`);
    expect((await post('hog', long)).status).toBe(204);
    expect(await hogRejected('bad_name')).toBe(2);
    const text = await scrape(`Bearer ${TOKEN}`);
    expect(text).not.toContain('x'.repeat(300));
    await victimAlone();
  });

  it('Frame-Ids are bounded in bytes: 14 KB ids cost what short ones do', async () => {
    const before = find(parseExposition(await scrape(`Bearer ${TOKEN}`)), 'drainmeter_app_budget_used', { app: 'hog', budget: 'frame_ids' })[0].value;
    await pool(8, 100, async (i) => {
      const id = `${i}-${'f'.repeat(14_000)}`;
      expect((await post('hog', lines('app', 1, () => 'count#ids=1'), { 'Logplex-Frame-Id': id })).status).toBe(204);
    });
    const after = find(parseExposition(await scrape(`Bearer ${TOKEN}`)), 'drainmeter_app_budget_used', { app: 'hog', budget: 'frame_ids' })[0].value;
    // 100 ids kept by their SHA-256: 128 bytes of bookkeeping and 43 of digest each.
    expect(after - before).toBe(100 * (128 + 43));
    await victimAlone();
  });

  it("an app's prefixes are its own: past 64, its new prefixes are refused and others' are not", async () => {
    // The hog has posted without a prefix already: that is one of its 64 name tables.
    const statuses = await pool(8, 100, async (i) => (await post('hog', lines('app', 1, () => 'count#p=1'), {}, `?prefix=p${i}`)).status);
    expect(statuses.filter((x) => x === 204)).toHaveLength(63);
    expect(statuses.filter((x) => x === 400)).toHaveLength(37);
    expect((await post('other', lines('app', 1, () => 'count#mine=1'), {}, '?prefix=otherprefix')).status).toBe(204);
    await victimAlone();
  });

  it('families never collide: reserved names, suffix tricks and infinite values are refused and counted', async () => {
    const trick = [
      'count#drainmeter_lines=5',
      'sample#process_resident_memory=1B',
      'count#heroku.router.requests=5 source=evil',
      'measure#x=1 sample#x_count=2',
      'count#z=1 sample#z=2',
      'count#h=1 sample#h_created=1',
      'sample#v=1e308GB',
    ];
    const body = logplexBody(trick.map((m) => syslog(iso(Date.now()), 'app', 'web.1', m)));
    expect((await post('hog', body)).status).toBe(204);
    expect(await hogRejected('reserved_name')).toBe(3);
    // x_count and h_created, a gauge's names, become x_count_value and h_created_value
    // (docs/cli.md, "Strict expositions"): only the gauge z, beside the counter z_total
    // (family z in OpenMetrics), is refused.
    expect(await hogRejected('type_conflict')).toBe(1);
    expect(await hogRejected('bad_value')).toBe(1);
    const all = parseExposition(await strictScrape(`Bearer ${TOKEN}`));
    // The forged values are nowhere: one lines_total family, the platform's untouched.
    expect(find(all, 'drainmeter_lines_total').every((x) => x.value !== 5 || x.labels.app !== 'hog')).toBe(true);
    expect(find(all, 'heroku_router_requests_total')).toEqual([]);
    await victimAlone();
  });

  it("slow bodies fill their own app's share of the in-flight budget, and are cut off", async () => {
    // 24 sockets of the hog declare 1 MB each and trickle: 16 fit its share (16 MB).
    const sockets: Socket[] = [];
    const answers: string[] = [];
    for (let i = 0; i < 24; i++) {
      const sock = connect(s.port, '127.0.0.1');
      let text = '';
      sock.on('data', (d) => (text += d.toString()));
      sock.on('close', () => answers.push(text));
      sock.on('error', () => {});
      sock.write(`POST /logs HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth('hog')}\r\nContent-Type: application/logplex-1\r\nContent-Length: 1048576\r\n\r\n`);
      sockets.push(sock);
    }
    const drip = setInterval(() => sockets.forEach((x) => x.writable && x.write('1')), 500);
    try {
      await sleep(500);
      // The hog itself is out of in-flight bytes; the victim is not.
      expect((await post('hog', lines('app', 1, () => 'count#more=1'))).status).toBe(503);
      await victimAlone();
      // Past 5 s below 16 KB/s: 408 and the connection closed.
      for (let i = 0; i < 40 && answers.length < 24; i++) await sleep(250);
    } finally {
      clearInterval(drip);
      sockets.forEach((x) => x.destroy());
    }
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 408'))).toHaveLength(16);
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 503'))).toHaveLength(8);
    const held = find(parseExposition(await scrape(`Bearer ${TOKEN}`)), 'drainmeter_app_budget_used', { app: 'hog', budget: 'inflight' })[0].value;
    expect(held).toBe(0);
    await victimAlone();
  });

  it('scrapers that never read are cut off, and concurrent scrapes share one rendering', async () => {
    // 8,000 series of a new app (its own families' share of the 10,000 an app may
    // hold: docs/isolation.md), with long sources: an exposition of about 10 MB, more
    // than the kernel's socket buffers take for a reader that never reads.
    const pad = 'p'.repeat(120);
    const fill = async () => {
      for (let part = 0; part < 4; part++) {
        const body = lines('app', 2000, (i) => `measure#big=${i} source=s${part * 2000 + i}-${pad}`);
        expect((await post('reader', body)).status).toBe(204);
      }
    };
    await fill();
    await sleep(2200); // the windows close: full summaries
    const rssBefore = s.rss();
    const stuck: Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const sock = connect(s.port, '127.0.0.1');
      sock.on('error', () => {});
      sock.pause(); // never reads
      sock.write(`GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth('reader')}\r\n\r\n`);
      stuck.push(sock);
    }
    try {
      await sleep(1000);
      expect(s.rss() - rssBefore).toBeLessThan(200 * 1024 * 1024);
      // The reader's own scrapes are refused while 16 of its readers are stuck.
      expect((await fetch(`${s.base}/metrics`, { headers: { Authorization: auth('reader') } })).status).toBe(429);
      await victimAlone();
      expect((await fetch(`${s.base}/healthz`)).status).toBe(200);
      // Stalled readers are cut off after 10 s: the reader can scrape again.
      let status = 0;
      for (let i = 0; i < 40 && status !== 200; i++) {
        await sleep(500);
        const r = await fetch(`${s.base}/metrics`, { headers: { Authorization: auth('reader') } });
        status = r.status;
        await r.arrayBuffer();
      }
      expect(status).toBe(200);
    } finally {
      stuck.forEach((x) => x.destroy());
    }
    // Ten bearer scrapes at once share renderings rather than making ten.
    await fill(); // the series above have expired meanwhile (TTL 5 s)
    const renderings = async () => find(parseExposition(await scrape(`Bearer ${TOKEN}`)), 'drainmeter_renderings_total')[0].value;
    const r0 = await renderings();
    // Ten connections open first, then ten requests written in one go: they reach the
    // server together however loaded the machine is (fetch would open them one by one).
    const socks = await Promise.all(
      Array.from({ length: 10 }, () => new Promise<Socket>((resolve, reject) => {
        const sock = connect(s.port, '127.0.0.1', () => resolve(sock));
        sock.once('error', reject);
      })),
    );
    const answers = socks.map((sock) => new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('close', () => resolve(Buffer.concat(chunks).toString()));
    }));
    for (const sock of socks) sock.write(`GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`);
    const health = (await fetch(`${s.base}/healthz`)).status;
    const texts = await Promise.all(answers);
    expect(health).toBe(200);
    expect(texts.every((t) => t.startsWith('HTTP/1.1 200') && body(t).includes(`big_count{app="reader",source="s7999-${pad}"} 1`))).toBe(true);
    expect((await renderings()) - r0 - 1).toBeLessThanOrEqual(3);
    await victimAlone();
  }, 60_000);

  it('many apps with a name each: everything they used is given back once their series expire', async () => {
    const apps = 2000;
    await pool(16, apps, async (i) => {
      expect((await post(`one${i}`, lines('app', 1, () => `count#only${i}=1`))).status).toBe(204);
    });
    let m = parseExposition(await scrape(`Bearer ${TOKEN}`));
    expect(find(m, 'only1999_total')).toHaveLength(1);
    // TTL 5 s, swept every 2.5 s: every series, name, table and app of theirs goes.
    // (A scrape is written in slices, so a sweep may fall between two of its families:
    // wait for one that shows everything given back.)
    const used = (budget: string) => find(m, 'drainmeter_budget_used', { budget })[0].value;
    const given = () => find(m, 'drainmeter_lines_total').every((x) => !x.labels.app.startsWith('one')) && used('series') === 0;
    for (let i = 0; i < 40 && !given(); i++) {
      await sleep(500);
      m = parseExposition(await scrape(`Bearer ${TOKEN}`));
    }
    expect(m.filter((x) => x.name.startsWith('only'))).toEqual([]);
    expect(find(m, 'drainmeter_lines_total').filter((x) => x.labels.app.startsWith('one'))).toEqual([]);
    // With no series anywhere, no names or windows are held, whoever held them.
    expect(used('series')).toBe(0);
    expect(used('names')).toBe(0);
    expect(used('windows')).toBe(0);
    await victimAlone();
  }, 60_000);
});
