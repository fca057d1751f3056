// The dashboard (docs/dashboard.md), for the hono route and `tail --listen` alike: the page and
// its scripts (web/, and uPlot from its package: no CDN), and its data as JSON, which
// the page polls: dashboard/overview.json?app=… (an app's overview),
// dashboard/history.json?app=…&metric=…[&group=LABEL][&q=TEXT][&since=…] (a metric's
// series, grouped or searched; a poll asks only for the points it lacks), and
// dashboard/index.json (apps and metrics). docs/dashboard.md says what each shows. Polling,
// not server-sent events: a poll is one short request, through any proxy or router
// (Heroku's closes idle connections after 55 s), over the same seam as a scrape when
// workers and Redis merge the numbers elsewhere.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { HISTORY_MAX_LIMIT, type HistoryQuery } from '../outlets/history/index.js';
import { APP_NAME } from './auth.js';
import type { Look } from '../outlets/look.js';

export interface DashboardAnswer {
  status: number;
  type: string;
  body: string | Buffer;
}

// A file URL, turned into a path by fileURLToPath: URL.pathname keeps `%20` for a space.
const WEB = new URL('../../../web/', import.meta.url);
const require = createRequire(import.meta.url);

const ASSETS: Record<string, [string, () => string]> = {
  '/': ['text/html; charset=utf-8', () => fileURLToPath(new URL('index.html', WEB))],
  '/dashboard/app.js': ['text/javascript; charset=utf-8', () => fileURLToPath(new URL('dashboard.js', WEB))],
  '/dashboard/app.css': ['text/css; charset=utf-8', () => fileURLToPath(new URL('dashboard.css', WEB))],
  '/dashboard/uplot.js': ['text/javascript; charset=utf-8', () => require.resolve('uplot/dist/uPlot.iife.min.js')],
  '/dashboard/uplot.css': ['text/css; charset=utf-8', () => require.resolve('uplot/dist/uPlot.min.css')],
};
const cache = new Map<string, Buffer>();

function asset(path: string): Buffer {
  let b = cache.get(path);
  if (b === undefined) {
    b = readFileSync(ASSETS[path][1]());
    cache.set(path, b);
  }
  return b;
}

const METRIC = /^[A-Za-z_:][A-Za-z0-9_:]{0,199}$/;
const LABEL = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

const DATA = new Set(['/dashboard/index.json', '/dashboard/history.json', '/dashboard/overview.json']);
/** The longest search text, characters. */
export const SEARCH_MAX = 200;

/** True for the paths the dashboard answers. */
export function isDashboard(path: string): boolean {
  return path in ASSETS || DATA.has(path);
}

/** True for the paths that query the history: bounded in concurrency per scope. */
export function isQuery(path: string): boolean {
  return DATA.has(path);
}

/** The page and its data need a reader's credentials; its scripts and styles (no data) do not. */
export function needsCredentials(path: string): boolean {
  return path === '/' || !(path in ASSETS);
}

/**
 * The answer to a dashboard path for a reader of `scope` (null: every app), or a
 * 400 naming the parameter that is wrong.
 */
export async function dashboard(path: string, params: URLSearchParams, scope: string | null, look: Look): Promise<DashboardAnswer> {
  if (path in ASSETS) return { status: 200, type: ASSETS[path][0], body: asset(path) };
  const json = 'application/json; charset=utf-8';
  if (path === '/dashboard/index.json') return { status: 200, type: json, body: await look('index', { scope }) };
  const q: HistoryQuery = { scope };
  const app = params.get('app');
  if (app !== null) {
    if (!APP_NAME.test(app)) return { status: 400, type: 'text/plain', body: 'app: 1 to 64 of A-Z a-z 0-9 . _ -\n' };
    q.app = app;
  }
  const metric = params.get('metric');
  if (metric !== null) {
    if (!METRIC.test(metric)) return { status: 400, type: 'text/plain', body: 'metric: a Prometheus metric name\n' };
    q.metric = metric;
  }
  if (path === '/dashboard/overview.json') return { status: 200, type: json, body: await look('overview', q) };
  const group = params.get('group');
  if (group !== null) {
    if (group !== '' && !LABEL.test(group)) return { status: 400, type: 'text/plain', body: 'group: a label name, or empty for every series merged\n' };
    q.group = group;
  }
  const search = params.get('q');
  if (search !== null && search !== '') {
    if (search.length > SEARCH_MAX) return { status: 400, type: 'text/plain', body: `q: at most ${SEARCH_MAX} characters\n` };
    q.search = search;
  }
  const since = params.get('since');
  if (since !== null) {
    if (!/^\d{1,12}$/.test(since)) return { status: 400, type: 'text/plain', body: 'since: epoch seconds\n' };
    q.since = Number(since);
  }
  for (const name of ['from', 'to'] as const) {
    const v = params.get(name);
    if (v === null) continue;
    if (!/^\d{1,12}$/.test(v)) return { status: 400, type: 'text/plain', body: `${name}: epoch seconds\n` };
    q[name] = Number(v);
  }
  if (q.from !== undefined && q.to !== undefined && q.to <= q.from) return { status: 400, type: 'text/plain', body: 'to: after from\n' };
  const limit = params.get('limit');
  if (limit !== null) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > HISTORY_MAX_LIMIT) return { status: 400, type: 'text/plain', body: `limit: 1 to ${HISTORY_MAX_LIMIT} series\n` };
    q.limit = Number(limit);
  }
  return { status: 200, type: json, body: await look('history', q) };
}
