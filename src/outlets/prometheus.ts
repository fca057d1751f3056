// GET /metrics. Everything is pulled at scrape time, for the scrape's scope (one app,
// or all): app families from the apps that hold a series of each (a cost in the
// series written, never apps × names), drainmeter's self-metrics, and, for the
// whole-process scope, prom-client's default process metrics, read through its
// public JSON API and written here in either format. Ingest never calls prom-client.
//
// Rendering yields to the event loop every few milliseconds, so drains and /healthz
// are answered during a long scrape, and scrapes of the same scope that arrive while
// one is being rendered share it (docs/limits.md).

import { setImmediate as yieldNow } from 'node:timers/promises';
import client from 'prom-client';
import type { Aggregator, AppState, Series } from '../aggregate/index.js';
import type { Logger } from '../log.js';
import { BUDGET_NAMES, type Budgets, type Catalog, MEASURE, type Metric, REASONS } from '../model/index.js';
import { conflictFields, NO_CONFLICTS, type Resolution, resolveConflicts } from './conflicts.js';
import type { Outlet, PushStats } from './outlet.js';
import { ByteWriter, escapeLabel, type FamilyOptions, type FamilyType, labelPairs, quantileSuffixes, writeFamily, writeHeader, writeSample, writeSignedFamilies } from './exposition.js';

const { Registry, collectDefaultMetrics } = client;

/** prom-client's process gauges named *_total: promtool rejects the name, and the counts say little. */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Time a rendering runs before it lets the event loop in, ms. */
const SLICE_MS = 8;
/** A clash in the combined exposition is said in the log once in this long, ms. */
const CONFLICT_LOG_MS = 10 * 60_000;
/** Clashes remembered for that, at most (past it the memory starts over). */
const CONFLICT_LOG_MAX = 4096;

/** Requests answered, by route and status, for drainmeter_requests_total. */
export class RequestCounts {
  private readonly counts = new Map<string, { route: string; status: number; labels: string; n: number; sent: number }>();

  add(route: string, status: number, n = 1): void {
    const key = `${route} ${status}`;
    const c = this.counts.get(key);
    if (c) c.n += n;
    else this.counts.set(key, { route, status, labels: labelPairs([['route', route], ['status', String(status)]]), n, sent: 0 });
  }

  *entries(): Generator<{ labels: string; n: number }> {
    yield* this.counts.values();
  }

  /** Every count back to zero (scale-out reads them back whole from Redis). */
  clear(): void {
    for (const c of this.counts.values()) c.n = c.sent = 0;
  }

  /** What was counted since the last call, by route and status (scale-out exports it). */
  *unsent(): Generator<{ route: string; status: number; n: number }> {
    for (const c of this.counts.values()) {
      if (c.n === c.sent) continue;
      yield { route: c.route, status: c.status, n: c.n - c.sent };
      c.sent = c.n;
    }
  }
}

export interface Rendering {
  contentType: string;
  chunks: Buffer[];
}

/** What a scrape writes besides the scope's families. */
export interface ScrapeOptions {
  /** OpenMetrics 1.0 rather than the text format 0.0.4 (default false). */
  openMetrics?: boolean;
  /** prom-client's process metrics (default: for the scope of all apps only). */
  processMetrics?: boolean;
}

type PerApp = (a: AppState) => number;

const PER_APP: [string, string, FamilyType, PerApp][] = [
  ['drainmeter_lines_total', 'Lines read from accepted frames, with metrics or without.', 'counter', (a) => a.lines],
  ['drainmeter_late_lines_total', 'Lines whose window had closed: counted in totals only.', 'counter', (a) => a.late],
  ['drainmeter_duplicate_batches_total', 'Logplex batches retried with a Frame-Id already accepted.', 'counter', (a) => a.duplicates],
  ['drainmeter_series', 'Live series.', 'gauge', (a) => a.series],
  ['drainmeter_series_evicted_total', 'Series dropped after DRAINMETER_SERIES_TTL without data.', 'counter', (a) => a.evicted],
];

