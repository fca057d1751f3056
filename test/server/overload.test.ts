// Overload (docs/limits.md): past an app's share of DRAINMETER_MAX_INFLIGHT (a quarter)
// of body bytes being read, 503 with Retry-After and nothing of that body counted,
// for that app only; under it, service resumes by itself.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { silentLogger } from '../../src/log.js';
import { type Running, serve } from '../../src/server/serve.js';
import { config, find, parseExposition } from './helpers.js';

let drain: Running;
let base = '';

beforeAll(async () => {
  drain = await serve(config({ PORT: '0', DRAINMETER_MAX_INFLIGHT: '65536' }), silentLogger);
  base = `http://127.0.0.1:${drain.port}`;
});

afterAll(async () => {
  await drain?.stop('test over');
});

const body = (name: string, n = 10) => logplexBody(Array.from({ length: n }, () => syslog(iso(Date.now()), 'app', 'web.1', `count#${name}=1`)));
// Open mode: a Basic user is the app label, unchecked.
const user = (app: string) => 'Basic ' + Buffer.from(`${app}:x`).toString('base64');
const post = (b: Buffer, app = 'hog') =>
  fetch(`${base}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1', Authorization: user(app) }, body: b });
const total = async (name: string, app = 'hog') =>
  find(parseExposition(await (await fetch(`${base}/metrics`)).text()), `${name}_total`, { app })[0]?.value ?? 0;

describe('overload', () => {
  it('answers 503 + Retry-After past the in-flight cap, counts nothing of it, and recovers by itself', async () => {
    // A slow client of `hog` announces 16,000 bytes (its share is 16,384) and sends a few.
    const url = new URL(base);
    const slow = connect(Number(url.port), url.hostname);
    await new Promise<void>((r) => slow.on('connect', () => r()));
    slow.write(`POST /logs HTTP/1.1\r\nHost: x\r\nAuthorization: ${user('hog')}\r\nContent-Type: application/logplex-1\r\nContent-Length: 16000\r\n\r\n20 `);
    await new Promise((r) => setTimeout(r, 100));

    const refused = await post(body('refused', 100));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await total('refused')).toBe(0);
    // Another app is answered as if the hog were not there.
    expect((await post(body('other', 100), 'other')).status).toBe(204);
    expect(await total('other', 'other')).toBe(100);

    slow.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const ok = await post(body('after', 100));
    expect(ok.status).toBe(204);
    expect(await total('after')).toBe(100);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(find(parseExposition(text), 'drainmeter_requests_total', { route: 'logs', status: '503' })[0].value).toBe(1);
  });
});
