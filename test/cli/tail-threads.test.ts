// `tail --format prom` on several threads gives what one thread gives (docs/conventions.md): on
// a file of every line format, whose timestamps jitter by ±8 s (so lines come late,
// at share boundaries too), with bare lines everywhere (a share that starts with one
// cannot know its time), the exposition and the late and rejected counts are one
// thread's, whatever the number of shares.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate, iso, prng } from '../../fixtures/corpus.js';
import { cliLine, frame, syslog } from '../../fixtures/heroku.js';
import { parseExposition } from '../server/helpers.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;

/** 20,000 lines: `heroku logs -t` with and without colour, RFC 5424, saved frames, bare logfmt, CRLF. */
function mixedFile(seed: number): string {
  const rand = prng(seed);
  const lines: string[] = [];
  // Bare lines first: before any timestamp they take their arrival time.
  lines.push('measure#bare.latency=7ms count#bare.hits=1', 'sample#bare.depth=4');
  for (const g of generate(20_000, { seed, rate: 100 })) {
    const time = iso(g.time + Math.floor((rand() - 0.5) * 16_000));
    const r = rand();
    let line: string;
    if (r < 0.06) {
      // A bare line: it takes the latest timestamp before it. Its value marks where it landed.
      line = `measure#bare.latency=${Math.floor(rand() * 900)}ms count#bare.hits=${1 + Math.floor(rand() * 3)} sample#bare.depth=${Math.floor(rand() * 50)}`;
    } else if (r < 0.35) line = cliLine(time, g.app, g.proc, g.message, rand() < 0.5);
    else if (r < 0.6) line = syslog(time, g.app, g.proc, g.message).trimEnd();
    else if (r < 0.8) line = frame(syslog(time, g.app, g.proc, g.message).trimEnd());
    else line = `${time} ${g.app}[${g.proc}]: ${g.message}`;
    if (rand() < 0.05) line += '\r';
    lines.push(line);
    // Now and then a run of bare lines, and a count#…=0 (a series with nothing counted).
    if (rand() < 0.01) for (let k = 0; k < 5; k++) lines.push(`measure#bare.run=${k}ms count#bare.zero=0`);
  }
  return lines.join('\n') + '\n';
}

function tailProm(file: string, threads: number) {
  const r = spawnSync(process.execPath, [CLI, 'tail', '--format', 'prom', '--threads', String(threads), file], { encoding: 'utf8', env: { PATH: process.env.PATH }, maxBuffer: 1 << 26 });
  expect(r.stderr).not.toContain('Error');
  expect(r.status).toBe(0);
  return { samples: parseExposition(r.stdout), stderr: r.stderr };
}

function key(s: { name: string; labels: Record<string, string> }): string {
  return `${s.name}{${Object.entries(s.labels)
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;
}

describe('tail --threads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dm-threads-'));
  const file = join(dir, 'mixed.log');
  writeFileSync(file, mixedFile(11));
  const one = tailProm(file, 1);

  it('the single-thread run sees late lines, bare lines and every format', () => {
    const by = new Map(one.samples.map((s) => [key(s), s.value]));
    expect(one.stderr).toMatch(/late [1-9]\d* /);
    expect(by.get('drainmeter_late_lines_total{app=default}')).toBeGreaterThan(100);
    expect(by.get('bare_hits_total{app=default}')).toBeGreaterThan(1000);
    expect(by.get('bare_zero_total{app=default}')).toBe(0);
    expect(by.get('heroku_router_requests_total{app=default,dyno=web.1,status=200}')).toBeGreaterThan(100);
    // 20,002 lines and the bare runs, every one read.
    expect(by.get('drainmeter_lines_total{app=default}')).toBeGreaterThan(20_000);
  });

  it('exercises both merge rules: shares read again (they began with bare lines) and lines late only at the merge', async () => {
    const dist = (path: string) => new URL(`../../dist/src/${path}`, import.meta.url).href;
    const { readThreaded } = await import(dist('tail/threads.js'));
    const { pipeline } = await import(dist('pipeline.js'));
    const { configFrom, parseArgs } = await import(dist('config.js'));
    const config = configFrom(parseArgs([], {}).values);
    let reread = 0;
    let lateAtMerge = 0;
    for (const threads of [2, 3, 5, 8]) {
      const p = pipeline(config, 0, { watermark: true, history: false });
      const r = await readThreaded([file], threads, p, config, 'default', Date.now());
      expect(r.shares).toBe(threads);
      reread += r.reread;
      lateAtMerge += r.lateAtMerge;
    }
    expect(reread).toBeGreaterThan(0);
    expect(lateAtMerge).toBeGreaterThan(0);
  });

  for (const threads of [2, 3, 5, 8]) {
    it(`${threads} threads: the same exposition, late and rejected counts`, () => {
      const many = tailProm(file, threads);
      expect(many.stderr).toBe(one.stderr);
      const expected = new Map(one.samples.map((s) => [key(s), s.value]));
      const got = new Map(many.samples.map((s) => [key(s), s.value]));
      expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
      const differ: string[] = [];
      for (const [k, v] of expected) {
        // What the name tables hold is where lines were read: in the threads, not here.
        if (k.includes('budget_used{') && k.includes('budget=names')) continue;
        const g = got.get(k) as number;
        // A sum is added in another order: equal to the last bits of a double.
        const same = k.includes('_sum{') ? Math.abs(g - v) <= 1e-9 * Math.max(1, Math.abs(v)) : Object.is(g, v);
        if (!same) differ.push(`${k}: ${g} vs ${v}`);
      }
      expect(differ).toEqual([]);
    });
  }
});
