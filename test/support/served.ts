// `drainmeter serve` as a child process on a free port: what the hostile-tenant and
// other real-socket tests drive, with the process's RSS read from /proc.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;

export interface Served {
  port: number;
  base: string;
  child: ChildProcess;
  /** Resident set size, bytes. */
  rss(): number;
  /** Everything the process printed. */
  output(): string;
  stop(): Promise<number | null>;
}

export async function startServe(env: Record<string, string>, nodeArgs: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /msg=listening port=(\d+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(Number(m[1]));
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`serve exited: ${out}`));
      }
    }, 20);
  });
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    child,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs `tasks` with at most `width` at once. */
export async function pool<T>(width: number, count: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return results;
}
