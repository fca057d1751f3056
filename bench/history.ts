// The dashboard's history (outlets/history/), in a process of its own (run.ts forks
// it):
//
//   endpoint      one app, one measure with 10,000 series (sources), a full 15 minutes
//                 of windows each; the page's requests timed: index.json, a metric's
//                 history.json (its first load), and a poll for the newest step.
//   memory on|off 100,000 measure series (10 apps × 10,000) with 40 s of windows, with
//                 or without the history: RSS and heap after a full GC, so the
//                 difference of two runs is what the rings cost.

import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { prng } from '../fixtures/corpus.js';
import { Aggregator } from '../src/aggregate/index.js';
import { Budget, Catalog, HISTORY, MEASURE, type Metric } from '../src/model/index.js';
import { History, HISTORY_MAX_LIMIT, HISTORY_SECONDS } from '../src/outlets/history/index.js';
import { median, settledMemory } from './lib.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

/** `apps` × `perApp` measure series observed once a second for `seconds`, with or without a history. */
function fill(apps: number, perApp: number, seconds: number, keep: boolean) {
  const catalog = new Catalog();
  const agg = new Aggregator({ resolution: 1, grace: 2, quantileWindow: 60, maxSeries: apps * perApp, maxSeriesPerApp: perApp, seriesTtl: 3600 }, T0);
  // A budget that holds every ring: what they cost is the question here.
  const budget = new Budget(HISTORY, 2 ** 40, 2 ** 40);
  const history = keep ? new History(agg, budget) : null;
  const metric = catalog.metric('request_seconds', MEASURE, ['source'], 'bench') as Metric;
  const sources = Array.from({ length: perApp }, (_, i) => `web.${i}`);
  const states = Array.from({ length: apps }, (_, a) => agg.appState(`app${a}`));
  const rand = prng(11);
  const started = performance.now();
  for (let sec = 0; sec < seconds + 3; sec++) {
    const t = T0 + sec * 1000;
    agg.advance(t);
    if (sec >= seconds) continue;
    agg.arrival = t;
    for (const app of states) {
      agg.at(app, t + 500);
      for (const source of sources) agg.observe(metric, source, '', 0.001 + rand() * rand() * 2);
    }
  }
  return { agg, history, budget, fillMs: performance.now() - started };
}

async function endpoint(): Promise<string> {
  const { history, fillMs } = fill(1, 10_000, HISTORY_SECONDS, true);
  const h = history as History;
  const timed = async (f: () => Promise<string>) => {
    const times: number[] = [];
    let text = '';
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      text = await f();
      times.push(performance.now() - s);
    }
    return { ms: Math.round(median(times) * 10) / 10, bytes: Buffer.byteLength(text), gzipBytes: gzipSync(text).length, text };
  };
  const index = await timed(() => h.index(null));
  const q = { scope: null, app: 'app0', metric: 'request_seconds' };
  // The page's first load and its polls (the busiest 30), and the most one request may ask.
  const load = await timed(() => h.read(q));
  const { total, series } = JSON.parse(load.text) as { total: number; series: { start: number; step: number; count: unknown[] }[] };
  const newest = series[0].start + (series[0].count.length - 1) * series[0].step;
  const poll = await timed(() => h.read({ ...q, since: newest }));
  const most = await timed(() => h.read({ ...q, limit: HISTORY_MAX_LIMIT }));
  const row = (r: { ms: number; bytes: number; gzipBytes: number }) => ({ ms: r.ms, bytes: r.bytes, gzipBytes: r.gzipBytes });
  return JSON.stringify({ total, points: series[0].count.length, fillS: Math.round(fillMs / 100) / 10, index: row(index), load: row(load), poll: row(poll), most: row(most) });
}

async function memory(keep: boolean): Promise<string> {
  const empty = await settledMemory();
  const { agg, history, budget } = fill(10, 10_000, 40, keep);
  const m = await settledMemory();
  return JSON.stringify({
    series: agg.seriesCount,
    rings: history === null ? 0 : agg.seriesCount,
    chargedMb: Math.round(budget.used / 1024 / 1024),
    rssMb: Math.round((m.rss - empty.rss) / 1024 / 1024),
    heapMb: Math.round((m.heapUsed - empty.heapUsed) / 1024 / 1024),
    arrayBuffersMb: Math.round((m.arrayBuffers - empty.arrayBuffers) / 1024 / 1024),
    heapTotalMb: Math.round((m.heapTotal - empty.heapTotal) / 1024 / 1024),
  });
}

if (process.argv[1]?.endsWith('history.js')) {
  console.log(process.argv[2] === 'memory' ? await memory(process.argv[3] !== 'off') : await endpoint());
}
