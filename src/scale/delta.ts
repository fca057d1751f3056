// What one receiver hands another (docs/scale-out.md): everything its lines added since the
// last hand-over, as one payload. Workers send theirs to the primary of their dyno;
// the primary sends its dyno's to Redis for every other receiver. A payload holds,
// per app, the self-metric counts, and per series the totals added (count, sum),
// the newest sample value, and its part of every window the lines fell in (count,
// sum, min, max, last, histogram buckets); plus the HTTP request counts. Merging a
// payload into an aggregator gives what that aggregator would hold had it read the
// lines itself: counts and buckets add exactly, min and max take the extreme, the
// last value goes by its timestamp.
//
// The metric table names each family once; which kind a name is belongs to each app
// (docs/isolation.md), so every app's series resolve its names in that app's claims.
// A series whose name the app has claimed as another kind is not merged: its
// observations count as type_conflict, as they would have in one process.
//
// Layout (wire.ts types):
//   uint version
//   uint metrics, each: string name, uint kind, uint labels, string × labels, string help
//   uint requests, each: string route, uint status, uint n
//   uint apps, each: string name, uint lines, uint late, uint duplicates,
//     uint reasons, each: uint reason, uint n
//     uint series, each: uint metric, string label1, string label2, uint resolution,
//       double count, double sum, double lastTime, double last, double observed,
//       uint windows, each: uint start, uint count, double sum,
//         measure: double min, double max, uint buckets, each: int key, uint count
//         sample: double lastTime, double last

import type { Aggregator, AppState, PartialWindow, Series, Window } from '../aggregate/index.js';
import { type Catalog, COUNTER, type Kind, MEASURE, Metric, REASONS, SAMPLE, TYPE_CONFLICT } from '../model/index.js';
import type { RequestCounts } from '../outlets/prometheus.js';
import type { HandOverShare } from './hand-over.js';
import { Reader, WireError, Writer } from './wire.js';

const VERSION = 2;

/** Where a payload merges: an aggregator, its catalog, and the request counts. */
export interface MergeTarget {
  aggregator: Aggregator;
  catalog: Catalog;
  requests: RequestCounts;
}

/** Sees a payload's totals as they are read (the Redis link keeps them durable). */
export interface TotalsVisitor {
  metric(name: string, kind: Kind, labels: readonly string[], help: string): void;
  request(route: string, status: number, n: number): void;
  app(name: string, lines: number, late: number, duplicates: number): void;
  rejected(reason: number, n: number): void;
  series(metric: string, kind: Kind, label1: string, label2: string, resolution: number, count: number, sum: number, lastTime: number, last: number, observed: number): void;
}

function dirty(s: Series): boolean {
  if (s.count !== 0 || s.sum !== 0 || s.openCount > 0) return true;
  return s.metric.kind === SAMPLE && s.lastTime !== -Infinity && (s.lastTime !== s.sentTime || !Object.is(s.last, s.sentLast));
}

function appDirty(a: AppState): boolean {
  if (a.lines !== 0 || a.late !== 0 || a.duplicates !== 0) return true;
  for (let r = 0; r < REASONS.length; r++) if (a.rejected[r] !== 0) return true;
  return false;
}

const everySeries = () => true;

export interface ExportOptions {
  /** Each series, even one with nothing new (a counter that only ever counted 0 still has a series). */
  every?: boolean;
  /** Bounds the payload in bytes, in total and per app; what does not fit stays for a later call (hand-over.ts). */
  share?: HandOverShare;
}

/**
 * Takes everything an exporting aggregator collected since the last call, as one
 * payload (null when there is nothing): its counts start again from zero and its
 * open windows are given back. `every`: each series, even one with nothing new (a
 * counter that only ever counted 0 still has a series). With a `share`, the payload
 * is bounded in bytes, in total and per app; what does not fit stays for a later
 * call (hand-over.ts).
 */
