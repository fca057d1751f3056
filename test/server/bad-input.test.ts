// Bad input over a real socket (docs/limits.md): each case checks the answer, the
// self-metric that counted it, and that the very next good batch is still taken
// with correct numbers.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { frame, logplexBody, syslog } from '../../fixtures/heroku.js';
import { drainPassword } from '../../src/server/auth.js';
import { silentLogger } from '../../src/log.js';
import { type Running, serve } from '../../src/server/serve.js';
import { config, find, parseExposition, SECRET } from './helpers.js';

let drain: Running;
let base = '';
let goods = 0;

const auth = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');
const LOGPLEX = { 'Content-Type': 'application/logplex-1' };

async function post(body: string | Buffer, headers: Record<string, string> = {}, app = 'shop') {
  return fetch(`${base}/logs`, { method: 'POST', headers: { ...LOGPLEX, Authorization: auth(app), ...headers }, body });
}

async function metrics() {
  return parseExposition(await (await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer admin' } })).text());
}

function value(samples: ReturnType<typeof parseExposition>, name: string, labels: Record<string, string> = {}): number {
  return find(samples, name, labels)[0]?.value ?? 0;
}

/** Posts a good batch and checks it was counted: the server still works. */
async function stillGood(): Promise<void> {
  const res = await post(logplexBody([syslog(iso(Date.now()), 'app', 'web.1', 'count#good=1 source=t')]));
  expect(res.status).toBe(204);
  goods++;
  expect(value(await metrics(), 'good_total', { app: 'shop' })).toBe(goods);
}

async function rejected(reason: string, app = 'shop'): Promise<number> {
  return value(await metrics(), 'drainmeter_rejected_total', { app, reason });
}

/** Sends raw bytes; resolves with what came back before the server closed, or after `ms`. */
function raw(bytes: string | Buffer, ms: number, end = false): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const url = new URL(base);
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed });
    }, ms);
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed });
    });
    socket.on('error', () => {});
    socket.write(bytes);
    if (end) socket.end();
  });
}

beforeAll(async () => {
  drain = await serve(
    config({ PORT: '0', DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: 'admin', DRAINMETER_MAX_SERIES_PER_APP: '1000' }),
    silentLogger,
    { headersTimeout: 500, requestTimeout: 1500, checkInterval: 100 },
  );
  base = `http://127.0.0.1:${drain.port}`;
});

afterAll(async () => {
  await drain?.stop('test over');
});

