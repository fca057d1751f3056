// GET /metrics. Everything is pulled at scrape time, for the scrape's app filter:
// app series are written by exposition.ts (closed windows for quantiles, cumulative
// totals for _sum, _count and counters); drainmeter's self-metrics are views in a
// prom-client registry made for the scrape, with prom-client's default process
// metrics, and prom-client writes that part and chooses the content type. Ingest
// never calls prom-client.

import client from 'prom-client';
import type { Aggregator, AppState, Series } from '../aggregate/index.js';
import { type Catalog, REASONS } from '../model/index.js';
import { ByteWriter, writeFamily } from './exposition.js';

const { Registry, collectDefaultMetrics } = client;
type Registry = InstanceType<typeof Registry>;

// The runtime takes the content type (lib/registry.js); the type declarations omit it.
const newRegistry = (contentType: string): Registry => new (Registry as unknown as new (ct: string) => Registry)(contentType);

type MetricType = 'counter' | 'gauge' | 'summary';

interface Value {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
}

interface View {
  name: string;
  help: string;
  type: MetricType;
  get(): { name: string; help: string; type: MetricType; values: Value[]; aggregator: 'sum' };
}

const NO_LABELS: Record<string, string> = {};
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

function view(name: string, help: string, type: MetricType, values: () => Value[]): View {
  // get() reads this.name: in OpenMetrics prom-client renames counter families in place.
  return {
    name,
    help,
    type,
    get(this: View) {
      return { name: this.name, help, type, values: values(), aggregator: 'sum' };
    },
  };
}

/** Requests answered, by route and status, for drainmeter_requests_total. */
export class RequestCounts {
  private readonly counts = new Map<string, { labels: Record<string, string>; n: number }>();

  add(route: string, status: number): void {
    const key = `${route} ${status}`;
    const c = this.counts.get(key);
    if (c) c.n++;
    else this.counts.set(key, { labels: { route, status: String(status) }, n: 1 });
  }

  values(): Value[] {
    return [...this.counts.values()].map((c) => ({ value: c.n, labels: NO_LABELS, sharedLabels: c.labels }));
  }
}

export class PrometheusOutlet {
  readonly requests = new RequestCounts();
  private readonly aggregator: Aggregator;
  private readonly catalog: Catalog;
  private readonly quantiles: number[];
  private readonly expire: (s: Series) => void;
  private readonly appLabels = new WeakMap<AppState, Record<string, string>>();
  private readonly reasonLabels = new WeakMap<AppState, Record<string, string>[]>();
  // One process registry per format: OpenMetrics renames counters in place.
  private readonly processText: Registry = newRegistry(Registry.PROMETHEUS_CONTENT_TYPE);
  private readonly processOpenMetrics: Registry = newRegistry(Registry.OPENMETRICS_CONTENT_TYPE);

  constructor(aggregator: Aggregator, catalog: Catalog, quantiles: number[]) {
    this.aggregator = aggregator;
    this.catalog = catalog;
    this.quantiles = quantiles;
    this.expire = (s) => aggregator.expire(s);
    for (const registry of [this.processText, this.processOpenMetrics]) {
      collectDefaultMetrics({ register: registry });
      // Gauges named *_total by prom-client: promtool rejects the name, and the
      // counts say little. Left out.
      for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
    }
  }

  /**
   * The exposition for one app (its series and self-metrics) or, with `app` null,
   * for all apps and the process, as pieces to write in order.
   */
  async scrape(app: string | null, openMetrics: boolean, processMetrics = app === null): Promise<{ contentType: string; chunks: Buffer[] }> {
    const registry = newRegistry(openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE);
    const apps = this.appsFor(app);
    const out = new ByteWriter();
    const options = { quantiles: this.quantiles, openMetrics, expire: this.expire };
    for (const metric of this.catalog.metrics()) writeFamily(metric, apps, options, out);
    for (const v of this.selfViews(apps, app === null)) registry.registerMetric(v as never);
    if (processMetrics) {
      const process = openMetrics ? this.processOpenMetrics : this.processText;
      for (const m of process.getMetricsAsArray()) registry.registerMetric(m as never);
    }
    out.text(await registry.metrics());
    // Not joined: 100,000 series are 50 MB, and the route streams the buffers.
    return { contentType: registry.contentType, chunks: out.finish() };
  }

  private appsFor(app: string | null): AppState[] {
    if (app === null) return [...this.aggregator.apps.values()];
    const one = this.aggregator.apps.get(app);
    return one === undefined ? [] : [one];
  }

  private labelsOf(app: AppState): Record<string, string> {
    let l = this.appLabels.get(app);
    if (l === undefined) {
      l = { app: app.name };
      this.appLabels.set(app, l);
    }
    return l;
  }

  private selfViews(apps: AppState[], all: boolean): View[] {
    const perApp = (name: string, help: string, type: MetricType, pick: (a: AppState) => number): View =>
      view(name, help, type, () => apps.map((a) => ({ value: pick(a), labels: NO_LABELS, sharedLabels: this.labelsOf(a) })));
    const views = [
      perApp('drainmeter_lines_total', 'Lines read from accepted frames, with metrics or without.', 'counter', (a) => a.lines),
      perApp('drainmeter_late_lines_total', 'Lines whose window had closed: counted in totals only.', 'counter', (a) => a.late),
      perApp('drainmeter_duplicate_batches_total', 'Logplex batches retried with a Frame-Id already accepted.', 'counter', (a) => a.duplicates),
      perApp('drainmeter_series', 'Live series.', 'gauge', (a) => a.series),
      perApp('drainmeter_series_evicted_total', 'Series dropped after DRAINMETER_SERIES_TTL without data.', 'counter', (a) => a.evicted),
      view('drainmeter_rejected_total', 'Input rejected, by reason.', 'counter', () => {
        const values: Value[] = [];
        for (const a of apps) {
          const labels = this.reasonsOf(a);
          for (let r = 0; r < REASONS.length; r++) if (a.rejected[r] > 0) values.push({ value: a.rejected[r], labels: NO_LABELS, sharedLabels: labels[r] });
        }
        return values;
      }),
    ];
    if (all) views.push(view('drainmeter_requests_total', 'HTTP requests answered, by route and status.', 'counter', () => this.requests.values()));
    return views;
  }

  private reasonsOf(app: AppState): Record<string, string>[] {
    let l = this.reasonLabels.get(app);
    if (l === undefined) {
      l = REASONS.map((reason) => ({ app: app.name, reason }));
      this.reasonLabels.set(app, l);
    }
    return l;
  }
}
