// The dashboard's data as JSON text: what the page asks (`LookWhat`), the answer's
// shape (`Look`), and `lookAt`, the answer from a History in this process and the
// store behind it. The server's routes, `tail --listen` and the scale-out hub each
// hold a Look (docs/dashboard.md, docs/history.md).

import type { HistoryStore } from '../history/store.js';
import { type History, HISTORY_LIMIT, HISTORY_MAX_LIMIT, type HistoryQuery } from './history/index.js';
import { overview } from './overview.js';

/** What the dashboard asks: the apps and metrics with history, a query's points, an app's overview, or the alerts (docs/alerts.md). */
export type LookWhat = 'index' | 'history' | 'overview' | 'alerts';

/** GET /alerts when none are configured. */
export const NO_ALERTS = '{"evaluator":null,"rules":[],"alerts":[],"recent":[]}';

/** The dashboard's data as JSON text. */
export type Look = (what: LookWhat, q: HistoryQuery) => Promise<string>;

/**
 * A Look over a History in this process (an empty one when there is none), and the
 * store behind it: a range (`from`), or a poll that reaches back past the ring, is
 * the store's (docs/history.md). `clock` tells the page the time (epoch ms; the wall
 * clock unless a stream's own).
 */
export function lookAt(history: History | null, store: HistoryStore | null = null, clock: () => number = Date.now): Look {
  return async (what, q) => {
    if (what === 'alerts') return NO_ALERTS;
    const now = Math.floor(clock() / 1000);
    if (history === null) return what === 'history' ? `{"through":null,"now":${now},"total":0,"series":[],"releases":[]}` : `{"now":${now},"apps":[]}`;
    const asked = { ...q, now };
    if (what === 'index') return history.index(q.scope, now);
    if (what === 'overview') return overview(history, asked);
    // A range is the store's (every receiver's part, merged); a poll is the ring's unless it reaches back past it.
    const from = q.from ?? q.since;
    if (store !== null && from !== undefined && (q.from !== undefined || from < history.reach())) {
      const to = q.to ?? now;
      return store.read({ scope: q.scope, app: q.app, metric: q.metric, from, to: Math.max(from, to), limit: Math.min(q.limit ?? HISTORY_LIMIT, HISTORY_MAX_LIMIT) });
    }
    return history.read(asked);
  };
}
