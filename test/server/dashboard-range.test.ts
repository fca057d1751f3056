// The dashboard's range picker, zoom, release marks and alerts (docs/dashboard.md) in a
// real browser: Debian's chromium driven by playwright-core, against `drainmeter serve`
// with a real PostgreSQL (DATABASE_URL) and an alert rule file. A range asks
// history.json with from/to spanning it and the charts draw the answer's points at its
// step (requests per status class checked against the lines posted); a drag across a
// chart asks the dragged from/to for every chart; a `Release v42 created by …` line is
// a mark at its time on every chart; an alert whose rule holds shows as firing.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page, Request } from 'playwright-core';
import { drainPassword } from '../../src/server/auth.js';
import { HISTORY_STEP } from '../../src/outlets/history/index.js';
import { nearestRank } from '../helpers.js';
import { type Postgres, postgresInstalled, startPostgres } from '../support/postgres.js';
import { installed, sleep } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';
import { CHROMIUM_ARGS, postLines } from '../support/browser.js';

const SECRET = 'range-secret-0123456789';
const TOKEN = 'range-token-0123456789';
const available = installed('the dashboard range test', 'chromium', ['chromium', '--version']) && postgresInstalled();

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
}, 60_000);

const basic = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

/** Posts `lines` (`source[proc]: message`) stamped `at` (epoch ms) for `app`. */
const post = (port: number, app: string, at: number, lines: string[]) => postLines(port, basic(app), at, lines);

interface Chart {
  id: string;
  title: string;
  series: string[];
  data: (number | null)[][];
  x: [number, number];
  width: number;
  releases: { t: number; text: string; left: number }[];
}
interface Answer {
  step?: number;
  tier?: string;
  series: { labels: Record<string, string>; step: number; start: number; p99?: (number | null)[]; sum?: (number | null)[] }[];
  releases: { t: number; text: string }[];
}
type Hook = { drainmeter: { charts(): Chart[]; polls(): number; history(): unknown; alerts(): unknown } };
const charts = (page: Page) => page.evaluate(() => (globalThis as unknown as Hook).drainmeter.charts());
const chart = async (page: Page, id: string) => {
  const c = (await charts(page)).find((c) => c.id === id);
  if (c === undefined) throw new Error(`no chart ${id}`);
  return c;
};
const at = (c: Chart, line: string, t: number) => c.data[1 + c.series.indexOf(line)][c.data[0].indexOf(t)];
/** What the page's own scripts see, for evaluate() (no DOM types here). */
interface El { textContent: string | null }
type Doc = { document: { querySelector(s: string): El | null; documentElement: { scrollWidth: number } }; innerWidth: number; getComputedStyle(e: unknown, pseudo: string): { content: string } };
const params = (r: Request) => new URL(r.url()).searchParams;
const isHistory = (metric: string) => (r: Request) => r.url().includes('/dashboard/history.json') && params(r).get('metric') === metric && params(r).has('from');

const STATUSES = [200, 200, 201, 301, 404, 500, 503];
const router = Array.from({ length: 70 }, (_, i) => ({ dyno: i % 2 ? 'web.2' : 'web.1', status: STATUSES[i % STATUSES.length], ms: 5 + ((i * 13) % 90) }));
const routerLines = router.map((r) => `heroku[router]: at=info method=GET path="/" host=shop.herokuapp.com request_id=r fwd="203.0.113.9" dyno=${r.dyno} connect=1ms service=${r.ms}ms status=${r.status} bytes=100 protocol=https`);
const latencies = Array.from({ length: 30 }, (_, i) => i + 1);
const appLines = latencies.map((v) => `app[web.1]: measure#db.latency=${v}ms source=web.1`);
// Heroku's wording (devcenter.heroku.com/articles/releases).
const RELEASE = 'Release v42 created by user@example.com';

