// Which kind an app's metric name is, across processes (docs/isolation.md). Within an
// app the first claim anywhere wins, so N processes answer as one would:
//
//   - a receiver's catalog tells the arbiter of each name an app claims, as it claims
//     it (Catalog.onClaim: before the line's request is answered);
//   - a dyno's hub is the arbiter of its workers: the first claim it hears (or the
//     first payload that names it) wins; a worker whose claim lost is told the
//     winner and forces it (force below);
//   - with Redis, the hub asks Redis as well (HSETNX on the app's definitions,
//     redis/claims.ts); when Redis holds another kind, the hub forces that kind in its view
//     and tells its workers.
//
// A receiver that took lines under a kind that lost drops those series, and their
// observations count as type_conflict, as one process would have counted them;
// lines it had handed over already are refused (and counted) where they merge.

import type { Aggregator, AppState } from '../aggregate/index.js';
import { type Catalog, COUNTER, type Kind, MEASURE, type Metric, SAMPLE } from '../model/index.js';

/** One app's claim of a name as a kind, as it travels between processes. */
export interface KindDef {
  app: string;
  name: string;
  kind: Kind;
  labels: readonly string[];
  help: string;
  /** As Redis keeps it: the second the app last used the name. */
  at?: number;
}

export function defOf(m: Metric): KindDef {
  return { app: m.app, name: m.name, kind: m.kind, labels: m.labels, help: m.help };
}

export function isKind(k: unknown): k is Kind {
  return k === MEASURE || k === COUNTER || k === SAMPLE;
}

/**
 * Seconds after its last use that Redis forgets an app's definition of a name: the
 * series TTL, a quarter of it (Redis notes a use once in that long), and the sweep
 * that releases the name in a receiver (every 10 s at most). Later than in any
 * receiver, so a name is never taken from one that still holds it; redis/scripts.ts APPLY
 * computes the same.
 */
export function staleAfterS(ttl: number): number {
  return ttl + ttl / 4 + 10;
}

/**
 * A claim as sent to Redis: the kind's digit, a space, then the labels and help as
 * JSON. Redis keeps it with the second it was last used after the digit
 * (`0 1765000000 {…}`).
 */
export function encodeDef(d: KindDef): string {
  return `${d.kind} ${JSON.stringify({ labels: d.labels, help: d.help })}`;
}

export function decodeDef(app: string, name: string, text: string): KindDef | null {
  const kind = Number(text.slice(0, 1));
  if (!isKind(kind) || text[1] !== ' ') return null;
  let json = text.slice(2);
  let at: number | undefined;
  const space = json.indexOf(' ');
  if (json.charCodeAt(0) !== 0x7b && space > 0) {
    at = Number(json.slice(0, space));
    json = json.slice(space + 1);
  }
  try {
    const { labels, help } = JSON.parse(json) as { labels: unknown; help: unknown };
    if (!Array.isArray(labels) || typeof help !== 'string' || labels.some((l) => typeof l !== 'string')) return null;
    return { app, name, kind, labels: labels as string[], help, at };
  } catch {
    return null;
  }
}

/**
 * Makes `d` the app's claim in a pipeline, whatever it claimed before: the app's
 * families in the way retire, and their series are dropped (observations counted as
 * type_conflict). Returns how many families were in the way.
 */
export function forceKind(p: { catalog: Catalog; aggregator: Aggregator }, d: KindDef): number {
  const catalog = p.catalog;
  const tell = catalog.onClaim;
  catalog.onClaim = null; // a forced claim is the arbiter's, not news for it
  try {
    const { dropped } = catalog.force(d.name, d.kind, d.labels, d.help, d.app);
    const app = p.aggregator.apps.get(d.app) as AppState | undefined;
    if (app !== undefined) for (const m of dropped) p.aggregator.dropMetric(app, m);
    if (dropped.length > 0) p.aggregator.version++;
    return dropped.length;
  } finally {
    catalog.onClaim = tell;
  }
}

/**
 * The arbiter's side: claims `d` in a pipeline unless the app holds another kind
 * there; returns null when it won, else the claim that stands (the caller tells the
 * receiver that lost).
 */
export function claimKind(p: { catalog: Catalog }, d: KindDef): KindDef | null {
  const catalog = p.catalog;
  const tell = catalog.onClaim;
  catalog.onClaim = null;
  try {
    const m = catalog.metric(d.name, d.kind, d.labels, d.help, d.app);
    return 'blocker' in m ? defOf(m.blocker) : null;
  } finally {
    catalog.onClaim = tell;
  }
}
