// `drainmeter replay` against a running serve: every line delivered exactly once,
// including when batches are answered 503 (before or after the server counted them).

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliLines, generate } from '../../fixtures/corpus.js';
import { silentLogger } from '../../src/log.js';
import { type Running, serve } from '../../src/server/serve.js';
import { config, find, parseExposition } from '../server/helpers.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('drainmeter replay', () => {
  let drain: Running;
  let proxy: Server;
  let proxyPort = 0;
  const seen = new Map<string, number>();
  let forwardedThen503 = 0;

  beforeAll(async () => {
    drain = await serve(config({ PORT: '0' }), silentLogger);
    // A proxy that answers 503 to the first try of every third batch without passing
    // it on, and passes every fifth batch on but answers 503 anyway (the drain has
    // counted it; the retry must not count again).
    let batch = 0;
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const id = String(req.headers['logplex-frame-id']);
        const tries = (seen.get(id) ?? 0) + 1;
        seen.set(id, tries);
        if (tries === 1) batch++;
        if (tries === 1 && batch % 3 === 0) {
          res.writeHead(503, { 'Retry-After': '0' }).end();
          return;
        }
        const upstream = await fetch(`http://127.0.0.1:${drain.port}/logs`, {
          method: 'POST',
          headers: { 'Content-Type': String(req.headers['content-type']), 'Logplex-Frame-Id': id },
          body: Buffer.concat(chunks),
        });
        if (tries === 1 && batch % 5 === 0) {
          forwardedThen503++;
          res.writeHead(503).end();
          return;
        }
        res.writeHead(upstream.status).end();
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyPort = (proxy.address() as { port: number }).port;
  });

  afterAll(async () => {
    proxy?.close();
    await drain?.stop('test over');
  });

  it('delivers every line exactly once through 503s, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-replay-'));
    const file = join(dir, 'app.log');
    const lines = cliLines(generate(2000, { seed: 8, start: Date.now() - 60_000, rate: 100 }));
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await run(['replay', file, '--url', `http://127.0.0.1:${proxyPort}/logs`, '--batch', '50']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sent=2000 batches=40 .* failed_batches=0 failed_lines=0\n$/);
    const retries = Number(/retries=(\d+)/.exec(r.stdout)?.[1]);
    expect(retries).toBeGreaterThanOrEqual(13 + forwardedThen503);
    expect(r.stderr).toContain('replay: 2000/2000 lines');
    const samples = parseExposition(await (await fetch(`http://127.0.0.1:${drain.port}/metrics`)).text());
    expect(find(samples, 'drainmeter_lines_total')[0].value).toBe(2000);
    expect(find(samples, 'drainmeter_duplicate_batches_total')[0].value).toBe(forwardedThen503);
    const routerLines = lines.filter((l) => l.includes(' heroku[router]: ')).length;
    const requests = find(samples, 'heroku_router_requests_total').reduce((n, s) => n + s.value, 0);
    expect(requests).toBe(routerLines);
  }, 60_000);

  it('says in one line that a file is not there, and exits 2', async () => {
    const r = await run(['replay', '/nonexistent/app.log', '--url', `http://127.0.0.1:${drain.port}/logs`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('drainmeter: cannot read /nonexistent/app.log: no such file\n');
  });

  it('stops at a 404 (a wrong path) with one line, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-replay-'));
    const file = join(dir, 'app.log');
    writeFileSync(file, 'count#x=1\n');
    const r = await run(['replay', file, '--url', `http://127.0.0.1:${drain.port}/nowhere`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`drainmeter: http://127.0.0.1:${drain.port}/nowhere answered 404: no drain at this path (a drain is at /logs); stopped after 0 lines sent\n`);
  });
});

/** A port with nothing listening: a free one, closed. */
function deadPort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe('drainmeter replay, errors', () => {
  it('fails at once with "connection refused" when nothing listens, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-replay-'));
    const file = join(dir, 'many.log');
    writeFileSync(file, 'count#x=1\n'.repeat(1000));
    const port = await deadPort();
    const started = Date.now();
    const r = await run(['replay', file, '--url', `http://127.0.0.1:${port}/logs`, '--batch', '10']);
    // 100 batches of up to 8 tries with pauses would take minutes; one refusal is enough.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`drainmeter: cannot reach http://127.0.0.1:${port}: connection refused (is drainmeter serve running there?)\n`);
  });

  it('fails at once on a port fetch refuses to use (the Fetch standard blocks 6000), exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-replay-'));
    const file = join(dir, 'many.log');
    writeFileSync(file, 'count#x=1\n'.repeat(1000));
    const started = Date.now();
    const r = await run(['replay', file, '--url', 'http://127.0.0.1:6000/logs', '--batch', '10']);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("drainmeter: cannot reach http://127.0.0.1:6000: fetch refuses port 6000 (the Fetch standard's blocked ports); run the drain on another port\n");
  });

  it('counts what the drain took in its progress, not what it read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-replay-'));
    const file = join(dir, 'some.log');
    writeFileSync(file, 'count#x=1\n'.repeat(30));
    // A drain that takes the first batch of 10, then refuses every other with a 400.
    let n = 0;
    const refusing = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(n++ === 0 ? 204 : 400).end());
    });
    const port = await new Promise<number>((resolve) => refusing.listen(0, '127.0.0.1', () => resolve((refusing.address() as { port: number }).port)));
    const { replay } = await import('../../src/replay.js');
    let err = '';
    const summary = await replay(
      file,
      { url: `http://127.0.0.1:${port}/logs`, rate: 0, batch: 10, now: false },
      { stdout: process.stdout, stderr: { write: (t: string) => ((err += t), true), isTTY: false } as never, now: Date.now, sleep: async () => {} },
    );
    refusing.close();
    expect(summary).toMatchObject({ lines: 10, failedBatches: 2, failedLines: 20 });
    expect(err).toContain('replay: 10/30 lines');
    expect(err).not.toContain('replay: 30/30');
    expect(err).toContain('dropped after 1 tries (last answer 400)');
  });
});
