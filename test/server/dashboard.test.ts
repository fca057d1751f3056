// The dashboard (SPEC §9) in a real browser: Debian's chromium driven by
// playwright-core, against `drainmeter serve` fed with known lines. The charts' data,
// read from the page, must be the windows posted (quantiles within 1% of the exact
// nearest rank of the values, counter rates and gauges exact); a new step appears
// without a reload; Basic credentials show one app only; nothing is logged as an
// error; a screenshot is saved (test-results/dashboard.png).

import { mkdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { drainPassword } from '../../src/server/auth.js';
import { HISTORY_STEP } from '../../src/outlets/history.js';
import { nearestRank } from '../helpers.js';
import { installed, sleep } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';

const SECRET = 'dash-secret-0123456789';
const TOKEN = 'dash-token-0123456789';
const available = installed('the dashboard browser test', 'chromium', ['chromium', '--version']);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
}, 30_000);

const basic = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

/** Posts lines stamped `at` (epoch ms) for `app`. */
async function post(port: number, app: string, at: number, messages: string[]): Promise<void> {
  const stamp = new Date(at).toISOString();
  const body = messages.map((m) => `${stamp} app[web.1]: ${m}\n`).join('');
  const r = await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: basic(app) }, body });
  expect(r.status).toBe(204);
}


async function waitUntil(ms: number): Promise<void> {
  const wait = ms - Date.now();
  if (wait > 0) await sleep(wait);
}

interface Chart {
  title: string;
  kind: string;
  step: number;
  data: (number | null)[][];
}

describe.skipIf(!available)('the dashboard, in chromium', () => {
  it('draws the windows posted, updates without a reload, shows one app to its Basic credentials', async () => {
    const { chromium } = await import('playwright-core');
    const served: Served = await startServe({ DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_HOST: '127.0.0.1', DRAINMETER_GRACE: '1' });
    cleanup.push(() => served.stop());

    // Step A: 60 latencies, 7 orders and a depth for shop; a line for blog, which shop must not see.
    const stepA = (Math.floor(Date.now() / 1000 / HISTORY_STEP) + 1) * HISTORY_STEP;
    await waitUntil(stepA * 1000 + 100);
    const latenciesA = Array.from({ length: 60 }, (_, i) => ((i * 37) % 60) * 2.5 + 1);
    await post(served.port, 'shop', stepA * 1000 + 100, latenciesA.map((v, i) => `measure#db.latency=${v}ms count#orders=${i < 7 ? 1 : 0} sample#queue.depth=${i} source=web.1`));
    await post(served.port, 'blog', stepA * 1000 + 100, ['measure#render=5ms source=web.1']);
    // Step A's point is written once its windows have closed: its end plus grace.
    await waitUntil((stepA + HISTORY_STEP + 2) * 1000);

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
    cleanup.push(() => browser.close());
    const context = await browser.newContext({ httpCredentials: { username: 'shop', password: drainPassword(SECRET, 'shop') }, viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${served.base}/`);
    await page.waitForFunction(() => (globalThis as unknown as { drainmeter?: { charts(): unknown[] } }).drainmeter?.charts().length === 1);

    // One app: shop's credentials list shop only, though blog has series too.
    expect(await page.$$eval('#app option', (os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual(['shop']);
    expect(await page.$$eval('#metric option', (os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual(['db_latency_seconds', 'orders_total', 'queue_depth']);

    const charts = () => page.evaluate(() => (globalThis as unknown as { drainmeter: { charts(): Chart[] } }).drainmeter.charts());
    const [latency] = await charts();
    expect(latency).toMatchObject({ title: 'source=web.1', kind: 'measure', step: HISTORY_STEP });
    expect(latency.data[0]).toEqual([stepA]);
    // p50, p95, p99 of the step: within 1% of the exact nearest rank of the values posted.
    [0.5, 0.95, 0.99].forEach((q, i) => {
      const exact = nearestRank(latenciesA, q) / 1000;
      const drawn = latency.data[1 + i][0] as number;
      expect(Math.abs(drawn - exact) / exact, `p${q * 100}: ${drawn} vs ${exact}`).toBeLessThanOrEqual(0.01);
    });

    // The counter as a rate per second over the step; the gauge as its last value.
    await page.selectOption('#metric', 'orders_total');
    await page.waitForFunction(() => (globalThis as unknown as { drainmeter: { charts(): Chart[] } }).drainmeter.charts()[0]?.kind === 'counter');
    expect((await charts())[0].data).toEqual([[stepA], [7 / HISTORY_STEP]]);
    await page.selectOption('#metric', 'queue_depth');
    await page.waitForFunction(() => (globalThis as unknown as { drainmeter: { charts(): Chart[] } }).drainmeter.charts()[0]?.kind === 'sample');
    expect((await charts())[0].data).toEqual([[stepA], [59]]);

    // Step B, posted while the page is open: its point appears without a reload.
    await page.selectOption('#metric', 'db_latency_seconds');
    const stepB = stepA + 2 * HISTORY_STEP;
    await waitUntil(stepB * 1000 + 100);
    const latenciesB = [300, 310, 320];
    await post(served.port, 'shop', stepB * 1000 + 100, latenciesB.map((v) => `measure#db.latency=${v}ms source=web.1`));
    await page.waitForFunction((b) => (globalThis as unknown as { drainmeter: { charts(): Chart[] } }).drainmeter.charts()[0]?.data[0].includes(b), stepB, { timeout: 25_000 });
    const after = (await charts())[0];
    // The step between had no line: a gap (null), not a zero.
    expect(after.data[0]).toEqual([stepA, stepA + HISTORY_STEP, stepB]);
    expect(after.data[3][1]).toBeNull();
    expect(Math.abs((after.data[3][2] as number) - 0.32) / 0.32).toBeLessThanOrEqual(0.01);
    expect(await page.evaluate(() => (globalThis as unknown as { drainmeter: { polls(): number } }).drainmeter.polls())).toBeGreaterThan(0);

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });
    expect(errors).toEqual([]);

    // Without credentials: the browser's Basic prompt (401 with WWW-Authenticate).
    const anonymous = await fetch(`${served.base}/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="drainmeter"');
    // The metrics token as a Basic password sees every app.
    const all = await fetch(`${served.base}/dashboard/index.json`, { headers: { authorization: 'Basic ' + Buffer.from(`me:${TOKEN}`).toString('base64') } });
    expect(((await all.json()) as { apps: { app: string }[] }).apps.map((a) => a.app)).toEqual(['blog', 'shop']);
  }, 90_000);
});
