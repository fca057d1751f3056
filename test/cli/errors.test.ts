// The errors a newcomer meets first, each one line and its documented exit code
// (docs/cli.md): a busy port, a missing or binary file, a wrong password or path in
// replay's --url. And a gzip file is read as its lines, told by its magic bytes.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type Served } from '../support/served.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'drainmeter-errors-'));
const SECRET = 'errors-secret-0123456789';

describe('errors a newcomer meets', () => {
  let held: Server;
  let port = 0;
  beforeAll(async () => {
    held = createServer();
    port = await new Promise<number>((resolve) => held.listen(0, '127.0.0.1', () => resolve((held.address() as { port: number }).port)));
  });
  afterAll(() => held.close());

  it('a busy port: one line naming it, exit 2, for serve and tail --listen', async () => {
    const serve = await run(['serve', '--port', String(port)]);
    expect(serve).toMatchObject({ code: 2, stderr: `drainmeter: port ${port} on 127.0.0.1 is in use by another process (PORT / --port): stop it or choose another port\n` });
    const tail = await run(['tail', '--format', 'logfmt', '--listen', String(port)]);
    expect(tail).toMatchObject({ code: 2, stderr: `drainmeter: port ${port} on 127.0.0.1 is in use by another process (--listen): stop it or choose another port\n` });
  });

  it('a missing file: one line, exit 2, for tail and replay', async () => {
    expect(await run(['tail', '--format', 'logfmt', join(dir, 'nope.log')])).toMatchObject({ code: 2, stdout: '', stderr: `drainmeter: cannot read ${join(dir, 'nope.log')}: no such file\n` });
    expect(await run(['replay', join(dir, 'nope.log'), '--url', 'http://127.0.0.1:9/logs'])).toMatchObject({ code: 2, stderr: `drainmeter: cannot read ${join(dir, 'nope.log')}: no such file\n` });
  });

  it('a binary file: refused with one line, exit 2; a gzip one read through zlib, whatever its name', async () => {
    const binary = join(dir, 'core.log');
    writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0xff, 0xfe]));
    expect(await run(['tail', '--format', 'logfmt', binary])).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^drainmeter: .*core\.log is not text \(NUL bytes or invalid UTF-8 in its first 1024 bytes\)[^\n]*\n$/) });
    const latin1 = join(dir, 'latin1.log');
    writeFileSync(latin1, Buffer.from('count#caf\xe9=1\n', 'latin1'));
    expect((await run(['tail', '--format', 'logfmt', latin1])).code).toBe(2);
    // Not named .gz: told by its magic bytes 1f 8b.
    const gz = join(dir, 'app.log');
    writeFileSync(gz, gzipSync('count#orders=2 source=web.1\ncount#orders=3 source=web.1\n'));
    const r = await run(['tail', '--format', 'prom', gz]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('orders_total{app="default",source="web.1"} 5\n');
    expect(r.stderr).toBe('');
  });

  describe('replay against a drain that refuses it', () => {
    let drain: Served;
    const file = join(dir, 'many.log');
    beforeAll(async () => {
      writeFileSync(file, 'count#x=1\n'.repeat(400));
      drain = await startServe({ DRAINMETER_SECRETS: SECRET, DRAINMETER_HOST: '127.0.0.1' });
    });
    afterAll(() => drain.stop());

    it('stops at the first 401 with one line, exit 1', async () => {
      const r = await run(['replay', file, '--url', `http://shop:wrong@127.0.0.1:${drain.port}/logs`, '--batch', '10']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`drainmeter: http://127.0.0.1:${drain.port}/logs answered 401: the user name or password in --url is wrong (drainmeter token APP prints the drain URL); stopped after 0 lines sent\n`);
    });

    it('stops at the first 404 with one line, exit 1', async () => {
      const r = await run(['replay', file, '--url', `http://127.0.0.1:${drain.port}/nowhere`, '--batch', '10']);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(r.stderr).toContain('/nowhere answered 404: no drain at this path (a drain is at /logs)');
    });
  });
});
