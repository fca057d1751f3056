// `drainmeter tail --format prom` against `mtail --one_shot` (Debian mtail) on the
// same file of one million `heroku logs -t` lines, with an mtail program
// (bench/heroku.mtail) computing the same router and app counts. Both results must
// agree before either is timed. Each runs on one core (mtail with GOMAXPROCS=1,
// drainmeter with --threads 1) and on every core (mtail's default GOMAXPROCS,
// drainmeter's default threads: tail/threads.ts).

import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cliLines, generate } from '../fixtures/corpus.js';
import { check, median } from './lib.js';

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

function ours(file: string, cores: 'one' | 'all'): { seconds: number; counts: Counts } {
  const cli = new URL('../src/cli.js', import.meta.url).pathname;
  const t = performance.now();
  const threads = cores === 'one' ? ['--threads', '1'] : [];
  const r = spawnSync(process.execPath, [cli, 'tail', '--format', 'prom', ...threads, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
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

function mtail(file: string, cores: 'one' | 'all'): { seconds: number; counts: Counts } {
  const prog = new URL('../../bench/heroku.mtail', import.meta.url).pathname;
  const t = performance.now();
  const r = spawnSync('mtail', ['--one_shot', '--progs', prog, '--logs', file, '--logtostderr'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: cores === 'one' ? { ...process.env, GOMAXPROCS: '1' } : process.env,
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
  const times = { mtailOne: [] as number[], oursOne: [] as number[], mtailAll: [] as number[], oursAll: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const runs = { mtailOne: mtail(file, 'one'), oursOne: ours(file, 'one'), mtailAll: mtail(file, 'all'), oursAll: ours(file, 'all') };
    const b = runs.mtailOne;
    for (const [name, a] of Object.entries(runs)) {
      check(
        a.counts.requests === b.counts.requests && a.counts.orders === b.counts.orders && a.counts.latencies === b.counts.latencies,
        `counts differ: ${name} ${JSON.stringify(a.counts)}, mtail ${JSON.stringify(b.counts)}`,
      );
      times[name as keyof typeof times].push(a.seconds);
    }
    check(b.counts.requests > 0 && b.counts.orders > 0, 'nothing counted');
  }
  // Ratios per round (both in the same minute), then their median.
  const ratio = (of: number[], to: number[]) => `${median(of.map((t, i) => to[i] / t)).toFixed(2)}×`;
  const row = (name: string, xs: number[], r: string) => {
    const s = median(xs);
    return `| ${name} | ${s.toFixed(2)} s | ${Math.round(LINES / s).toLocaleString('en-US')} | ${(bytes / s / 1e6).toFixed(0)} | ${r} |`;
  };
  return [
    `### tail against mtail: ${LINES.toLocaleString('en-US')} \`heroku logs -t\` lines (${(bytes / 1e6).toFixed(0)} MB), whole command, median of ${rounds}`,
    '',
    '| command | time | lines/s | MB/s | × mtail, same cores |',
    '|---|---:|---:|---:|---:|',
    row('mtail --one_shot, one core (GOMAXPROCS=1), bench/heroku.mtail', times.mtailOne, '1.00×'),
    row('drainmeter tail --format prom --threads 1', times.oursOne, ratio(times.oursOne, times.mtailOne)),
    row(`mtail --one_shot, every core (${availableParallelism()})`, times.mtailAll, '1.00×'),
    row(`drainmeter tail --format prom, every core (${availableParallelism()} threads)`, times.oursAll, ratio(times.oursAll, times.mtailAll)),
    '',
    'Counts agreed in every round and every row: router requests, orders created, db latency samples.',
  ].join('\n');
}
