// `tail --format prom FILE…` on every core (docs/conventions.md): each file is split at line
// boundaries into shares, one per thread; each thread reads its share into its own
// pipeline, as one thread would read the whole stream, and hands back its totals
// (a delta payload, scale/delta.ts) and the closed windows of its measures; the shares
// merge, in file order, into what one thread reading every line would hold.
//
// What a share cannot know is the stream before it: the largest timestamp so far
// (the watermark) and the latest one (a bare line's time). Both are known once the
// shares before it are read, and they change a share's result in only two ways:
//   - a line whose window the earlier watermark had closed is late: such a window is
//     one the share kept whole, so it is dropped at the merge and its lines, which
//     the share counted by window, are counted late;
//   - a bare line takes the latest time: if one in the share took a time older than
//     the stream's before the share (its share started with bare lines, or went back
//     in time), the share is read again, knowing both, before the merge.
// Counts and buckets are exact; a window's sum is added in another order (the last
// bits of a double may differ).

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { AppState, PartialWindow, Series } from '../aggregate/index.js';
import type { Config } from '../config.js';
import { LineReader } from '../ingest/index.js';
import { BAD_FRAME, MEASURE, Metric } from '../model/index.js';
import { type Pipeline, pipeline } from '../pipeline.js';
import { mergeDelta, exportDelta } from '../scale/delta.js';
import { Reader, Writer } from '../scale/wire.js';
import { RequestCounts } from '../outlets/prometheus.js';

/** Files smaller than this are read by one thread: a thread costs about 50 ms to start. */
export const MIN_SHARE = 4 << 20;
const BLOCK = 1 << 20;

/** A share of a file, and what a thread reads it with. */
interface Task {
  file: string;
  from: number;
  to: number;
  config: Omit<Config, 'outlets'>;
  app: string;
  /** Arrival time of every line (a bare line before any timestamp takes it). */
  now: number;
  /** The stream before the share, when known: its latest line time and its watermark. */
  seed: { latest: number; clock: number } | null;
}

/** What a thread hands back. */
interface Share {
  /** Totals: a delta payload (delta.ts), or empty. */
  totals: Uint8Array;
  /** Closed windows of measures (see writeWindows). */
  windows: Uint8Array;
  /** Lines in no late window, as [window start, lines] pairs. */
  lineWindows: number[];
  latest: number;
  clock: number;
  bareFloor: number;
}

/** How a threaded read went: shares read, shares read again knowing the stream before them, lines found late at the merge. */
export interface ThreadedRead {
  shares: number;
  reread: number;
  lateAtMerge: number;
}

/** How many threads read `files`: `threads` if asked, else the cores for files worth it. */
export function threadsFor(files: readonly string[], asked: number): number {
  // A thread runs this module's built file; from the TypeScript sources (tests), one thread.
  if (!import.meta.url.endsWith('.js')) return 1;
  if (asked > 0) return asked;
  const bytes = files.reduce((n, f) => n + (f === '-' ? 0 : statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
  return Math.max(1, Math.min(availableParallelism(), Math.floor(bytes / MIN_SHARE)));
}

/**
 * Reads `files` with `threads` threads into `into` (tail's pipeline, watermark on,
 * nothing read yet) and closes every window. `now`: the arrival time of every line.
 */
export async function readThreaded(files: readonly string[], threads: number, into: Pipeline, config: Config, app: string, now: number): Promise<ThreadedRead> {
  const { outlets: _, ...plain } = config;
  const tasks: Task[] = [];
  for (const file of files) for (const [from, to] of split(file, threads)) tasks.push({ file, from, to, config: plain, app, now, seed: null });
  const shares = (await runAll(tasks, threads)) as Share[];
  // The stream before each share: the latest time and the watermark one thread would have.
  const before: { latest: number; clock: number }[] = [];
  let latest = -Infinity;
  let clock = 0;
  for (const share of shares) {
    before.push({ latest, clock });
    // The first timestamp of the stream takes the clock back from bare lines' arrival (rebase).
    clock = latest === -Infinity && share.latest > -Infinity ? share.clock : Math.max(clock, share.clock);
    latest = Math.max(latest, share.latest);
  }
  const again = shares.map((s, i) => before[i].latest > -Infinity && s.bareFloor < before[i].latest);
  const redone = await runAll(tasks.map((t, i) => (again[i] ? { ...t, seed: before[i] } : null)), threads);
  const agg = into.aggregator;
  agg.resume(clock);
  const target = { aggregator: agg, catalog: into.catalog, requests: into.outlet.requests };
  const state = agg.appState(app);
  let lateAtMerge = 0;
  for (let i = 0; i < shares.length; i++) {
    const share = redone[i] ?? shares[i];
    if (share.totals.length > 0) mergeDelta(target, Buffer.from(share.totals.buffer, share.totals.byteOffset, share.totals.length), { totals: true, windows: false });
    // Windows the stream's watermark had closed before the share: late, whole.
    const closedBy = before[i].latest === -Infinity ? -Infinity : Math.floor(before[i].clock / 1000 - config.grace - config.resolution);
    for (let k = 0; k < share.lineWindows.length; k += 2) if (share.lineWindows[k] <= closedBy) lateAtMerge += share.lineWindows[k + 1];
    mergeWindows(into, state, share.windows, closedBy);
  }
  state.late += lateAtMerge;
  agg.closeAll();
  return { shares: shares.length, reread: redone.filter((r) => r !== null).length, lateAtMerge };
}

/** Byte ranges of `file`, `parts` of them or fewer, each ending after an LF (or at the end). */
function split(file: string, parts: number): [number, number][] {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(64 * 1024);
  const ranges: [number, number][] = [];
  try {
    let from = 0;
    for (let k = 1; k < parts && from < size; k++) {
      let at = Math.max(from, Math.floor((size * k) / parts));
      // The share ends after the next LF at or past `at`.
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, at);
        if (n === 0) {
          at = size;
          break;
        }
        const lf = buf.indexOf(0x0a);
        if (lf !== -1 && lf < n) {
          at += lf + 1;
          break;
        }
        at += n;
      }
      if (at > from) ranges.push([from, at]);
      from = at;
    }
    if (from < size || ranges.length === 0) ranges.push([from, size]);
  } finally {
    closeSync(fd);
  }
  return ranges;
}

