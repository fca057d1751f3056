// One app's dashboard queries against another app's drain: `drainmeter serve` (the
// CLI given, default this build's) holds 5,000 measure series of app `heavy` with 40 s
// of history; app `victim` posts a 20-line body every 20 ms, one at a time, and its
// POST /logs latency is recorded, first alone, then while 16 clients ask
// `dashboard/history.json?app=heavy&metric=req_seconds&limit=1000` (with `mix`, a
// search, the overview and the index too) as fast as they are answered. Prints p50
// and p99 of the victim's POSTs in both phases, and how the heavy queries were
// answered (200, 429).
//
//   npm run build && node dist/bench/dashboard-isolation.js [path/to/cli.js] [mix]

import { spawn } from 'node:child_process';
import { drainPassword } from '../src/server/auth.js';

const CLI = process.argv[2] !== undefined && process.argv[2] !== 'heavy' ? process.argv[2] : new URL('../src/cli.js', import.meta.url).pathname;
const SECRET = 'bench-secret-of-32-characters-xx';
const SERIES = 5000;
const FILL_S = 40;
const PHASE_MS = 10_000;
const CLIENTS = 16;
const basic = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)];
}

async function post(base: string, app: string, lines: string[]): Promise<number> {
  const stamp = new Date().toISOString();
  const body = lines.map((l) => `${stamp} ${l}\n`).join('');
  const t = performance.now();
  const r = await fetch(`${base}/logs`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: basic(app) }, body });
  await r.arrayBuffer();
  if (r.status !== 204) throw new Error(`POST ${r.status}`);
  return performance.now() - t;
}

async function victim(base: string, until: number): Promise<number[]> {
  const ms: number[] = [];
  const lines = Array.from({ length: 20 }, (_, i) => `app[web.1]: measure#db.latency=${i + 1}ms count#orders=1 source=web.1`);
  while (Date.now() < until) {
    ms.push(await post(base, 'victim', lines));
    await new Promise((r) => setTimeout(r, 20));
  }
  return ms;
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', DRAINMETER_SECRETS: SECRET, DRAINMETER_HOST: '127.0.0.1', DRAINMETER_MAX_SERIES_PER_APP: '20000' },
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
  const base = `http://127.0.0.1:${port}`;
  try {
    // Fill: every second, one value for each of heavy's series.
    for (let s = 0; s < FILL_S; s++) {
      const t = Date.now();
      for (let from = 0; from < SERIES; from += 1000) {
        await post(base, 'heavy', Array.from({ length: 1000 }, (_, i) => `app[web.1]: measure#req=${(i % 97) + 1}ms source=s-${from + i}`));
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - t))));
    }
    await new Promise((r) => setTimeout(r, 3000));
    const alone = await victim(base, Date.now() + PHASE_MS);
    // The heavy clients in a process of their own: their 3 MB answers do not delay the victim's timing here.
    const clients = spawn(process.execPath, [new URL(import.meta.url).pathname, 'heavy', base, process.argv[3] ?? ''], { stdio: ['ignore', 'pipe', 'inherit'] });
    let answers = '';
    clients.stdout?.on('data', (d: Buffer) => (answers += d.toString()));
    const finished = new Promise((r) => clients.on('exit', r));
    await new Promise((r) => setTimeout(r, 500));
    const during = await victim(base, Date.now() + PHASE_MS);
    clients.kill('SIGTERM');
    await finished;
    const row = (xs: number[]) => `p50 ${percentile(xs, 0.5).toFixed(1)} ms, p99 ${percentile(xs, 0.99).toFixed(1)} ms (${xs.length} POSTs)`;
    console.log(`cli ${CLI}`);
    console.log(`victim alone:                 ${row(alone)}`);
    console.log(`victim during ${CLIENTS} heavy clients: ${row(during)}`);
    console.log(`heavy answers: ${answers.trim()}`);
  } finally {
    child.kill('SIGTERM');
  }
}

/** The 16 heavy clients, until SIGTERM: prints how they were answered. */
async function heavy(base: string, mix: boolean): Promise<void> {
  const statuses = new Map<number, number>();
  const queries = ['dashboard/history.json?app=heavy&metric=req_seconds&limit=1000'];
  if (mix) queries.push('dashboard/history.json?app=heavy&metric=req_seconds&limit=1000&q=s-4', 'dashboard/overview.json?app=heavy', 'dashboard/index.json');
  let stop = false;
  process.once('SIGTERM', () => (stop = true));
  const client = async (n: number) => {
    let i = n;
    while (!stop) {
      const r = await fetch(`${base}/${queries[i++ % queries.length]}`, { headers: { authorization: basic('heavy') } });
      await r.arrayBuffer();
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 429) await new Promise((res) => setTimeout(res, 50));
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  console.log([...statuses].map(([s, n]) => `${s}×${n}`).join(' '));
}

if (process.argv[2] === 'heavy') await heavy(process.argv[3], process.argv[4] === 'mix');
else await main();