describe('bad input over a real socket', () => {
  it('truncated frame: the frames before it count, 204, bad_frame counted', async () => {
    const good = syslog(iso(Date.now()), 'app', 'web.1', 'count#t1=1');
    const before = await rejected('bad_frame');
    const res = await post(frame(good) + frame(good).slice(0, 30));
    expect(res.status).toBe(204);
    expect(value(await metrics(), 't1_total')).toBe(1);
    expect(await rejected('bad_frame')).toBe(before + 1);
    await stillGood();
  });

  it('a length longer than the body: 400 with the reason, counted', async () => {
    const before = await rejected('bad_frame');
    const res = await post('9000 <190>1 2026-11-22T10:00:00Z host app web.1 - count#x=1\n');
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('no usable frame: FRAME_TRUNCATED\n');
    expect(await rejected('bad_frame')).toBe(before + 1);
    await stillGood();
  });

  it('a length of ten digits, and lengths that are not digits: 400, counted', async () => {
    const before = await rejected('bad_frame');
    expect((await post('1234567890 <190>1 - h a p - x\n')).status).toBe(400);
    expect((await post('abc <190>1 - h a p - x\n-5 y\n0x10 z\n')).status).toBe(400);
    expect(await rejected('bad_frame')).toBe(before + 4);
    await stillGood();
  });

  it('NUL bytes and invalid UTF-8 are bytes: counted as lines, nothing breaks', async () => {
    const body = Buffer.concat([
      Buffer.from(frame(syslog(iso(Date.now()), 'app', 'web.1', 'count#nul=1 msg=a\u0000b source=x\u0000y'))),
      Buffer.from('60 <190>1 2026-11-22T10:00:00Z host app web.1 - count#utf=1 source='),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a]),
    ]);
    const res = await post(body);
    expect(res.status).toBe(204);
    const m = await metrics();
    expect(value(m, 'nul_total')).toBe(1);
    expect(find(m, 'utf_total')).toHaveLength(1);
    await stillGood();
  });

  it('a 1 MB single line is read whole', async () => {
    const filler = 'x'.repeat(1_000_000);
    const res = await post(frame(syslog(iso(Date.now()), 'app', 'web.1', `count#big=1 junk=${filler}`)));
    expect(res.status).toBe(204);
    expect(value(await metrics(), 'big_total')).toBe(1);
    await stillGood();
  });

  it('a line with 10,000 keys: every metric in it counts, up to the series limits', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}=v`).join(' ');
    const res = await post(frame(syslog(iso(Date.now()), 'app', 'web.1', `${keys} count#wide=1`)));
    expect(res.status).toBe(204);
    expect(value(await metrics(), 'wide_total')).toBe(1);
    await stillGood();
  });

  it('100,000 distinct names from one app: refused past its limits, other apps unaffected, memory bounded', async () => {
    const rss = process.memoryUsage().rss;
    for (let b = 0; b < 100; b++) {
      const messages = Array.from({ length: 1000 }, (_, i) => syslog(iso(Date.now()), 'app', 'web.1', `count#flood.m${b * 1000 + i}=1`));
      expect((await post(logplexBody(messages), {}, 'flood')).status).toBe(204);
    }
    const m = await metrics();
    // The app's own metrics hold its limit (1,000) less the platform's fifth (docs/isolation.md).
    expect(value(m, 'drainmeter_series', { app: 'flood' })).toBe(800);
    expect(value(m, 'drainmeter_rejected_total', { app: 'flood', reason: 'series_limit' })).toBe(99_200);
    // Another app still makes new series and new names.
    expect((await post(logplexBody([syslog(iso(Date.now()), 'app', 'web.1', 'count#fresh.name=1')]), {}, 'other')).status).toBe(204);
    expect(value(await metrics(), 'fresh_name_total', { app: 'other' })).toBe(1);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
    await stillGood();
  }, 60_000);

  it('a body over the limit: 413, nothing of it counted', async () => {
    const lines = Array.from({ length: 6000 }, () => syslog(iso(Date.now()), 'app', 'web.1', 'count#over=1 pad=' + 'p'.repeat(150)));
    const body = logplexBody(lines);
    expect(body.length).toBeGreaterThan(1 << 20);
    const res = await post(body);
    expect(res.status).toBe(413);
    const m = await metrics();
    expect(find(m, 'over_total')).toEqual([]);
    expect(value(m, 'drainmeter_requests_total', { route: 'logs', status: '413' })).toBe(1);
    await stillGood();
  });

  it('wrong and missing credentials: 401, nothing counted', async () => {
    const body = logplexBody([syslog(iso(Date.now()), 'app', 'web.1', 'count#sneak=1')]);
    expect((await fetch(`${base}/logs`, { method: 'POST', headers: LOGPLEX, body })).status).toBe(401);
    expect((await post(body, { Authorization: 'Basic ' + Buffer.from('shop:wrong').toString('base64') })).status).toBe(401);
    expect((await post(body, { Authorization: 'Bearer admin' })).status).toBe(401);
    const m = await metrics();
    expect(find(m, 'sneak_total')).toEqual([]);
    expect(value(m, 'drainmeter_requests_total', { route: 'logs', status: '401' })).toBe(3);
    await stillGood();
  });

  it('every wrong content type: 415', async () => {
    const body = logplexBody([syslog(iso(Date.now()), 'app', 'web.1', 'count#typed=1')]);
    for (const type of ['application/json', 'application/octet-stream', 'application/logplex-2', 'text/html', 'multipart/form-data; boundary=x']) {
      expect((await post(body, { 'Content-Type': type })).status).toBe(415);
    }
    expect(find(await metrics(), 'typed_total')).toEqual([]);
    const counted = value(await metrics(), 'drainmeter_requests_total', { route: 'logs', status: '415' });
    expect(counted).toBeGreaterThanOrEqual(5);
    await stillGood();
  });

  it('a request that sends headers and never its body is closed by the server', async () => {
    const head = `POST /logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/logplex-1\r\nAuthorization: ${auth('shop')}\r\nContent-Length: 5000\r\n\r\n`;
    const { closed } = await raw(head, 5000);
    expect(closed).toBe(true);
    const slow = await raw('POST /logs HTTP/1.1\r\nHost: x\r\n', 5000);
    expect(slow.closed).toBe(true);
    await stillGood();
  });

  it('a client that disconnects mid-body: nothing of that body counted', async () => {
    const body = logplexBody(Array.from({ length: 200 }, () => syslog(iso(Date.now()), 'app', 'web.1', 'count#cut=1')));
    const head = `POST /logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/logplex-1\r\nAuthorization: ${auth('shop')}\r\nContent-Length: ${body.length}\r\n\r\n`;
    await raw(Buffer.concat([Buffer.from(head), body.subarray(0, body.length >> 1)]), 200, true);
    await new Promise((r) => setTimeout(r, 200));
    expect(find(await metrics(), 'cut_total')).toEqual([]);
    await stillGood();
  });
});
