// Test helpers: a sink that records every observation, and one-call ingestion.

import { Ingest, type IngestOptions, ingestLogplex, ingestText } from '../src/ingest/index.js';
import { KIND_NAMES, type Metric, type ObservationSink, Tenant } from '../src/model/index.js';

export interface Observation {
  app: string;
  name: string;
  kind: string;
  labels: Record<string, string>;
  value: number;
  time: number;
}

export class RecordingSink implements ObservationSink {
  readonly seen: Observation[] = [];
  private app = '';
  private time = 0;

  at(app: Tenant, time: number): void {
    this.app = app.name;
    this.time = time;
  }

  observe(metric: Metric, label1: string, label2: string, value: number): void {
    const labels: Record<string, string> = {};
    if (metric.labels.length > 0 && label1 !== '') labels[metric.labels[0]] = label1;
    if (metric.labels.length > 1 && label2 !== '') labels[metric.labels[1]] = label2;
    this.seen.push({ app: this.app, name: metric.name, kind: KIND_NAMES[metric.kind], labels, value, time: this.time });
  }
}

export interface Run {
  ingest: Ingest;
  sink: RecordingSink;
  /** The tenant of an app name, one per name. */
  tenant(app: string): Tenant;
}

export function newRun(options: IngestOptions = {}): Run {
  const sink = new RecordingSink();
  const tenants = new Map<string, Tenant>();
  const tenant = (app: string) => {
    let t = tenants.get(app);
    if (t === undefined) tenants.set(app, (t = new Tenant(app)));
    return t;
  };
  return { ingest: new Ingest(sink, options), sink, tenant };
}

export const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

/** Feeds text lines (any docs/conventions.md format) as one body. */
export function feedLines(run: Run, lines: string[], app = 'default', prefix = '', now = NOW): void {
  const tenant = run.tenant(app);
  const names = run.ingest.nameTable(tenant, prefix);
  if (names === null) throw new Error('prefix refused');
  run.ingest.begin(tenant, names, now);
  ingestText(run.ingest, [Buffer.from(lines.join('\n') + '\n')], 1 << 20);
}

/** Feeds a logplex body split into the given chunks. */
export function feedLogplex(run: Run, chunks: Buffer[], app = 'default', prefix = '', now = NOW) {
  const tenant = run.tenant(app);
  const names = run.ingest.nameTable(tenant, prefix);
  if (names === null) throw new Error('prefix refused');
  run.ingest.begin(tenant, names, now);
  return ingestLogplex(run.ingest, chunks, 1 << 20);
}

/** Splits a buffer at the given cut points (any order, any range). */
export function split(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.max(0, Math.min(buf.length, c))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** Observations of one metric name. */
export function named(seen: Observation[], name: string): Observation[] {
  return seen.filter((o) => o.name === name);
}

/** Nearest rank (the definition docs/conventions.md uses): the ceil(q·n)-th smallest of `values`. */
export function nearestRank(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}