/**
 * Bytes [from, to) of a file, in 1 MB blocks read without waiting on the event loop
 * (bench/mtail.ts: the async stream left the CPU idle 8% of the time). One buffer
 * for every block: `each` reads it at once (LineReader copies what outlives push()).
 */
export function readBlocks(file: string, each: (chunk: Buffer) => void, from = 0, to = Infinity): void {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(BLOCK);
  try {
    for (let at = from; at < to; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, to - at), at);
      if (n === 0) break;
      at += n;
      each(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** Runs the tasks (null: none) on `threads` threads at most at once; shares in task order. */
async function runAll(tasks: readonly (Task | null)[], threads: number): Promise<(Share | null)[]> {
  const shares: (Share | null)[] = tasks.map(() => null);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      const task = tasks[i];
      if (task !== null) shares[i] = await run(task);
    }
  };
  await Promise.all(Array.from({ length: Math.min(threads, tasks.length) }, lane));
  return shares;
}

function run(task: Task): Promise<Share> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: task });
    worker.once('message', (share: Share) => {
      resolve(share);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`a tail thread exited ${code}`));
    });
  });
}

/** In a thread: reads the share, closes its windows, hands back what it holds. */
function readShare(task: Task): Share {
  const config = { ...task.config, outlets: [] } as Config;
  const p = pipeline(config, 0, { watermark: true, history: false });
  const { aggregator, ingest } = p;
  aggregator.lineWindows = new Map();
  if (task.seed !== null) {
    ingest.resume(task.seed.latest);
    aggregator.resume(task.seed.clock);
  }
  const app = aggregator.appState(task.app);
  const names = ingest.nameTable(app, '');
  if (names === null) throw new Error('no name table');
  const reader = new LineReader(ingest.lines, config.maxBody);
  readBlocks(
    task.file,
    (chunk) => {
      aggregator.arrival = task.now;
      ingest.stats.reset();
      ingest.begin(app, names, task.now);
      reader.push(chunk);
      app.count(ingest.stats);
    },
    task.from,
    task.to,
  );
  ingest.stats.reset();
  reader.end();
  app.count(ingest.stats);
  app.rejected[BAD_FRAME] += reader.longLines;
  const clock = aggregator.clock;
  aggregator.closeAll();
  const lineWindows: number[] = [];
  for (const [start, n] of aggregator.lineWindows) lineWindows.push(start, n);
  const windows = writeWindows(p);
  const totals = exportDelta(aggregator, new RequestCounts(), { every: true }) ?? Buffer.alloc(0);
  return { totals, windows, lineWindows, latest: ingest.latestTime, clock, bareFloor: ingest.bareFloor };
}

// Closed windows of measures, as their sliding windows hold them (the only windows
// `--format prom` shows):
//   uint series, each: string metric, string label1, string label2, uint windows,
//     each: uint start, uint count, double min, double max, uint n, (int key, uint count) × n
function writeWindows(p: Pipeline): Buffer {
  const w = new Writer();
  const held: Series[] = [];
  for (const app of p.aggregator.apps.values()) for (const s of app.each()) if (s.metric.kind === MEASURE && s.sliding !== null && !s.sliding.empty) held.push(s);
  w.uint(held.length);
  for (const s of held) {
    w.string(s.metric.name);
    w.string(s.label1);
    w.string(s.label2);
    let n = 0;
    s.sliding?.windows(() => n++);
    w.uint(n);
    s.sliding?.windows((start, count, min, max, buckets, pairs) => {
      w.uint(start);
      w.uint(count);
      w.double(min);
      w.double(max);
      w.uint(buckets);
      for (let i = 0; i < 2 * buckets; i += 2) {
        w.int(pairs[i]);
        w.uint(pairs[i + 1]);
      }
    });
  }
  return w.take();
}

/** Merges a share's windows into `into`, leaving out those closed by second `closedBy` (their start). */
function mergeWindows(into: Pipeline, app: AppState, bytes: Uint8Array, closedBy: number): void {
  const r = new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  const agg = into.aggregator;
  const p: PartialWindow = { start: 0, count: 0, sum: 0, min: Infinity, max: -Infinity, last: NaN, lastTime: -Infinity, n: 0, keys: [], counts: [] };
  for (let i = r.uint(); i > 0; i--) {
    const metric = into.catalog.get(r.string(), app.name);
    const label1 = r.string();
    const label2 = r.string();
    const s = metric instanceof Metric ? app.find(metric, label1, label2) : undefined;
    for (let j = r.uint(); j > 0; j--) {
      p.start = r.uint();
      p.count = r.uint();
      p.min = r.double();
      p.max = r.double();
      p.n = r.uint();
      for (let k = 0; k < p.n; k++) {
        p.keys[k] = r.int();
        p.counts[k] = r.uint();
      }
      if (s !== undefined && p.start > closedBy) agg.mergeWindow(s, p, { late: false });
    }
  }
}

if (!isMainThread && parentPort !== null && (workerData as Task | null)?.file !== undefined) {
  const share = readShare(workerData as Task);
  parentPort.postMessage(share);
}