describe.skipIf(!available)('the dashboard over ranges, in chromium', () => {
  let pg: Postgres;
  let served: Served;
  let browser: Browser;
  let page: Page;
  let stepA = 0;
  let releaseT = 0;
  const errors: string[] = [];
  const elsewhere: string[] = [];

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    pg = await startPostgres();
    cleanup.push(async () => pg.remove());
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-range-'));
    // Fires while beats come: at least one line in the last 10 s.
    writeFileSync(join(dir, 'alerts.yml'), `notify:
  hook: { webhook: "http://127.0.0.1:9/hook" }
alerts:
  - name: beating
    app: shop
    metric: beat_total
    stat: count
    above: 0
    over: 10s
    notify: [hook]
  - name: never
    app: shop
    metric: beat_total
    stat: count
    above: 1000000
    over: 10s
    notify: [hook]
`);
    served = await startServe({
      DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_HOST: '127.0.0.1', DRAINMETER_GRACE: '1',
      DATABASE_URL: pg.url, DRAINMETER_ALERTS: join(dir, 'alerts.yml'), DRAINMETER_STATE_FILE: join(dir, 'state.json'),
    });
    cleanup.push(() => served.stop());
    const beat = setInterval(() => void post(served.port, 'shop', Date.now(), ['app[web.1]: count#beat=1 source=web.1']).catch(() => {}), 1000);
    cleanup.push(async () => clearInterval(beat));
    stepA = (Math.floor(Date.now() / 1000 / HISTORY_STEP) + 1) * HISTORY_STEP;
    await sleep(stepA * 1000 + 100 - Date.now());
    const stamp = stepA * 1000 + 3200;
    releaseT = Math.floor(stamp / 1000);
    await post(served.port, 'shop', stepA * 1000 + 200, [...routerLines, ...appLines]);
    await post(served.port, 'shop', stamp, [`app[api]: ${RELEASE}`]);
    // Step A in the store: its windows closed, written, and answered for a range.
    for (let waited = 0; ; waited += 500) {
      const r = await fetch(`${served.base}/dashboard/history.json?app=shop&metric=heroku_router_requests_total&from=${stepA - 600}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const a = (await r.json()) as Answer;
      if (a.tier === '10s' && a.series.some((s) => s.start <= stepA && (s.sum ?? [])[(stepA - s.start) / s.step] != null)) break;
      if (waited > 40_000) throw new Error('step A never reached the store');
      await sleep(500);
    }
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    cleanup.push(() => browser.close());
    const context = await browser.newContext({ httpCredentials: { username: 'shop', password: drainPassword(SECRET, 'shop') }, viewport: { width: 1200, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(served.base + '/')) elsewhere.push(r.url());
    });
    await page.goto(`${served.base}/`);
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.charts().some((c) => c.id === 'throughput'), undefined, { timeout: 20_000 });
  }, 120_000);

  it('marks the release at its time on every chart of the live overview', async () => {
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.charts().every((c) => c.releases.length > 0), undefined, { timeout: 20_000 });
    const all = await charts(page);
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const c of all) {
      expect(c.releases.map((r) => r.t), c.id).toEqual([releaseT]);
      expect(c.releases[0].text).toContain(RELEASE);
      // Where the release's time falls on the chart's x scale.
      const left = ((releaseT - c.x[0]) / (c.x[1] - c.x[0])) * c.width;
      expect(Math.abs(c.releases[0].left - left), c.id).toBeLessThanOrEqual(1);
    }
    // Its text on hover.
    await page.hover('#view .panel .release');
    const shown = await page.$eval('#view .panel .release', (d) => (globalThis as unknown as Doc).getComputedStyle(d, '::before').content);
    expect(shown).toContain(RELEASE);
  });

  it('asks history.json for the last hour when 1 h is picked, and draws the answer at its step', async () => {
    const asked = page.waitForRequest(isHistory('heroku_router_requests_total'));
    const answered = page.waitForResponse(isHistory('heroku_router_requests_total') as never);
    await page.selectOption('#range', '3600');
    const p = params(await asked);
    const answer = (await (await answered).json()) as Answer;
    const from = Number(p.get('from')), to = Number(p.get('to'));
    expect(to - from).toBe(3600);
    expect(Math.abs(to - Date.now() / 1000)).toBeLessThanOrEqual(5);
    expect(answer.tier).toBe('10s');
    await page.waitForFunction((t) => (globalThis as unknown as Hook).drainmeter.charts().find((c) => c.id === 'throughput')?.data[0].includes(t) === true, stepA);
    const c = await chart(page, 'throughput');
    // Points at the answer's step, the chart spanning the hour asked for.
    expect((c.data[0][1] as number) - (c.data[0][0] as number)).toBe(answer.step);
    expect(c.x).toEqual([from, to]);
    for (const cls of ['2xx', '3xx', '4xx', '5xx']) {
      const n = router.filter((r) => `${String(r.status)[0]}xx` === cls).length;
      expect(at(c, cls, stepA), cls).toBeCloseTo(n / HISTORY_STEP, 9);
    }
    expect(c.releases.map((r) => r.t)).toEqual([releaseT]);
    expect(await page.textContent('#note')).toContain('live 15 minutes only');
  });

  it('asks 7 days at the 1 h step, and the series view 6 h with its points', async () => {
    const asked = page.waitForRequest(isHistory('heroku_router_requests_total'));
    const answered = page.waitForResponse(isHistory('heroku_router_requests_total') as never);
    await page.selectOption('#range', '604800');
    const p = params(await asked);
    expect(Number(p.get('to')) - Number(p.get('from'))).toBe(604800);
    const week = (await (await answered).json()) as Answer;
    expect(week).toMatchObject({ tier: '1h', step: 3600 });
    // The page draws the answer after it arrives: wait for its words, then check them.
    await page.waitForFunction(() => /The last 7 d/.test((globalThis as unknown as Doc).document.querySelector('#span')?.textContent ?? ''), undefined, { timeout: 15_000 }).catch(() => {});
    expect(await page.textContent('#span')).toMatch(/The last 7 d in steps of 1 h, from the stored history/);

    await page.goto(`${served.base}/#app=shop&view=series&metric=db_latency_seconds&range=21600`);
    const req = await page.waitForRequest(isHistory('db_latency_seconds'));
    expect(Number(params(req).get('to')) - Number(params(req).get('from'))).toBe(21600);
    const answer = (await (await req.response())!.json()) as Answer;
    await page.waitForFunction((t) => (globalThis as unknown as Hook).drainmeter.charts().some((c) => c.data[0].includes(t)), stepA);
    const c = (await charts(page))[0];
    const s = answer.series[0];
    // Every point of the answer drawn where it belongs; the p99 that of the values posted.
    s.p99!.forEach((v, i) => expect(at(c, 'p99', s.start + i * s.step)).toBe(v));
    const p99 = at(c, 'p99', stepA) as number;
    const exact = nearestRank(latencies.map((v) => v / 1000), 0.99);
    expect(Math.abs(p99 - exact) / exact).toBeLessThanOrEqual(0.01);
    expect(c.releases.map((r) => r.t)).toEqual([releaseT]);
  });

  it('zooms every chart to a drag across one, and goes back', async () => {
    await page.goto(`${served.base}/#app=shop&view=overview&range=3600`);
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.charts().some((c) => c.id === 'latency'));
    const before = await chart(page, 'throughput');
    const box = (await page.$('#view .panel .u-over'))!;
    const b = (await box.boundingBox())!;
    const asked = page.waitForRequest(isHistory('heroku_router_requests_total'));
    await page.mouse.move(b.x + b.width * 0.5, b.y + b.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.75, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    const p = params(await asked);
    const span = before.x[1] - before.x[0];
    const want = [before.x[0] + span * 0.5, before.x[0] + span * 0.75];
    const from = Number(p.get('from')), to = Number(p.get('to'));
    // A pixel of a 1 h chart is a few seconds.
    expect(Math.abs(from - want[0])).toBeLessThanOrEqual((2 * span) / b.width + 1);
    expect(Math.abs(to - want[1])).toBeLessThanOrEqual((2 * span) / b.width + 1);
    await page.waitForFunction((w) => (globalThis as unknown as Hook).drainmeter.charts().every((c) => c.x[0] === w[0] && c.x[1] === w[1]), [from, to]);
    expect(await page.isVisible('#unzoom')).toBe(true);
    await page.click('#unzoom');
    await page.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.charts().every((c) => c.x[1] - c.x[0] === 3600));
    expect(await page.isHidden('#unzoom')).toBe(true);
  });

  it('shows the alert whose rule holds as firing, the other as ok, with the transition', async () => {
    await page.waitForSelector('#alerts .alert[data-alert="beating"][data-state="firing"]', { timeout: 40_000 });
    expect(await page.getAttribute('#alerts .alert[data-alert="never"]', 'data-state')).toBe('ok');
    await page.waitForFunction(() => (globalThis as unknown as Doc).document.querySelector('#alerts table')?.textContent?.includes('beating') === true, undefined, { timeout: 10_000 });
    expect(await page.textContent('#alerts table')).toMatch(/firing\s*beating/);
  });

  it('fits a 390 px phone with the picker and the alerts, and asked no other host', async () => {
    const phone = await browser.newPage({ httpCredentials: { username: 'shop', password: drainPassword(SECRET, 'shop') }, viewport: { width: 390, height: 844 } });
    phone.on('request', (r) => {
      if (!r.url().startsWith(served.base + '/')) elsewhere.push(r.url());
    });
    await phone.goto(`${served.base}/#app=shop&view=overview&range=3600`);
    await phone.waitForFunction(() => (globalThis as unknown as Hook).drainmeter.charts().length > 0);
    await phone.waitForSelector('#alerts .alert');
    const [scroll, inner] = await phone.evaluate(() => [(globalThis as unknown as Doc).document.documentElement.scrollWidth, (globalThis as unknown as Doc).innerWidth]);
    expect(scroll).toBeLessThanOrEqual(inner);
    await phone.close();
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
  });
});
