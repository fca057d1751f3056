// Drives the whole app through app.request() with an injected clock.

import { type Config, configFrom, parseArgs } from '../../src/config.js';
import { drainPassword } from '../../src/server/auth.js';
import { build } from '../../src/server/build.js';
import { ingestText } from '../../src/ingest/index.js';
import type { Pipeline } from '../../src/pipeline.js';

export const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
export const SECRET = 'test-secret-0123456789';

export function config(env: Record<string, string> = {}): Config {
  return configFrom(parseArgs([], env).values);
}

export function server(env: Record<string, string> = {}) {
  const clock = { now: T0 };
  const parts = build(config(env), () => clock.now);
  return { ...parts, clock };
}

export function basic(app: string, password = drainPassword(SECRET, app)): string {
  return 'Basic ' + Buffer.from(`${app}:${password}`).toString('base64');
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition into samples (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: m[3] === 'Nan' || m[3] === 'NaN' ? NaN : Number(m[3]) });
  }
  return out;
}

export function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** Reads `lines` as text into a pipeline as `app` at time `t` (ms), as a drain route would. */
export function feed(p: Pipeline, app: string, lines: string[], t: number): void {
  const { aggregator, ingest } = p;
  const tenant = aggregator.appState(app);
  aggregator.advance(t);
  aggregator.arrival = t;
  ingest.stats.reset();
  const names = ingest.nameTable(tenant, '');
  if (names === null) throw new Error('no name table');
  ingest.begin(tenant, names, t);
  ingestText(ingest, [Buffer.from(lines.join('\n') + '\n')], 1 << 24);
  tenant.count(ingest.stats);
}
