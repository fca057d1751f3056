// What pushing costs: 10,002 series (a third counters, a third samples, a third
// measures of 20 observations each) close their second window, and each push outlet
// encodes them into one request as it would each second. Timed: closing the windows (the
// outlet's listener runs per window) and cutting the request (encoding, compression),
// less the same closing with no outlet. Bytes: the request as it goes on the wire.
// Nothing is sent: the request is taken from the outlet's queue. Checked before
// timed: every outlet's request carries a point for every series.

import { performance } from 'node:perf_hooks';
import { logplexBody, syslog } from '../fixtures/heroku.js';
import { iso } from '../fixtures/corpus.js';
import { Aggregator } from '../src/aggregate/index.js';
import { configFrom, parseArgs } from '../src/config.js';
import { Ingest, ingestLogplex } from '../src/ingest/index.js';
import { silentLogger } from '../src/log.js';
import { type Outlet, startOutlets } from '../src/outlets/index.js';
import { check, median } from './lib.js';

const PER = 3334;
const SERIES = 3 * PER;
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

/** The bodies filling window `second` of every series: per source a counter, a sample and 20 latencies. */
function bodies(second: number): Buffer[] {
  const at = iso(T0 + second * 1000 + 100);
  const out: Buffer[] = [];
  let messages: string[] = [];
  for (let i = 0; i < PER; i++) {
    messages.push(syslog(at, 'app', 'web.1', `count#orders=1 sample#depth=${i} measure#db.latency=${i % 97}ms source=web.${i}`));
    for (let k = 1; k < 20; k++) messages.push(syslog(at, 'app', 'web.1', `measure#db.latency=${(i % 89) + k * 2.7}ms source=web.${i}`));
    if (messages.length >= 100) {
      out.push(logplexBody(messages));
      messages = [];
    }
  }
  if (messages.length > 0) out.push(logplexBody(messages));
  return out;
}

interface Taken {
  bytes: number;
  samples: number;
}

/**
 * An aggregator whose every series has closed one window and has the next open, the
 * outlet (if any) listening, its queue taken over: the steady state, where a series'
 * labels are already encoded.
 */
function setup(env: Record<string, string> | null, input: Buffer[][]): { agg: Aggregator; outlet: Outlet | null; taken: Taken[] } {
  const config = configFrom(parseArgs(Object.entries(env ?? {}).flatMap(([k, v]) => [`--${k}`, v]), {}).values);
  const agg = new Aggregator({ resolution: 1, grace: 0, quantileWindow: 60, maxSeries: 200_000, maxSeriesPerApp: 200_000, seriesTtl: 600 }, T0);
  const outlets = env === null ? [] : startOutlets(config.outlets.filter((c) => c.definition.name !== 'windows'), { aggregator: agg, quantiles: config.quantiles, log: silentLogger, now: Date.now, write: () => {} });
  const taken: Taken[] = [];
  for (const o of outlets) {
    const q = (o as unknown as { queue?: { add(b: Taken): void } }).queue;
    if (q !== undefined) q.add = (b: Taken) => void taken.push({ bytes: b.bytes, samples: b.samples });
  }
  const ingest = new Ingest(agg);
  const tenant = agg.appState('shop');
  const names = ingest.nameTable(tenant, '');
  if (names === null) throw new Error('no name table');
  const outlet = outlets[0] ?? null;
  for (let second = 0; second < 2; second++) {
    agg.arrival = T0 + second * 1000 + 200;
    ingest.begin(tenant, names, agg.arrival);
    for (const b of input[second]) ingestLogplex(ingest, [b], 1 << 20);
    check(ingest.stats.rejectedTotal() === 0, `rejections ${JSON.stringify(ingest.stats.rejections())}`);
    if (second === 0) closeAndCut(agg, outlet, 0);
  }
  taken.length = 0;
  return { agg, outlet, taken };
}

/** Closes every window and cuts the request: ms. */
function closeAndCut(agg: Aggregator, outlet: Outlet | null, second: number): number {
  const t = performance.now();
  agg.advance(T0 + (second + 1) * 1000 + 1);
  (outlet as unknown as { cut?: () => void } | null)?.cut?.();
  return performance.now() - t;
}

const OUTLETS: [string, Record<string, string>][] = [
  ['remote write: native histograms and summaries (default)', { 'remote-write-url': 'http://127.0.0.1:9/api/v1/write' }],
  ['remote write: native histograms only', { 'remote-write-url': 'http://127.0.0.1:9/api/v1/write', 'remote-write-measures': 'histogram' }],
  ['remote write: summaries only', { 'remote-write-url': 'http://127.0.0.1:9/api/v1/write', 'remote-write-measures': 'summary' }],
  ['OTLP protobuf', { 'otlp-endpoint': 'http://127.0.0.1:9' }],
  ['OTLP protobuf, gzip', { 'otlp-endpoint': 'http://127.0.0.1:9', 'otlp-compression': 'gzip' }],
  ['OTLP JSON', { 'otlp-endpoint': 'http://127.0.0.1:9', 'otlp-protocol': 'http/json' }],
];

export function pushBench(rounds: number): string {
  const input = [bodies(0), bodies(1)];
  const run = (env: Record<string, string> | null): { ms: number; bytes: number; samples: number } => {
    const times: number[] = [];
    let bytes = 0;
    let samples = 0;
    for (let r = 0; r < rounds + 2; r++) {
      // A fresh aggregator each round: the same 10,000 series, each window closing once.
      const { agg, outlet, taken } = setup(env, input);
      check(agg.seriesCount === SERIES, `series ${agg.seriesCount}`);
      const ms = closeAndCut(agg, outlet, 1);
      if (r >= 2) times.push(ms);
      bytes = taken.reduce((n, t) => n + t.bytes, 0);
      samples = taken.reduce((n, t) => n + t.samples, 0);
      if (env !== null) check(samples >= agg.seriesCount, `${JSON.stringify(env)}: ${samples} points for ${agg.seriesCount} series`);
    }
    return { ms: median(times), bytes, samples };
  };
  const none = run(null);
  const rows = OUTLETS.map(([label, env]) => {
    const r = run(env);
    const us = ((r.ms - none.ms) * 1000) / SERIES;
    return `| ${label} | ${us.toFixed(2)} | ${(r.bytes / SERIES).toFixed(1)} | ${r.samples.toLocaleString('en-US')} | ${(r.bytes / 1e6).toFixed(2)} MB |`;
  });
  return [
    `### Push: one request for ${SERIES.toLocaleString('en-US')} series' windows (a third each counters, samples, measures of 20 observations), median of ${rounds}`,
    '',
    `Closing the windows with no outlet: ${none.ms.toFixed(1)} ms.`,
    '',
    '| outlet | µs per series (encode + compress) | bytes per series on the wire | samples / points | request |',
    '|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