export function exportDelta(aggregator: Aggregator, requests: RequestCounts, { every = false, share }: ExportOptions = {}): Buffer | null {
  const body = new Writer();
  const metrics = new Map<Metric, number>();
  let apps = 0;
  const appWriter = new Writer(4096);
  const seriesWriter = new Writer(4096);
  const reqs = [...requests.unsent()];
  const pick = every ? everySeries : dirty;
  for (const app of share === undefined ? aggregator.apps.values() : share.order(aggregator.apps)) {
    let series: Series[];
    if (share === undefined) {
      series = [];
      for (const s of app.each()) if (pick(s)) series.push(s);
    } else series = share.offer(app, pick);
    if (series.length === 0 && !appDirty(app)) continue;
    if (share !== undefined && appWriter.length >= share.totalBytes) {
      share.later(app, series);
      continue;
    }
    apps++;
    const w = appWriter;
    const rejected: [number, number][] = [];
    for (let r = 0; r < REASONS.length; r++) if (app.rejected[r] !== 0) rejected.push([r, app.rejected[r]]);
    writeApp(w, app.name, app.lines, app.late, app.duplicates, rejected);
    app.lines = app.late = app.duplicates = 0;
    app.rejected.fill(0);
    const sw = seriesWriter;
    let n = 0;
    for (const s of series) {
      if (share !== undefined && sw.length >= share.appBytes) {
        share.wait(app, series, n);
        break;
      }
      n++;
      let m = metrics.get(s.metric);
      if (m === undefined) {
        m = metrics.size;
        metrics.set(s.metric, m);
      }
      const kind = s.metric.kind;
      const sample = kind === SAMPLE && (s.lastTime !== s.sentTime || !Object.is(s.last, s.sentLast));
      writeSeries(sw, m, s.label1, s.label2, s.resolution, s.count, s.sum, sample ? s.lastTime : -Infinity, sample ? s.last : NaN, s.observed);
      s.count = s.sum = s.observed = 0;
      if (sample) {
        s.sentTime = s.lastTime;
        s.sentLast = s.last;
      }
      sw.uint(s.openCount);
      aggregator.takeWindows(s, (win) => writeWindow(sw, win, kind));
    }
    w.uint(n);
    w.append(sw);
  }
  if (apps === 0 && reqs.length === 0) return null;
  writeHead(body, [...metrics.keys()], reqs);
  body.uint(apps);
  return Buffer.concat([body.take(), appWriter.take()]);
}

/** The version, the metric table and the request counts. */
function writeHead(w: Writer, metrics: readonly { name: string; kind: Kind; labels: readonly string[]; help: string }[], requests: readonly { route: string; status: number; n: number }[]): void {
  w.uint(VERSION);
  w.uint(metrics.length);
  for (const m of metrics) {
    w.string(m.name);
    w.uint(m.kind);
    w.uint(m.labels.length);
    for (const l of m.labels) w.string(l);
    w.string(m.help);
  }
  w.uint(requests.length);
  for (const r of requests) {
    w.string(r.route);
    w.uint(r.status);
    w.uint(r.n);
  }
}

/** An app's name and self-metric counts, and its rejections by reason. */
function writeApp(w: Writer, name: string, lines: number, late: number, duplicates: number, rejected: readonly (readonly [reason: number, n: number])[]): void {
  w.string(name);
  w.uint(lines);
  w.uint(late);
  w.uint(duplicates);
  w.uint(rejected.length);
  for (const [r, n] of rejected) {
    w.uint(r);
    w.uint(n);
  }
}

/** A series' key and totals; its windows follow (a count, then each). */
function writeSeries(w: Writer, metric: number, label1: string, label2: string, resolution: number, count: number, sum: number, lastTime: number, last: number, observed: number): void {
  w.uint(metric);
  w.string(label1);
  w.string(label2);
  w.uint(resolution);
  w.double(count);
  w.double(sum);
  w.double(lastTime);
  w.double(last);
  w.double(observed);
}

function writeWindow(w: Writer, win: Window, kind: Kind): void {
  w.uint(win.start);
  w.uint(win.count);
  w.double(win.sum);
  if (kind === MEASURE) {
    w.double(win.min);
    w.double(win.max);
    w.uint(win.bucketCount);
    win.buckets((key, count) => {
      w.int(key);
      w.uint(count);
    });
  } else if (kind === SAMPLE) {
    w.double(win.lastTime);
    w.double(win.last);
  }
}

export interface MergeOptions {
  /** Add the totals (counts, sums, last values, self-metrics); false to take windows only. */
  totals: boolean;
  /** Merge the windows; false to take totals only. */
  windows: boolean;
  visitor?: TotalsVisitor;
}

const ALL: MergeOptions = { totals: true, windows: true };

