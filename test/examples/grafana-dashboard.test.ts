// examples/grafana-dashboard.json against real Prometheus servers: one scraping a
// `drainmeter serve` (bearer token, as on Heroku), one taking its remote writes
// (native histograms on). The serve is fed a Heroku app's lines as `heroku logs -t`
// prints them: router lines, an H12, runtime metrics, an R14, an L10, Postgres and
// Redis samples, the app's own measures and counters; a second app only its own.
// Every template variable is evaluated as Grafana does (label_values → the label
// values API), and every panel query, with the variables put in (a repeated panel
// once per value), must give at least one finite value on both paths.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iso } from '../../fixtures/corpus.js';
import { L10, POSTGRES, R14, REDIS, ROUTER_H12, ROUTER_INFO, RUNTIME_LOAD, RUNTIME_MEMORY } from '../../fixtures/heroku.js';
import { drainPassword } from '../../src/server/auth.js';
import { installed, type Prometheus, type Result, sleep, startPrometheus, until } from '../support/real.js';
import { type Served, startServe } from '../support/served.js';

const SECRET = 'grafana-secret-0123456789';
const TOKEN = 'grafana-token-0123456789';
const ROUNDS = 4;

const available = installed('the Grafana dashboard test', 'prometheus', ['prometheus', '--version']);

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  type: string;
  title: string;
  repeat?: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  type: string;
  name: string;
  query: string | { query: string };
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(new URL('../../examples/grafana-dashboard.json', import.meta.url), 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const variables = dashboard.templating.list.filter((v) => v.type === 'query');

/** Grafana's `$name` and `${name}` put in. */
function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{?(\w+)\}?/g, (all, name: string) => values[name] ?? all);
}

/** A Grafana `label_values(…)` variable query, run as Grafana runs it: the label values API, matched by the selector if any. */
async function labelValues(prom: Prometheus, query: string): Promise<string[]> {
  const m = /^label_values\((?:(.*),\s*)?(\w+)\)$/.exec(query.trim());
  if (!m) throw new Error(`not a label_values query: ${query}`);
  const match = m[1] === undefined ? '' : `?match[]=${encodeURIComponent(m[1])}`;
  const r = (await (await fetch(`http://127.0.0.1:${prom.port}/api/v1/label/${m[2]}/values${match}`)).json()) as { data: string[] };
  return r.data.sort();
}

async function post(port: number, app: string, lines: string[]): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', authorization: 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64') },
    body: lines.join('\n') + '\n',
  });
  await r.arrayBuffer();
  return r.status;
}

/** One second of a Heroku app's log, as `heroku logs -t` prints it. */
function shopLines(second: number): string[] {
  const t = (ms: number) => iso(second * 1000 + ms);
  const lines: string[] = [];
  const statuses = [200, 200, 201, 304, 404, 500, 503];
  for (let i = 0; i < 40; i++) {
    const router = ROUTER_INFO.replace('dyno=web.1', `dyno=web.${1 + (i % 2)}`)
      .replace('service=37ms', `service=${5 + ((i * 37) % 400)}ms`)
      .replace('connect=1ms', `connect=${i % 4}ms`)
      .replace('status=201', `status=${statuses[i % statuses.length]}`);
    lines.push(`${t(i)} heroku[router]: ${router}`);
    lines.push(`${t(i)} app[web.${1 + (i % 2)}]: measure#db.latency=${1 + i}ms measure#render.time=${(i % 9) + 0.5}ms count#orders.created=1 sample#queue.depth=${i % 7} source=web.${1 + (i % 2)}`);
  }
  lines.push(`${t(50)} heroku[router]: ${ROUTER_H12}`);
  lines.push(`${t(51)} heroku[web.1]: ${RUNTIME_LOAD}`);
  lines.push(`${t(52)} heroku[web.1]: ${RUNTIME_MEMORY}`);
  lines.push(`${t(53)} heroku[web.2]: ${RUNTIME_LOAD.replaceAll('web.1', 'web.2')}`);
  lines.push(`${t(54)} heroku[web.2]: ${RUNTIME_MEMORY.replaceAll('web.1', 'web.2')}`);
  lines.push(`${t(55)} heroku[web.1]: ${R14}`);
  lines.push(`${t(56)} heroku[logplex]: ${L10}`);
  lines.push(`${t(57)} app[heroku-postgres]: ${POSTGRES}`);
  lines.push(`${t(58)} app[heroku-redis]: ${REDIS}`);
  return lines;
}

