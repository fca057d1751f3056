// `npm run bench [-- SUITE…]`: runs the benchmark suites and prints markdown tables
// (kept in bench/README.md). BENCH_ROUNDS (default 7) short rounds, medians reported.

import { fork } from 'node:child_process';
import { httpBench } from './http.js';
import { ingestBench } from './ingest.js';
import { mtailBench } from './mtail.js';
import { otlpBench } from './otlp.js';
import { pushBench } from './push.js';
import { redisBench } from './redis.js';
import { machine, median } from './lib.js';

/** Runs a suite file in a process of its own (a clean heap, for RSS), with --expose-gc. */
function isolated(file: string, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const child = fork(new URL(file, import.meta.url).pathname, args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${file} exited ${code}`))));
  });
}

/** Ingest alone against ingest + aggregate, each in fresh processes, rounds interleaved. */
async function pipeline(rounds: number): Promise<string> {
  const runs: Record<string, { linesPerSec: number; mbPerSec: number }[]> = { ingest: [], 'aggregate-alone': [], aggregate: [], history: [], 'remote-write': [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of Object.keys(runs)) runs[mode].push(JSON.parse(await isolated('./pipeline.js', [mode])));
  }
  const row = (label: string, mode: string) => {
    const lps = median(runs[mode].map((x) => x.linesPerSec));
    const mbs = median(runs[mode].map((x) => x.mbPerSec));
    return `| ${label} | ${Math.round(lps).toLocaleString('en-US')} | ${mbs.toFixed(0)} | ${(lps / median(runs.ingest.map((x) => x.linesPerSec))).toFixed(2)}× |`;
  };
  return [
    `### Pipeline: the same 20,000 lines in 100-line bodies, each in a process of its own, median of ${rounds}`,
    '',
    '| path | lines/s | MB/s | × ingest alone |',
    '|---|---:|---:|---:|',
    row('ingest alone (frames … conventions) into a counting sink', 'ingest'),
    row('aggregate alone: the observations ingest made of those lines, recorded, replayed into an aggregator', 'aggregate-alone'),
    row('ingest + aggregate: series, windows closing each second, histograms', 'aggregate'),
    row('ingest + aggregate + the dashboard\'s history (serve\'s default)', 'history'),
    row('ingest + aggregate + remote write (histograms and summaries, encoded and compressed)', 'remote-write'),
  ].join('\n');
}

/** 100,000 live series over 1, 100 and 10,000 apps: scrape time and RSS must not follow the spread. */
async function spread(): Promise<string> {
  const rows: string[] = [];
  let tenApps: Record<string, number> = {};
  for (const [apps, distinct] of [[1, false], [10, false], [100, false], [10_000, false], [10_000, true]] as const) {
    // The 10-app row with the baselines of its own run.
    const baselines = apps === 10 ? ['baselines'] : [];
    const r = JSON.parse(await isolated('./series.js', [String(apps), distinct ? 'distinct' : 'shared', ...baselines])) as Record<string, number>;
    if (apps === 10) tenApps = r;
    rows.push(
      `| ${apps.toLocaleString('en-US')}${distinct ? ', a name of its own each' : ''} | ${r.families.toLocaleString('en-US')} | ${r.rssMb} MB (+${r.aboveEmptyMb}) | ${r.heapPerSeries.toLocaleString('en-US')} B + ${r.buffersPerSeries.toLocaleString('en-US')} B | ${r.scrapeMs.toLocaleString('en-US')} ms, ${r.scrapeMb} MB | ${r.quantilesMs} ms | ${r.oneAppMs} ms, ${r.oneAppKb.toLocaleString('en-US')} KB | ${r.fillObsPerSec.toLocaleString('en-US')} |`,
    );
  }
  return [
    '### Series: 100,000 live measure series, a full minute of windows each, spread over apps',
    '',
    '| apps | families | RSS after GC (above empty) | a series: heap + typed arrays | full scrape, text, median of 3 | of which quantiles | one app\'s scrape | fill, observations/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'The 10-app row against baselines of its own run: prom-client writing the same samples (gauges given the values), and 500 ms',
    'of 2026-11-22 at this run\'s speed (that day `logfmt.parse` did 215–236 k lines/s; here it did the figure below).',
    '',
    '| full scrape | prom-client, the same samples | × prom-client | logfmt.parse, lines/s | 500 ms at this run\'s speed |',
    '|---:|---:|---:|---:|---:|',
    `| ${tenApps.scrapeMs.toLocaleString('en-US')} ms | ${tenApps.promClientMs.toLocaleString('en-US')} ms, ${tenApps.promClientSamples.toLocaleString('en-US')} samples | ${(tenApps.promClientMs / tenApps.scrapeMs).toFixed(2)}× | ${tenApps.logfmtLinesPerSec.toLocaleString('en-US')} | ${tenApps.slowHourMsLow.toLocaleString('en-US')}–${tenApps.slowHourMsHigh.toLocaleString('en-US')} ms |`,
  ].join('\n');
}