export class PrometheusOutlet {
  readonly requests = new RequestCounts();
  /** The running outlets, for the push self-metrics of those that push (docs/push.md). */
  pushers: readonly Outlet[] = [];
  private readonly aggregator: Aggregator;
  private readonly catalog: Catalog;
  private readonly budgets: Budgets;
  private readonly quantiles: number[];
  private readonly qSuffixes: Buffer[];
  /** `app="shop"` and `app="shop",reason="bad_frame"`…, encoded once per app. */
  private readonly appLabels = new WeakMap<AppState, { app: Buffer; reasons: Buffer[]; budgets: Buffer[] }>();
  private readonly expire: (s: Series) => void;
  private readonly process = new Registry();
  private readonly rendering = new Map<string, Promise<Rendering>>();
  /** Expositions rendered: concurrent scrapes of one scope share one. */
  renderings = 0;
  /** More self-metrics of the whole process, each one sample (scale-out: Redis). */
  extra: { name: string; help: string; type: FamilyType; value: () => number }[] = [];
  /** More self-metric families, written for the scrape's scope (alerts). */
  families: ((out: ByteWriter, scope: string | null, openMetrics: boolean) => void)[] = [];
  /** Where a clash in the combined exposition is said (conflicts.ts). */
  log: Logger | null = null;
  /** The clashes of the live families, made again when a family or its holders change. */
  private resolution: Resolution = NO_CONFLICTS;
  private resolvedAt = '';
  /** When each clash (app and metric) was last said in the log, ms. */
  private readonly said = new Map<string, number>();

  constructor(aggregator: Aggregator, catalog: Catalog, quantiles: number[]) {
    this.aggregator = aggregator;
    this.catalog = catalog;
    this.budgets = aggregator.budgets;
    this.quantiles = quantiles;
    this.qSuffixes = quantileSuffixes(quantiles);
    this.expire = (s) => aggregator.expire(s);
    collectDefaultMetrics({ register: this.process });
    for (const name of LINT_FAILING_DEFAULTS) this.process.removeSingleMetric(name);
  }

  /**
   * The exposition for one app (its series and self-metrics) or, with `app` null,
   * for all apps and the process, as pieces to write in order. A scrape of a scope
   * being rendered already waits for that rendering instead of making another.
   */
  scrape(app: string | null, options: ScrapeOptions = {}): Promise<Rendering> {
    const openMetrics = options.openMetrics === true;
    const processMetrics = options.processMetrics ?? app === null;
    const key = `${openMetrics ? 'om' : 'text'} ${processMetrics ? 'p' : '-'} ${app ?? ''}`;
    let r = this.rendering.get(key);
    if (r === undefined) {
      this.renderings++;
      r = this.render(app, openMetrics, processMetrics).finally(() => this.rendering.delete(key));
      this.rendering.set(key, r);
    }
    return r;
  }

  private async render(scope: string | null, openMetrics: boolean, processMetrics: boolean): Promise<Rendering> {
    const out = new ByteWriter();
    let slice = performance.now();
    const options: FamilyOptions = {
      quantiles: this.quantiles,
      qSuffixes: this.qSuffixes,
      openMetrics,
      expire: this.expire,
      pause: () => {
        if (performance.now() - slice < SLICE_MS) return null;
        return yieldNow().then(() => {
          slice = performance.now();
        });
      },
    };
    const one = scope === null ? undefined : this.aggregator.apps.get(scope);
    const { losers } = this.conflicts();
    if (scope === null) {
      // Every app's family of one name together: one header, then each app's series.
      for (const same of this.catalog.families()) {
        const parts: { metric: Metric; apps: AppState[] }[] = [];
        for (const metric of same) {
          if (losers.has(metric)) continue;
          const holders = this.aggregator.holdersOf(metric);
          if (holders.size > 0) parts.push({ metric, apps: [...holders] });
        }
        if (parts.length === 0) continue;
        // One app's negative measure makes the name's OpenMetrics families gauges for all.
        if (openMetrics && parts[0].metric.kind === MEASURE && parts.some((p) => p.metric.signed)) {
          await writeSignedFamilies(parts, options, out);
          continue;
        }
        let head = true;
        for (const p of parts) {
          await writeFamily(p.metric, p.apps, options, out, { header: head });
          head = false;
        }
      }
    } else if (one !== undefined) {
      for (const metric of one.metricsHeld()) await writeFamily(metric, [one], options, out);
    }
    const apps = scope === null ? [...this.aggregator.apps.values()] : one === undefined ? [] : [one];
    this.writeSelf(out, apps, scope === null, openMetrics);
    for (const f of this.families) f(out, scope, openMetrics);
    if (processMetrics) await this.writeProcess(out, openMetrics);
    if (openMetrics) out.ascii('# EOF\n');
    return { contentType: openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE, chunks: out.finish() };
  }

