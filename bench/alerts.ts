// The cost of alerts (docs/alerts.md): 1,000 rules on 100,000 measure series (1,000
// metrics of 100 series each, one rule per metric, each: series, stats in turn over
// 1m), every series with a line in every one-second window. Measured in one process,
// against a baseline of the same aggregator without alerts in the same run: the
// evaluation of every rule at a step boundary (ms per tick, median), the close path
// of one second's windows with and without the evaluator's listener, and the bytes
// the alerts' steps hold. Run in a process of its own (run.ts forks it).

import { performance } from 'node:perf_hooks';
import { Aggregator } from '../src/aggregate/index.js';
import { Evaluator } from '../src/alerts/evaluator.js';
import { parseRules } from '../src/alerts/rules.js';
import { Catalog, MEASURE, type Metric } from '../src/model/index.js';
import { median, settledMemory } from './lib.js';

const RULES = Number(process.argv[2] ?? 1000);
const SERIES = Number(process.argv[3] ?? 100_000);
const PER_METRIC = SERIES / RULES;
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const STATS = ['p99', 'mean', 'max', 'rate', 'count', 'p50', 'min', 'sum', 'last', 'absent'];

function setup(withAlerts: boolean) {
  const catalog = new Catalog();
  const metrics: Metric[] = [];
  for (let m = 0; m < RULES; m++) metrics.push(catalog.metric(`m${m}_seconds`, MEASURE, ['source'], '') as Metric);
  const sources = Array.from({ length: PER_METRIC }, (_, i) => `web.${i}`);
  const agg = new Aggregator({ resolution: 1, grace: 2, quantileWindow: 60, maxSeries: SERIES * 2, maxSeriesPerApp: SERIES * 2, seriesTtl: 3600 }, T0);
  let ev: Evaluator | null = null;
  if (withAlerts) {
    const yaml =
      'notify:\n  hook: { webhook: "http://127.0.0.1:9/" }\nalerts:\n' +
      metrics
        .map((m, i) => {
          const stat = STATS[i % STATS.length];
          return stat === 'absent' ? `  - { name: r${i}, metric: ${m.name}, absent: true, notify: hook }\n` : `  - { name: r${i}, metric: ${m.name}, stat: ${stat}, above: 1e9, notify: hook }\n`;
        })
        .join('');
    ev = new Evaluator(parseRules(yaml).rules, 1, { notify: async () => {}, persist: () => {}, record: () => {} });
    ev.attach(agg);
  }
  const app = agg.appState('shop');
  let x = 1;
  /** One line per series in second `s` (T0 + s), then the clock to the end of it. */
  const second = (s: number): number => {
    for (const m of metrics) {
      agg.at(app, T0 + s * 1000 + 500);
      for (const src of sources) {
        x = (x * 16807) % 2147483647;
        agg.observe(m, src, '', 0.001 + x / 2147483647);
      }
    }
    const t = performance.now();
    agg.advance(T0 + (s + 1) * 1000);
    return performance.now() - t;
  };
  return { agg, ev, second };
}

async function main(): Promise<void> {
  const before = await settledMemory();
  const plain = setup(false);
  const alerting = setup(true);
  // 70 s of lines: the span of every rule is full. Both aggregators, second by second,
  // so a slow spell of the machine slows both alike.
  const closePlain: number[] = [];
  const closeAlerts: number[] = [];
  for (let s = 0; s < 70; s++) {
    closePlain.push(plain.second(s));
    closeAlerts.push(alerting.second(s));
  }
  const ev = alerting.ev as Evaluator;
  let alerts = 0;
  for (const _ of ev.alerts()) alerts++;
  // Every rule evaluated at the last step boundary, 9 times.
  const to = ev.evaluatedTo;
  const ticks: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t = performance.now();
    ev.evaluate(to);
    ticks.push(performance.now() - t);
  }
  const after = await settledMemory();
  const closeP = median(closePlain.slice(5));
  const closeA = median(closeAlerts.slice(5));
  process.stdout.write(
    JSON.stringify({
      rules: RULES,
      series: SERIES,
      alerts,
      tickMs: Math.round(median(ticks) * 10) / 10,
      closePlainMs: Math.round(closeP * 10) / 10,
      closeAlertsMs: Math.round(closeA * 10) / 10,
      closeRatio: Math.round((closeA / closeP) * 100) / 100,
      alertMb: Math.round((ev.bytes / 1024 / 1024) * 10) / 10,
      heapMb: Math.round(((after.heapUsed - before.heapUsed) / 1024 / 1024) * 10) / 10,
      refused: ev.refused,
    }) + '\n',
  );
}

await main();
