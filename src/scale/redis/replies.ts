// What the link reads back from Redis, as data: a stream entry (a payload, or a
// kind claimed by CLAIM_KIND), and SNAPSHOT's hashes as the totals of a payload with
// every app's claims (scripts.ts).

import { type Kind, REASONS } from '../../model/index.js';
import type { TotalsSnapshot } from '../delta.js';
import { decodeDef, type KindDef } from '../kinds.js';

/** A claim entry of the stream ({o, c}: CLAIM_KIND), another receiver's or this one's. */
export function claimOf(fields: Buffer[]): KindDef | null {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i].toString() !== 'c') continue;
    try {
      const [app, name, def] = JSON.parse(fields[i + 1].toString()) as [string, string, string];
      return decodeDef(app, name, def);
    } catch {
      return null;
    }
  }
  return null;
}

export function entryOf(fields: Buffer[]): { origin: string; n: number; payload: Buffer } | null {
  let origin: string | null = null;
  let payload: Buffer | null = null;
  let n = NaN;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const k = fields[i].toString();
    if (k === 'o') origin = fields[i + 1].toString();
    else if (k === 'n') n = Number(fields[i + 1].toString());
    else if (k === 'p') payload = fields[i + 1];
  }
  return origin === null || payload === null ? null : { origin, n, payload };
}

/** The stored hashes, as the totals of a payload, and the claims of every app. */
export function snapshotOf(requestFields: string[], appParts: (string | string[])[], staleBefore: number): { totals: TotalsSnapshot; claims: KindDef[] } {
  const snap: TotalsSnapshot = { metrics: [], requests: [], apps: [] };
  const claims: KindDef[] = [];
  for (let i = 0; i + 1 < requestFields.length; i += 2) {
    const [route, status] = requestFields[i].split(' ');
    snap.requests.push({ route, status: Number(status), n: Math.round(Number(requestFields[i + 1])) });
  }
  for (let a = 0; a + 2 < appParts.length; a += 3) {
    const name = appParts[a] as string;
    const fields = appParts[a + 1] as string[];
    const defFields = appParts[a + 2] as string[];
    // The app's definitions: its series are read under these, and only of their kind.
    const metricIndex = new Map<string, number>();
    for (let i = 0; i + 1 < defFields.length; i += 2) {
      const d = decodeDef(name, defFields[i], defFields[i + 1]);
      if (d === null || (d.at ?? 0) < staleBefore) continue;
      claims.push(d);
      metricIndex.set(d.name, snap.metrics.length);
      snap.metrics.push({ name: d.name, kind: d.kind, labels: [...d.labels], help: d.help });
    }
    const app: TotalsSnapshot['apps'][number] = { name, lines: 0, late: 0, duplicates: 0, rejected: [], series: [] };
    const series = new Map<string, TotalsSnapshot['apps'][number]['series'][number]>();
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const key = JSON.parse(fields[i]) as (string | number)[];
      const value = fields[i + 1];
      if (key.length === 1) {
        const n = Math.round(Number(value));
        if (key[0] === 'lines') app.lines = n;
        else if (key[0] === 'late') app.late = n;
        else if (key[0] === 'duplicates') app.duplicates = n;
        continue;
      }
      if (key[0] === 'rejected') {
        const r = REASONS.indexOf(key[1] as (typeof REASONS)[number]);
        if (r >= 0) app.rejected.push([r, Math.round(Number(value))]);
        continue;
      }
      const [kind, metric, l1, l2, res, what] = key as [Kind, string, string, string, number, string];
      const m = metricIndex.get(metric);
      if (m === undefined || snap.metrics[m].kind !== kind) continue;
      const id = JSON.stringify(key.slice(0, 5));
      let s = series.get(id);
      if (s === undefined) {
        s = { metric: m, label1: l1, label2: l2, resolution: res, count: 0, sum: 0, lastTime: -Infinity, last: NaN, observed: 0 };
        series.set(id, s);
      }
      if (what === 'count') s.count = Number(value);
      else if (what === 'sum') s.sum = Number(value);
      else {
        const space = value.indexOf(' ');
        s.lastTime = Number(value.slice(0, space));
        s.last = Number(value.slice(space + 1));
      }
    }
    app.series = [...series.values()];
    snap.apps.push(app);
  }
  return { totals: snap, claims };
}
