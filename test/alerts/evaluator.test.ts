// The evaluator on an aggregator driven by an injected clock: each stat over `over`
// is what the lines inside it make (counts, sums, min, max exact; quantiles within
// 1% of the nearest rank), and alerts move inactive → pending → firing → resolved
// by `for` and `rearm`, per series or merged, with absent and shares.

import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/aggregate/index.js';
import { type Entry, Evaluator, type Transition } from '../../src/alerts/evaluator.js';
import { parseRules } from '../../src/alerts/rules.js';
import { Catalog, COUNTER, MEASURE, type Metric, SAMPLE } from '../../src/model/index.js';
import { nearestRank } from '../helpers.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0); // a 10 s boundary
const S0 = T0 / 1000;
const catalog = new Catalog();
const latency = catalog.metric('latency_seconds', MEASURE, ['source'], '') as Metric;
const requests = catalog.metric('requests_total', COUNTER, ['status'], '') as Metric;
const depth = catalog.metric('depth', SAMPLE, ['source'], '') as Metric;

const HEAD = 'notify:\n  hook: { webhook: "http://127.0.0.1:9/hook" }\nalerts:\n';

function setup(rules: string) {
  // The clock starts 30 s early: the evaluator has watched that long before T0.
  const agg = new Aggregator({ resolution: 1, grace: 2, quantileWindow: 60, maxSeries: 1000, maxSeriesPerApp: 1000, seriesTtl: 3600 }, T0 - 30_000);
  const set = parseRules(HEAD + rules);
  const transitions: Transition[] = [];
  const kept = new Map<string, Entry>();
  const ev = new Evaluator(set.rules, 1, {
    notify: async (t) => void transitions.push(t),
    persist: (key, e) => (e === null ? kept.delete(key) : kept.set(key, { ...e })),
    record: () => {},
  });
  ev.attach(agg);
  agg.advance(T0 - 29_000);
  /** A line at T0 + ms, the clock moved to it first (lines arrive in time, as in serve). */
  const line = (app: string, ms: number, metric: Metric, label: string, value: number) => {
    to(Math.floor(ms / 1000));
    agg.at(agg.appState(app), T0 + ms);
    agg.observe(metric, label, '', value);
  };
  /** Moves the clock to `s` seconds after T0, second by second (as serve's tick does). */
  const to = (s: number) => {
    for (let t = Math.floor(agg.clock / 1000) + 1; t <= S0 + s; t++) agg.advance(t * 1000);
  };
  const value = (name: string, app = 'shop', labels: Record<string, string> = {}) => {
    for (const { rule, alert } of ev.alerts()) {
      if (rule.name === name && alert.entry.app === app && JSON.stringify(alert.entry.labels) === JSON.stringify(labels)) return ev.value(rule, alert, ev.evaluatedTo);
    }
    return undefined;
  };
  return { agg, ev, set, transitions, kept, line, to, value };
}

/** A reproducible spread of values. */
function values(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 0.001 + (x / 2 ** 31) * 2;
  });
}

