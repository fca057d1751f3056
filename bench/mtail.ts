// `drainmeter tail --format prom` against `mtail --one_shot` (Debian mtail) on the
// same file of one million `heroku logs -t` lines, with an mtail program
// (bench/heroku.mtail) computing the same router and app counts. Both results must
// agree before either is timed. mtail runs with GOMAXPROCS=1: the comparison is per
// core, and drainmeter uses one.

import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cliLines, generate } from '../fixtures/corpus.js';
import { check } from './lib.js';

const LINES = 1_000_000;

interface Counts {
  requests: number;
  orders: number;
  latencies: number;
}

async function writeFile(path: string): Promise<void> {
  const out = createWriteStream(path);
  const start = Date.UTC(2026, 10, 21, 0, 0, 0);
  for (let block = 0; block < LINES / 100_000; block++) {
    const lines = cliLines(generate(100_000, { seed: 100 + block, start: start + block * 100_000, rate: 1000 }));
    if (!out.write(lines.join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

function ours(file: string): { seconds: number; counts: Counts } {
  const cli = new URL('../src/cli.js', import.meta.url).pathname;
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, 'tail', '--format', 'prom', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t) / 1000;
  check(r.status === 0, `tail exited ${r.status}: ${r.stderr}`);
  const sum = (re: RegExp) => [...r.stdout.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    seconds,
    counts: {
      requests: sum(/^heroku_router_requests_total\{[^}]*\} (\d+)$/gm),
      orders: sum(/^orders_created_total\{[^}]*\} (\d+)$/gm),
      latencies: sum(/^db_latency_seconds_count\{[^}]*\} (\d+)$/gm),
    },
  };
}

function mtail(file: string): { seconds: number; counts: Counts } {
  const prog = new URL('../../bench/heroku.mtail', import.meta.url).pathname;
  const t = performance.now();
  const r = spawnSync('mtail', ['--one_shot', '--progs', prog, '--logs', file, '--logtostderr'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, GOMAXPROCS: '1' },
  });
  const seconds = (performance.now() - t) / 1000;
  check(r.status === 0, `mtail exited ${r.status}: ${r.stderr.slice(-500)}`);
  const json = JSON.parse(r.stdout) as Record<string, { LabelValues: { Value: { Value: number } }[] }[]>;
  const sum = (name: string) => (json[name]?.[0]?.LabelValues ?? []).reduce((n, lv) => n + lv.Value.Value, 0);
  return { seconds, counts: { requests: sum('heroku_router_requests_total'), orders: sum('orders_created_total'), latencies: sum('db_latency_count') } };
}

export async function mtailBench(rounds: number): Promise<string> {
  try {
    execFileSync('mtail', ['--version'], { stdio: 'ignore' });
  } catch {
    return '### tail against mtail\n\nskipped: mtail is not installed (Debian package `mtail`).';
  }
  const dir = mkdtempSync(join(tmpdir(), 'drainmeter-mtail-'));
  const file = join(dir, 'heroku.log');
  await writeFile(file);
  const bytes = statSync(file).size;
  const times: Record<'ours' | 'mtail', number[]> = { ours: [], mtail: [] };
  for (let r = 0; r < rounds; r++) {
    const a = ours(file);
    const b = mtail(file);
    check(
      a.counts.requests === b.counts.requests && a.counts.orders === b.counts.orders && a.counts.latencies === b.counts.latencies,
      `counts differ: drainmeter ${JSON.stringify(a.counts)}, mtail ${JSON.stringify(b.counts)}`,
    );
    check(a.counts.requests > 0 && a.counts.orders > 0, 'nothing counted');
    times.ours.push(a.seconds);
    times.mtail.push(b.seconds);
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const ratios = times.ours.map((t, i) => times.mtail[i] / t);
  const row = (name: string, s: number, ratio: string) =>
    `| ${name} | ${s.toFixed(2)} s | ${Math.round(LINES / s).toLocaleString('en-US')} | ${(bytes / s / 1e6).toFixed(0)} | ${ratio} |`;
  return [
    `### tail against mtail: ${LINES.toLocaleString('en-US')} \`heroku logs -t\` lines (${(bytes / 1e6).toFixed(0)} MB), whole command, median of ${rounds}`,
    '',
    '| command | time | lines/s | MB/s | × mtail |',
    '|---|---:|---:|---:|---:|',
    row('mtail --one_shot (GOMAXPROCS=1), bench/heroku.mtail', med(times.mtail), '1.00×'),
    row('drainmeter tail --format prom', med(times.ours), `${med(ratios).toFixed(2)}×`),
    '',
    'Counts agreed in every round: router requests, orders created, db latency samples.',
  ].join('\n');
}
