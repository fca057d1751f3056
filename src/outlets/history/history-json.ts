// The dashboard's history.json (docs/dashboard.md): the points of the busiest series a
// query selects, written by hand (no object per point), in slices (slicer.ts).

import { COUNTER, KIND_NAMES, MEASURE, SAMPLE } from '../../model/index.js';
import type { History } from './history.js';
import { HISTORY_LIMIT, HISTORY_MAX_LIMIT, type HistoryQuery } from './query.js';
import { Slicer } from './slicer.js';
import { groupValue, type SummedSample, summed } from './summed.js';
import { cadence, type Track } from './track.js';

const FIELDS: Record<string, readonly string[]> = { measure: ['count', 'p50', 'p95', 'p99', 'max'], counter: ['sum'], sample: ['last'] };

/**
 * The points of the busiest series a query selects, as JSON text: `total` series
 * matched, and for each of the `limit` with the most traffic over the ring (a
 * measure's count, a counter's sum, a sample's points), busiest first: its labels,
 * step, the start of its first point (epoch s) and one array per field, null where a
 * step had no window; a sample's `cadence`, the steps between its reports. With
 * `group`, one entry per value of the label (or one for all), merged exactly.
 * Written by hand: no object per point; the event loop runs every slice.
 */
export async function historyJson(h: History, q: HistoryQuery): Promise<string> {
  const slicer = new Slicer();
  const needle = q.search === undefined || q.search === '' ? null : q.search.toLowerCase();
  const chosen: { t: Track; traffic: number }[] = [];
  const samples = new Map<string, Track[]>();
  const apps = q.app !== undefined ? h.apps(q.scope).filter((a) => a === q.app) : h.apps(q.scope);
  for (const app of apps) {
    for (const t of h.ringsOf(app)) {
      const p = slicer.pause();
      if (p !== null) await p;
      if (t.newest < 0 || (q.metric !== undefined && t.metric.name !== q.metric)) continue;
      if (!wanted(t, q.group)) {
        // A sample's groups are summed here, from its series' rings.
        if (q.group !== undefined && t.series !== null && t.metric.kind === SAMPLE) {
          const value = groupValue(t, q.group);
          if (value === null) continue;
          const key = `${app}\u0000${t.metric.name}\u0000${value}`;
          const list = samples.get(key);
          if (list === undefined) samples.set(key, [t]);
          else list.push(t);
        }
        continue;
      }
      if (needle !== null && !labelText(t.labels()).toLowerCase().includes(needle)) continue;
      chosen.push({ t, traffic: traffic(t) });
    }
  }
  const sums: { t: SummedSample; traffic: number }[] = [];
  for (const [key, list] of samples) {
    const s = summed(list, q.group ?? '', key.slice(key.lastIndexOf('\u0000') + 1));
    if (needle !== null && !labelText(s.labels).toLowerCase().includes(needle)) continue;
    sums.push({ t: s, traffic: s.points });
  }
  // Stable: equal traffic keeps the order the series came in.
  chosen.sort((a, b) => b.traffic - a.traffic);
  sums.sort((a, b) => b.traffic - a.traffic);
  const limit = Math.min(q.limit ?? HISTORY_LIMIT, HISTORY_MAX_LIMIT);
  const parts: string[] = [];
  // `since` (a poll): steps starting at or after it; `from` (a range): the step holding it too.
  const since = q.since ?? -Infinity;
  const until = q.to ?? Infinity;
  for (let c = 0; c < chosen.length && c < limit; c++) {
    const p = slicer.pause();
    if (p !== null) await p;
    const t = chosen[c].t;
    const first = Math.max(t.oldest, t.newest - t.slots + 1, q.from === undefined ? Math.ceil(since / t.step) : Math.floor(q.from / t.step));
    const newest = Math.min(t.newest, Math.ceil(until / t.step) - 1);
    if (first > newest) continue;
    const kind = KIND_NAMES[t.metric.kind];
    const names = FIELDS[kind];
    let text = `{"app":${JSON.stringify(t.app.name)},"metric":${JSON.stringify(t.metric.name)},"kind":"${kind}","labels":${JSON.stringify(t.labels())},"step":${t.step},"start":${first * t.step}`;
    if (t.metric.kind === SAMPLE) text += `,"cadence":${cadence(t)}`;
    for (let f = 0; f < names.length; f++) {
      text += `,"${names[f]}":[`;
      for (let i = first; i <= newest; i++) {
        const v = t.values[(i % t.slots) * t.fields + f];
        text += `${i === first ? '' : ','}${number(v)}`;
      }
      text += ']';
    }
    parts.push(`${text}}`);
  }
  for (let c = 0; c < sums.length && c < limit; c++) {
    const s = sums[c].t;
    const first = Math.max(s.first, Math.ceil(since / s.step));
    if (first > s.newest) continue;
    const values = s.values.slice(first - s.first).map(number);
    parts.push(`{"app":${JSON.stringify(s.app)},"metric":${JSON.stringify(s.metric)},"kind":"sample","labels":${JSON.stringify(s.labels)},"series":${s.members},"step":${s.step},"start":${first * s.step},"cadence":1,"last":[${values.join(',')}]}`);
  }
  const total = chosen.length + sums.length;
  const last = apps.length === 1 ? h.lastOf(apps[0]) : null;
  const from = q.from ?? (Number.isFinite(since) ? since : h.reach());
  // An app's releases whether or not it has rings yet: a deploy comes before its lines.
  const releases = h.releasesJson(q.app !== undefined ? [q.app] : q.scope !== null ? [q.scope] : apps, from, until);
  return `{"through":${Number.isFinite(h.through) ? h.through : null},"now":${q.now ?? null},"last":${last},"staleAfter":${h.staleAfter},"total":${total},"series":[${parts.join(',')}],"releases":${releases}}`;
}

/** True for the rings a query with `group` reads as they are. */
function wanted(t: Track, group: string | undefined): boolean {
  if (group === undefined) return t.series !== null;
  if (t.metric.kind === SAMPLE) return false;
  if (group === '') return t.group === -1;
  const at = t.metric.labels.indexOf(group);
  if (at < 0) return false;
  // One label: each series is its value's merge already.
  if (t.metric.labels.length === 1) return t.series !== null;
  return t.series === null && t.group === at;
}

/** Labels as the page and the search read them: `k=v k=v`. */
export function labelText(labels: Record<string, string>): string {
  let text = '';
  for (const k in labels) text += `${text === '' ? '' : ' '}${k}=${labels[k]}`;
  return text;
}

/** A ring's traffic: the sum of a measure's counts or a counter's sums, or a sample's points, over the ring. */
function traffic(t: Track): number {
  const counts = t.metric.kind !== MEASURE && t.metric.kind !== COUNTER;
  let sum = 0;
  for (let i = 0; i < t.values.length; i += t.fields) {
    const v = t.values[i];
    if (v === v) sum += counts ? 1 : Math.abs(v);
  }
  return sum;
}

/** A Float32 point as JSON: null for no point, seven significant digits (what a Float32 holds). */
export function number(v: number): string {
  if (v !== v) return 'null';
  if (Number.isInteger(v) && Math.abs(v) < 2 ** 24) return String(v);
  if (!Number.isFinite(v)) return 'null';
  return String(Number(v.toPrecision(7)));
}
