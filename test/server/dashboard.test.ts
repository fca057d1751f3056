// The dashboard (docs/dashboard.md) in a real browser: Debian's chromium driven by
// playwright-core, against `drainmeter serve` fed with lines generated here. Every
// number the overview draws is checked against a computation from those lines:
// requests per status class and the 5xx share exactly, the p99 of every dyno merged
// within the histogram's 1% of the nearest-rank p99 of all values, memory in
// Heroku's units against its quota; H12 and R14 on the timeline. The series view
// groups by a label and finds one series among 3,000. The page says "no data for …"
// within 15 s of the lines stopping, fits a 390 px phone without sideways scrolling,
// and asks no other host for anything.

import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { drainPassword } from '../../src/server/auth.js';
import { HISTORY_STEP } from '../../src/outlets/history/index.js';
import { nearestRank } from '../helpers.js';
import { installed, sleep } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';
import { CHROMIUM_ARGS, postLines } from '../support/browser.js';

const SECRET = 'dash-secret-0123456789';
const TOKEN = 'dash-token-0123456789';
const available = installed('the dashboard browser test', 'chromium', ['chromium', '--version']);
const MIB = 2 ** 20;

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
}, 30_000);

const basic = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

/** Posts `lines` (`source[proc]: message`) stamped `at` (epoch ms) for `app`. */
const post = (port: number, app: string, at: number, lines: string[]) => postLines(port, basic(app), at, lines);

async function waitUntil(ms: number): Promise<void> {
  const wait = ms - Date.now();
  if (wait > 0) await sleep(wait);
}

interface Chart {
  id: string;
  title: string;
  series: string[];
  data: (number | null)[][];
}
type Hook = { drainmeter: { charts(): Chart[]; stale(): string; overview(): { x: number[] } | null; history(): { total: number; series: { labels: Record<string, string> }[] } | null; polls(): number } };
const charts = (page: Page) => page.evaluate(() => (globalThis as unknown as Hook).drainmeter.charts());
const chart = async (page: Page, id: string) => {
  const c = (await charts(page)).find((c) => c.id === id);
  if (c === undefined) throw new Error(`no chart ${id}`);
  return c;
};
/** The value a chart draws for `line` at the step starting `t`. */
const at = (c: Chart, line: string, t: number) => c.data[1 + c.series.indexOf(line)][c.data[0].indexOf(t)];

// The lines of one step, and what they must show: two dynos' router lines (an H12 of
// 30 s among them), runtime metrics, an R14, and app measures.
const STATUSES = [200, 200, 200, 201, 204, 301, 304, 404, 500, 503];
const router: { dyno: string; status: number; ms: number; code?: string }[] = [];
for (let i = 0; i < 150; i++) router.push({ dyno: i % 3 === 0 ? 'web.2' : 'web.1', status: STATUSES[i % STATUSES.length], ms: ((i * 37) % 150) + 2 + (i % 3 === 0 ? 200 : 0) });
router.push({ dyno: 'web.2', status: 503, ms: 30_000, code: 'H12' });
const routerLines = router.map((r) => `heroku[router]: at=${r.code ? 'error code=' + r.code + ' desc="Request timeout"' : 'info'} method=GET path="/" host=shop.herokuapp.com request_id=r fwd="203.0.113.9" dyno=${r.dyno} connect=1ms service=${r.ms}ms status=${r.status} bytes=100 protocol=https`);
const dynoLines = [
  'heroku[web.1]: source=web.1 dyno=heroku.1.a sample#memory_total=357.00MB sample#memory_rss=345.00MB sample#memory_cache=0.00MB sample#memory_swap=12.00MB sample#memory_pgpgin=1pages sample#memory_pgpgout=1pages sample#memory_quota=512.00MB',
  'heroku[web.1]: source=web.1 dyno=heroku.1.a sample#load_avg_1m=0.42 sample#load_avg_5m=0.30 sample#load_avg_15m=0.20',
  'heroku[web.2]: source=web.2 dyno=heroku.1.b sample#memory_total=211.00MB sample#memory_rss=211.00MB sample#memory_cache=0.00MB sample#memory_swap=0.00MB sample#memory_pgpgin=1pages sample#memory_pgpgout=1pages sample#memory_quota=512.00MB',
  'heroku[web.1]: Error R14 (Memory quota exceeded)',
];
const appLines = Array.from({ length: 40 }, (_, i) => `app[web.1]: measure#db.latency=${i + 1}ms count#orders=1 source=web.${(i % 2) + 1}`);

