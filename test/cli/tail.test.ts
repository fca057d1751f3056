// `drainmeter tail` as a user runs it: lines on stdin or in files, windows printed.

import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { cliLine, logplexBody, syslog } from '../../fixtures/heroku.js';
import { find, parseExposition } from '../server/helpers.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;
const T = Date.UTC(2026, 10, 21, 12, 0, 0); // yesterday: a day-old log

function tail(input: string, args: string[] = []) {
  const r = spawnSync(process.execPath, [CLI, 'tail', ...args], { input, encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** logfmt window lines as objects. */
function windows(stdout: string): Record<string, string>[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Object.fromEntries([...l.matchAll(/(\S+?)=("(?:[^"\\]|\\.)*"|\S*)/g)].map((m) => [m[1], m[2].replace(/^"|"$/g, '')])));
}

const MESSAGES = [
  [0, 'measure#db.latency=21ms count#orders=2 sample#depth=7 source=web.1'],
  [300, 'measure#db.latency=40ms count#orders=1 sample#depth=9 source=web.1'],
  [600, 'measure#db.latency=4ms sample#depth=3 source=web.1'],
  [1200, 'measure#db.latency=100ms count#orders=5 sample#depth=1 source=web.1'],
] as const;

function expectWindows(stdout: string, second0: string, second1: string) {
  const w = windows(stdout);
  const at = (metric: string, time: string) => w.find((x) => x.metric === metric && x.time === time);
  expect(at('db_latency_seconds', second0)).toMatchObject({ source: 'web.1', count: '3', sum: String(0.021 + 0.04 + 0.004), min: '0.004', max: '0.04', p0: '0.004', p100: '0.04' });
  expect(at('orders_total', second0)).toMatchObject({ count: '2', sum: '3' });
  expect(at('depth', second0)).toMatchObject({ last: '3' });
  expect(at('db_latency_seconds', second1)).toMatchObject({ count: '1', min: '0.1', max: '0.1' });
  expect(at('orders_total', second1)).toMatchObject({ sum: '5' });
  expect(at('depth', second1)).toMatchObject({ last: '1' });
}

describe('drainmeter tail', () => {
  const s0 = new Date(T).toISOString();
  const s1 = new Date(T + 1000).toISOString();

  it('reads coloured `heroku logs -t` lines and prints each window, values exact', () => {
    const input = MESSAGES.map(([dt, m]) => cliLine(iso(T + dt), 'app', 'web.1', m)).join('\n') + '\n';
    const r = tail(input, ['--format', 'logfmt']);
    expect(r.code).toBe(0);
    expectWindows(r.stdout, s0, s1);
  });

  it('reads RFC 5424 lines the same way', () => {
    const input = MESSAGES.map(([dt, m]) => syslog(iso(T + dt), 'app', 'web.1', m)).join('');
    const r = tail(input, ['--format', 'logfmt']);
    expect(r.code).toBe(0);
    expectWindows(r.stdout, s0, s1);
  });

  it('reads bare logfmt lines at their arrival, and flushes every window at EOF', () => {
    const r = tail('count#hits=2 source=a\ncount#hits=3 source=a\nmeasure#t=5ms source=a\n', ['--format', 'logfmt']);
    expect(r.code).toBe(0);
    const w = windows(r.stdout);
    expect(w.filter((x) => x.metric === 'hits_total').reduce((n, x) => n + Number(x.sum), 0)).toBe(5);
    expect(w.find((x) => x.metric === 't_seconds')).toMatchObject({ count: '1', min: '0.005' });
  });

  it('reads files given as arguments, in order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-tail-'));
    writeFileSync(join(dir, 'a.log'), `${cliLine(iso(T), 'app', 'web.1', 'count#n=1', false)}\n`);
    writeFileSync(join(dir, 'b.log'), `${cliLine(iso(T + 100), 'app', 'web.1', 'count#n=2', false)}\n`);
    const r = spawnSync(process.execPath, [CLI, 'tail', '--format', 'logfmt', join(dir, 'a.log'), join(dir, 'b.log')], { encoding: 'utf8' });
    expect(windows(r.stdout).find((x) => x.metric === 'n_total')).toMatchObject({ time: s0, sum: '3' });
  });

  it("ends a file's last line at the file's end, LF or not, on one thread or several", () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-tail-'));
    writeFileSync(join(dir, 'a.log'), cliLine(iso(T), 'app', 'web.1', 'count#n=1', false));
    writeFileSync(join(dir, 'b.log'), `${cliLine(iso(T + 100), 'app', 'web.1', 'count#n=2', false)}\n`);
    for (const threads of ['1', '2']) {
      const r = spawnSync(process.execPath, [CLI, 'tail', '--format', 'prom', '--threads', threads, join(dir, 'a.log'), join(dir, 'b.log')], { encoding: 'utf8' });
      const samples = parseExposition(r.stdout);
      expect(find(samples, 'n_total')[0].value).toBe(3);
      expect(find(samples, 'drainmeter_lines_total')[0].value).toBe(2);
      expect(r.stderr).toBe('');
    }
  });

  it('prints one JSON object per window', () => {
    const input = MESSAGES.map(([dt, m]) => syslog(iso(T + dt), 'app', 'web.1', m)).join('');
    const records = tail(input, ['--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const latency = records.find((r) => r.metric === 'db_latency_seconds' && r.time === s0);
    expect(latency).toMatchObject({ kind: 'measure', labels: { app: 'default', source: 'web.1' }, count: 3, min: 0.004, max: 0.04 });
    expect(Object.keys(latency.quantiles)).toEqual(['p0', 'p50', 'p95', 'p99', 'p100']);
  });

  it('prints the exposition once at EOF with --format prom, late lines counted in totals only', () => {
    const input = [...MESSAGES.map(([dt, m]) => syslog(iso(T + dt), 'app', 'web.1', m)), syslog(iso(T + 10_000), 'app', 'web.1', 'count#orders=1 source=web.1'), syslog(iso(T), 'app', 'web.1', 'count#orders=100 source=web.1')].join('');
    const r = tail(input, ['--format', 'prom']);
    const samples = parseExposition(r.stdout);
    expect(find(samples, 'orders_total', { source: 'web.1' })[0].value).toBe(109);
    expect(find(samples, 'db_latency_seconds_count')[0].value).toBe(4);
    expect(find(samples, 'drainmeter_lines_total')[0].value).toBe(6);
    expect(find(samples, 'drainmeter_late_lines_total')[0].value).toBe(1);
    // and tells it on stderr, as it tells rejected lines.
    expect(r.stderr).toBe('drainmeter: 6 lines, late 1 (their window had closed: --grace 2 s after its end; a larger --grace waits longer)\n');
  });

  it('says what it rejected on stderr, and still exits 0', () => {
    const r = tail('measure#x=abc\ncount#ok\n', ['--format', 'logfmt']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('rejected bad_value=1');
  });

  it('serves /metrics with --listen while it reads, and exits 0 at EOF', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const child = spawn(process.execPath, [CLI, 'tail', '--format', 'logfmt', '--listen', String(port)], { env: { PATH: process.env.PATH } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stdin.write(`${syslog(iso(T), 'app', 'web.1', 'count#orders=4 source=web.1')}`);
    let text = '';
    for (let i = 0; i < 50 && !text.includes('orders_total'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    }
    expect(find(parseExposition(text), 'orders_total', { source: 'web.1' })[0].value).toBe(4);
    // The dashboard too: a line 30 s later closes the step of the first (by the
    // stream's time), whose point is the counter's sum over its step.
    child.stdin.write(`${syslog(iso(T + 30_000), 'app', 'web.1', 'count#orders=1 source=web.1')}`);
    let history = { series: [] as { metric: string; start: number; sum: number[] }[] };
    for (let i = 0; i < 50 && history.series.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      history = await fetch(`http://127.0.0.1:${port}/dashboard/history.json?metric=orders_total`).then((r) => r.json() as Promise<typeof history>, () => history);
    }
    expect(history.series).toMatchObject([{ metric: 'orders_total', start: Math.floor(T / 10_000) * 10, sum: [4] }]);
    expect((await fetch(`http://127.0.0.1:${port}/`)).headers.get('content-type')).toBe('text/html; charset=utf-8');
    child.stdin.end();
    expect(await exited).toBe(0);
  });

  const json = (stdout: string) => stdout.trim().split('\n').filter((l) => l !== '').sort();

  it('gives a day-old file the same windows with bare lines mixed in: they take the latest time seen', () => {
    const timed = MESSAGES.map(([dt, m]) => cliLine(iso(T + dt), 'app', 'web.1', m, false));
    const mixed = ['count#bare=1 source=web.1', timed[0], 'count#bare=1 source=web.1', timed[1], timed[2], 'count#bare=1 source=web.1', timed[3]];
    const alone = tail(timed.join('\n') + '\n', ['--format', 'json']);
    const both = tail(mixed.join('\n') + '\n', ['--format', 'json']);
    const notBare = (lines: string[]) => lines.filter((l) => !l.includes('"bare_total"'));
    expect(notBare(json(both.stdout))).toEqual(json(alone.stdout));
    // The bare lines after a timestamped one land in its window (second 0); the first,
    // before any timestamp, at its arrival (today), which is not a day-old window.
    const bare = json(both.stdout).map((l) => JSON.parse(l)).filter((w) => w.metric === 'bare_total');
    expect(bare.filter((w) => w.time === s0).map((w) => w.sum)).toEqual([2]);
    expect(bare.reduce((n, w) => n + w.sum, 0)).toBe(3);
    const prom = tail(mixed.join('\n') + '\n', ['--format', 'prom']);
    expect(find(parseExposition(prom.stdout), 'drainmeter_late_lines_total')[0].value).toBe(0);
  });

  it('reads a saved logplex body as the same lines unframed, frames detected per line', () => {
    const messages = MESSAGES.map(([dt, m]) => syslog(iso(T + dt), 'app', 'web.1', m));
    const unframed = tail(messages.join(''), ['--format', 'json']);
    expect(json(unframed.stdout).length).toBeGreaterThan(0);
    // One frame a line, as logplex bodies are saved (each MSG ends in its LF) …
    expect(json(tail(logplexBody(messages).toString(), ['--format', 'json']).stdout)).toEqual(json(unframed.stdout));
    // … and frames without LFs, back to back on one line.
    const joined = logplexBody(messages.map((m) => m.trimEnd())).toString() + '\n';
    expect(json(tail(joined, ['--format', 'json']).stdout)).toEqual(json(unframed.stdout));
  });

  it('reads every format mixed in one stream: framed, syslog, heroku logs (coloured), bare', () => {
    const [a, b, c, d] = MESSAGES;
    const input = [
      logplexBody([syslog(iso(T + a[0]), 'app', 'web.1', a[1])]).toString().trimEnd(),
      syslog(iso(T + b[0]), 'app', 'web.1', b[1]).trimEnd(),
      cliLine(iso(T + c[0]), 'app', 'web.1', c[1]),
      'measure#db.latency=100ms count#orders=5 sample#depth=1 source=web.1', // bare: at T + 600
      syslog(iso(T + d[0] - 1000), 'app', 'web.1', 'count#other=1').trimEnd(), // moves the watermark past second 0
    ].join('\n');
    const w = windows(tail(input + '\n', ['--format', 'logfmt']).stdout);
    const latency = w.find((x) => x.metric === 'db_latency_seconds' && x.time === s0);
    expect(latency).toMatchObject({ count: '4', min: '0.004', max: '0.1' });
    expect(w.find((x) => x.metric === 'orders_total' && x.time === s0)).toMatchObject({ sum: '8' });
    expect(w.find((x) => x.metric === 'depth' && x.time === s0)).toMatchObject({ last: '1' });
  });

  it('reads stdin for `-`, between files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-tail-'));
    writeFileSync(join(dir, 'a.log'), `${cliLine(iso(T), 'app', 'web.1', 'count#n=1', false)}\n`);
    const r = spawnSync(process.execPath, [CLI, 'tail', '--format', 'logfmt', join(dir, 'a.log'), '-'], {
      input: `${cliLine(iso(T + 100), 'app', 'web.1', 'count#n=2', false)}\n`,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(windows(r.stdout).find((x) => x.metric === 'n_total')).toMatchObject({ time: s0, sum: '3' });
  });

  it('refuses an unknown format with exit 2', () => {
    expect(tail('', ['--format', 'xml']).code).toBe(2);
  });
});
