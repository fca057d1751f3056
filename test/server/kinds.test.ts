// Kinds per app and the platform's share (docs/isolation.md, "Kinds and platform
// families"), over real sockets against `serve`: an app cannot make another app's
// lines a type_conflict, the combined exposition holds two apps whose families clash
// on a name and stays valid for the strict parsers, names are given back when their
// series expire, and an app's runaway `source=` cannot hide its platform numbers.
// Every expected number is counted from the lines the test sends.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { logplexBody, R14, ROUTER_H12, RUNTIME_MEMORY, syslog } from '../../fixtures/heroku.js';
import { REASONS } from '../../src/model/index.js';
import { drainPassword } from '../../src/server/auth.js';
import { strictAvailable, strictProblems } from '../support/strict.js';
import { type Served, startServe } from '../support/served.js';
import { until } from '../support/real.js';
import { find, parseExposition, type Sample, SECRET } from './helpers.js';

const TOKEN = 'admin-token-0123456789';
const BEARER = `Bearer ${TOKEN}`;
/** A small per-app limit, so a runaway app fills it quickly: its platform share is a fifth (200). */
const PER_APP = 1000;
const PLATFORM_SHARE = 200;

let s: Served;
const auth = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

async function post(app: string, body: Buffer): Promise<number> {
  const res = await fetch(`${s.base}/logs`, { method: 'POST', headers: { 'Content-Type': 'application/logplex-1', Authorization: auth(app) }, body });
  await res.arrayBuffer();
  return res.status;
}

async function scrape(authorization: string, openMetrics = false): Promise<string> {
  const res = await fetch(`${s.base}/metrics`, {
    headers: { Authorization: authorization, ...(openMetrics ? { Accept: 'application/openmetrics-text; version=1.0.0' } : {}) },
  });
  expect(res.status).toBe(200);
  return res.text();
}

/** Both formats of a scope, through the strict parsers; the text format parsed. */
async function strictScrape(authorization: string): Promise<Sample[]> {
  const text = await scrape(authorization);
  if (strictAvailable) expect(strictProblems(text, await scrape(authorization, true))).toBe('');
  return parseExposition(text);
}

const body = (n: number, message: (i: number) => string, proc = 'web.1', host = 'app') =>
  logplexBody(Array.from({ length: n }, (_, i) => syslog(iso(Date.now()), host, proc, message(i))));

const value = (m: Sample[], name: string, labels: Record<string, string>) => find(m, name, labels)[0]?.value;

/** The victim's batch: 20 lines, each a measure (i+1 ms), a count of 2 and a sample. */
const VICTIM = (i: number) => `measure#checkout.latency=${i + 1}ms count#orders=2 sample#depth=${i} source=web.1`;

/** The victim's own scrape shows its batch exactly, nothing rejected. */
async function victimExact(app: string): Promise<Sample[]> {
  const m = await strictScrape(auth(app));
  const v = (name: string, labels: Record<string, string> = {}) => value(m, name, { app, ...labels });
  expect(v('checkout_latency_seconds_count', { source: 'web.1' })).toBe(20);
  expect(v('checkout_latency_seconds_sum', { source: 'web.1' })).toBeCloseTo(0.21, 12);
  expect(v('orders_total', { source: 'web.1' })).toBe(40);
  expect(v('depth', { source: 'web.1' })).toBe(19);
  expect(v('drainmeter_lines_total')).toBe(20);
  for (const reason of REASONS) expect(v('drainmeter_rejected_total', { reason }), reason).toBe(0);
  return m;
}

beforeAll(async () => {
  s = await startServe({
    DRAINMETER_SECRETS: SECRET,
    DRAINMETER_METRICS_TOKEN: TOKEN,
    DRAINMETER_GRACE: '1',
    DRAINMETER_SERIES_TTL: '2',
    DRAINMETER_MAX_SERIES_PER_APP: String(PER_APP),
    DRAINMETER_HOST: '127.0.0.1',
  });
});

afterAll(async () => {
  expect(await s?.stop()).toBe(0);
});

