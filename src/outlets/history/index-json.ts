// The dashboard's index.json: the apps and metrics with history in a scope, what the
// page's selectors list (docs/dashboard.md).

import { KIND_NAMES } from '../../model/index.js';
import type { History } from './history.js';
import { Slicer } from './slicer.js';
import { HISTORY_QUANTILES, HISTORY_SECONDS, HISTORY_STEP } from './track.js';

/** The apps and metrics with history in a scope, as JSON text. */
export async function indexJson(h: History, scope: string | null, now?: number): Promise<string> {
  const slicer = new Slicer();
  const out: { app: string; last: number | null; metrics: { name: string; kind: string; series: number; labels: readonly string[] }[] }[] = [];
  for (const app of h.apps(scope)) {
    const metrics = new Map<string, { kind: string; series: number; labels: readonly string[] }>();
    for (const t of h.ringsOf(app)) {
      const p = slicer.pause();
      if (p !== null) await p;
      if (t.series === null) continue;
      const m = metrics.get(t.metric.name);
      if (m === undefined) metrics.set(t.metric.name, { kind: KIND_NAMES[t.metric.kind], series: 1, labels: t.metric.labels });
      else m.series++;
    }
    out.push({ app, last: h.lastOf(app), metrics: [...metrics].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, m]) => ({ name, ...m })) });
  }
  return JSON.stringify({ step: HISTORY_STEP, seconds: HISTORY_SECONDS, quantiles: HISTORY_QUANTILES, through: Number.isFinite(h.through) ? h.through : null, now: now ?? null, staleAfter: h.staleAfter, apps: out });
}
