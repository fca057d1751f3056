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

/**
 * `delay`: the real `serve` and a local webhook receiver; five times, good lines for
 * 12 s (and 2.3 s more each round), then breaching lines until the firing arrives, then good lines until the
 * resolve arrives. The delays from the first breaching (good) line to the firing
 * (resolve), ms.
 */
async function delay(rounds: number): Promise<void> {
  const { spawn } = await import('node:child_process');
  const { createServer } = await import('node:http');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { freePort } = await import('./lib.js');
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const hookPort = await freePort();
  const arrived: { state: string; at: number }[] = [];
  const hook = createServer((req, res) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => {
      arrived.push({ state: (JSON.parse(b) as { state: string }).state, at: Date.now() });
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(hookPort, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'drainmeter-bench-alerts-'));
  writeFileSync(join(dir, 'alerts.yml'), `notify:\n  hook: { webhook: "http://127.0.0.1:${hookPort}/" }\nalerts:\n  - { name: slow, metric: lat_seconds, stat: max, above: 0.5, over: 10s, rearm: 0s, notify: hook }\n`);
  const port = await freePort();
  const cli = new URL('../src/cli.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [cli, 'serve', '--port', String(port)], { env: { PATH: process.env.PATH ?? '', DRAINMETER_ALERTS: join(dir, 'alerts.yml'), DRAINMETER_STATE_FILE: join(dir, 'state.json') }, stdio: 'ignore' });
  await sleep(1500);
  const send = async (value: string, until: (n: number) => boolean): Promise<number> => {
    const first = Date.now();
    const n = arrived.length;
    while (!until(arrived.length - n)) {
      await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: `measure#lat=${value} source=web.1\n` }).then((r) => r.arrayBuffer());
      await sleep(200);
    }
    return arrived[arrived.length - 1].at - first;
  };
  const firing: number[] = [];
  const resolving: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const warm = Date.now();
    // 12 s, and 2.3 s more each round: the breaches fall at different points of the 10 s steps.
    while (Date.now() - warm < 12_000 + i * 2_300) {
      await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'measure#lat=100ms source=web.1\n' }).then((r) => r.arrayBuffer());
      await sleep(200);
    }
    firing.push(await send('800ms', (n) => n >= 1));
    resolving.push(await send('100ms', (n) => n >= 1));
  }
  child.kill('SIGTERM');
  hook.close();
  process.stdout.write(JSON.stringify({ firing, resolving, states: arrived.map((a) => a.state) }) + '\n');
}

if (process.argv[2] === 'delay') await delay(Number(process.argv[3] ?? 5));
else await main();
