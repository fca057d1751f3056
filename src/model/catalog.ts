// Every metric name drainmeter has seen, with its kind. Prometheus exposes one type
// per family, so a name keeps the first kind it was seen with, across all apps
// (SPEC §2); a later line of another kind is a type conflict.

export const MEASURE = 0;
export const COUNTER = 1;
export const SAMPLE = 2;
export type Kind = typeof MEASURE | typeof COUNTER | typeof SAMPLE;

export const KIND_NAMES = ['measure', 'counter', 'sample'] as const;

export class Metric {
  readonly id: number;
  /** The Prometheus name, complete: `db_latency_seconds`, `orders_total`. */
  readonly name: string;
  readonly kind: Kind;
  /** Names of the labels an observation carries besides `app` (at most two). */
  readonly labels: readonly string[];
  readonly help: string;

  constructor(id: number, name: string, kind: Kind, labels: readonly string[], help: string) {
    this.id = id;
    this.name = name;
    this.kind = kind;
    this.labels = labels;
    this.help = help;
  }
}

export class Catalog {
  private readonly byName = new Map<string, Metric>();
  private readonly all: Metric[] = [];

  /** The metric of this name, made on first use; null when the name has another kind. */
  metric(name: string, kind: Kind, labels: readonly string[], help: string): Metric | null {
    const known = this.byName.get(name);
    if (known !== undefined) return known.kind === kind ? known : null;
    const m = new Metric(this.all.length, name, kind, labels, help);
    this.byName.set(name, m);
    this.all.push(m);
    return m;
  }

  get(name: string): Metric | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.all.length;
  }

  metrics(): readonly Metric[] {
    return this.all;
  }
}
