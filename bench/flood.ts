// A victim's latency while another app floods the real `serve` with 1 MB bodies:
// alone, beside a flood of logplex bodies, and beside a flood of OTLP/JSON bodies
// nested `[[[…]]]` (docs/limits.md). Four attackers post back to back; the victim
// posts a 20-line logplex batch every 20 ms and times each answer. argv: the CLI to
// run (default: this build's), seconds a phase (default 6).
//
//   node dist/bench/flood.js [path/to/cli.js] [seconds]

import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { iso } from '../fixtures/corpus.js';
import { logplexBody, syslog } from '../fixtures/heroku.js';
import { drainPassword } from '../src/server/auth.js';
import { freePort, median } from './lib.js';

const SECRET = 'bench-secret-0123456789';
const CLI = process.argv[2] ?? new URL('../src/cli.js', import.meta.url).pathname;
const SECONDS = Number(process.argv[3] ?? 6);
const auth = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function start(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--max-old-space-size=512', CLI, 'serve', '--port', String(port)], {
    env: { PATH: process.env.PATH ?? '', DRAINMETER_SECRETS: SECRET, DRAINMETER_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  while (!out.includes('msg=listening')) await sleep(20);
  return child;
}

const MB = 1 << 20;
const logplex1mb = (() => {
  const line = syslog(iso(Date.now()), 'app', 'web.1', `count#flood=1 measure#flood.ms=3ms source=web.1 ${'x'.repeat(120)}`);
  return logplexBody(Array.from({ length: Math.floor((MB - 1024) / (line.length + 4)) }, () => line));
})();
const depth = (MB - 20) >> 1;
const nested1mb = Buffer.from(`{"resourceLogs":${'['.repeat(depth)}${']'.repeat(depth)}}`);
// As wide as 1 MB goes instead: a third of a million resources of nothing.
const wide1mb = Buffer.from(`{"resourceLogs":[${Array.from({ length: (MB - 20) / 3 }, () => '{}').join(',')}]}`);

async function phase(base: string, attack: { body: Buffer; path: string; type: string } | null): Promise<{ p50: number; p99: number; victim: number; attacks: number; statuses: string }> {
  const until = performance.now() + SECONDS * 1000;
  let attacks = 0;
  const statuses = new Map<number, number>();
  const attacker = async () => {
    while (attack !== null && performance.now() < until) {
      const r = await fetch(base + attack.path, { method: 'POST', headers: { 'Content-Type': attack.type, Authorization: auth('attacker') }, body: attack.body });
      await r.arrayBuffer();
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      attacks++;
    }
  };
  const times: number[] = [];
  const victim = async () => {
    await sleep(500); // the flood under way
    while (performance.now() < until) {
      const body = logplexBody(Array.from({ length: 20 }, (_, i) => syslog(iso(Date.now()), 'app', 'web.1', `measure#v.latency=${i}ms count#v.orders=1 source=web.1`)));
      const t = performance.now();
      const r = await fetch(`${base}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1', Authorization: auth('victim') }, body });
      await r.arrayBuffer();
      if (r.status !== 204) throw new Error(`victim answered ${r.status}`);
      times.push(performance.now() - t);
      await sleep(20);
    }
  };
  await Promise.all([attacker(), attacker(), attacker(), attacker(), victim()]);
  return {
    p50: Math.round(median(times) * 10) / 10,
    p99: Math.round(quantile(times, 0.99) * 10) / 10,
    victim: times.length,
    attacks,
    statuses: [...statuses].map(([s, n]) => `${n}×${s}`).join(' '),
  };
}

const port = await freePort();
const child = await start(port);
const base = `http://127.0.0.1:${port}`;
try {
  const rows = [
    ['alone', await phase(base, null)],
    ['1 MB logplex bodies', await phase(base, { body: logplex1mb, path: '/logs', type: 'application/logplex-1' })],
    ['1 MB OTLP/JSON nested [[[…]]]', await phase(base, { body: nested1mb, path: '/v1/logs', type: 'application/json' })],
    ['1 MB OTLP/JSON of empty resources [{},{},…]', await phase(base, { body: wide1mb, path: '/v1/logs', type: 'application/json' })],
  ] as const;
  console.log(`| flood (4 attackers, ${SECONDS} s) | victim p50 | victim p99 | victim batches | attack bodies answered |`);
  console.log('|---|---:|---:|---:|---|');
  for (const [what, r] of rows) console.log(`| ${what} | ${r.p50} ms | ${r.p99} ms | ${r.victim} | ${r.attacks}: ${r.statuses || '–'} |`);
} finally {
  child.kill('SIGTERM');
}