describe('the stat over `over`', () => {
  it('is exact for counts, sums, min, max, mean and rate, and within 1% for quantiles, over the lines inside the window only', () => {
    const stats = ['p99', 'p50', 'count', 'sum', 'min', 'max', 'mean', 'rate'];
    const rules = stats.map((s) => `  - { name: all-${s}, app: shop, metric: latency_seconds, stat: ${s}, above: 1e9, each: all, notify: hook }\n`).join('');
    const web1 = '  - { name: web1-p99, app: shop, metric: latency_seconds, where: { source: web.1 }, stat: p99, above: 1e9, notify: hook }\n';
    const { line, to, value } = setup(rules + web1);
    const a = values(600, 7);
    const b = values(300, 11);
    // Outside [T0, T0 + 60 s): before it, and after it.
    line('shop', -5_000, latency, 'web.1', 100);
    // Inside: 600 values from web.1, 300 from web.2, spread over the minute, in time order.
    const lines = [...a.map((v, i) => [i * 100, 'web.1', v] as const), ...b.map((v, i) => [i * 200 + 50, 'web.2', v] as const)].sort((x, y) => x[0] - y[0]);
    for (const [ms, source, v] of lines) line('shop', ms, latency, source, v);
    line('shop', 60_500, latency, 'web.1', 200);
    to(62); // the window ending at T0 + 60 closes at + 62: evaluated at T0 + 60
    const inside = [...a, ...b];
    const sum = inside.reduce((x, y) => x + y, 0);
    expect(value('all-count')).toBe(900);
    expect(value('all-sum')).toBeCloseTo(sum, 9);
    expect(value('all-min')).toBe(Math.min(...inside));
    expect(value('all-max')).toBe(Math.max(...inside));
    expect(value('all-mean')).toBeCloseTo(sum / 900, 12);
    expect(value('all-rate')).toBe(900 / 60);
    for (const [name, q, vs] of [['all-p99', 0.99, inside], ['all-p50', 0.5, inside], ['web1-p99', 0.99, a]] as const) {
      const got = value(name, 'shop', name === 'web1-p99' ? { source: 'web.1' } : {}) as number;
      expect(Math.abs(got - nearestRank(vs, q)) / nearestRank(vs, q)).toBeLessThanOrEqual(0.01);
    }
  });

  it('takes a counter\'s increase for count, sum and rate, and a sample\'s newest value for last', () => {
    const { line, to, value } = setup(
      '  - { name: reqs, app: shop, metric: requests_total, stat: rate, above: 1e9, each: all, notify: hook }\n' +
        '  - { name: reqs-count, app: shop, metric: requests_total, stat: count, above: 1e9, each: all, notify: hook }\n' +
        '  - { name: depth-last, app: shop, metric: depth, stat: last, above: 1e9, notify: hook }\n' +
        '  - { name: depth-max, app: shop, metric: depth, stat: max, above: 1e9, notify: hook }\n',
    );
    let total = 0;
    const depths = new Map([[20, 4], [80, 9], [82, 2]]); // at 10 s, 40 s and 41 s
    for (let i = 0; i < 120; i++) {
      const inc = (i % 5) + 1;
      if (i * 500 < 60_000) total += inc;
      line('shop', i * 500, requests, i % 3 === 0 ? '500' : '200', inc);
      const d = depths.get(i);
      if (d !== undefined) line('shop', i * 500 + 100, depth, 'q', d);
    }
    to(62);
    expect(value('reqs-count')).toBe(total);
    expect(value('reqs')).toBe(total / 60);
    expect(value('depth-last', 'shop', { source: 'q' })).toBe(2);
    expect(value('depth-max', 'shop', { source: 'q' })).toBe(9);
  });

  it('gives a share of one set of series over another (5xx of all requests)', () => {
    const { line, to, value } = setup('  - { name: share, app: shop, metric: requests_total, where: { status: "~5.." }, of: {}, stat: rate, above: 0.1, each: all, notify: hook }\n');
    let bad = 0;
    let all = 0;
    for (let i = 0; i < 50; i++) {
      const status = i % 4 === 0 ? '503' : i % 7 === 0 ? '404' : '200';
      line('shop', i * 1000, requests, status, 1);
      all++;
      if (status.startsWith('5')) bad++;
    }
    to(62);
    expect(value('share')).toBe(bad / all);
  });
});

