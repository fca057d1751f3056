// A sample's groups in history.json: samples are not merged as they close (a sum of
// last values is not a merge of windows), so a query sums its series' rings instead.

import { cadence, type Track } from './track.js';

/** The label's value a series groups under ('' for every series), or null if it has no such label. */
export function groupValue(t: Track, group: string): string | null {
  if (group === '') return '';
  const at = t.metric.labels.indexOf(group);
  if (at < 0 || t.series === null) return null;
  return at === 0 ? t.series.label1 : t.series.label2;
}

export interface SummedSample {
  app: string;
  metric: string;
  labels: Record<string, string>;
  members: number;
  step: number;
  first: number;
  newest: number;
  values: number[];
  points: number;
}

/**
 * Samples of one group summed step by step: each series holds its last value for
 * its cadence (a dyno's memory reported every 20 s counts in both of its 10 s steps),
 * so the sum does not dip between reports.
 */
export function summed(list: Track[], group: string, value: string): SummedSample {
  const step = list[0].step;
  let first = Infinity;
  let newest = -Infinity;
  for (const t of list) {
    if (t.step !== step) continue;
    first = Math.min(first, Math.max(t.oldest, t.newest - t.slots + 1));
    newest = Math.max(newest, t.newest);
  }
  const values = new Array<number>(newest - first + 1).fill(NaN);
  let points = 0;
  for (const t of list) {
    if (t.step !== step) continue;
    const hold = cadence(t);
    let last = NaN;
    let age = Infinity;
    for (let i = first; i <= newest; i++) {
      const v = t.at(i * step, 0);
      if (v === v) {
        last = v;
        age = 0;
        points++;
      } else age++;
      if (age < hold) values[i - first] = (values[i - first] === values[i - first] ? values[i - first] : 0) + last;
    }
  }
  return { app: list[0].app.name, metric: list[0].metric.name, labels: group === '' ? {} : { [group]: value }, members: list.length, step, first, newest, values, points };
}