/** The dashboard's data endpoint at 10,000 series of one metric, and what the rings of 100,000 measure series cost. */
async function history(): Promise<string> {
  const e = JSON.parse(await isolated('./history.js')) as Record<string, { ms: number; bytes: number; gzipBytes: number }> & { total: number; points: number };
  const on = JSON.parse(await isolated('./history.js', ['memory', 'on'])) as Record<string, number>;
  const off = JSON.parse(await isolated('./history.js', ['memory', 'off'])) as Record<string, number>;
  const size = (n: number) => (n < 10_240 ? `${n.toLocaleString('en-US')} B` : `${Math.round(n / 1024).toLocaleString('en-US')} KB`);
  const row = (what: string, r: { ms: number; bytes: number; gzipBytes: number }) => `| ${what} | ${r.ms} ms | ${size(r.bytes)} | ${size(r.gzipBytes)} |`;
  const per = (mb: number) => Math.round((mb * 1024 * 1024) / on.series).toLocaleString('en-US');
  return [
    `### Dashboard data: one metric with ${e.total.toLocaleString('en-US')} measure series, ${e.points} points each (15 minutes)`,
    '',
    '| request | time (median of 5) | JSON | gzipped |',
    '|---|---:|---:|---:|',
    row('index.json (apps and metrics)', e.index),
    row('history.json, the page\'s load (the busiest 30)', e.load),
    row('history.json?since=…, a poll (the newest step of the busiest 30)', e.poll),
    row('history.json?limit=1000, the most one request may ask', e.most),
    '',
    `### History rings: ${on.series.toLocaleString('en-US')} measure series (10 apps × 10,000), 40 s of windows, with and without rings (after a full GC)`,
    '',
    '| | RSS | heap used | array buffers | charged to the budget |',
    '|---|---:|---:|---:|---:|',
    `| without history | ${off.rssMb} MB | ${off.heapMb} MB | ${off.arrayBuffersMb} MB | |`,
    `| with a ring each | ${on.rssMb} MB | ${on.heapMb} MB | ${on.arrayBuffersMb} MB | ${on.chargedMb} MB |`,
    `| a ring costs | ${per(on.rssMb - off.rssMb)} B | ${per(on.heapMb - off.heapMb)} B | ${per(on.arrayBuffersMb - off.arrayBuffersMb)} B | ${per(on.chargedMb)} B |`,
  ].join('\n');
}

/**
 * The real built `serve` holding 100,000 live measure series fed over HTTP for 65 s,
 * at its defaults and as on a 512 MB dyno, two runs each, beside the aggregator alone.
 */
