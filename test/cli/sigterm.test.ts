// SIGTERM under load (docs/http-api.md): batches stream in, SIGTERM arrives, and every batch
// answered 204 is in the final flush of windows; the process exits 0 within 25 s.

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;
const LINES = 50;

describe('SIGTERM under load', () => {
  it('flushes every accepted batch and exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--windows', 'logfmt'], { env: { PATH: process.env.PATH } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const port = await new Promise<number>((resolve) => {
      const onData = () => {
        const m = /msg=listening port=(\d+)/.exec(out);
        if (m) {
          child.stdout.off('data', onData);
          resolve(Number(m[1]));
        }
      };
      child.stdout.on('data', onData);
    });

    let accepted = 0;
    let sent = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        const body = logplexBody(Array.from({ length: LINES }, () => syslog(iso(Date.now()), 'app', 'web.1', 'count#sigterm=1')));
        sent++;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1' }, body });
          if (res.status === 204) accepted++;
          else await res.arrayBuffer();
        } catch {
          // refused once the server has closed: not accepted, not counted
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const took = Date.now() - killedAt;
    stop = true;
    await Promise.all(clients);

    expect(code).toBe(0);
    expect(took).toBeLessThan(25_000);
    expect(accepted).toBeGreaterThan(10);
    const flushed = [...out.matchAll(/metric=sigterm_total .*sum=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(flushed).toBe(accepted * LINES);
    expect(sent).toBeGreaterThan(accepted);
    expect(out).toMatch(/at=info msg=stopped/);
  }, 40_000);
});
