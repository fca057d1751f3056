// Memory and scrape time with many live series: 10 apps × 10,000 measure series,
// each with an observation in every one-second window of the last minute, so every
// sliding quantile window is full. Then RSS (after a full GC) and full /metrics
// scrapes through prom-client, timed. Run in a process of its own (run.ts forks it).

import { performance } from 'node:perf_hooks';
import { prng } from '../fixtures/corpus.js';
import { Aggregator } from '../src/aggregate/index.js';
import { Catalog, MEASURE, type Metric } from '../src/model/index.js';
import { PrometheusOutlet } from '../src/outlets/prometheus.js';

const APPS = 10;
const PER_APP = 10_000;
const SECONDS = 60;
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function seriesBench(): Promise<string> {
  gc();
  const before = process.memoryUsage().rss;
  const catalog = new Catalog();
  const agg = new Aggregator(
    { resolution: 1, grace: 2, quantileWindow: SECONDS, maxSeries: APPS * PER_APP, maxSeriesPerApp: PER_APP, seriesTtl: 600 },
    T0,
  );
  const metrics: Metric[] = [];
  for (let m = 0; m < 10; m++) metrics.push(catalog.metric(`request_${m}_seconds`, MEASURE, ['source'], 'bench') as Metric);
  const sources = Array.from({ length: PER_APP / metrics.length }, (_, i) => `web.${i}`);
  const rand = prng(9);
  const fillStart = performance.now();
  for (let sec = 0; sec < SECONDS + 3; sec++) {
    const t = T0 + sec * 1000;
    agg.advance(t);
    agg.arrival = t;
    for (let a = 0; a < APPS; a++) {
      agg.at(agg.appState(`app${a}`), t + 500);
      for (const metric of metrics) for (const source of sources) agg.observe(metric, source, '', 0.001 + rand() * rand() * 2);
    }
  }
  const fillMs = performance.now() - fillStart;
  const observations = (SECONDS + 3) * APPS * PER_APP;
  gc();
  const rss = process.memoryUsage().rss;
  const outlet = new PrometheusOutlet(agg, catalog, [0, 0.5, 0.95, 0.99, 1]);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    const { chunks } = await outlet.scrape(null, false);
    // The buffers the route sends, as they are.
    bytes = chunks.reduce((n, c) => n + c.length, 0);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  // Where a scrape's time goes: our views alone (values built, no text).
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
  const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
  return [
    `### Series: ${agg.seriesCount.toLocaleString('en-US')} live measure series (${APPS} apps × ${PER_APP.toLocaleString('en-US')}), ${SECONDS} s of windows each`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| RSS after filling (after GC) | ${mb(rss)} MB (${mb(rss - before)} MB above the empty process) |`,
    `| fill: ${observations.toLocaleString('en-US')} observations, windows closed each second | ${(fillMs / 1000).toFixed(1)} s (${Math.round(observations / (fillMs / 1000)).toLocaleString('en-US')} observations/s) |`,
    `| full /metrics scrape, text format, encoded as sent, median of 3 | ${Math.round(times[1])} ms, ${mb(bytes)} MB |`,
    `| of which quantiles over the sliding windows | ${Math.round(viewsMs)} ms${values > 0 ? '' : ' '} |`,
  ].join('\n');
}

if (process.argv[1]?.endsWith('series.js')) console.log(await seriesBench());