async function serveMemory(): Promise<string> {
  type Run = { series: number; rssMb: number; peakRssMb: number; heapUsedMb: number; externalMb: number; historyMb: number; scrapeMs: number; scrapeMb: number };
  const rows: string[] = [];
  for (const [label, env] of [
    ['defaults, no memory limit known', []],
    ['MEMORY_AVAILABLE=512 (a Standard-1X dyno)', ['MEMORY_AVAILABLE=512']],
  ] as const) {
    for (let run = 1; run <= 2; run++) {
      const r = JSON.parse(await isolated('./serve-memory.js', ['65', ...env])) as Run;
      rows.push(
        `| ${label}, run ${run} | ${r.series.toLocaleString('en-US')} | ${r.rssMb} MB | ${r.peakRssMb} MB | ${r.heapUsedMb} MB + ${r.externalMb} MB | ${r.historyMb} MB | ${r.scrapeMs.toLocaleString('en-US')} ms, ${r.scrapeMb} MB |`,
      );
    }
  }
  const alone = JSON.parse(await isolated('./series.js', ['10', 'shared'])) as { rssMb: number; scrapeMs: number };
  return [
    '### serve holding 100,000 live measure series over HTTP (10 apps, 65 s, history on)',
    '',
    '| serve | series held | RSS at the end | peak RSS | JS heap used + array buffers | history charged | full bearer scrape, median of 3 |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    `| the aggregator alone, the same 100,000 series (\`bench series\`, RSS after GC) | 100,000 | ${alone.rssMb} MB | | | | ${alone.scrapeMs.toLocaleString('en-US')} ms |`,
  ].join('\n');
}

/** 1,000 alert rules on 100,000 series: an evaluation, the close path with and without alerts, the bytes kept. */
async function alerts(): Promise<string> {
  const r = JSON.parse(await isolated('./alerts.js')) as Record<string, number>;
  const d = JSON.parse(await isolated('./alerts.js', ['delay', '5'])) as { firing: number[]; resolving: number[] };
  return [
    `### Alerts: ${r.rules.toLocaleString('en-US')} rules on ${r.series.toLocaleString('en-US')} measure series (${r.alerts.toLocaleString('en-US')} alerts, each: series, over 1m), a line a second each`,
    '',
    '| every rule evaluated (a tick, every 10 s; median of 9) | one second\'s windows closed, without alerts | with alerts | × | alert steps kept |',
    '|---:|---:|---:|---:|---:|',
    `| ${r.tickMs} ms | ${r.closePlainMs} ms | ${r.closeAlertsMs} ms | ${r.closeRatio.toFixed(2)}× | ${r.alertMb} MB |`,
    '',
    '### Alerts: from the first breaching line to the webhook, and from the first good line to the resolve (real serve, `for: 0`, over 10s, grace 2 s)',
    '',
    '| | each round, s | median, s |',
    '|---|---|---:|',
    `| firing | ${d.firing.map((x) => (x / 1000).toFixed(1)).join(', ')} | ${(median(d.firing) / 1000).toFixed(1)} |`,
    `| resolve | ${d.resolving.map((x) => (x / 1000).toFixed(1)).join(', ')} | ${(median(d.resolving) / 1000).toFixed(1)} |`,
  ].join('\n');
}

