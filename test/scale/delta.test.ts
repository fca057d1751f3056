// Scale-out's core promise (docs/scale-out.md): lines split between receivers, each exporting
// what it collected and one merging every payload, give what one process reading
// every line gives. The single process is the oracle here; the quantiles are also
// checked against the exact nearest-rank values of the lines.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Pipeline, pipeline } from '../../src/pipeline.js';
import { exportDelta, mergeDelta } from '../../src/scale/delta.js';
import { WireError } from '../../src/scale/wire.js';
import { config, feed, parseExposition, type Sample, T0 } from '../server/helpers.js';


async function samples(p: Pipeline, at: number): Promise<Sample[]> {
  p.aggregator.advance(at);
  const r = await p.outlet.scrape(null, { processMetrics: false });
  return parseExposition(Buffer.concat(r.chunks).toString()).filter((s) => !s.name.startsWith('drainmeter_budget') && !s.name.startsWith('drainmeter_app_budget') && s.name !== 'drainmeter_renderings_total' && s.name !== 'drainmeter_requests_total');
}

function key(s: Sample): string {
  return `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
}

const line = fc.record({
  app: fc.constantFrom('shop', 'blog'),
  kind: fc.constantFrom('measure', 'count', 'sample'),
  name: fc.constantFrom('db.latency', 'orders', 'queue'),
  value: fc.integer({ min: 1, max: 5000 }),
  source: fc.constantFrom('', 'web.1', 'worker.2'),
  /** Seconds after the body's arrival the line says it was written (negative: late). */
  offset: fc.integer({ min: -6, max: 0 }),
  /** Which of two receivers gets it. */
  to: fc.constantFrom(0, 1),
});

describe('deltas: two receivers merged equal one', () => {
  it('every sample of every family, for any lines and hand-over times', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(line, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 60 }), fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), async (bodies, handOver) => {
        const cfg = config();
        const one = pipeline(cfg, T0);
        const parts = [pipeline(cfg, T0, { exporting: true }), pipeline(cfg, T0, { exporting: true })];
        const view = pipeline({ ...cfg, grace: cfg.grace + 1 }, T0);
        const values = new Map<string, number[]>();
        const hand = () => {
          view.aggregator.advance(t);
          for (const p of parts) {
            const d = exportDelta(p.aggregator, p.outlet.requests);
            if (d !== null) mergeDelta({ aggregator: view.aggregator, catalog: view.catalog, requests: view.outlet.requests }, d);
          }
        };
        let t = T0;
        for (let b = 0; b < bodies.length; b++) {
          t += 400;
          for (const to of [0, 1]) {
            const mine = bodies[b].filter((l) => l.to === to);
            for (const app of ['shop', 'blog']) {
              const lines = mine
                .filter((l) => l.app === app)
                .map((l) => {
                  // a measure, a counter and a sample never share a name
                  const name = `${l.kind}_${l.name}`;
                  const stamp = new Date(t + l.offset * 1000).toISOString();
                  const src = l.source === '' ? '' : ` source=${l.source}`;
                  if (l.kind === 'measure') {
                    const k = `${app} ${name}_ms${src}`;
                    values.set(k, [...(values.get(k) ?? []), l.value]);
                  }
                  return `${stamp} app[web.1]: ${l.kind}#${name}=${l.value}${l.kind === 'measure' ? 'ms' : ''}${src}`;
                });
              if (lines.length === 0) continue;
              feed(one, app, lines, t);
              feed(parts[to], app, lines, t);
            }
          }
          // at least once a second of clock, as the tick does (the view closes a second later)
          if (b % 2 === 1 || handOver[b % handOver.length]) hand();
        }
        hand();
        const end = t + 20_000;
        const expected = await samples(one, end);
        view.aggregator.advance(end);
        const got = new Map((await samples(view, end)).map((s) => [key(s), s.value]));
        expect(expected.length).toBeGreaterThan(0);
        for (const s of expected) {
          const v = got.get(key(s));
          expect(v, key(s)).toBeDefined();
          if (Number.isNaN(s.value)) expect(v).toBeNaN();
          else expect(v, key(s)).toBeCloseTo(s.value, 9);
        }
        expect(got.size).toBe(expected.length);
      }),
      { numRuns: 100 },
    );
  });

  it('quantiles of the merge are within 1% of the exact nearest-rank values', async () => {
    const cfg = config();
    const parts = [pipeline(cfg, T0, { exporting: true }), pipeline(cfg, T0, { exporting: true }), pipeline(cfg, T0, { exporting: true })];
    const view = pipeline({ ...cfg, grace: cfg.grace + 1 }, T0);
    const all: number[] = [];
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 3000; i++) {
      const v = Math.round(Math.exp(rand() * 9) * 1000) / 1000;
      all.push(v);
      const t = T0 + Math.floor(i / 300) * 1000 + 100;
      feed(parts[i % 3], 'shop', [`${new Date(t).toISOString()} app[web.1]: measure#db.latency=${v}ms`], t);
      view.aggregator.advance(t);
      if (i % 97 === 0) for (const p of parts) {
        const d = exportDelta(p.aggregator, p.outlet.requests);
        if (d !== null) mergeDelta({ aggregator: view.aggregator, catalog: view.catalog, requests: view.outlet.requests }, d);
      }
    }
    for (const p of parts) {
      const d = exportDelta(p.aggregator, p.outlet.requests);
      if (d !== null) mergeDelta({ aggregator: view.aggregator, catalog: view.catalog, requests: view.outlet.requests }, d);
    }
    const got = await samples(view, T0 + 20_000);
    all.sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = all[Math.ceil(q * all.length) - 1] / 1000;
      const s = got.find((x) => x.name === 'db_latency_seconds' && x.labels.quantile === String(q));
      expect(Math.abs((s?.value ?? NaN) - exact) / exact, `p${q * 100}`).toBeLessThanOrEqual(0.01);
    }
    expect(got.find((x) => x.name === 'db_latency_seconds_count')?.value).toBe(3000);
  });

  it('a payload that is not one is refused whole', () => {
    const cfg = config();
    const view = pipeline(cfg, T0);
    const target = { aggregator: view.aggregator, catalog: view.catalog, requests: view.outlet.requests };
    const part = pipeline(cfg, T0, { exporting: true });
    feed(part, 'shop', ['measure#a=1ms count#b=2'], T0);
    const d = exportDelta(part.aggregator, part.outlet.requests) as Buffer;
    expect(() => mergeDelta(target, d.subarray(0, d.length - 3))).toThrow(WireError);
    expect(() => mergeDelta(target, Buffer.from([9]))).toThrow(WireError);
  });
});

