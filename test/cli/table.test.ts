// The live table of `drainmeter tail` (docs/dashboard.md), seen through a real terminal (tmux)
// at 160×45 and 80×24: on a terminal, table is the default format; the rows a user
// sees are sorted by traffic, with rates and quantiles over the last 10 s of the
// stream in human units, stale rows dimmed, rows gone quiet for a minute dropped, and
// every line within the terminal's width, no two rows' names cut to the same text
// (status=200 and status=204 never both `status=2…`). A quiet live stream (a pipe
// that stays open) ages on the wall clock: rows dim after 10 s, go after 60 s.
// Skips where tmux is missing; fails in CI.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { cliLine } from '../../fixtures/heroku.js';
import { installed, sleep } from '../support/real.js';

const available = installed('the live table test', 'tmux', ['tmux', '-V']);
const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;

const STATUSES = [200, 204, 500, 503];
const routerMessage = (dyno: string, status: number) => `at=info method=GET path="/" host=shop.herokuapp.com request_id=r fwd="203.0.113.9" dyno=${dyno} connect=1ms service=12ms status=${status} bytes=100 protocol=https`;

/** The name column of a table row: what comes before the numbers (the name holds single spaces only). */
const nameOf = (row: string) => row.split(/\s{2,}/)[0];

/** Every row's name is its own: distinct series never show the same (cut) name. */
function distinctNames(plain: string): string[] {
  const names = plain.split('\n').filter((r) => r.startsWith('heroku_') || r.startsWith('h…') || /status=/.test(r)).map(nameOf);
  expect(new Set(names).size, names.join('\n')).toBe(names.length);
  return names;
}

/** 80 seconds of a day-old log: latencies of i+1 ms and 2 orders each second; one series only at the start, one that stops at 65 s. */
function corpus(): string {
  const T = Date.UTC(2026, 10, 21, 12, 0, 0);
  const lines: string[] = [cliLine(iso(T), 'app', 'web.1', 'count#early=1 source=web.1')];
  for (let i = 0; i < 80; i++) {
    lines.push(cliLine(iso(T + i * 1000 + 500), 'app', 'web.1', `measure#db.latency=${i + 1}ms count#orders=2 sample#queue.depth=${i} source=web.1`));
    if (i <= 65) lines.push(cliLine(iso(T + i * 1000 + 500), 'app', 'web.2', 'count#paused=1 source=web.2'));
    for (const status of STATUSES) lines.push(cliLine(iso(T + i * 1000 + 600), 'heroku', 'router', routerMessage(i % 2 === 0 ? 'web.1' : 'web.12', status)));
  }
  const dir = mkdtempSync(join(tmpdir(), 'drainmeter-table-'));
  writeFileSync(join(dir, 'app.log'), lines.join('\n') + '\n');
  return join(dir, 'app.log');
}

/** Runs tail on `file` in a tmux pane of width × height; returns the final screen, with escapes (-e) and without. */
async function screenOf(file: string, width: number, height: number): Promise<{ plain: string; styled: string }> {
  const session = `drainmeter-${process.pid}-${width}`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', String(width), '-y', String(height), `node ${CLI} tail ${file}; sleep 30`]);
  try {
    let plain = '';
    for (let i = 0; i < 100 && !plain.includes('db_latency_seconds'); i++) {
      await sleep(100);
      plain = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    }
    await sleep(300);
    plain = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    const styled = execFileSync('tmux', ['capture-pane', '-p', '-e', '-t', session], { encoding: 'utf8' });
    return { plain, styled };
  } finally {
    execFileSync('tmux', ['kill-session', '-t', session]);
  }
}

