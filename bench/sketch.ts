// The histogram decision: our exponential-bucket Histogram (Prometheus native
// histogram scheme, schema 6) against @datadog/sketches-js DDSketch at 1% relative
// accuracy. Insert rate, merge rate (60 one-second windows into one), and bytes for
// 10,000 series of a minute of latencies each. Both are checked against exact
// nearest-rank quantiles first. Run in a process of its own (heap measurements).

import { DDSketch } from '@datadog/sketches-js';
import { Bench } from 'tinybench';
import { prng } from '../fixtures/corpus.js';
import { Histogram } from '../src/aggregate/index.js';
import { bucketIndex } from '../src/aggregate/buckets.js';

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function latencies(n: number, seed: number): number[] {
  const rand = prng(seed);
  // log-normal-ish: most around 20 ms, a tail to seconds
  return Array.from({ length: n }, () => 0.02 * Math.exp(1.2 * (rand() + rand() + rand() - 1.5) * 2));
}

function heapOf(make: () => unknown[]): number {
  gc();
  const before = process.memoryUsage();
  const kept = make();
  gc();
  const after = process.memoryUsage();
  const bytes = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  if (kept.length === 0) throw new Error('nothing kept');
  return bytes / kept.length;
}

export async function sketchBench(): Promise<string> {
  const values = latencies(100_000, 1);
  const sorted = [...values].sort((a, b) => a - b);
  const exact = (q: number) => sorted[Math.ceil(q * sorted.length) - 1];
  const ours = new Histogram();
  const dd = new DDSketch({ relativeAccuracy: 0.01 });
  for (const v of values) {
    ours.add(v);
    dd.accept(v);
  }
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    for (const [name, got] of [['ours', ours.quantile(q)], ['ddsketch', dd.getValueAtQuantile(q)]] as const) {
      if (Math.abs(got - exact(q)) > 0.01 * exact(q)) throw new Error(`${name} p${q * 100}: ${got} vs ${exact(q)}`);
    }
  }

  const windows = Array.from({ length: 60 }, (_, i) => latencies(50, 100 + i));
  const oursWindows = windows.map((w) => {
    const h = new Histogram();
    for (const v of w) h.add(v);
    return h;
  });
  const ddWindows = windows.map((w) => {
    const s = new DDSketch({ relativeAccuracy: 0.01 });
    for (const v of w) s.accept(v);
    return s;
  });

  // The bucket index from the double's bits against the logarithm it replaced (which
  // put 2,324 of 5,248 values on a bound one bucket away from client_golang).
  for (const v of values.slice(0, 1000)) {
    const logIndex = Math.ceil(Math.log2(v) * 64);
    if (Math.abs(bucketIndex(v) - logIndex) > 1) throw new Error(`index of ${v}: ${bucketIndex(v)} vs ${logIndex}`);
  }
  let sink = 0;
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  bench
    .add('index: bits', () => {
      for (let i = 0; i < 10_000; i++) sink += bucketIndex(values[i]);
    })
    .add('index: log2', () => {
      for (let i = 0; i < 10_000; i++) sink += Math.ceil(Math.log2(values[i]) * 64);
    })
    .add('insert: ours', () => {
      const h = new Histogram();
      for (let i = 0; i < 10_000; i++) h.add(values[i]);
    })
    .add('insert: ddsketch', () => {
      const s = new DDSketch({ relativeAccuracy: 0.01 });
      for (let i = 0; i < 10_000; i++) s.accept(values[i]);
    })
    .add('merge 60 windows: ours', () => {
      const h = new Histogram();
      for (const w of oursWindows) h.merge(w);
    })
    .add('merge 60 windows: ddsketch', () => {
      const s = new DDSketch({ relativeAccuracy: 0.01 });
      for (const w of ddWindows) s.merge(w);
    });
  await bench.run();
  if (sink === 0) throw new Error('no indexes');
  const rate = (name: string, per: number) => {
    const r = bench.tasks.find((t) => t.name === name)?.result;
    if (!r || r.state !== 'completed') throw new Error(name);
    return (per / r.latency.p50) * 1000;
  };
  const series = (make: (w: number[]) => unknown) => () => Array.from({ length: 10_000 }, (_, i) => make(windows[i % 60].concat(windows[(i + 1) % 60])));
  const oursBytes = heapOf(
    series((w) => {
      const h = new Histogram();
      for (const v of w) h.add(v);
      return h;
    }),
  );
  const ddBytes = heapOf(
    series((w) => {
      const s = new DDSketch({ relativeAccuracy: 0.01 });
      for (const v of w) s.accept(v);
      return s;
    }),
  );
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  return [
    '### Histogram: ours (exponential buckets, schema 6) against DDSketch (1%)',
    '',
    '| measure | ours | @datadog/sketches-js | ours ÷ DDSketch |',
    '|---|---:|---:|---:|',
    `| insert, values/s | ${f(rate('insert: ours', 10_000))} | ${f(rate('insert: ddsketch', 10_000))} | ${(rate('insert: ours', 10_000) / rate('insert: ddsketch', 10_000)).toFixed(2)}× |`,
    `| merge 60 one-second windows (50 values each), merges/s | ${f(rate('merge 60 windows: ours', 1))} | ${f(rate('merge 60 windows: ddsketch', 1))} | ${(rate('merge 60 windows: ours', 1) / rate('merge 60 windows: ddsketch', 1)).toFixed(2)}× |`,
    `| bytes per sketch of 100 values (10,000 kept) | ${f(oursBytes)} | ${f(ddBytes)} | ${(oursBytes / ddBytes).toFixed(2)}× |`,
    `| worst relative error by construction | 0.54% | 1% | |`,
    '',
    '| bucket index (schema 6) | values/s | × ceil(log2(v)·64) |',
    '|---|---:|---:|',
    `| ceil(log2(v)·64), what it was | ${f(rate('index: log2', 10_000))} | 1.00× |`,
    `| frexp from the double's bits, client_golang's bounds | ${f(rate('index: bits', 10_000))} | ${(rate('index: bits', 10_000) / rate('index: log2', 10_000)).toFixed(2)}× |`,
  ].join('\n');
}

if (process.argv[1]?.endsWith('sketch.js')) console.log(await sketchBench());
