// The Graphite outlet against a real carbon (Debian graphite-carbon, started here with
// its own configuration in a temp dir): windows posted to `serve` are read back from
// the whisper files (python3-whisper). Carbon down at the start and up
// later: everything is delivered once it is up. Skips where carbon is missing; fails
// in CI.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { silentLogger } from '../../src/log.js';
import { type Running, serve } from '../../src/server/serve.js';
import { basic, config, SECRET } from '../server/helpers.js';
import { freePort, installed, listening, sleep } from '../support/real.js';

const available = installed('the Graphite tests', 'graphite-carbon python3-whisper', ['carbon-cache', '--help'], ['whisper-fetch', '--help']);

/** A carbon-cache of our own: line receiver on `port`, whisper files under dir/whisper. */
async function startCarbon(dir: string, port: number): Promise<ChildProcess> {
  for (const d of ['whisper', 'log', 'lists']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(
    join(dir, 'carbon.conf'),
    `[cache]
STORAGE_DIR = ${dir}/
LOCAL_DATA_DIR = ${dir}/whisper/
WHITELISTS_DIR = ${dir}/lists/
CONF_DIR = ${dir}/
LOG_DIR = ${dir}/log/
PID_DIR = ${dir}/
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = ${port}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = ${await freePort()}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = ${await freePort()}
ENABLE_TAGS = False
WHISPER_AUTOFLUSH = True
`,
  );
  writeFileSync(join(dir, 'storage-schemas.conf'), '[all]\npattern = .*\nretentions = 1s:1d\n');
  writeFileSync(join(dir, 'storage-aggregation.conf'), '[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n');
  const child = spawn('carbon-cache', ['--config', join(dir, 'carbon.conf'), '--nodaemon', '--pidfile', join(dir, 'carbon.pid'), '--logdir', join(dir, 'log'), 'start'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    if (await listening(port)) return child;
    await sleep(100);
  }
  throw new Error('carbon did not start');
}

// whisper-fetch prints six decimals; the same package's whisper.fetch, as JSON, gives
// the stored doubles exactly.
const FETCH = 'import sys, json, whisper\n(start, end, step), vals = whisper.fetch(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))\nprint(json.dumps([start, step, vals]))';

/** The non-empty points of one path, by timestamp, read from its whisper file. */
function fetchPoints(dir: string, path: string, from: number, until: number): Map<number, number> {
  const file = join(dir, 'whisper', ...path.split('.')) + '.wsp';
  const out = new Map<number, number>();
  if (!existsSync(file)) return out;
  const [start, step, vals] = JSON.parse(execFileSync('/usr/bin/python3', ['-c', FETCH, file, String(from), String(until)], { encoding: 'utf8' })) as [number, number, (number | null)[]];
  vals.forEach((v, i) => {
    if (v !== null) out.set(start + i * step, v);
  });
  return out;
}

const children: ChildProcess[] = [];
const drains: Running[] = [];
afterAll(async () => {
  for (const d of drains) await d.stop('test over');
  for (const c of children) c.kill('SIGKILL');
});

/** Posts lines for second `t` and returns when serve has closed and pushed the window. */
async function postWindow(drain: Running, t: number, app: string, messages: string[]): Promise<void> {
  const body = logplexBody(messages.map((m) => syslog(iso(t * 1000 + 100), 'app', 'web.1', m)));
  const res = await fetch(`http://127.0.0.1:${drain.port}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1', Authorization: basic(app) }, body });
  expect(res.status).toBe(204);
}

describe.skipIf(!available)('the Graphite outlet, against a real carbon', () => {
  it('refuses a Graphite URL that is not tcp://host:port, naming the variable', () => {
    expect(() => config({ DRAINMETER_GRAPHITE_URL: 'http://carbon:2003' })).toThrow(/^DRAINMETER_GRAPHITE_URL \(--graphite-url\) must be tcp:\/\/host:port/);
    expect(() => config({ DRAINMETER_GRAPHITE_URL: 'tcp://carbon:2003', DRAINMETER_GRAPHITE_PREFIX: 'a..b' })).toThrow(/DRAINMETER_GRAPHITE_PREFIX/);
  });

  it('writes every statistic of every window, read back from whisper; and delivers what waited while carbon was down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-carbon-'));
    const port = await freePort();
    // drainmeter first: carbon is down when the first windows close.
    const drain = await serve(
      config({ PORT: '0', DRAINMETER_SECRETS: SECRET, DRAINMETER_GRAPHITE_URL: `tcp://127.0.0.1:${port}`, DRAINMETER_GRAPHITE_PREFIX: 'dm', DRAINMETER_GRACE: '1' }),
      silentLogger,
    );
    drains.push(drain);
    // The present second: its window closes at t0 + 2 (grace 1 s), a second or more
    // after this post. (The second before left as little as no time on a loaded
    // machine: the lines came late, in no window, and nothing waited for carbon.)
    const t0 = Math.floor(Date.now() / 1000);
    await postWindow(drain, t0, 'shop', ['measure#db.latency=21ms count#orders=2 sample#depth=7 source=web.1', 'measure#db.latency=40ms count#orders=1 sample#depth=9 source=web.1', 'measure#db.latency=4ms source=web.1']);
    await sleep(2500); // the window closes (grace 1 s) while carbon is down
    for (let i = 0; i < 50 && (drain.outlets[0].push?.queueBytes ?? 0) === 0; i++) await sleep(100); // a loaded machine
    expect(drain.outlets[0].push?.queueBytes ?? 0).toBeGreaterThan(0);
    children.push(await startCarbon(dir, port));
    const path = 'dm.shop.db_latency_seconds.web_1';
    let count = new Map<number, number>();
    for (let i = 0; i < 150 && count.size === 0; i++) {
      await sleep(200);
      count = fetchPoints(dir, `${path}.count`, t0 - 5, t0 + 60);
    }
    expect(count.get(t0)).toBe(3);
    const at = (stat: string) => fetchPoints(dir, `${path}.${stat}`, t0 - 5, t0 + 60).get(t0);
    for (let i = 0; i < 50 && at('p99') === undefined; i++) await sleep(200);
    expect(at('sum')).toBeCloseTo(0.065, 12);
    expect(at('min')).toBe(0.004);
    expect(at('max')).toBe(0.04);
    expect(at('mean')).toBeCloseTo(0.065 / 3, 12);
    // Nearest rank of [4, 21, 40] ms: p50 is 21 ms, p99 40 ms; the histogram within 1%.
    expect(Math.abs((at('p50') ?? 0) - 0.021) / 0.021).toBeLessThan(0.01);
    expect(Math.abs((at('p99') ?? 0) - 0.04) / 0.04).toBeLessThan(0.01);
    expect(fetchPoints(dir, 'dm.shop.orders_total.web_1.sum', t0 - 5, t0 + 60).get(t0)).toBe(3);
    expect(fetchPoints(dir, 'dm.shop.depth.web_1.last', t0 - 5, t0 + 60).get(t0)).toBe(9);
    const push = drain.outlets[0].push;
    expect(push?.dropped).toBe(0);
    expect(push?.samples).toBeGreaterThanOrEqual(12);
  }, 60_000);
});
