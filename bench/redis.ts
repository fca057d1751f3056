// What joining receivers through Redis costs Redis (docs/scale-out.md): commands and bytes per
// 100-line batch and per hand-over, and Redis memory per series. A real redis-server
// on a free port, one `drainmeter serve` with REDIS_URL; counts from INFO
// commandstats and stats, memory from MEMORY USAGE of our keys.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { redisServer } from './lib.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function info(port: number, section: string): Map<string, string> {
  const out = execFileSync('redis-cli', ['-p', String(port), 'info', section], { encoding: 'utf8' });
  const m = new Map<string, string>();
  for (const line of out.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

function calls(port: number): number {
  let n = 0;
  for (const [k, v] of info(port, 'commandstats')) if (k.startsWith('cmdstat_') && !k.startsWith('cmdstat_info')) n += Number(/calls=(\d+)/.exec(v)?.[1] ?? 0);
  return n;
}

function net(port: number): number {
  const s = info(port, 'stats');
  return Number(s.get('total_net_input_bytes')) + Number(s.get('total_net_output_bytes'));
}

async function serve(redisPort: number): Promise<{ child: ChildProcess; port: number }> {
  const cli = new URL('../src/cli.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0'], {
    env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${redisPort}`, DRAINMETER_INSTANCE: 'bench', DRAINMETER_MAX_SERIES: '200000', DRAINMETER_MAX_SERIES_PER_APP: '200000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /msg=listening port=(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  return { child, port };
}

/** A self-metric of the receiver (open mode: /metrics needs no credentials). */
async function gauge(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

async function post(port: number, body: string, frameId: string): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', headers: { 'content-type': 'text/plain', 'logplex-frame-id': frameId }, body });
  await r.arrayBuffer();
  if (r.status !== 204) throw new Error(`status ${r.status}`);
}

export async function redisBench(): Promise<string> {
  const redis = await redisServer();
  if (redis === null) return '### Redis\n\nskipped: redis-server is not installed (Debian package `redis-server`).';
  const port = redis.port;
  const { child, port: http } = await serve(port);
  try {
    await sleep(1_000);
    const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
    // 1. Steady traffic: 100-line batches of 50 series (measures, counters, samples), 4 s.
    const c0 = calls(port);
    const b0 = net(port);
    const started = Date.now();
    let batches = 0;
    while (Date.now() - started < 4_000) {
      const lines = [];
      for (let i = 0; i < 100; i++) lines.push(`measure#db.latency=${1 + (i % 50)}ms count#orders=1 sample#queue=${i} source=web.${i % 17}`);
      await post(http, lines.join('\n'), `steady-${batches++}`);
    }
    await sleep(1_000);
    const seconds = (Date.now() - started) / 1000;
    const steadyCalls = calls(port) - c0;
    const steadyBytes = net(port) - b0;
    const handOvers = seconds * 4; // one payload per 250 ms tick with lines
    // 2. Memory: 100,000 measure series (10 apps' worth of names under one app's drain is
    // the same cost: a hash field pair per series), one value each.
    const before = Number(info(port, 'memory').get('used_memory'));
    const filled = Date.now();
    const apps = 10;
    const perApp = 10_000;
    for (let a = 0; a < apps; a++) {
      for (let b = 0; b < perApp / 1000; b++) {
        const lines = [];
        for (let i = 0; i < 1000; i++) lines.push(`measure#app${a}.latency=${1 + (i % 300)}ms source=s${b * 1000 + i}`);
        await post(http, lines.join('\n'), `fill-${a}-${b}`);
      }
    }
    // Each hand-over takes one app's share (docs/scale-out.md): the 100,000 series
    // reach Redis over several; waited for.
    const posted = Date.now();
    for (let i = 0; i < 600 && ((await gauge(http, 'drainmeter_handover_waiting_series')) !== 0 || (await gauge(http, 'drainmeter_redis_pending_payloads')) !== 0); i++) await sleep(100);
    const handedOver = Date.now();
    await sleep(1_000);
    const after = Number(info(port, 'memory').get('used_memory'));
    const usage = (key: string) => Number(execFileSync('redis-cli', ['-p', String(port), 'memory', 'usage', key, 'samples', '0'], { encoding: 'utf8' }).trim() || 0);
    const hashes = usage('{dm}:a:default');
    const stream = usage('{dm}:s');
    const series = apps * perApp;
    return [
      '### Redis: what joining receivers costs (one receiver, a real redis-server)',
      '',
      '| measure | value |',
      '|---|---:|',
      `| steady traffic: 100-line batches, 50 live series, ${f(batches / seconds)} batches/s | ${f(steadyCalls / seconds, 1)} Redis commands/s, ${f(steadyBytes / seconds / 1024, 1)} KB/s |`,
      `| per batch (a Frame-Id SET NX, its share of the payloads; the scripts' inner HINCRBYFLOATs counted as commands) | ${f(steadyCalls / batches, 2)} commands, ${f(steadyBytes / batches)} bytes |`,
      `| per hand-over (one EVALSHA per 250 ms tick with lines; ~${f(handOvers)} in the run) | ${f(steadyBytes / handOvers)} bytes |`,
      `| Redis memory, 100,000 measure series, totals (hashes) | ${f(hashes / series, 1)} bytes/series |`,
      `| Redis memory, the stream holding those lines' payloads (kept ${60 + 2 + 1 + 10} s) | ${f(stream / series, 1)} bytes/series |`,
      `| used_memory growth for the 100,000 series | ${f((after - before) / 1024 / 1024, 1)} MB |`,
      `| posting the 100,000 series (100 batches of 1,000 lines), then until every change is in Redis | ${f((posted - filled) / 1000, 1)} s, then ${f((handedOver - posted) / 1000, 1)} s |`,
    ].join('\n');
  } finally {
    child.kill('SIGTERM');
    await sleep(500);
    redis.stop();
  }
}
