// The whole path serve runs for a body, without HTTP: frames, headers, tokenizer,
// conventions, then series, windows and histograms in the aggregator, with the
// clock following the data so windows close each second as they do in serve.
// Each pass is the next 20 s of the same log: before it (untimed) every line's
// timestamp moves on by 20 s, in the bodies' own bytes, so no line is late, every
// window closes, and a series' sliding window holds the last minute, as in serve.
// Against the ingest path alone into a counting sink, and the aggregator alone fed
// the observations ingest made of the same lines (recorded once): the two halves of
// a line's cost. Each in a process of its own (run.ts forks this file per mode):
// sharing one process would make the ingest call sites see several sink classes,
// which serve never does.

import { performance } from 'node:perf_hooks';
import { generate, iso, syslogMessages } from '../fixtures/corpus.js';
import { logplexBody } from '../fixtures/heroku.js';
import { Aggregator, type AppState } from '../src/aggregate/index.js';
import { Ingest, ingestLogplex } from '../src/ingest/index.js';
import { type Metric, type ObservationSink, Tenant } from '../src/model/index.js';
import { configFrom, parseArgs } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { History } from '../src/outlets/history/index.js';
import { startOutlets } from '../src/outlets/index.js';
import { CountingSink, median } from './lib.js';

const LINES = 20_000;
/** serve's defaults, with the clock following the data. */
const OPTIONS = { resolution: 1, grace: 2, quantileWindow: 60, maxSeries: 100_000, maxSeriesPerApp: 10_000, seriesTtl: 600 };

/** Log time one pass covers: the corpus's 20,000 lines at 1,000 a second. */
const SPAN_MS = 20_000;
/** `>1 ` before a frame's timestamp (fixtures/heroku.ts syslog). */
const STAMP_AT = /(?<=>1 )\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00/g;

function run(mode: string): { linesPerSec: number; mbPerSec: number } {
  const lines = generate(LINES, { seed: 42 });
  const messages = syslogMessages(lines);
  const bodies: Buffer[] = [];
  /** The time of each body's first line, as the first pass has it. */
  const firstTimes: number[] = [];
  for (let i = 0; i < messages.length; i += 100) {
    bodies.push(logplexBody(messages.slice(i, i + 100)));
    firstTimes.push(lines[i].time);
  }
  // Where each line's timestamp is, body by body, in line order.
  const stamps = bodies.map((b) => [...b.toString('latin1').matchAll(STAMP_AT)].map((m) => m.index as number));
  if (stamps.reduce((n, s) => n + s.length, 0) !== LINES) throw new Error('timestamps not found');
  const bytes = bodies.reduce((n, b) => n + b.length, 0);
  const start = lines[0].time;
  const end = lines[lines.length - 1].time;
  if (end - start >= SPAN_MS) throw new Error('the corpus spans more than a pass');
  /** The pass being run: its lines are SPAN_MS × pass later than the first pass's. */
  let shift = 0;
  /** Its bodies' first times. */
  const times = [...firstTimes];
  /** What a mode's pass reads moved on to the pass's times (bodies' bytes, recorded times). */
  let restamp = (): void => {};
  /** Untimed, before pass `p`: every timestamp and time moved on to it. */
  const prepare = (p: number): void => {
    shift = p * SPAN_MS;
    for (let i = 0; i < times.length; i++) times[i] = firstTimes[i] + shift;
    restamp();
  };
  /** The aggregator of the modes that have one, and the app it reads: checked after the timed passes. */
  let windowed: { agg: Aggregator; app: AppState } | null = null;
  let pass: () => void;
  if (mode === 'aggregate' || mode === 'remote-write' || mode === 'history') {
    const agg = new Aggregator(OPTIONS, start);
    // serve's default: the dashboard's history, each closed window merged into its step.
    if (mode === 'history') new History(agg, agg.budgets.history);
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
    restamp = () => {
      for (let b = 0; b < bodies.length; b++) {
        const at = stamps[b];
        for (let j = 0; j < at.length; j++) bodies[b].write(iso(lines[b * 100 + j].time + shift), at[j], 'latin1');
      }
    };
    pass = () => {
      // The next 20 s of log: the clock follows the batches, closing windows as it
      // passes them.
      for (let i = 0; i < bodies.length; i++) {
        agg.advance(times[i]);
        agg.arrival = times[i];
        ingest.begin(tenant, names, times[i]);
        ingestLogplex(ingest, [bodies[i]], 1 << 20);
      }
      agg.advance(end + shift + 3000);
      cut();
      if (ingest.stats.rejectedTotal() > 0) throw new Error('rejections');
    };
    windowed = { agg, app: tenant };
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
    const passTimes = [...lineTimes];
    restamp = () => {
      for (let k = 0; k < lineTimes.length; k++) passTimes[k] = lineTimes[k] + shift;
    };
    pass = () => {
      for (let i = 0; i < bodies.length; i++) {
        agg.advance(times[i]);
        agg.arrival = times[i];
        for (let k = batchStart[i]; k < batchStart[i + 1]; k++) {
          const t = passTimes[k];
          if (t === t) agg.at(tenant, t);
          agg.observe(metrics[k], label1[k], label2[k], values[k]);
        }
      }
      agg.advance(end + shift + 3000);
    };
    windowed = { agg, app: tenant };
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
  let p = 0;
  for (; p < 30; p++) {
    prepare(p);
    pass();
  }
  const samples: number[] = [];
  const closedBefore = windowed?.agg.version ?? 0;
  for (; p < 90; p++) {
    prepare(p);
    const t = performance.now();
    pass();
    samples.push(performance.now() - t);
  }
  if (windowed !== null) everyLineWindowed(windowed.app, windowed.agg.version - closedBefore);
  const ms = median(samples);
  return { linesPerSec: (LINES / ms) * 1000, mbPerSec: bytes / ms / 1000 };
}

/** Throws unless every line went into a window (none late, none refused) and windows closed in the timed passes. */
function everyLineWindowed(app: AppState, closedInTimed: number): void {
  const refused = app.rejected.reduce((n, c) => n + c, 0);
  if (app.late > 0 || refused > 0) throw new Error(`lines left out of windows: ${app.late} late, ${refused} refused`);
  if (closedInTimed === 0) throw new Error('no window closed in the timed passes');
}

if (process.argv[1]?.endsWith('pipeline.js')) console.log(JSON.stringify(run(process.argv[2] ?? 'ingest')));