/** The history in a real PostgreSQL: the clients, the write per step, bytes per series per day, chart reads. */
async function pgHistory(): Promise<string> {
  const r = JSON.parse(await isolated('./pg-history.js')) as {
    clients: { pg: number; postgres: number; rounds: number };
    write: { ringMsPerStep: number; ringWithStoreMsPerStep: number; writeMedianMs: number; writeP95Ms: number };
    storage: Record<string, { rows: number; totalMb: number; perSeriesDayKb: number; rowBytesByKind: Record<string, number> }>;
    chart: Record<string, { tier: string; series: number; points: number; bytes: number; ms: number }>;
  };
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const plans = (kb: number) => [1, 10, 64].map((gb) => Math.floor((gb * 2 ** 20) / kb).toLocaleString('en-US')).join(' / ');
  const day = r.storage['10s'].perSeriesDayKb + r.storage['1m'].perSeriesDayKb + r.storage['1h'].perSeriesDayKb;
  const held = r.storage['10s'].perSeriesDayKb + 7 * r.storage['1m'].perSeriesDayKb + 403 * r.storage['1h'].perSeriesDayKb;
  return [
    `### History in PostgreSQL: one step of 1,000 series written by each client (INSERT … FROM unnest), median of ${r.clients.rounds}`,
    '',
    '| client | a step of 1,000 rows |',
    '|---|---:|',
    `| \`pg\` (node-postgres) | ${ms(r.clients.pg)} |`,
    `| \`postgres\` (porsager) | ${ms(r.clients.postgres)} |`,
    '',
    '### History in PostgreSQL: an hour of 1,000 series (334 measures at 10 values/s, 333 counters, 333 samples)',
    '',
    '| | per 10 s step |',
    '|---|---:|',
    `| the ring alone (aggregate windows closing, steps merged) | ${ms(r.write.ringMsPerStep)} CPU |`,
    `| the ring handing steps to the store (encoding the rows) | ${ms(r.write.ringWithStoreMsPerStep)} CPU |`,
    `| a step written (flush to rows in PostgreSQL, roll-ups included), median / p95 | ${ms(r.write.writeMedianMs)} / ${ms(r.write.writeP95Ms)} |`,
    '',
    "### History in PostgreSQL: the hour's rows made a week (pg_total_relation_size, indexes included)",
    '',
    '| tier | rows | size | a series a day | a row: measure / counter / sample |',
    '|---|---:|---:|---:|---:|',
    ...Object.entries(r.storage).map(([tier, t]) => `| ${tier} | ${t.rows.toLocaleString('en-US')} | ${t.totalMb.toFixed(0)} MB | ${t.perSeriesDayKb.toFixed(1)} KB | ${t.rowBytesByKind.measure} / ${t.rowBytesByKind.counter} / ${t.rowBytesByKind.sample} B |`),
    `| a series, every tier full (24 h + 7 d + 403 d) | | | ${(held / 1024).toFixed(1)} MB | |`,
    '',
    `A series adds ${day.toFixed(0)} KB a day across the tiers and holds ${(held / 1024).toFixed(1)} MB once every tier is full: series whose full history fits Essential-0 (1 GB) / Essential-1 (10 GB) / Standard-0 (64 GB): ${plans(held)}.`,
    '',
    "### History in PostgreSQL: the dashboard's reads of 30 series of that week, median of 5",
    '',
    '| range | tier | series | points | JSON | time |',
    '|---|---|---:|---:|---:|---:|',
    ...Object.entries(r.chart).map(([name, c]) => `| ${name} | ${c.tier} | ${c.series} | ${c.points.toLocaleString('en-US')} | ${Math.round(c.bytes / 1024)} KB | ${ms(c.ms)} |`),
  ].join('\n');
}

const suites: Record<string, (rounds: number) => Promise<string>> = {
  ingest: (rounds) => ingestBench(20_000, rounds, 600),
  otlp: (rounds) => otlpBench(20_000, rounds, 600),
  pipeline: (rounds) => pipeline(Math.min(rounds, 5)),
  http: (rounds) => httpBench(Math.min(rounds, 3)),
  series: () => spread(),
  sketch: () => isolated('./sketch.js'),
  mtail: (rounds) => mtailBench(Math.min(rounds, 3)),
  push: async (rounds) => pushBench(rounds),
  redis: () => redisBench(),
  history: () => history(),
  'serve-memory': () => serveMemory(),
  alerts: () => alerts(),
  'pg-history': () => pgHistory(),
};

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(suites);
console.log(`${machine()}; median of ${rounds} rounds\n`);
for (const name of names) {
  const suite = suites[name];
  if (suite === undefined) {
    console.error(`unknown suite ${name}; suites: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  console.log(await suite(rounds));
  console.log();
}