  /** The clashes among live families, resolved again only when families or holders changed; new ones said in the log. */
  conflicts(): Resolution {
    const at = `${this.catalog.version} ${this.aggregator.holdersVersion}`;
    if (at === this.resolvedAt) return this.resolution;
    this.resolvedAt = at;
    this.resolution = resolveConflicts(this.catalog.families());
    const log = this.log;
    if (log !== null && this.resolution.conflicts.length > 0) {
      const now = Date.now();
      if (this.said.size > CONFLICT_LOG_MAX) this.said.clear();
      for (const c of this.resolution.conflicts) {
        const key = `${c.metric.app}\n${c.metric.name}\n${c.metric.kind}`;
        const last = this.said.get(key);
        if (last !== undefined && now - last < CONFLICT_LOG_MS) continue;
        this.said.set(key, now);
        log.warn('metric left out of the combined /metrics: another app holds a family of that name as another kind', conflictFields(c));
      }
    }
    return this.resolution;
  }

  private labelsOf(a: AppState): { app: Buffer; reasons: Buffer[]; budgets: Buffer[] } {
    let l = this.appLabels.get(a);
    if (l === undefined) {
      const app = `app="${escapeLabel(a.name)}"`;
      l = {
        app: Buffer.from(app),
        reasons: REASONS.map((r) => Buffer.from(`${app},reason="${r}"`)),
        budgets: BUDGET_NAMES.map((b) => Buffer.from(`${app},budget="${b}"`)),
      };
      this.appLabels.set(a, l);
    }
    return l;
  }

  private writeSelf(out: ByteWriter, apps: AppState[], all: boolean, om: boolean): void {
    for (const [name, help, type, pick] of PER_APP) {
      writeHeader(out, name, help, type, om);
      for (const a of apps) writeSample(out, name, this.labelsOf(a).app, pick(a));
    }
    writeHeader(out, 'drainmeter_rejected_total', 'Input rejected, by reason; every reason from the start.', 'counter', om);
    for (const a of apps) {
      const l = this.labelsOf(a).reasons;
      for (let r = 0; r < REASONS.length; r++) writeSample(out, 'drainmeter_rejected_total', l[r], a.rejected[r]);
    }
    this.writeConflicts(out, apps, om);
    writeHeader(out, 'drainmeter_app_budget_used', 'What the app holds of each budget: series, or bytes (see drainmeter_budget_limit).', 'gauge', om);
    for (const a of apps) {
      const l = this.labelsOf(a).budgets;
      for (let b = 0; b < BUDGET_NAMES.length; b++) writeSample(out, 'drainmeter_app_budget_used', l[b], a.held[b]);
    }
    if (!all) return;
    const budgets = [this.budgets.series, this.budgets.names, this.budgets.windows, this.budgets.frameIds, this.budgets.inflight, this.budgets.history];
    writeHeader(out, 'drainmeter_budget_used', 'What all apps hold of each budget.', 'gauge', om);
    for (const b of budgets) writeSample(out, 'drainmeter_budget_used', `budget="${BUDGET_NAMES[b.slot]}"`, b.used);
    writeHeader(out, 'drainmeter_budget_limit', 'Each budget, for all apps together (per="all") and for one app (per="app").', 'gauge', om);
    for (const b of budgets) {
      writeSample(out, 'drainmeter_budget_limit', `budget="${BUDGET_NAMES[b.slot]}",per="all"`, b.total);
      writeSample(out, 'drainmeter_budget_limit', `budget="${BUDGET_NAMES[b.slot]}",per="app"`, b.perApp);
    }
    writeHeader(out, 'drainmeter_renderings_total', 'Expositions rendered for /metrics; concurrent scrapes of one scope share one.', 'counter', om);
    writeSample(out, 'drainmeter_renderings_total', '', this.renderings);
    writeHeader(out, 'drainmeter_requests_total', 'HTTP requests answered, by route and status.', 'counter', om);
    for (const c of this.requests.entries()) writeSample(out, 'drainmeter_requests_total', c.labels, c.n);
    this.writePush(out, om);
    for (const e of this.extra) {
      writeHeader(out, e.name, e.help, e.type, om);
      writeSample(out, e.name, '', e.value());
    }
  }