describe.skipIf(!available)('drainmeter tail on a terminal', () => {
  const file = available ? corpus() : '';

  it('at 160×45: rows by traffic, rates and quantiles over the last 10 s with units, stale rows dimmed, quiet ones gone', async () => {
    const { plain, styled } = await screenOf(file, 160, 45);
    const rows = plain.split('\n');
    expect(plain).toContain('drainmeter tail: 467 lines');
    expect(plain).toMatch(/metric labels\s+per s\s+p50\s+p95\s+p99\s+max\/last/);
    const at = (name: string) => rows.findIndex((r) => r.startsWith(name));
    // Traffic: orders (2/s) before the 1/s rows; the stale row last; early (quiet for over a minute) gone.
    expect(at('orders_total source=web.1')).toBeGreaterThan(0);
    expect(at('orders_total source=web.1')).toBeLessThan(at('db_latency_seconds source=web.1'));
    expect(at('paused_total source=web.2')).toBeGreaterThan(at('queue_depth source=web.1'));
    expect(at('early_total')).toBe(-1);
    expect(rows[at('orders_total source=web.1')]).toMatch(/^orders_total source=web\.1\s+2$/);
    // The last 10 s hold latencies 71..80 ms: p50 the 5th (75 ms), p95 and p99 the 10th (80 ms), within 1%.
    const latency = rows[at('db_latency_seconds source=web.1')];
    expect(latency).toMatch(/^db_latency_seconds source=web\.1\s+1\s+(74\.\d|75(\.\d)?) ms\s+(79\.\d|80(\.\d)?) ms\s+(79\.\d|80(\.\d)?) ms\s+80 ms$/);
    expect(rows[at('queue_depth source=web.1')]).toMatch(/\s79$/);
    // The stale row is dimmed (SGR 2); the live ones are not.
    expect(styled.split('\n').find((l) => l.includes('paused_total'))).toMatch(/\u001b\[2m/);
    expect(styled.split('\n').find((l) => l.includes('orders_total'))).not.toMatch(/\u001b\[2m/);
    // One copy of the table: the alternate screen kept the redraws out of the scrollback.
    expect(plain.match(/metric labels/g)).toHaveLength(1);
  });

  it('at 80×24: fitted to the width, p50 left out, long names cut with … where they stay distinct', async () => {
    const { plain } = await screenOf(file, 80, 24);
    const rows = plain.split('\n').filter((r) => r !== '');
    for (const r of rows) expect(r.length).toBeLessThanOrEqual(80);
    // p50 left out below 100 columns; p95 too here, for the router's names to stay distinct (status=200, status=204).
    expect(plain).toMatch(/metric labels\s+per s\s+p99\s+max\/last/);
    expect(plain).not.toContain('p50');
    expect(plain).toMatch(/^db_latency_seconds source=web\.1\s+1\s+/m);
    // The router's rows are cut where they stay distinct: each dyno and status still told apart.
    const names = distinctNames(plain);
    expect(names.length).toBeGreaterThanOrEqual(2 * STATUSES.length);
    for (const status of STATUSES) expect(names.some((n) => n.includes(`status=${status}`)), String(status)).toBe(true);
  });

  it('at 160 columns: names whole, none cut', async () => {
    const { plain } = await screenOf(file, 160, 45);
    const names = distinctNames(plain);
    for (const n of names) expect(n).not.toContain('…');
  });

  it('a live stream gone quiet ages on the wall clock: rows dimmed after 10 s, gone after 60 s', async () => {
    // Lines stamped now, through a pipe that stays open (heroku logs -t | drainmeter tail).
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) lines.push(cliLine(iso(now - 5000 + i * 1000), 'app', 'web.1', `measure#db.latency=${i + 1}ms count#orders=2 source=web.1`));
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-live-'));
    writeFileSync(join(dir, 'live.log'), lines.join('\n') + '\n');
    const session = `drainmeter-${process.pid}-live`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '20', `(cat ${join(dir, 'live.log')}; sleep 120) | node ${CLI} tail`]);
    const capture = (styled: boolean) => execFileSync('tmux', ['capture-pane', '-p', ...(styled ? ['-e'] : []), '-t', session], { encoding: 'utf8' });
    const waitFor = async (what: (screen: string) => boolean, seconds: number, styled = false) => {
      let screen = '';
      for (let i = 0; i < seconds * 5; i++) {
        screen = capture(styled);
        if (what(screen)) return screen;
        await sleep(200);
      }
      throw new Error(`not within ${seconds} s:\n${screen}`);
    };
    const row = (screen: string) => screen.split('\n').find((l) => l.includes('orders_total'));
    try {
      // The windows close and show while the pipe is quiet: the wall clock moves them.
      await waitFor((s) => row(s) !== undefined, 15);
      // Dimmed once no window came for 10 s (SGR 2), with no lines arriving to say so.
      // (tmux writes an attribute where it changes: the dim run that starts above reaches this row.)
      const dim = await waitFor((s) => /\u001b\[2m[^\u001b]*orders_total/.test(s), 20, true);
      expect(dim).toMatch(/no input for \d+ s/);
      // Gone once quiet for 60 s.
      await waitFor((s) => row(s) === undefined && s.includes('metric labels'), 75);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  }, 120_000);
});