describe('kinds are per app', () => {
  it("names squatted by another app first never make the victim's lines a type_conflict", async () => {
    // The squatter sorts first by name, so it wins the combined exposition's clash.
    expect(await post('aa-squatter', body(3, () => 'count#checkout.latency_seconds=1 sample#orders=1 source=web.1'))).toBe(204);
    expect(await post('victim', body(20, VICTIM))).toBe(204);
    await victimExact('victim');
    const squatter = await strictScrape(auth('aa-squatter'));
    expect(value(squatter, 'checkout_latency_seconds_total', { app: 'aa-squatter', source: 'web.1' })).toBe(3);
    expect(value(squatter, 'orders', { app: 'aa-squatter', source: 'web.1' })).toBe(1);

    // The combined exposition: valid for both strict parsers, the squatter's families
    // kept, the victim's clashing ones left out and counted, its others kept.
    const all = await strictScrape(BEARER);
    expect(value(all, 'checkout_latency_seconds_total', { app: 'aa-squatter', source: 'web.1' })).toBe(3);
    expect(find(all, 'checkout_latency_seconds_count', { app: 'victim' })).toEqual([]);
    expect(value(all, 'orders', { app: 'aa-squatter', source: 'web.1' })).toBe(1);
    expect(find(all, 'orders_total', { app: 'victim' })).toEqual([]);
    expect(value(all, 'depth', { app: 'victim', source: 'web.1' })).toBe(19);
    expect(value(all, 'drainmeter_exposition_conflicts', { app: 'victim', metric: 'checkout_latency_seconds' })).toBe(1);
    expect(value(all, 'drainmeter_exposition_conflicts', { app: 'victim', metric: 'orders_total' })).toBe(1);
    expect(find(all, 'drainmeter_exposition_conflicts', { app: 'aa-squatter' })).toEqual([]);
    // Said once per clash in the log, however often it is scraped.
    await strictScrape(BEARER);
    const said = s.output().split('\n').filter((l) => l.includes('left out of the combined') && l.includes('app=victim'));
    expect(said.filter((l) => l.includes('metric=checkout_latency_seconds '))).toHaveLength(1);
    expect(said.filter((l) => l.includes('metric=orders_total '))).toHaveLength(1);
  });

  it("a gauge named like another app's summary sample (x_count) takes _value, so both apps show in the combined exposition", async () => {
    expect(await post('bb-first', body(4, (i) => `measure#rt=${i}ms source=a`))).toBe(204);
    expect(await post('cc-second', body(2, () => 'sample#rt_seconds_count=5 source=a'))).toBe(204);
    const second = await strictScrape(auth('cc-second'));
    expect(value(second, 'rt_seconds_count_value', { app: 'cc-second', source: 'a' })).toBe(5);
    const all = await strictScrape(BEARER);
    expect(value(all, 'rt_seconds_count', { app: 'bb-first', source: 'a' })).toBe(4);
    expect(value(all, 'rt_seconds_count_value', { app: 'cc-second', source: 'a' })).toBe(5);
    expect(find(all, 'drainmeter_exposition_conflicts', { app: 'cc-second' })).toEqual([]);
  });

  it('within an app the first kind still wins, and a name is given back once its series expire', async () => {
    const app = 'owner';
    expect(await post(app, body(5, () => 'measure#q=1 source=a'))).toBe(204);
    expect(await post(app, body(3, () => 'sample#q=2 count#q_count=1 source=a'))).toBe(204);
    let m = await strictScrape(auth(app));
    expect(value(m, 'q_count', { app, source: 'a' })).toBe(5);
    // Each sample#q, and each count#q_count: that family would write q_count, the summary's.
    expect(value(m, 'drainmeter_rejected_total', { app, reason: 'type_conflict' })).toBe(3 + 3);
    // Once q's series expire (TTL 2 s), the name and its budget are free again.
    m = await until(
      async () => parseExposition(await scrape(auth(app))),
      (x) => (value(x, 'drainmeter_series', { app }) ?? 0) === 0 && (value(x, 'drainmeter_app_budget_used', { app, budget: 'names' }) ?? 0) === 0,
    );
    expect(value(m, 'drainmeter_app_budget_used', { app, budget: 'names' }) ?? 0).toBe(0);
    // (An app holding nothing is forgotten: its counters may have started again.)
    const conflicts = value(m, 'drainmeter_rejected_total', { app, reason: 'type_conflict' }) ?? 0;
    expect(await post(app, body(2, () => 'sample#q=7 source=a'))).toBe(204);
    m = await strictScrape(auth(app));
    expect(value(m, 'q', { app, source: 'a' })).toBe(7);
    expect(value(m, 'drainmeter_rejected_total', { app, reason: 'type_conflict' })).toBe(conflicts);
  });
});

describe("the platform's share of an app's series", () => {
  it("a runaway source= never hides the app's R14s, memory or router numbers", async () => {
    const app = 'runaway';
    const sources = 2 * PER_APP;
    for (let from = 0; from < sources; from += 500) {
      expect(await post(app, body(500, (i) => `count#hits=1 source=s${from + i}`))).toBe(204);
    }
    expect(await post(app, body(1, () => ROUTER_H12, 'router', 'heroku'))).toBe(204);
    expect(await post(app, body(2, () => R14, 'web.1', 'heroku'))).toBe(204);
    expect(await post(app, body(1, () => RUNTIME_MEMORY, 'web.1', 'heroku'))).toBe(204);
    const m = await strictScrape(auth(app));
    const v = (name: string, labels: Record<string, string> = {}) => value(m, name, { app, ...labels });
    // The app's own metric keeps what the platform's share leaves; the rest is series_limit.
    expect(find(m, 'hits_total', { app })).toHaveLength(PER_APP - PLATFORM_SHARE);
    expect(v('drainmeter_rejected_total', { reason: 'series_limit' })).toBe(sources - (PER_APP - PLATFORM_SHARE));
    expect(v('heroku_dyno_errors_total', { dyno: 'web.1', code: 'R14' })).toBe(2);
    expect(v('heroku_dyno_memory_total_bytes', { dyno: 'web.1' })).toBe(21 * 1024 * 1024);
    expect(v('heroku_dyno_memory_quota_bytes', { dyno: 'web.1' })).toBe(512 * 1024 * 1024);
    expect(v('heroku_router_errors_total', { dyno: 'web.2', code: 'H12' })).toBe(1);
    expect(v('heroku_router_requests_total', { dyno: 'web.2', status: '503' })).toBe(1);
    expect(v('heroku_router_service_seconds_count', { dyno: 'web.2' })).toBe(1);
    // Another app alone is untouched by either.
    expect(await post('victim2', body(20, VICTIM))).toBe(204);
    await victimExact('victim2');
  });
});
