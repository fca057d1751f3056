// What the tests against real components share: whether a program is installed
// (skip on a laptop without it, fail in CI), a free loopback port, waiting for a
// port to listen, and a real Prometheus started on one with its data in a temp dir.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether every [program, ...args] runs; else a warning, and in CI an error naming what to install. */
export function installed(what: string, packages: string, ...commands: string[][]): boolean {
  const ok = commands.every(([bin, ...args]) => {
    try {
      execFileSync(bin, args, { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!ok && process.env.CI === 'true') throw new Error(`CI: ${what} need the Debian packages ${packages} (.ci/run installs them)`);
  if (!ok) console.warn(`skipping ${what}: install the Debian packages ${packages}`);
  return ok;
}

/** Waits until `f` gives what `done` accepts, or about `ms`; gives the last value either way. */
export async function until<T>(f: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  let v = await f();
  for (let waited = 0; !done(v) && waited < ms; waited += 200) {
    await sleep(200);
    v = await f();
  }
  return v;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** A native histogram as the query API gives it: buckets are [boundary rule, lower, upper, count]. */
export interface HistogramValue {
  count: string;
  sum: string;
  buckets?: [number, string, string, string][];
}

export interface Result {
  metric: Record<string, string>;
  value?: [number, string];
  /** A range query's samples. */
  values?: [number, string][];
  histogram?: [number, HistogramValue];
}

export interface Prometheus {
  port: number;
  child: ChildProcess;
  /** The first result's value of an instant PromQL query, or null. */
  query(q: string, at?: number): Promise<number | null>;
  /** Every result of an instant query: labels and value, or labels and native histogram. */
  results(q: string, at?: number): Promise<Result[]>;
  stop(): void;
}

/** A Prometheus on a free port with `config` (YAML) and extra flags, data in a temp dir; resolves once it is ready. */
export async function startPrometheus(config: string, flags: string[] = [], port?: number): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'drainmeter-prom-'));
  const p = port ?? (await freePort());
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const child = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${p}`, ...flags], {
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${p}`;
  const results = async (q: string, at?: number) => {
    try {
      const url = `${base}/api/v1/query?query=${encodeURIComponent(q)}${at === undefined ? '' : `&time=${at}`}`;
      const r = (await (await fetch(url)).json()) as { data?: { result?: Result[] } };
      return r.data?.result ?? [];
    } catch {
      return [];
    }
  };
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${base}/-/ready`)).ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error('prometheus exited at start');
    await sleep(100);
  }
  return {
    port: p,
    child,
    results,
    query: async (q, at) => {
      const v = (await results(q, at))[0]?.value?.[1];
      return v === undefined ? null : Number(v);
    },
    stop: () => child.kill('SIGTERM'),
  };
}

export interface RedisServer {
  port: number;
  url: string;
  /** Runs a redis-cli command against it, returns its output. */
  cli(...args: string[]): string;
  /** Stops it (SIGTERM: it writes its append-only file first). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
}

/**
 * A real redis-server on a free loopback port, its data in a temp dir, persisted
 * (append-only file) across stop()/start(); `args` adds flags (`--maxmemory 25mb`).
 */
export async function startRedis(args: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'drainmeter-redis-'));
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', ...args], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !(await listening(port)); i++) await sleep(25);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cli: (...args) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }),
    stop: async () => {
      const c = child as ChildProcess | null;
      if (c === null || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    },
    start,
  };
}

/** Posts `line` as text to `base`/logs every 250 ms until the returned stop() is called; a stopped server is no error. */
export function keepPosting(base: string, line: string, headers: Record<string, string> = {}): () => Promise<void> {
  let going = true;
  const loop = (async () => {
    while (going) {
      await fetch(`${base}/logs`, { method: 'POST', headers: { 'Content-Type': 'text/plain', ...headers }, body: `${line}\n` }).then(
        (r) => r.arrayBuffer(),
        () => null, // the server stopped (a failed test's cleanup)
      );
      await sleep(250);
    }
  })();
  return async () => {
    going = false;
    await loop;
  };
}
