// Memory and scrape time with many live series: 100,000 measure series spread over
// APPS apps (argv: APPS and `distinct`, for a metric name of its own per app rather
// than ten shared), each with an observation in every one-second window of the last
// minute, so every sliding quantile window is full. Then RSS (after a full GC) and
// full /metrics scrapes, timed, each after 15 more seconds of log. Run in a process
// of its own (run.ts forks it), so the scrape time can be compared across spreads:
// it must follow the series written, not apps × names.
//
// With `baselines` (the 10-app row of `npm run bench -- series`), two baselines from
// the same process: prom-client writing the same samples (gauges given their values,
// nothing computed: the floor of exposing these series with it), and the logfmt
// package over the ingest bench's messages (215–236 k lines/s on 2026-11-22), so that
// a time measured in a slow hour can be read in the terms of a faster one.

import { performance } from 'node:perf_hooks';
import logfmt from 'logfmt';
import client from 'prom-client';
import { generate, prng } from '../fixtures/corpus.js';
import { Aggregator } from '../src/aggregate/index.js';
import { Catalog, MEASURE, type Metric } from '../src/model/index.js';
import { PrometheusOutlet } from '../src/outlets/prometheus.js';
import { median, settledMemory } from './lib.js';

const TOTAL = 100_000;
const APPS = Number(process.argv[2] ?? 10);
const DISTINCT = process.argv[3] === 'distinct';
const BASELINES = process.argv.includes('baselines');
const PER_APP = TOTAL / APPS;
const SECONDS = 60;
/** Seconds of log between timed scrapes (a Prometheus scrape_interval often used). */
const SCRAPE_EVERY = 15;
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

/** logfmt.parse over the ingest bench's 20,000 messages (seed 42): lines/s of 7 passes after a warm one. */
function logfmtSpeed(): number[] {
  const messages = generate(20_000, { seed: 42 }).map((l) => l.message);
  const rates: number[] = [];
  let keys = 0;
  for (let pass = 0; pass < 8; pass++) {
    const t = performance.now();
    for (const m of messages) for (const k in logfmt.parse(m)) keys += k.length;
    // The first pass warms up.
    if (pass > 0) rates.push(messages.length / ((performance.now() - t) / 1000));
  }
  if (keys === 0) throw new Error('logfmt parsed nothing');
  return rates;
}

const SAMPLE = /^(request_\d+_seconds)(_sum|_count)?\{app="([^"]*)",source="([^"]*)"(?:,quantile="([^"]*)")?\} (.+)$/;

/**
 * prom-client writing the samples of `text` (request_* families only): gauges with
 * the same names, labels in the same order and the same values. Its lines must be
 * ours, as a set, before it is timed. Returns the median of 3 renderings, ms.
 */
async function promClientScrape(text: string): Promise<{ ms: number; samples: number }> {
  const registry = new client.Registry();
  const gauges = new Map<string, client.Gauge>();
  const ours = new Set<string>();
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (m === null) continue;
    ours.add(line);
    const [, family, suffix = '', app, source, quantile, value] = m;
    const name = family + suffix;
    let g = gauges.get(name);
    if (g === undefined) {
      g = new client.Gauge({ name, help: 'bench', labelNames: quantile === undefined ? ['app', 'source'] : ['app', 'source', 'quantile'], registers: [registry] });
      gauges.set(name, g);
    }
    g.set(quantile === undefined ? { app, source } : { app, source, quantile }, Number(value));
  }
  const theirs = (await registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  if (theirs.length !== ours.size || !theirs.every((l) => ours.has(l))) throw new Error(`prom-client wrote other samples (${theirs.length} against ${ours.size})`);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await registry.metrics();
    times.push(performance.now() - t);
  }
  return { ms: median(times), samples: ours.size };
}