describe.skipIf(!available)('examples/grafana-dashboard.json against real Prometheus servers', () => {
  let scraping: Prometheus;
  let written: Prometheus;
  let drain: Served;

  beforeAll(async () => {
    written = await startPrometheus('global:\n  scrape_interval: 15s\n', ['--web.enable-remote-write-receiver', '--enable-feature=native-histograms']);
    drain = await startServe({
      DRAINMETER_SECRETS: SECRET,
      DRAINMETER_METRICS_TOKEN: TOKEN,
      DRAINMETER_HOST: '127.0.0.1',
      DRAINMETER_GRACE: '1',
      DRAINMETER_INSTANCE: 'dm-1',
      DRAINMETER_REMOTE_WRITE_URL: `http://127.0.0.1:${written.port}/api/v1/write`,
    });
    scraping = await startPrometheus(
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: drainmeter\n    authorization: { credentials: ${TOKEN} }\n    static_configs:\n      - targets: ['127.0.0.1:${drain.port}']\n`,
    );
    expect(await until(() => scraping.query('up{job="drainmeter"}'), (v) => v === 1)).toBe(1);
    // Rounds in successive seconds, after the first scrape: counters grow between
    // scrapes (rate() > 0 scraped) and every series has a window per round (samples
    // enough for rate() remote-written).
    const first = Math.ceil(Date.now() / 1000);
    for (let round = 0; round < ROUNDS; round++) {
      const second = first + round;
      while (Date.now() < second * 1000 + 100) await sleep(20);
      expect(await post(drain.port, 'shop', shopLines(second))).toBe(204);
      expect(await post(drain.port, 'blog', [`${iso(second * 1000)} app[web.1]: measure#cache.lookup=3ms count#pages.viewed=2 source=web.1`])).toBe(204);
    }
    // The last round's windows closed (grace 1 s), scraped and pushed.
    const closed = (p: Prometheus) => until(() => p.query('count(heroku_postgres_db_size_bytes{app="shop"}) and count(db_latency_seconds{app="shop",quantile="0.99"} > 0)'), (v) => v !== null);
    expect(await closed(scraping)).not.toBeNull();
    expect(await closed(written)).not.toBeNull();
    await sleep(2000);
  }, 90_000);

  afterAll(async () => {
    // The drain first: it flushes its last windows to the remote-write Prometheus.
    await drain?.stop();
    scraping?.stop();
    written?.stop();
  }, 30_000);

  it('has panels and queries, each with a refId, for router, app measures, dynos and Postgres', () => {
    const titles = panels.map((p) => p.title);
    expect(titles).toEqual(expect.arrayContaining(['Requests by status', 'Router errors by code', 'Service time, all dynos', '$measure', 'Memory by dyno', 'Database size']));
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
    }
    expect(variables.map((v) => v.name)).toEqual(['app', 'measure', 'counter']);
  });

  for (const path of ['scraped', 'remote-written'] as const) {
    describe(path, () => {
      const prom = () => (path === 'scraped' ? scraping : written);

      it('the variables list the apps, and for one app its own measures and counters only', async () => {
        const query = (name: string) => {
          const q = variables.find((v) => v.name === name)?.query;
          return fill(typeof q === 'string' ? q : (q?.query ?? ''), { app: 'shop' });
        };
        expect(await labelValues(prom(), query('app'))).toEqual(expect.arrayContaining(['blog', 'shop']));
        // The names docs/conventions.md gives measure#db.latency=…ms and count#orders.created.
        expect(await labelValues(prom(), query('measure'))).toEqual(['db_latency_seconds', 'render_time_seconds']);
        expect(await labelValues(prom(), query('counter'))).toEqual(['orders_created_total']);
      });

      it('every panel query gives data, a repeated panel for each value of its variable', async () => {
        const values: Record<string, string[]> = {};
        for (const v of variables) {
          const q = typeof v.query === 'string' ? v.query : v.query.query;
          values[v.name] = v.name === 'app' ? ['shop'] : await labelValues(prom(), fill(q, { app: 'shop' }));
        }
        const empty: string[] = [];
        let asked = 0;
        for (const p of panels) {
          for (const value of p.repeat ? values[p.repeat] : ['']) {
            for (const t of p.targets ?? []) {
              const expr = fill(t.expr, { app: 'shop', __rate_interval: '1m', ...(p.repeat ? { [p.repeat]: value } : {}) });
              expect(expr, p.title).not.toContain('$');
              const results: Result[] = await prom().results(expr);
              asked++;
              if (!results.some((r) => Number.isFinite(Number(r.value?.[1])))) empty.push(`${p.title}${value ? ` (${value})` : ''}: ${expr} → ${JSON.stringify(results)}`);
            }
          }
        }
        expect(empty).toEqual([]);
        expect(asked).toBeGreaterThan(30);
      });

      it(path === 'remote-written' ? 'service time over all dynos comes from the native histograms' : 'service time over all dynos falls back to the worst dyno’s quantile', async () => {
        const target = panels.find((p) => p.title === 'Service time, all dynos')?.targets?.[0].expr ?? '';
        const [histogram, summary] = fill(target, { app: 'shop', __rate_interval: '1m' }).split(' or ');
        const fromHistogram = await prom().results(histogram);
        if (path === 'remote-written') {
          const p99 = Number(fromHistogram[0]?.value?.[1]);
          // Per round 40 service times of 5…400 ms and an H12's 30,001 ms: 1 in 41 is
          // more than 1 in 100, so the exact p99 of every dyno together is 30.001 s; a
          // native histogram's quantile is inside its bucket (2^(1/64) wide).
          expect(Math.abs(p99 - 30.001)).toBeLessThanOrEqual(30.001 * (2 ** (1 / 64) - 1));
        } else {
          expect(fromHistogram).toEqual([]);
          expect((await prom().results(summary)).length).toBe(1);
        }
      });
    });
  }
});