/** Merges a payload into `into`; throws WireError when it is not one. */
export function mergeDelta(into: MergeTarget, payload: Buffer, options: MergeOptions = ALL): void {
  const r = new Reader(payload);
  const version = r.uint();
  if (version !== VERSION) throw new WireError(`payload version ${version}, not ${VERSION}`);
  const { aggregator, catalog } = into;
  const { totals, windows, visitor } = options;
  const defs: { name: string; kind: Kind; labels: string[]; help: string }[] = [];
  const kinds: Kind[] = [];
  const names: string[] = [];
  /** The payload's metrics resolved in an app's claims, and the app (its number here) each was resolved for. */
  const metrics: (Metric | null)[] = [];
  const resolvedFor: number[] = [];
  let appNo = 0;
  for (let i = r.uint(); i > 0; i--) {
    const name = r.string();
    const kind = r.uint();
    if (kind !== MEASURE && kind !== COUNTER && kind !== SAMPLE) throw new WireError(`metric kind ${kind}`);
    const labels: string[] = [];
    for (let j = r.uint(); j > 0; j--) labels.push(r.string());
    const help = r.string();
    visitor?.metric(name, kind, labels, help);
    defs.push({ name, kind, labels, help });
    kinds.push(kind);
    names.push(name);
  }
  for (let i = r.uint(); i > 0; i--) {
    const route = r.string();
    const status = r.uint();
    const n = r.uint();
    visitor?.request(route, status, n);
    if (totals) into.requests.add(route, status, n);
  }
  const part: PartialWindow = { start: 0, count: 0, sum: 0, min: Infinity, max: -Infinity, last: NaN, lastTime: -Infinity, n: 0, keys: [], counts: [] };
  const nowSec = Math.floor(aggregator.clock / 1000);
  for (let i = r.uint(); i > 0; i--) {
    const app = aggregator.appState(r.string());
    app.lastActive = nowSec;
    appNo++;
    const lines = r.uint();
    const late = r.uint();
    const duplicates = r.uint();
    visitor?.app(app.name, lines, late, duplicates);
    if (totals) {
      app.lines += lines;
      app.late += late;
      app.duplicates += duplicates;
    }
    for (let j = r.uint(); j > 0; j--) {
      const reason = r.uint();
      const n = r.uint();
      if (reason >= REASONS.length) throw new WireError(`reason ${reason}`);
      visitor?.rejected(reason, n);
      if (totals) app.rejected[reason] += n;
    }
    for (let j = r.uint(); j > 0; j--) {
      const index = r.uint();
      if (index >= defs.length) throw new WireError(`metric ${index}`);
      const label1 = r.string();
      const label2 = r.string();
      const resolution = r.uint();
      const count = r.double();
      const sum = r.double();
      const lastTime = r.double();
      const last = r.double();
      const observed = r.double();
      const kind = kinds[index];
      visitor?.series(names[index], kind, label1, label2, resolution, count, sum, lastTime, last, observed);
      if (resolvedFor[index] !== appNo) {
        const d = defs[index];
        const m = catalog.metric(d.name, d.kind, d.labels, d.help, app.name);
        metrics[index] = m instanceof Metric ? m : null;
        resolvedFor[index] = appNo;
      }
      const metric = metrics[index];
      let s: Series | null = null;
      if (metric === null) {
        if (totals) app.rejected[TYPE_CONFLICT] += observed;
      } else s = aggregator.mergeSeries(app as AppState, metric, label1, label2, resolution);
      if (s !== null && totals) {
        s.count += count;
        s.sum += sum;
        s.observed += observed;
        // Another process's negative measure: its sum may be the only sign here.
        if (sum < 0 && kind === MEASURE) s.metric.signed = true;
        if (lastTime >= s.lastTime && lastTime !== -Infinity) {
          s.last = last;
          s.lastTime = lastTime;
        }
      }
      for (let k = r.uint(); k > 0; k--) {
        readWindow(r, part, kind);
        if (s !== null && windows) aggregator.mergeWindow(s, part, { late: totals });
      }
    }
  }
  if (!r.done) throw new WireError('bytes after the payload');
  aggregator.version++;
}

function readWindow(r: Reader, p: PartialWindow, kind: Kind): void {
  p.start = r.uint();
  p.count = r.uint();
  p.sum = r.double();
  p.n = 0;
  if (kind === MEASURE) {
    p.min = r.double();
    p.max = r.double();
    const n = r.uint();
    if (n > 1 << 16) throw new WireError(`window of ${n} buckets`);
    for (let i = 0; i < n; i++) {
      p.keys[i] = r.int();
      p.counts[i] = r.uint();
    }
    p.n = n;
  } else if (kind === SAMPLE) {
    p.lastTime = r.double();
    p.last = r.double();
  }
}

/** Totals read back from a store (the Redis snapshot), to encode as a payload. */
export interface TotalsSnapshot {
  metrics: { name: string; kind: Kind; labels: string[]; help: string }[];
  requests: { route: string; status: number; n: number }[];
  apps: {
    name: string;
    lines: number;
    late: number;
    duplicates: number;
    rejected: [reason: number, n: number][];
    series: { metric: number; label1: string; label2: string; resolution: number; count: number; sum: number; lastTime: number; last: number; observed: number }[];
  }[];
}

/** A payload of totals only (no windows), as mergeDelta reads it. */
export function encodeTotals(t: TotalsSnapshot): Buffer {
  const w = new Writer();
  writeHead(w, t.metrics, t.requests);
  w.uint(t.apps.length);
  for (const a of t.apps) {
    writeApp(w, a.name, a.lines, a.late, a.duplicates, a.rejected);
    w.uint(a.series.length);
    for (const s of a.series) {
      writeSeries(w, s.metric, s.label1, s.label2, s.resolution, s.count, s.sum, s.lastTime, s.last, s.observed);
      w.uint(0); // no windows
    }
  }
  return w.take();
}

/** Sets every total of `into` to zero, windows untouched (before totals are read back whole). */
export function zeroTotals(into: MergeTarget): void {
  for (const app of into.aggregator.apps.values()) {
    app.lines = app.late = app.duplicates = 0;
    app.rejected.fill(0);
    for (const s of app.each()) {
      s.count = s.sum = s.observed = 0;
      s.last = NaN;
      s.lastTime = -Infinity;
    }
  }
  into.requests.clear();
}
