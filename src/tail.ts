// `drainmeter tail [FILE…]`: lines from files or stdin (`-` or none; `heroku logs -t |
// drainmeter tail`), every format of docs/conventions.md detected per line, saved logplex bodies
// too. A line without a timestamp takes the latest one of the stream, and windows
// close by the largest timestamp seen minus grace, so a day-old file replays into the
// right windows at full speed. Each closed window is printed; at EOF every window is flushed.

import { fstatSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import type { Config } from './config.js';
import { LineReader } from './ingest/index.js';
import { listenError } from './options.js';
import { inspectInput, openInput } from './input-file.js';
import { BAD_FRAME, REASONS } from './model/index.js';
import { Table } from './outlets/table.js';
import { windowPrinter } from './outlets/windows.js';
import { printableExposition } from './outlets/exposition.js';
import { flushOutlets, startOutlets } from './outlets/index.js';
import { stdoutLogger } from './log.js';
import { pipeline } from './pipeline.js';
import { lookAt } from './outlets/look.js';
import { dashboard, isDashboard } from './server/dashboard.js';
import { readBlocks, readThreaded, threadsFor } from './tail/threads.js';

export const FORMATS = ['table', 'logfmt', 'json', 'prom'] as const;
export type Format = (typeof FORMATS)[number];

export interface TailOptions {
  format: Format;
  /** Serve /metrics on this port while reading (0: none). */
  listen: number;
  /** The `app` label of every series. */
  app: string;
  /** Threads reading files for --format prom (0: the cores, for files worth it). */
  threads?: number;
}

export interface TailIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Wall clock, epoch ms (arrival time of bare lines). */
  now: () => number;
}

