// Every metric family with live series, by name, with its kind. Prometheus exposes
// one type per family, so a name keeps the first kind it was seen with, across all
// apps (SPEC §2); a later line of another kind is a type conflict. A family also
// claims every name it writes in either format (a summary `x` writes `x_sum` and
// `x_count`; a counter `z_total` is the family `z` in OpenMetrics, with `z_created`
// beside it), and a new family that would write a claimed name is a type conflict
// too: no two families ever share a sample name (SPEC §6).
//
// App families leave the catalog when their last series expires (the aggregator's
// sweep retires them), so names are given back; the platform's fixed families stay.

export const MEASURE = 0;
export const COUNTER = 1;
export const SAMPLE = 2;
export type Kind = typeof MEASURE | typeof COUNTER | typeof SAMPLE;

export const KIND_NAMES = ['measure', 'counter', 'sample'] as const;

/** Name prefixes app metrics may not take: the platform's and drainmeter's own families. */
export const RESERVED_PREFIXES = ['heroku_', 'drainmeter_', 'process_', 'nodejs_'] as const;

export class Metric {
  /** Small integer, reused after the metric retires (indexes per-app arrays). */
  readonly id: number;
  /** The Prometheus name, complete: `db_latency_seconds`, `orders_total`. */
  readonly name: string;
  readonly kind: Kind;
  /** Names of the labels an observation carries besides `app` (at most two). */
  readonly labels: readonly string[];
  readonly help: string;
  /** A platform family: never retired. */
  readonly fixed: boolean;
  /** Live series of this metric, all apps (kept by the aggregator). */
  series = 0;
  /** Left the catalog: name entries pointing here must be looked up again. */
  retired = false;
  /** A measure that was given a negative value: OpenMetrics writes it as gauges (outlets/exposition.ts). */
  signed = false;

  constructor(id: number, name: string, kind: Kind, labels: readonly string[], help: string, fixed: boolean) {
    this.id = id;
    this.name = name;
    this.kind = kind;
    this.labels = labels;
    this.help = help;
    this.fixed = fixed;
  }
}

/** The names a family of this kind writes or is known by, in either format. */
export function claimedNames(name: string, kind: Kind): string[] {
  if (kind === COUNTER) {
    const family = name.endsWith('_total') ? name.slice(0, -6) : name;
    return [family, `${family}_total`, `${family}_created`];
  }
  if (kind === MEASURE) return [name, `${name}_sum`, `${name}_count`, `${name}_created`];
  return [name];
}

export function isReserved(name: string): boolean {
  for (const p of RESERVED_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

export class Catalog {
  /** Every claimed name, to the family that claimed it. */
  private readonly claims = new Map<string, Metric>();
  private readonly byId: (Metric | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private live = 0;

  /**
   * The family of this name and kind, made on first use; otherwise the family that
   * stands in its way (another kind, or a name it would write).
   */
  metric(name: string, kind: Kind, labels: readonly string[], help: string, fixed = false): Metric | { blocker: Metric } {
    const own = this.claims.get(name);
    if (own !== undefined && own.name === name && own.kind === kind) return own;
    const claims = claimedNames(name, kind);
    for (const c of claims) {
      const other = this.claims.get(c);
      if (other !== undefined) return { blocker: other };
    }
    const id = this.freeIds.pop() ?? this.byId.length;
    const m = new Metric(id, name, kind, labels, help, fixed);
    this.byId[id] = m;
    for (const c of claims) this.claims.set(c, m);
    this.live++;
    return m;
  }

  /** A platform family: made at start, never retired; a clash is a programming error. */
  fixed(name: string, kind: Kind, labels: readonly string[], help: string): Metric {
    const m = this.metric(name, kind, labels, help, true);
    if (!(m instanceof Metric)) throw new Error(`metric ${name} clashes with ${m.blocker.name}`);
    return m;
  }

  /** The family of exactly this name, if live. */
  get(name: string): Metric | undefined {
    const m = this.claims.get(name);
    return m !== undefined && m.name === name ? m : undefined;
  }

  /** Takes a family out: its names are free again and its id is reused. */
  retire(m: Metric): void {
    if (m.fixed || m.retired) return;
    m.retired = true;
    for (const c of claimedNames(m.name, m.kind)) if (this.claims.get(c) === m) this.claims.delete(c);
    this.byId[m.id] = undefined;
    this.freeIds.push(m.id);
    this.live--;
  }

  /** Retires every app family without a live series; returns how many. */
  retireUnused(): number {
    let n = 0;
    for (const m of this.byId) {
      if (m !== undefined && !m.fixed && m.series === 0) {
        this.retire(m);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.live;
  }

  /** Live families, by id. */
  *metrics(): Generator<Metric> {
    for (const m of this.byId) if (m !== undefined) yield m;
  }
}