describe.skipIf(!available)('the dashboard, in chromium', () => {
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let stepA = 0;
  const errors: string[] = [];
  const elsewhere: string[] = [];

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    served = await startServe({ DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_HOST: '127.0.0.1', DRAINMETER_GRACE: '1' });
    cleanup.push(() => served.stop());
    stepA = (Math.floor(Date.now() / 1000 / HISTORY_STEP) + 1) * HISTORY_STEP;
    await waitUntil(stepA * 1000 + 100);
    await post(served.port, 'shop', stepA * 1000 + 200, [...routerLines, ...dynoLines, ...appLines]);
    // 3,000 series of one counter, for the search; and another app, for the picker.
    await post(served.port, 'shop', stepA * 1000 + 300, Array.from({ length: 3000 }, (_, i) => `app[worker.1]: count#jobs=1 source=w-${String(i).padStart(4, '0')}`));
    await post(served.port, 'blog', stepA * 1000 + 300, ['app[web.1]: measure#render=5ms source=web.1']);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    cleanup.push(() => browser.close());
    context = await browser.newContext({ httpCredentials: { username: 'shop', password: drainPassword(SECRET, 'shop') }, viewport: { width: 1200, height: 800 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(served.base + '/')) elsewhere.push(r.url());
    });
    // Lines keep coming (one a second) until the staleness test stops them.
    const beat = setInterval(() => void post(served.port, 'shop', Date.now(), ['app[web.1]: count#beat=1 source=web.1']).catch(() => {}), 1000);
    cleanup.push(async () => clearInterval(beat));
    (globalThis as unknown as { beat: NodeJS.Timeout }).beat = beat;
    // Step A's point is written once its windows have closed: its end plus grace.
    await waitUntil((stepA + HISTORY_STEP + 2) * 1000);
    await page.goto(`${served.base}/`);
    await page.waitForFunction((t) => (globalThis as unknown as Hook).drainmeter.overview()?.x.includes(t) === true, stepA, { timeout: 20_000 });
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.charts().some((c) => c.id === 'latency'));
    // And the step after it, which had no router line.
    await page.waitForFunction((t) => (globalThis as unknown as Hook).drainmeter.overview()?.x.includes(t) === true, stepA + HISTORY_STEP, { timeout: 20_000 });
  }, 90_000);

  it('draws requests by status class and the 5xx share as computed from the lines', async () => {
    const c = await chart(page, 'throughput');
    for (const cls of ['2xx', '3xx', '4xx', '5xx']) {
      const n = router.filter((r) => `${String(r.status)[0]}xx` === cls).length;
      expect(at(c, cls, stepA), cls).toBeCloseTo(n / HISTORY_STEP, 9);
    }
    const share = await chart(page, 'share');
    const fives = router.filter((r) => r.status >= 500).length;
    expect(at(share, '5xx', stepA)).toBeCloseTo(fives / router.length, 6);
    // The step after A had no router line: 0 requests, not a gap.
    expect(at(c, '2xx', stepA + HISTORY_STEP)).toBe(0);
  });

  it('merges every dyno\'s response times exactly: the p99 within 1% of the nearest-rank p99 of all values', async () => {
    const c = await chart(page, 'latency');
    const all = router.map((r) => r.ms / 1000);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = nearestRank(all, q);
      const drawn = at(c, `p${q * 100}`, stepA) as number;
      expect(Math.abs(drawn - exact) / exact, `p${q * 100}: ${drawn} vs ${exact}`).toBeLessThanOrEqual(0.01);
    }
    expect(at(c, 'max', stepA)).toBe(30);
    // Per dyno, web.2's p99 alone is the H12: the merge is not an average of the two.
    const web1 = router.filter((r) => r.dyno === 'web.1').map((r) => r.ms / 1000);
    expect(nearestRank(all, 0.99)).not.toBe(nearestRank(web1, 0.99));
  });

  it('shows memory in Heroku\'s units against the quota, load per dyno, and H12 and R14 as events', async () => {
    const mem = await chart(page, 'mem web.1');
    expect(mem.title).toMatch(/^web\.1 memory: RSS 345 MB of 512 MB quota$/);
    expect(at(mem, 'RSS', stepA)).toBe(345 * MIB);
    expect(at(mem, 'swap', stepA)).toBe(12 * MIB);
    expect(at(mem, 'quota', stepA)).toBe(512 * MIB);
    expect((await chart(page, 'mem web.2')).title).toMatch(/RSS 211 MB of 512 MB quota/);
    expect(at(await chart(page, 'load'), 'web.1', stepA)).toBeCloseTo(0.42, 6);
    const events = await chart(page, 'events');
    expect(at(events, 'router errors (H codes)', stepA)).toBe(1);
    expect(at(events, 'dyno errors (R codes)', stepA)).toBe(1);
    const chips = await page.$$eval('.chip', (cs) => cs.map((c) => c.textContent));
    expect(chips).toEqual(expect.arrayContaining(['H12 ×1', 'R14 ×1']));
    // The app's own metrics, busiest first: the 3,000 jobs before the 40 orders.
    const own = (await charts(page)).filter((c) => c.id.startsWith('metric ')).map((c) => c.id);
    expect(own.indexOf('metric jobs_total')).toBeLessThan(own.indexOf('metric orders_total'));
    expect(own).toContain('metric db_latency_seconds');
  });

  it('opens a metric into the series view, groups it by a label, and finds one series among 3,000', async () => {
    await page.click('section.panel.link:has-text("db_latency_seconds")');
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.charts().some((c) => c.id === 'group'));
    // db_latency over every source merged: the p99 of all 40 values.
    const merged = await chart(page, 'group');
    const values = appLines.map((_, i) => (i + 1) / 1000);
    const p99 = at(merged, 'p99', stepA) as number;
    expect(Math.abs(p99 - nearestRank(values, 0.99)) / nearestRank(values, 0.99)).toBeLessThanOrEqual(0.01);
    // heroku_router_requests_total, one line per status: each the count of its lines.
    await page.selectOption('#metric', 'heroku_router_requests_total');
    await page.selectOption('#group', 'status');
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.charts().find((c) => c.id === 'group')?.series.includes('status=503') === true);
    const byStatus = await chart(page, 'group');
    for (const status of new Set(STATUSES)) {
      expect(at(byStatus, `status=${status}`, stepA), String(status)).toBeCloseTo(router.filter((r) => r.status === status).length / HISTORY_STEP, 9);
    }
    // The search: the server filters jobs_total's 3,000 series to the one asked for.
    await page.selectOption('#metric', 'jobs_total');
    await page.waitForFunction(() => ((globalThis as unknown as Hook).drainmeter.history()?.total ?? 0) >= 3000);
    await page.fill('#search', 'w-2717');
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.history()?.total === 1);
    const found = await page.evaluate(() => (globalThis as unknown as Hook).drainmeter.history()?.series.map((s) => s.labels));
    expect(found).toEqual([{ source: 'w-2717' }]);
    expect((await charts(page)).map((c) => c.title)).toEqual(['source=w-2717']);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/dashboard-series.png', fullPage: true });
  });

  it('fits a 390 px phone without sideways scrolling, in both views', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    phone.on('request', (r) => {
      if (!r.url().startsWith(served.base + '/')) elsewhere.push(r.url());
    });
    for (const hash of ['', '#app=shop&view=series&metric=heroku_router_requests_total&group=status']) {
      await phone.goto(`${served.base}/${hash}`);
      await phone.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.charts().length > 0);
      const [scroll, inner] = await phone.evaluate(() => {
        const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
        return [g.document.documentElement.scrollWidth, g.innerWidth];
      });
      expect(scroll, hash).toBeLessThanOrEqual(inner);
    }
    await phone.close();
  });

  it('says "no data for …" within 15 s of the lines stopping, and asked no other host', async () => {
    await page.goto(`${served.base}/`);
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.polls() > 1);
    expect(await page.evaluate(() => (globalThis as unknown as Hook).drainmeter.stale())).toBe('');
    clearInterval((globalThis as unknown as { beat: NodeJS.Timeout }).beat);
    const stopped = Date.now();
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.stale().startsWith('no data for'), undefined, { timeout: 15_000, polling: 200 });
    expect(Date.now() - stopped).toBeLessThanOrEqual(15_000);
    // The headline numbers no longer pretend.
    expect(await page.$$eval('.head b', (bs) => bs.map((b) => b.textContent))).toEqual(expect.arrayContaining(['no data']));
    await page.screenshot({ path: 'test-results/dashboard-overview.png', fullPage: true });
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
  }, 30_000);

  it('shows one app to its Basic credentials, and the picker to credentials that see several', async () => {
    expect(await page.isHidden('#app-pick')).toBe(true);
    const shopIndex = await (await fetch(`${served.base}/dashboard/index.json`, { headers: { authorization: basic('shop') } })).json();
    expect((shopIndex as { apps: { app: string }[] }).apps.map((a) => a.app)).toEqual(['shop']);
    const anonymous = await fetch(`${served.base}/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="drainmeter"');
    const all = await browser.newContext({ httpCredentials: { username: 'me', password: TOKEN } });
    const p = await all.newPage();
    await p.goto(`${served.base}/`);
    await p.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#app option').length === 2);
    expect(await p.isVisible('#app-pick')).toBe(true);
    expect(await p.$$eval('#app option', (os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual(['blog', 'shop']);
    await all.close();
  });
});