export async function tail(files: string[], config: Config, options: TailOptions, io: TailIO): Promise<number> {
  // Every file looked at first: a missing or binary one stops before any output.
  const kinds = new Map(files.filter((f) => f !== '-').map((f) => [f, inspectInput(f)]));
  const gzipped = [...kinds.values()].some((k) => k.gzip);
  // The window clock starts at the epoch and follows the data.
  // The dashboard's history only where a dashboard can read it (--listen).
  const p = pipeline(config, 0, { watermark: true, history: options.listen > 0 });
  const { aggregator, ingest, outlet, history } = p;
  // Push outlets too (heroku logs -t | drainmeter tail, to a hosted store); serve's
  // --windows printer is tail's own --format here.
  const pushLog = stdoutLogger((l) => io.stderr.write(`drainmeter: ${l}\n`));
  const outlets = startOutlets(
    config.outlets.filter((c) => c.definition.name !== 'windows'),
    { aggregator, quantiles: config.quantiles, log: pushLog, now: io.now, write: (t) => io.stdout.write(t) },
  );
  outlet.pushers = outlets;
  const app = aggregator.appState(options.app);
  const names = ingest.nameTable(app, '');
  if (names === null) throw new Error('no name table');
  const write = (text: string) => io.stdout.write(text);

  // A live stream (a pipe, a terminal: `heroku logs -t | drainmeter tail`), not a
  // file: when it goes quiet, the table ages on the wall clock (docs/dashboard.md).
  const live = files.every((f) => f === '-') && !stdinIsFile();
  let table: Table | null = null;
  if (options.format === 'logfmt' || options.format === 'json') aggregator.onClose(windowPrinter(options.format, config.quantiles, write));
  else if (options.format === 'table') {
    const out = io.stdout as Writable & { columns?: number; rows?: number; isTTY?: boolean };
    const color = out.isTTY === true && (process.env.NO_COLOR ?? '') === '' && process.env.TERM !== 'dumb';
    const t = new Table(write, { columns: () => out.columns ?? 0, rows: () => out.rows ?? 0, color, live, wall: io.now });
    table = t;
    aggregator.onClose((c) => t.window(c));
    // Ctrl-C on `heroku logs -t | drainmeter tail`: give the terminal its screen back.
    process.once('SIGINT', () => {
      t.end();
      process.exit(130);
    });
  }

  let server: Server | null = null;
  if (options.listen > 0) {
    const look = lookAt(history, null, live ? io.now : () => aggregator.clock);
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (isDashboard(url.pathname)) {
        // Loopback only, like /metrics here: every series, no credentials.
        dashboard(url.pathname, url.searchParams, null, look).then(
          (a) => res.writeHead(a.status, { 'Content-Type': a.type, 'Cache-Control': 'no-store' }).end(a.body),
          (err: Error) => res.writeHead(500).end(`internal error: ${err.message}\n`),
        );
        return;
      }
      if (url.pathname !== '/metrics') {
        res.writeHead(404).end('not found: GET /metrics, GET / (the dashboard)\n');
        return;
      }
      const openMetrics = (req.headers.accept ?? '').includes('application/openmetrics-text');
      outlet.scrape(null, { openMetrics }).then(
        ({ contentType, chunks }) => {
          res.writeHead(200, { 'Content-Type': contentType });
          for (const chunk of chunks) res.write(chunk);
          res.end();
        },
        (err: Error) => {
          io.stderr.write(`drainmeter: /metrics failed: ${err.stack ?? err.message}\n`);
          res.writeHead(500).end('internal error\n');
        },
      );
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, '127.0.0.1', options.listen, '--listen')));
      s.listen(options.listen, '127.0.0.1', resolve);
    });
  }

  const reader = new LineReader(ingest.lines, config.maxBody);
  // The window clock when input last came: a quiet live stream's windows close from there on the wall clock.
  let clockAtInput = 0;
  let inputAt = 0;
  const quiet = live && table !== null ? setInterval(() => {
    const idle = io.now() - inputAt;
    if (idle < 1000) return;
    aggregator.advance(clockAtInput + idle);
    table?.draw(io.now(), { force: true });
  }, 1000) : null;
  quiet?.unref();
  // Series expire by the stream's clock, as serve's do by the wall clock: a long
  // `heroku logs -t | drainmeter tail` never fills series_limit with sources gone quiet.
  const sweepMs = Math.min(10_000, Math.max(500, config.seriesTtl * 500));
  let nextSweep = aggregator.clock + sweepMs;
  // The clock moves at a line's start, before its observations: a sweep there is safe.
  aggregator.onAdvance((through) => {
    if (through === Infinity || aggregator.clock < nextSweep) return;
    nextSweep = aggregator.clock + sweepMs;
    // Series and history only: the app and its name table stay for the whole stream.
    aggregator.sweep();
    history?.sweep();
  });
  const take = (chunk: Buffer) => {
    const now = io.now();
    aggregator.arrival = now;
    ingest.stats.reset();
    ingest.begin(app, names, now);
    reader.push(chunk);
    app.count(ingest.stats);
    if (table !== null) {
      table.lines = app.lines;
      table.input(now);
      table.draw(now);
    }
    clockAtInput = aggregator.clock;
    inputAt = now;
  };
  const read = async (stream: Readable) => {
    for await (const chunk of stream as AsyncIterable<Buffer>) take(chunk);
  };
  // The end of a file ends its last line, LF or not: it never runs into the next file's first.
  const endLine = () => {
    ingest.stats.reset();
    reader.end();
    app.count(ingest.stats);
  };
  // Files, for an exposition at EOF only: every core (tail/threads.ts).
  const threaded = options.format === 'prom' && server === null && outlets.length === 0 && files.length > 0 && !files.includes('-') && !gzipped;
  try {
    const threads = threaded ? threadsFor(files, options.threads ?? 0) : 1;
    if (threads > 1) await readThreaded(files, threads, p, config, options.app, io.now());
    else if (files.length === 0) await read(io.stdin);
    else {
      for (const file of files) {
        if (file === '-') await read(io.stdin);
        // With --listen, asynchronously, so /metrics answers meanwhile; gzip through node:zlib.
        else if (server === null && kinds.get(file)?.gzip !== true) readBlocks(file, take);
        else await read(openInput(file, kinds.get(file) ?? { gzip: false }));
        endLine();
      }
    }
  } catch (err) {
    io.stderr.write(`drainmeter: ${(err as Error).message}\n`);
    return 1;
  } finally {
    if (quiet !== null) clearInterval(quiet);
    endLine();
    app.rejected[BAD_FRAME] += reader.longLines;
    aggregator.closeAll();
    server?.close();
  }
  // Heroku-like patience for a laptop: what is not sent by then is counted as dropped.
  await flushOutlets(outlets, io.now() + 30_000, pushLog);
  if (table !== null) {
    table.lines = app.lines;
    table.end();
  }
  if (options.format === 'prom') {
    const { chunks } = await outlet.scrape(null, { processMetrics: false });
    // Label values came from the stream: never terminal control (model/printable.ts).
    io.stdout.write(printableExposition(Buffer.concat(chunks).toString('utf8')));
  }
  const reasons = REASONS.map((r, i) => `${r}=${app.rejected[i]}`).filter((_, i) => app.rejected[i] > 0);
  // Late lines are told as rejected ones are: counted in the totals, but in no window.
  const told: string[] = [];
  if (app.late > 0) told.push(`late ${app.late} (their window had closed: --grace ${config.grace} s after its end; a larger --grace waits longer)`);
  if (reasons.length > 0) told.push(`rejected ${reasons.join(' ')}`);
  if (told.length > 0) io.stderr.write(`drainmeter: ${app.lines} lines, ${told.join(', ')}\n`);
  return 0;
}

/** True when stdin is a regular file (`tail < app.log`): its own clock, not the wall's. */
function stdinIsFile(): boolean {
  try {
    return fstatSync(0).isFile();
  } catch {
    return false;
  }
}
