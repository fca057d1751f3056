// Shared benchmark plumbing: run tasks over a corpus in several rounds, take the
// median of each task's median iteration time, and print lines/s, MB/s and the ratio
// to a baseline measured in the same run.

import { cpus } from 'node:os';
import { Bench } from 'tinybench';

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

function median(xs: number[]): number {
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
  const perTask = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time, warmupTime: 200 });
    for (const t of tasks) bench.add(t.name, t.fn);
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`benchmark ${task.name}: ${result.state}`);
      const list = perTask.get(task.name) ?? [];
      list.push(result.latency.p50); // ms per call
      perTask.set(task.name, list);
    }
  }
  const rows = tasks.map((t) => {
    const ms = median(perTask.get(t.name) ?? [NaN]);
    return { name: t.name, linesPerSec: (t.lines / ms) * 1000, mbPerSec: (t.bytes / ms) * 1000 / 1e6, ratio: 0 };
  });
  const base = rows.find((r) => r.name === baseline);
  for (const r of rows) r.ratio = base ? r.linesPerSec / base.linesPerSec : NaN;
  return rows;
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