describe('alert states', () => {
  it('fires once the condition has held for `for`, resolves when it stops, and waits out `rearm` before firing again', () => {
    const { line, to, transitions, kept } = setup('  - { name: slow, app: shop, metric: latency_seconds, stat: max, above: 1, over: 10s, for: 20s, rearm: 100s, notify: hook }\n');
    const run = (from: number, until: number, v: number) => {
      for (let s = from; s < until; s++) line('shop', s * 1000 + 500, latency, 'web.1', v);
    };
    run(0, 12, 1.5);
    to(12); // [T0, T0 + 10) evaluated at T0 + 10: pending since then
    expect(transitions).toEqual([]);
    expect([...kept.values()][0]).toMatchObject({ state: 'pending', since: S0 + 10 });
    run(12, 32, 1.5);
    to(32); // held at T0 + 10, 20 and 30: 20 s, so firing at T0 + 30
    expect(transitions.map((t) => [t.state, t.at, t.since, t.value])).toEqual([['firing', S0 + 30, S0 + 10, 1.5]]);
    expect(transitions[0].labels).toEqual({ source: 'web.1' });
    // Fine from T0 + 40 on: [T0 + 40, T0 + 50) evaluated at T0 + 50 resolves.
    run(32, 40, 1.5);
    run(40, 60, 0.2);
    to(62);
    expect(transitions.map((t) => [t.state, t.at])).toEqual([['firing', S0 + 30], ['resolved', S0 + 50]]);
    // Breaching again from T0 + 60: held for 20 s by T0 + 90, but rearm (100 s from T0 + 30) waits until T0 + 130.
    run(60, 122, 3);
    to(122);
    expect(transitions).toHaveLength(2);
    run(122, 132, 3);
    to(132);
    expect(transitions.map((t) => [t.state, t.at])).toEqual([['firing', S0 + 30], ['resolved', S0 + 50], ['firing', S0 + 130]]);
  });

  it('says absent with the seconds since the last line, and null for an app never seen', () => {
    const { line, to, transitions } = setup(
      '  - { name: quiet, app: shop, metric: requests_total, absent: true, over: 30s, each: all, notify: hook }\n' +
        '  - { name: never, app: ghost, metric: requests_total, absent: true, over: 20s, each: all, notify: hook }\n',
    );
    const of = (name: string) => transitions.filter((t) => t.rule.name === name).map((t) => [t.state, t.at, t.value]);
    // The evaluator started at T0 − 31 s: a 20 s rule first evaluates at T0 − 10 s, a 30 s one at T0.
    line('shop', -25_000, requests, '200', 1); // its window ends at T0 − 24 s
    to(2);
    expect(of('never')).toEqual([['firing', S0 - 10, null]]);
    expect(transitions.find((t) => t.rule.name === 'never')?.rule.threshold).toBe(20);
    expect(of('quiet')).toEqual([]); // 24 s since the last line at T0
    to(12);
    expect(of('quiet')).toEqual([['firing', S0 + 10, 34]]);
    line('shop', 15_000, requests, '200', 1);
    to(22);
    expect(of('quiet')).toEqual([['firing', S0 + 10, 34], ['resolved', S0 + 20, 4]]);
  });

  it('makes an alert again for a series that comes back after its alert went idle and was dropped', () => {
    const { line, to, transitions, ev } = setup('  - { name: slow, app: shop, metric: latency_seconds, stat: max, above: 1, over: 10s, notify: hook }\n');
    line('shop', 500, latency, 'web.1', 0.2);
    to(40); // idle for longer than over + a step: dropped
    expect([...ev.alerts()]).toEqual([]);
    for (let s = 40; s < 52; s++) line('shop', s * 1000 + 500, latency, 'web.1', 2);
    to(52);
    expect(transitions.map((t) => [t.state, t.at, t.value])).toEqual([['firing', S0 + 50, 2]]);
    expect(ev.bytes).toBeGreaterThan(0);
  });

  it('goes on from kept state: no second firing inside rearm, and a resolve owed is sent', async () => {
    const rule = '  - { name: slow, app: shop, metric: latency_seconds, stat: max, above: 1, over: 10s, notify: hook }\n';
    const first = setup(rule);
    for (let s = 0; s < 30; s++) first.line('shop', s * 1000, latency, 'web.1', 2);
    first.to(12);
    expect(first.transitions.map((t) => t.state)).toEqual(['firing']);
    await new Promise((r) => setImmediate(r)); // delivered: nothing owed is kept
    expect([...first.kept.values()].map((e) => [e.state, e.owe])).toEqual([['firing', null]]);
    // A new evaluator takes the kept entries; the condition still holds: nothing is sent.
    const second = setup(rule);
    // It has seen the same lines (another receiver's view) without evaluating, and takes over at T0 + 12.
    second.ev.active = false;
    for (let s = 0; s < 13; s++) second.line('shop', s * 1000, latency, 'web.1', 2);
    second.ev.restore(first.kept.values());
    second.ev.active = true;
    // The condition still holds: nothing is sent.
    for (let s = 13; s < 40; s++) second.line('shop', s * 1000, latency, 'web.1', 2);
    second.to(32);
    expect(second.transitions).toEqual([]);
    // It clears: the resolve is sent by the new evaluator.
    for (let s = 40; s < 60; s++) second.line('shop', s * 1000, latency, 'web.1', 0.5);
    second.to(52);
    expect(second.transitions.map((t) => [t.state, t.since])).toEqual([['resolved', S0 + 10]]);
    // A transition kept as owed (the process died before it was delivered) is sent again.
    const third = setup(rule);
    const owed = [...first.kept.values()].map((e) => ({ ...e, owe: 'firing' as const }));
    third.ev.restore(owed);
    expect(third.transitions.map((t) => t.state)).toEqual(['firing']);
  });
});
