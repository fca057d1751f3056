// The live table of `drainmeter tail`, seen through a real terminal (tmux): on a
// terminal, table is the default format, and the rows are what a user sees.
// Skips where tmux is missing; fails in CI.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { cliLine, ROUTER_INFO } from '../../fixtures/heroku.js';

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = hasTmux();
if (!available && process.env.CI === 'true') throw new Error('CI: tmux must be installed (.ci/run installs it)');
if (!available) console.warn('skipping the live table test: install tmux');

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!available)('drainmeter tail on a terminal', () => {
  it('shows the live table by default: a row per series with count and percentiles', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-table-'));
    const T = Date.UTC(2026, 10, 21, 12, 0, 0);
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) {
      lines.push(cliLine(iso(T + i * 20), 'heroku', 'router', ROUTER_INFO.replace('service=37ms', `service=${10 + i}ms`)));
      lines.push(cliLine(iso(T + i * 20), 'app', 'web.1', `measure#db.latency=${i + 1}ms count#orders=1 source=web.1`));
    }
    writeFileSync(join(dir, 'app.log'), lines.join('\n') + '\n');
    const session = `drainmeter-${process.pid}`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '40', `node ${CLI} tail ${join(dir, 'app.log')}; sleep 30`]);
    try {
      let screen = '';
      for (let i = 0; i < 50 && !screen.includes('db_latency_seconds'); i++) {
        await sleep(100);
        screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
      }
      expect(screen).toContain('drainmeter tail: 100 lines');
      expect(screen).toMatch(/metric\s+labels\s+count\/sum\/last\s+p50\s+p95\s+p99\s+max/);
      // 50 latencies of 1..50 ms: p50 about 0.025, p95 about 0.048; the p99 rank is
      // the 50th value, so p99 and max are exactly 0.05.
      expect(screen).toMatch(/db_latency_seconds\s+source=web\.1\s+50\s+0\.02\d+\s+0\.04\d+\s+0\.05\s+0\.05\n/);
      expect(screen).toMatch(/orders_total\s+source=web\.1\s+50/);
      expect(screen).toMatch(/heroku_router_requests_total\s+dyno=web\.1 status=201\s+50/);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  });
});
