// A part of a window another process sent (scale-out) is merged whole or not at all:
// when the app's window budget refuses a bucket midway, the buckets added before it
// are taken back, so no window ever holds buckets its count does not (a window closed
// with count 0 and buckets summing to 4 pushed histograms whose buckets exceeded
// their count).

import { expect, it } from 'vitest';
import { Aggregator, type PartialWindow } from '../../src/aggregate/index.js';
import { keyOf } from '../../src/aggregate/buckets.js';
import { budgetsFor, Catalog, MEASURE, type Metric, WINDOW_LIMIT } from '../../src/model/index.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

it('takes back the buckets of a partial window refused midway', () => {
  const catalog = new Catalog();
  const latency = catalog.metric('latency_seconds', MEASURE, ['source'], '') as Metric;
  const options = { resolution: 1, grace: 2, quantileWindow: 60, maxSeries: 100, maxSeriesPerApp: 100, seriesTtl: 600 };
  // Room for one window object (256 bytes) and its four inline buckets, none for more.
  const agg = new Aggregator(options, T0, budgetsFor({ ...options, maxWindowBytes: 1 << 20, maxWindowBytesPerApp: 256 }));
  const app = agg.appState('shop');
  const s = agg.mergeSeries(app, latency, 'web.1', '', 1);
  expect(s).not.toBeNull();
  if (s === null) return;
  const start = T0 / 1000;
  // Six values in six buckets: the fifth needs the spilled arrays the budget refuses.
  const values = [0.001, 0.01, 0.1, 1, 10, 100];
  const part: PartialWindow = {
    start,
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: 0.001,
    max: 100,
    last: NaN,
    lastTime: -Infinity,
    n: values.length,
    keys: values.map(keyOf),
    counts: values.map(() => 1),
  };
  agg.mergeWindow(s, part);
  expect(app.rejected[WINDOW_LIMIT]).toBe(values.length);
  const w = s.window(start);
  let buckets = 0;
  w?.buckets((_, c) => (buckets += c));
  expect({ count: w?.count ?? 0, buckets }).toEqual({ count: 0, buckets: 0 });
  // A part that fits still merges, whole.
  agg.mergeWindow(s, { ...part, count: 2, sum: 0.011, max: 0.01, n: 2, keys: part.keys.slice(0, 2), counts: [1, 1] });
  let after = 0;
  s.window(start)?.buckets((_, c) => (after += c));
  expect({ count: s.window(start)?.count, after }).toEqual({ count: 2, after: 2 });
});
