// A real PostgreSQL for the history tests and benchmarks: Debian's binaries, a
// cluster made by initdb in a temp dir owned by the unprivileged `postgres` user
// (PostgreSQL refuses to run as root), trust auth, listening on 127.0.0.1 and a free
// port. stop() and start() again keep the data (the store's outage tests).

import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, installed } from './real.js';

export interface Postgres {
  url: string;
  port: number;
  start(): void;
  stop(): void;
  /** Stops it and removes its data. */
  remove(): void;
}

/** The newest Debian PostgreSQL's bin directory, or null. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? null : join(root, versions[0], 'bin');
}

/** Whether a PostgreSQL can be started here (skip on a laptop without one, fail in CI). */
export function postgresInstalled(): boolean {
  const bin = postgresBin();
  return installed('PostgreSQL', 'postgresql', [bin === null ? 'false' : join(bin, 'pg_ctl'), '--version'], ['runuser', '--help'], ['id', 'postgres']);
}

function asPostgres(args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'ignore' });
  else execFileSync(args[0], args.slice(1), { stdio: 'ignore' });
}

export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  if (bin === null) throw new Error('no PostgreSQL in /usr/lib/postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'drainmeter-pg-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  asPostgres([join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c shared_buffers=32MB`;
  const start = () => asPostgres([join(bin, 'pg_ctl'), '-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  const stop = () => asPostgres([join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    remove() {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
