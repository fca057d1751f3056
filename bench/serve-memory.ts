// The real built `serve`, at its defaults (the dashboard's history on), holding
// 100,000 live measure series fed over HTTP: 10 apps (the per-app default is 10,000)
// × 10 names × 1,000 sources, every series observed every second for SECONDS, as
// logplex bodies of one app-second each. Then its RSS (and the heap's own figures
// from its /metrics), and full bearer scrapes, timed. Environment given to serve is
// the caller's argv: `KEY=VALUE` words (MEMORY_AVAILABLE=512, as on a Standard-1X).
//
//   node dist/bench/serve-memory.js [SECONDS] [KEY=VALUE…]

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { iso, prng } from '../fixtures/corpus.js';
import { logplexBody, syslog } from '../fixtures/heroku.js';
import { drainPassword } from '../src/server/auth.js';
import { freePort, median } from './lib.js';

const SECRET = 'bench-secret-0123456789';
const TOKEN = 'bench-token-0123456789';
const CLI = new URL('../src/cli.js', import.meta.url).pathname;
const SECONDS = Number(process.argv[2] ?? 65);
const EXTRA = Object.fromEntries(process.argv.slice(3).map((kv) => kv.split('=', 2) as [string, string]));
const APPS = 10;
const NAMES = 10;
const SOURCES = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const auth = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

const port = await freePort();
const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((x) => x !== ''), CLI, 'serve', '--port', String(port)], {
  env: { PATH: process.env.PATH ?? '', DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_HOST: '127.0.0.1', ...EXTRA },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
while (!out.includes('msg=listening')) {
  if (child.exitCode !== null) throw new Error(`serve exited: ${out}`);
  await sleep(20);
}
const base = `http://127.0.0.1:${port}`;
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
const MB = 1024 * 1024;

const rand = prng(7);
/** One app's second: every one of its series observed once. */
function body(app: number, at: number): Buffer {
  const lines: string[] = [];
  for (let s = 0; s < SOURCES; s++) {
    let m = '';
    for (let n = 0; n < NAMES; n++) m += `measure#req.n${n}=${(1 + rand() * rand() * 2000).toFixed(1)}ms `;
    lines.push(syslog(iso(at), 'app', 'web.1', `${m}source=s${s}`));
  }
  return logplexBody(lines);
}

let peak = 0;
let refused = 0;
const started = performance.now();
for (let sec = 0; sec < SECONDS; sec++) {
  const at = Date.now();
  for (let a = 0; a < APPS; a++) {
    const r = await fetch(`${base}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1', Authorization: auth(`app${a}`) }, body: body(a, at) });
    await r.arrayBuffer();
    if (r.status !== 204) refused++;
  }
  peak = Math.max(peak, rss());
  if (process.env.BENCH_TRACE) console.error(`second ${sec}: rss ${Math.round(rss() / MB)} MB`);
  const next = started + (sec + 1) * 1000;
  if (performance.now() < next) await sleep(next - performance.now());
}
// BENCH_NODE_ARGS=--heapsnapshot-signal=SIGUSR2 BENCH_SNAPSHOT=1: a heap snapshot
// of serve before its first scrape, written to its working directory.
if (process.env.BENCH_SNAPSHOT) {
  child.kill('SIGUSR2');
  await sleep(Number(process.env.BENCH_SNAPSHOT) * 1000);
}
const scrape = async () => {
  const t = performance.now();
  const r = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const text = await r.text();
  return { ms: performance.now() - t, text };
};
const times: number[] = [];
let text = '';
for (let i = 0; i < 3; i++) {
  const s = await scrape();
  times.push(s.ms);
  text = s.text;
  peak = Math.max(peak, rss());
  if (process.env.BENCH_TRACE) console.error(`scrape ${i}: ${Math.round(s.ms)} ms, rss ${Math.round(rss() / MB)} MB`);
}
const gauge = (name: string, labels = '') => Number(new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
const result = {
  seconds: SECONDS,
  series: gauge('drainmeter_budget_used', '{budget="series"}'),
  maxSeries: gauge('drainmeter_budget_limit', '{budget="series",per="all"}'),
  refusedBodies: refused,
  rssMb: Math.round(rss() / MB),
  peakRssMb: Math.round(peak / MB),
  heapUsedMb: Math.round(gauge('nodejs_heap_size_used_bytes') / MB),
  heapTotalMb: Math.round(gauge('nodejs_heap_size_total_bytes') / MB),
  externalMb: Math.round(gauge('nodejs_external_memory_bytes') / MB),
  historyMb: Math.round(gauge('drainmeter_budget_used', '{budget="history"}') / MB),
  scrapeMs: Math.round(median(times)),
  scrapeMb: Math.round(Buffer.byteLength(text) / MB),
};
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
console.log(JSON.stringify(result));
