// Shared benchmark plumbing: run tasks over a corpus in several short interleaved
// rounds and report medians. These machines are shared: a slow spell of a few
// seconds slows every function alike, so a ratio is taken within each round (both
// tasks under the same conditions) and the median of the rounds' ratios reported.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import type { Metric, ObservationSink, Tenant } from '../src/model/index.js';

/** Counts and sums what it is given, so no work can be optimised away. */
export class CountingSink implements ObservationSink {
  n = 0;
  sum = 0;
  time = 0;
  at(_app: Tenant, time: number): void {
    this.time = time;
  }
  observe(_metric: Metric, _l1: string, _l2: string, value: number): void {
    this.n++;
    this.sum += value;
  }
}

export interface Task {
  name: string;
  /** Processes the whole corpus once. */
  fn: () => unknown;
  /** Lines and bytes one call processes. */
  lines: number;
  bytes: number;
}

export interface Row {
  name: string;
  linesPerSec: number;
  mbPerSec: number;
  ratio: number;
}

/** The middle of `xs` (the mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `Node ${process.version}, ${cpu} (${cpus().length} cores), one core used`;
}

/** Runs every task `rounds` times (interleaved), returns rows relative to `baseline`. */
export async function measure(tasks: Task[], baseline: string, rounds: number, time: number): Promise<Row[]> {
  const perTask = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time, warmupTime: 200 });
    for (const t of tasks) bench.add(t.name, t.fn);
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`benchmark ${task.name}: ${result.state}`);
      perTask.get(task.name)?.push(result.latency.p50); // ms per call
    }
  }
  const baseTask = tasks.find((t) => t.name === baseline);
  const baseMs = perTask.get(baseline) ?? [];
  return tasks.map((t) => {
    const ms = perTask.get(t.name) ?? [];
    const m = median(ms);
    // lines/s of t over lines/s of the baseline, in each round
    const ratios = baseTask ? ms.map((x, i) => (t.lines / x) / (baseTask.lines / baseMs[i])) : [NaN];
    return { name: t.name, linesPerSec: (t.lines / m) * 1000, mbPerSec: ((t.bytes / m) * 1000) / 1e6, ratio: median(ratios) };
  });
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

export function table(rows: Row[], baseline: string): string {
  const lines = [`| task | lines/s | MB/s | × ${baseline} |`, '|---|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.name} | ${fmt(r.linesPerSec)} | ${fmt(r.mbPerSec)} | ${r.ratio.toFixed(2)}× |`);
  return lines.join('\n');
}

export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`correctness check failed before timing: ${what}`);
}

/** A free loopback port, for a server a suite starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server on a free loopback port with its data in a temp dir, nothing
 * persisted; null when redis-server is not installed.
 */
export async function redisServer(): Promise<{ port: number; url: string; stop(): void } | null> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'drainmeter-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  return { port, url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/**
 * Memory after a full collection, once the collector has let go of the typed
 * arrays' stores: V8 frees them after gc() returns (an arena renewed just before
 * still counted 100 MB of old slabs when read at once; bench/series.ts).
 */
export async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage();
}
