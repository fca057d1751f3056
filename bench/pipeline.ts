// The whole path serve runs for a body, without HTTP: frames, headers, tokenizer,
// conventions, then series, windows and histograms in the aggregator, with the
// clock following the data so windows close each second as they do in serve.
// Against the ingest path alone into a counting sink, and the aggregator alone fed
// the observations ingest made of the same lines (recorded once): the two halves of
// a line's cost. Each in a process of its own (run.ts forks this file per mode):
// sharing one process would make the ingest call sites see several sink classes,
// which serve never does.

import { performance } from 'node:perf_hooks';
import { generate, syslogMessages } from '../fixtures/corpus.js';
import { logplexBody } from '../fixtures/heroku.js';
import { Aggregator } from '../src/aggregate/index.js';
import { Ingest, ingestLogplex } from '../src/ingest/index.js';
import { type Metric, type ObservationSink, Tenant } from '../src/model/index.js';
import { configFrom, parseArgs } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { startOutlets } from '../src/outlets/index.js';
import { CountingSink } from './lib.js';

const LINES = 20_000;
/** serve's defaults, with the clock following the data. */
const OPTIONS = { resolution: 1, grace: 2, quantileWindow: 60, maxSeries: 100_000, maxSeriesPerApp: 10_000, seriesTtl: 600 };

function run(mode: string): { linesPerSec: number; mbPerSec: number } {
  const lines = generate(LINES, { seed: 42 });
  const messages = syslogMessages(lines);
  const bodies: Buffer[] = [];
  const times: number[] = [];
  for (let i = 0; i < messages.length; i += 100) {
    bodies.push(logplexBody(messages.slice(i, i + 100)));
    times.push(lines[i].time);
  }
  const bytes = bodies.reduce((n, b) => n + b.length, 0);
  const start = lines[0].time;
  const end = lines[lines.length - 1].time;
  let pass: () => void;
  if (mode === 'aggregate' || mode === 'remote-write') {
    const agg = new Aggregator(OPTIONS, start);
    // With remote write on: every closed window encoded, a request cut per pass (20
    // seconds of log), taken from the queue instead of sent.
    let cut = () => {};
    if (mode === 'remote-write') {
      const config = configFrom(parseArgs(['--remote-write-url', 'http://127.0.0.1:9/api/v1/write'], {}).values);
      const [outlet] = startOutlets(config.outlets.filter((c) => c.definition.name === 'remote_write'), { aggregator: agg, quantiles: config.quantiles, log: silentLogger, now: Date.now, write: () => {} });
      const o = outlet as unknown as { cut(): void; queue: { add(b: { samples: number }): void } };
      let samples = 0;
      o.queue.add = (b) => void (samples += b.samples);
      cut = () => {
        o.cut();
        if (samples === 0) throw new Error('remote write encoded nothing');
      };
    }
    const ingest = new Ingest(agg);
    const tenant = agg.appState('bench');
    const names = ingest.nameTable(tenant, '');
    if (names === null) throw new Error('no name table');
    pass = () => {
      // Replays the same 20 s of log: the clock goes back to their start, and
      // follows the batches, closing windows as it passes them.
      agg.clock = start;
      for (let i = 0; i < bodies.length; i++) {
        agg.advance(times[i]);
        agg.arrival = times[i];
        ingest.begin(tenant, names, times[i]);
        ingestLogplex(ingest, [bodies[i]], 1 << 20);
      }
      agg.advance(end + 3000);
      cut();
      if (ingest.stats.rejectedTotal() > 0) throw new Error('rejections');
    };
  } else if (mode === 'aggregate-alone') {
    // The observations ingest makes of the corpus, recorded once and replayed into an
    // aggregator as ingest hands them over, batch by batch: aggregation's cost alone.
    const agg = new Aggregator(OPTIONS, start);
    const tenant = agg.appState('bench');
    const metrics: Metric[] = [];
    const label1: string[] = [];
    const label2: string[] = [];
    const values: number[] = [];
    /** Line time of each observation, NaN after the first of a line (at() once a line). */
    const lineTimes: number[] = [];
    /** Where each batch's observations start (and, last, where they end). */
    const batchStart: number[] = [];
    let time = NaN;
    const recorder: ObservationSink = {
      at: (_app, t) => void (time = t),
      observe: (m, l1, l2, v) => {
        metrics.push(m);
        label1.push(l1);
        label2.push(l2);
        values.push(v);
        lineTimes.push(time);
        time = NaN;
      },
    };
    const ingest = new Ingest(recorder);
    const names = ingest.nameTable(tenant, '');
    if (names === null) throw new Error('no name table');
    for (let i = 0; i < bodies.length; i++) {
      batchStart.push(metrics.length);
      ingest.begin(tenant, names, times[i]);
      ingestLogplex(ingest, [bodies[i]], 1 << 20);
    }
    batchStart.push(metrics.length);
    pass = () => {
      agg.clock = start;
      for (let i = 0; i < bodies.length; i++) {
        agg.advance(times[i]);
        agg.arrival = times[i];
        for (let k = batchStart[i]; k < batchStart[i + 1]; k++) {
          const t = lineTimes[k];
          if (t === t) agg.at(tenant, t);
          agg.observe(metrics[k], label1[k], label2[k], values[k]);
        }
      }
      agg.advance(end + 3000);
    };
  } else {
    const sink = new CountingSink();
    const ingest = new Ingest(sink);
    const tenant = new Tenant('bench');
    const names = ingest.nameTable(tenant, '');
    if (names === null) throw new Error('no name table');
    pass = () => {
      ingest.begin(tenant, names, start);
      for (let i = 0; i < bodies.length; i++) ingestLogplex(ingest, [bodies[i]], 1 << 20);
    };
  }
  for (let i = 0; i < 30; i++) pass();
  const samples: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t = performance.now();
    pass();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const ms = samples[30];
  return { linesPerSec: (LINES / ms) * 1000, mbPerSec: bytes / ms / 1000 };
}

if (process.argv[1]?.endsWith('pipeline.js')) console.log(JSON.stringify(run(process.argv[2] ?? 'ingest')));