describe('deltas that come late (a receiver catching up after Redis)', () => {
  it('join the quantile window while it covers them', async () => {
    const cfg = config();
    const view = pipeline({ ...cfg, grace: cfg.grace + 1 }, T0);
    const target = { aggregator: view.aggregator, catalog: view.catalog, requests: view.outlet.requests };
    const oneProcess = pipeline(cfg, T0);
    const parts = [pipeline(cfg, T0, { exporting: true }), pipeline(cfg, T0, { exporting: true })];
    const held: Buffer[] = [];
    let seed = 3;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 2000; i++) {
      const t = T0 + i * 10;
      const v = Math.round(Math.exp(rand() * 7) * 1000) / 1000;
      const lines = [`${new Date(t).toISOString()} app[web.1]: measure#db.latency=${v}ms`];
      feed(oneProcess, 'shop', lines, t);
      feed(parts[i % 2], 'shop', lines, t);
      view.aggregator.advance(t);
      if (i % 25 === 0) {
        // part 0 hands over at once; part 1's payloads wait, as while Redis is away
        for (const [n, p] of parts.entries()) {
          const d = exportDelta(p.aggregator, p.outlet.requests);
          if (d === null) continue;
          if (n === 0) mergeDelta(target, d);
          else held.push(d);
        }
      }
    }
    for (const p of parts) {
      const d = exportDelta(p.aggregator, p.outlet.requests);
      if (d !== null) held.push(d);
    }
    view.aggregator.advance(T0 + 25_000);
    for (const d of held) mergeDelta(target, d);
    const want = await samples(oneProcess, T0 + 25_000);
    const got = await samples(view, T0 + 25_000);
    for (const q of ['0', '0.5', '0.95', '0.99', '1']) {
      const w = want.find((s) => s.name === 'db_latency_seconds' && s.labels.quantile === q);
      const g = got.find((s) => s.name === 'db_latency_seconds' && s.labels.quantile === q);
      expect(g?.value, `quantile ${q}`).toBe(w?.value);
    }
  });
});
