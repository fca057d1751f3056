// Every metric family with live series, with its kind. Prometheus exposes one type
// per family, and which kind a name is belongs to each app (docs/isolation.md): an
// app's name keeps the first kind the app sent it with (by any process), a
// later line of another kind is a type conflict, and another app's names never are.
// Within an app a family also claims every name it writes in either format (a
// summary `x` writes `x_sum` and `x_count`; a counter `z_total` is the family `z` in
// OpenMetrics, with `z_created` beside it), so one app's exposition never has two
// families sharing a sample name. Two apps may still clash on a name: the combined
// exposition resolves that (docs/isolation.md).
//
// A family is one app's (Metric.app), or everyone's (app ''): the platform's fixed
// families, whose names no app may claim. App families leave the catalog when their
// last series expires (the aggregator's sweep retires them), so names are given back.

export const MEASURE = 0;
export const COUNTER = 1;
export const SAMPLE = 2;
export type Kind = typeof MEASURE | typeof COUNTER | typeof SAMPLE;

export const KIND_NAMES = ['measure', 'counter', 'sample'] as const;

/** Name prefixes app metrics may not take: the platform's and drainmeter's own families. */
export const RESERVED_PREFIXES = ['heroku_', 'drainmeter_', 'process_', 'nodejs_'] as const;

/** The owner of a family every app may hold (the platform's fixed families). */
export const SHARED = '';

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
  /** The app whose family this is; SHARED for one every app may hold. */
  readonly app: string;
  /** A `heroku_*` family: its series come from the platform's share of the app's budget. */
  readonly platform: boolean;
  /** Live series of this metric, all apps (kept by the aggregator). */
  series = 0;
  /** Left the catalog: name entries pointing here must be looked up again. */
  retired = false;
  /** A measure that was given a negative value: OpenMetrics writes it as gauges (outlets/exposition.ts). */
  signed = false;

  constructor(id: number, name: string, kind: Kind, labels: readonly string[], help: string, fixed: boolean, app: string = SHARED) {
    this.id = id;
    this.app = app;
    this.platform = name.startsWith('heroku_');
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
  /** Names claimed by shared families, for every app. */
  private readonly shared = new Map<string, Metric>();
  /** Names each app claimed, to the family that claimed it. */
  private readonly apps = new Map<string, Map<string, Metric>>();
  /** Families by name, every app's: what the combined exposition writes, name by name. */
  private readonly byName = new Map<string, Set<Metric>>();
  private readonly byId: (Metric | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private live = 0;
  /** Rises whenever a family is made or retired. */
  version = 0;
  /** Told of each app family made (scale-out: the arbiter of kinds hears of the claim). */
  onClaim: ((m: Metric) => void) | null = null;

  /**
   * The family of this name and kind for `app`, made on first use; otherwise the
   * family that stands in its way (the app's own of another kind, or one whose names
   * it would write, or a shared family). `app` SHARED: a family every app may hold;
   * `fixed`: one made at start and never retired (the platform's).
   */
  metric(name: string, kind: Kind, labels: readonly string[], help: string, app: string = SHARED, options?: { fixed?: boolean }): Metric | { blocker: Metric } {
    const own = app === SHARED ? undefined : this.apps.get(app);
    const hit = own?.get(name) ?? this.shared.get(name);
    if (hit !== undefined && hit.name === name && hit.kind === kind) return hit;
    const claims = claimedNames(name, kind);
    for (const c of claims) {
      const other = this.shared.get(c) ?? own?.get(c);
      if (other !== undefined) return { blocker: other };
    }
    const m = this.make(name, kind, labels, help, app, options?.fixed === true);
    if (app !== SHARED) this.onClaim?.(m);
    return m;
  }

  /** A platform family: made at start, never retired; a clash is a programming error. */
  fixed(name: string, kind: Kind, labels: readonly string[], help: string): Metric {
    const m = this.metric(name, kind, labels, help, SHARED, { fixed: true });
    if (!(m instanceof Metric)) throw new Error(`metric ${name} clashes with ${m.blocker.name}`);
    return m;
  }

  /** The family of exactly this name that `app` holds (its own, or a shared one), if live. */
  get(name: string, app: string = SHARED): Metric | undefined {
    const m = (app === SHARED ? undefined : this.apps.get(app)?.get(name)) ?? this.shared.get(name);
    return m !== undefined && m.name === name ? m : undefined;
  }

  /**
   * Makes `app`'s family of this name the given kind, whatever the app claimed
   * before (scale-out: another process claimed it first). Returns the app's
   * families that stood in the way, retired: their series are the caller's to drop.
   */
  force(name: string, kind: Kind, labels: readonly string[], help: string, app: string): { metric: Metric; dropped: Metric[] } {
    const dropped: Metric[] = [];
    for (;;) {
      const m = this.metric(name, kind, labels, help, app);
      if (m instanceof Metric) return { metric: m, dropped };
      // A shared family is never in the way of a name an app may take (reserved prefixes).
      if (m.blocker.app === SHARED) throw new Error(`metric ${name} clashes with ${m.blocker.name}`);
      this.retire(m.blocker);
      dropped.push(m.blocker);
    }
  }

  /** Takes a family out: its names are free again and its id is reused. */
  retire(m: Metric): void {
    if (m.fixed || m.retired) return;
    m.retired = true;
    const claims = m.app === SHARED ? this.shared : this.apps.get(m.app);
    if (claims !== undefined) {
      for (const c of claimedNames(m.name, m.kind)) if (claims.get(c) === m) claims.delete(c);
      if (claims.size === 0 && m.app !== SHARED) this.apps.delete(m.app);
    }
    const same = this.byName.get(m.name);
    same?.delete(m);
    if (same?.size === 0) this.byName.delete(m.name);
    this.byId[m.id] = undefined;
    this.freeIds.push(m.id);
    this.live--;
    this.version++;
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

  /** Live families by name: every app's family of one name (of any kind) together. */
  families(): IterableIterator<ReadonlySet<Metric>> {
    return this.byName.values();
  }

  private make(name: string, kind: Kind, labels: readonly string[], help: string, app: string, fixed: boolean): Metric {
    const id = this.freeIds.pop() ?? this.byId.length;
    const m = new Metric(id, name, kind, labels, help, fixed, app);
    this.byId[id] = m;
    let claims = app === SHARED ? this.shared : this.apps.get(app);
    if (claims === undefined) {
      claims = new Map();
      this.apps.set(app, claims);
    }
    for (const c of claimedNames(name, kind)) claims.set(c, m);
    let same = this.byName.get(name);
    if (same === undefined) {
      same = new Set();
      this.byName.set(name, same);
    }
    same.add(m);
    this.live++;
    this.version++;
    return m;
  }
}