export async function seriesBench(): Promise<string> {
  const start = await settledMemory();
  const before = start.rss;
  const catalog = new Catalog();
  const agg = new Aggregator(
    { resolution: 1, grace: 2, quantileWindow: SECONDS, maxSeries: APPS * PER_APP, maxSeriesPerApp: PER_APP, seriesTtl: 600 },
    T0,
  );
  // Ten shared names, or (distinct) names of each app's own, ten a app at most.
  const names = Math.min(10, PER_APP);
  const shared = Array.from({ length: names }, (_, m) => catalog.metric(`request_${m}_seconds`, MEASURE, ['source'], 'bench') as Metric);
  const metricsOf = Array.from({ length: APPS }, (_, a) =>
    DISTINCT ? Array.from({ length: names }, (_, m) => catalog.metric(`app${a}_request_${m}_seconds`, MEASURE, ['source'], 'bench') as Metric) : shared,
  );
  const sources = Array.from({ length: PER_APP / names }, (_, i) => `web.${i}`);
  const apps = Array.from({ length: APPS }, (_, a) => agg.appState(`app${a}`));
  const rand = prng(9);
  let sec = 0;
  /** The next second of log: every series observed once. */
  const second = () => {
    const t = T0 + sec++ * 1000;
    agg.advance(t);
    agg.arrival = t;
    for (let a = 0; a < APPS; a++) {
      agg.at(apps[a], t + 500);
      for (const metric of metricsOf[a]) for (const source of sources) agg.observe(metric, source, '', 0.001 + rand() * rand() * 2);
    }
  };
  const fillStart = performance.now();
  while (sec < SECONDS + 3) second();
  const fillMs = performance.now() - fillStart;
  // What serve does every 10 s: expired series go, the sliding windows' arena is compacted.
  agg.sweep();
  const observations = (SECONDS + 3) * APPS * PER_APP;
  const mem = await settledMemory();
  const rss = mem.rss;
  const outlet = new PrometheusOutlet(agg, catalog, [0, 0.5, 0.95, 0.99, 1]);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    // A scrape every SCRAPE_EVERY seconds: each finds every series moved on since the last.
    for (let k = 0; k < SCRAPE_EVERY; k++) second();
    const s = performance.now();
    const { chunks } = await outlet.scrape(null);
    // The buffers the route sends, as they are.
    bytes = chunks.reduce((n, c) => n + c.length, 0);
    times.push(performance.now() - s);
  }
  // Where a scrape's time goes: our views alone (values built, no text).
  for (let k = 0; k < SCRAPE_EVERY; k++) second();
  const v = performance.now();
  let values = 0;
  const qs = [0, 0.5, 0.95, 0.99, 1];
  const out: number[] = [];
  for (const app of agg.apps.values()) {
    for (const s of app.each()) {
      agg.expire(s);
      s.sliding?.quantiles(qs, out);
      values += out[2];
    }
  }
  const viewsMs = performance.now() - v;
  // One app's scrape: its own series only, whatever the others hold.
  const one = performance.now();
  const { chunks: oneChunks } = await outlet.scrape('app0');
  const oneMs = performance.now() - one;
  const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
  let baselines = {};
  if (BASELINES) {
    // After everything above (the corpus it reads would count in RSS), before
    // prom-client (its 700,000 label sets would weigh on it).
    const logfmtLinesPerSec = Math.round(median(logfmtSpeed()));
    const { chunks } = await outlet.scrape(null);
    const rival = await promClientScrape(Buffer.concat(chunks).toString('latin1'));
    baselines = {
      promClientMs: Math.round(rival.ms),
      promClientSamples: rival.samples,
      logfmtLinesPerSec,
      // 500 ms of 2026-11-22 (logfmt.parse then did 215–236 k lines/s) at this run's speed.
      slowHourMsLow: Math.round((500 * 215_000) / logfmtLinesPerSec),
      slowHourMsHigh: Math.round((500 * 236_000) / logfmtLinesPerSec),
    };
  }
  return JSON.stringify({
    apps: APPS,
    distinct: DISTINCT,
    series: agg.seriesCount,
    families: catalog.size,
    rssMb: Number(mb(rss)),
    aboveEmptyMb: Number(mb(rss - before)),
    // What RSS is made of, a series: the JS heap and typed-array stores (the arena).
    heapPerSeries: Math.round((mem.heapUsed - start.heapUsed) / agg.seriesCount),
    buffersPerSeries: Math.round((mem.arrayBuffers - start.arrayBuffers) / agg.seriesCount),
    fillObsPerSec: Math.round(observations / (fillMs / 1000)),
    scrapeMs: Math.round(median(times)),
    scrapeMb: Number(mb(bytes)),
    quantilesMs: Math.round(viewsMs) + (values > 0 ? 0 : 0),
    oneAppMs: Math.round(oneMs * 10) / 10,
    oneAppKb: Math.round(oneChunks.reduce((n, c) => n + c.length, 0) / 1024),
    ...baselines,
  });
}

if (process.argv[1]?.endsWith('series.js')) console.log(await seriesBench());
