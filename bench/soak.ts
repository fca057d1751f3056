// `npm run soak` (not a test): SOAK_MINUTES (10) of mixed good and bad traffic at a
// fixed rate against `drainmeter serve` in a process of its own, printing the server's
// RSS and event-loop delay (from its own /metrics) each minute. RSS must flatten, not
// grow. Sources churn (new ones appear, old ones stop) so series are made and, after
// the TTL (60 s here), evicted; an app floods new names; bad input of every kind of
// bad-input.test.ts arrives all along.

import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { iso, prng } from '../fixtures/corpus.js';
import { frame, logplexBody, ROUTER_INFO, syslog } from '../fixtures/heroku.js';
import { drainPassword } from '../src/server/auth.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const RATE = Number(process.env.SOAK_RATE ?? 100); // requests per second
const SECRET = 'soak-secret-0123456789';
const TOKEN = 'soak-token';

const auth = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

async function main(): Promise<void> {
  const cli = new URL('../src/cli.js', import.meta.url).pathname;
  const server = spawn(process.execPath, [cli, 'serve'], {
    env: { ...process.env, PORT: '0', DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_SERIES_TTL: '60', DRAINMETER_MAX_SERIES_PER_APP: '5000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => {
    let out = '';
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /msg=listening port=(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const rand = prng(77);
  const counts = { requests: 0, good: 0, bad: 0, answers: new Map<number, number>() };
  let tick = 0;

  const goodBody = () => {
    // 100 lines: router and app lines; sources drift, a new one every ~20 s.
    const epoch = Math.floor(tick / (RATE * 20));
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      const source = `web.${epoch * 4 + Math.floor(rand() * 4)}`;
      lines.push(
        rand() < 0.5
          ? syslog(iso(Date.now()), 'heroku', 'router', ROUTER_INFO.replace('dyno=web.1', `dyno=${source}`).replace('service=37ms', `service=${Math.floor(rand() * 500)}ms`))
          : syslog(iso(Date.now()), 'app', source, `measure#db.latency=${(rand() * 80).toFixed(1)}ms count#orders=1 sample#depth=${Math.floor(rand() * 20)} source=${source}`),
      );
    }
    return logplexBody(lines);
  };

  const bad: (() => Promise<number>)[] = [
    () => post('garbage without frames', auth('shop')),
    () => post(frame(syslog(iso(Date.now()), 'app', 'web.1', 'count#x=1')).slice(0, 40), auth('shop')),
    () => post('1234567890 <190>1 - h a p - x\n', auth('shop')),
    () => post(Buffer.from([0x35, 0x20, 0x00, 0xff, 0xfe, 0xc3, 0x28]), auth('shop')),
    () => post(goodBody(), 'Basic ' + Buffer.from('shop:wrong').toString('base64')),
    () => post(goodBody(), auth('shop'), 'application/json'),
    () => post(Buffer.alloc(1_200_000, 0x41), auth('shop')),
    () => post(logplexBody(Array.from({ length: 100 }, (_, i) => syslog(iso(Date.now()), 'app', 'web.1', `count#flood.n${tick}_${i}=1`))), auth('flood')),
    () => post(frame(syslog(iso(Date.now()), 'app', 'web.1', `measure#x=NaN measure#y=0x10 ${'k=v '.repeat(2000)}`)), auth('shop')),
    () => cutOff(),
  ];

  async function post(body: string | Buffer, authorization: string, type = 'application/logplex-1'): Promise<number> {
    try {
      const res = await fetch(`${base}/logs`, { method: 'POST', headers: { 'Content-Type': type, Authorization: authorization }, body });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  /** A client that sends half a body and goes away. */
  function cutOff(): Promise<number> {
    return new Promise((resolve) => {
      const body = goodBody();
      const s = connect(port, '127.0.0.1', () => {
        s.write(`POST /logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/logplex-1\r\nAuthorization: ${auth('shop')}\r\nContent-Length: ${body.length}\r\n\r\n`);
        s.write(body.subarray(0, body.length >> 1));
        s.destroy();
        resolve(0);
      });
      s.on('error', () => resolve(0));
    });
  }

  const report = async (minute: number) => {
    const text = await (await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    const get = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
    const rss = get(/^process_resident_memory_bytes (\S+)$/gm) / 1024 / 1024;
    const lag = get(/^nodejs_eventloop_lag_p99_seconds (\S+)$/gm) * 1000;
    const lagMax = get(/^nodejs_eventloop_lag_max_seconds (\S+)$/gm) * 1000;
    const series = get(/^drainmeter_series\{[^}]*\} (\S+)$/gm);
    const evicted = get(/^drainmeter_series_evicted_total\{[^}]*\} (\S+)$/gm);
    const lines = get(/^drainmeter_lines_total\{[^}]*\} (\S+)$/gm);
    const rejected = get(/^drainmeter_rejected_total\{[^}]*\} (\S+)$/gm);
    console.log(
      `minute=${minute} rss_mb=${rss.toFixed(0)} loop_lag_p99_ms=${lag.toFixed(1)} loop_lag_max_ms=${lagMax.toFixed(1)} ` +
        `requests=${counts.requests} good=${counts.good} bad=${counts.bad} lines=${lines} rejected=${rejected} series=${series} evicted=${evicted}`,
    );
  };

  const start = performance.now();
  let nextReport = 1;
  console.log(`soak: ${MINUTES} min at ${RATE} requests/s (a fifth of them bad), against serve on port ${port}`);
  await report(0);
  const inflight = new Set<Promise<void>>();
  while (performance.now() - start < MINUTES * 60_000) {
    const due = start + (tick / RATE) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    tick++;
    counts.requests++;
    const isBad = tick % 5 === 0;
    if (isBad) counts.bad++;
    else counts.good++;
    const p = (isBad ? bad[Math.floor(tick / 5) % bad.length]() : post(goodBody(), auth('shop'))).then((status) => {
      counts.answers.set(status, (counts.answers.get(status) ?? 0) + 1);
      inflight.delete(p);
    });
    inflight.add(p);
    if (inflight.size > 64) await Promise.race(inflight);
    if (performance.now() - start >= nextReport * 60_000) await report(nextReport++);
  }
  await Promise.all(inflight);
  await report(MINUTES);
  console.log(`answers: ${[...counts.answers.entries()].sort().map(([s, n]) => `${s || 'none'}=${n}`).join(' ')}`);
  server.kill('SIGTERM');
}

await main();