  /** drainmeter_exposition_conflicts{app,metric}: the apps' series the combined exposition leaves out. */
  private writeConflicts(out: ByteWriter, apps: AppState[], om: boolean): void {
    const name = 'drainmeter_exposition_conflicts';
    writeHeader(out, name, "Series of the app's family left out of the combined /metrics: another app holds a family of that name as another kind (docs/isolation.md).", 'gauge', om);
    const conflicts = this.conflicts().conflicts;
    if (conflicts.length === 0) return;
    const wanted = apps.length === 1 ? apps[0].name : null;
    for (const c of conflicts) {
      const m: Metric = c.metric;
      if (wanted !== null && m.app !== wanted) continue;
      writeSample(out, name, labelPairs([['app', m.app], ['metric', m.name]]), m.series);
    }
  }

  private writePush(out: ByteWriter, om: boolean): void {
    const pushers = this.pushers.filter((o) => o.push !== undefined);
    if (pushers.length === 0) return;
    const each = (name: string, help: string, type: FamilyType, pick: (s: PushStats) => number) => {
      writeHeader(out, name, help, type, om);
      for (const o of pushers) writeSample(out, name, `outlet="${o.name}"`, pick(o.push as PushStats));
    };
    each('drainmeter_push_samples_total', 'Samples (lines, points) the outlet sent and the receiver took.', 'counter', (s) => s.samples);
    each('drainmeter_push_dropped_total', 'Samples the outlet dropped: queue full, refused by the receiver, or not sent by shutdown.', 'counter', (s) => s.dropped);
    each('drainmeter_push_queue_bytes', 'Bytes waiting to be sent.', 'gauge', (s) => s.queueBytes);
    writeHeader(out, 'drainmeter_push_failures_total', 'Failed sends, by reason; each retried (5xx, 429, network) or dropped (other 4xx).', 'counter', om);
    for (const o of pushers) for (const [reason, n] of (o.push as PushStats).failures) writeSample(out, 'drainmeter_push_failures_total', `outlet="${o.name}",reason="${reason}"`, n);
  }

  /** prom-client's default metrics, from its public JSON, in the scrape's format. */
  private async writeProcess(out: ByteWriter, om: boolean): Promise<void> {
    for (const m of await this.process.getMetricsAsJSON()) {
      const t = String(m.type);
      const type: FamilyType = t === 'histogram' || t === 'counter' || t === 'gauge' || t === 'summary' ? t : 'untyped';
      writeHeader(out, m.name, m.help, type, om);
      for (const v of m.values as { value: number; labels: Record<string, string | number>; metricName?: string }[]) {
        const labels = labelPairs(Object.entries(v.labels).map(([k, x]) => [k, String(x)] as const));
        writeSample(out, v.metricName ?? m.name, labels, v.value);
      }
    }
  }
}
