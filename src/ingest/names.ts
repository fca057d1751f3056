// Metric keys (kind measure, name `db.latency`, unit `ms`) to metrics
// (`db_latency_seconds`, ÷1000), looked up by their bytes. The name string is built
// the first time a key and unit are seen; every later line finds the entry without
// allocating.
//
// One table per app and drain prefix, its entries charged in bytes to the app's
// share of the names budget (docs/limits.md): one app flooding new names fills its own
// share, never another app's, and the sweep gives the bytes back (Ingest.sweep).
//
// A table builds names by a NameScheme: an app's own metrics (`source` label, names
// outside the reserved prefixes), or one of the platform's sample families
// (platform-samples.ts: `heroku_postgres_` + the key, labelled `source` and `addon`,
// with the units Heroku documents for values written without one).

import { ByteTable } from './byte-table.js';
import {
  BAD_NAME,
  type Budget,
  type Catalog,
  COUNTER,
  isReserved,
  type Kind,
  Metric,
  RESERVED_NAME,
  SAMPLE,
  SERIES_LIMIT,
  type Tenant,
  TYPE_CONFLICT,
} from '../model/index.js';
import { sanitizeName, unitFor } from './units.js';

/** Longest NAME of a metric key, bytes (after `measure#`, before any drain prefix). */
export const MAX_NAME_BYTES = 128;

/** Suffixes the exposition formats give counters, summaries, histograms and infos. */
const OTHER_TYPE_SUFFIX = /_(sum|count|bucket|total|created|info|gsum|gcount)$/;
/** Longest UNIT after a value, bytes. */
export const MAX_UNIT_BYTES = 16;
/** What one remembered key costs beyond its bytes: the entry, its slot, a share of the name string. */
export const ENTRY_BYTES = 160;

export class NameEntry {
  /** null when the key is refused; `reason` says why. */
  readonly metric: Metric | null;
  /** Base units: the value × 10^-shift × mul (see units.ts). */
  readonly shift: number;
  readonly mul: number;
  readonly reason: number;
  /** A type conflict: the family in the way (the entry is rebuilt once it retires). */
  readonly blocker: Metric | null;

  constructor(metric: Metric | null, shift: number, mul: number, reason: number, blocker: Metric | null = null) {
    this.metric = metric;
    this.shift = shift;
    this.mul = mul;
    this.reason = reason;
    this.blocker = blocker;
  }
}

/** What Heroku documents of one platform sample key. */
export interface KnownSample {
  /** The unit of a value written without one (`bytes` for tmp-disk-used). */
  unit?: string;
  /** The name to use instead of the key (`avg_recv_bytes_per_second`). */
  name?: string;
  help: string;
}

/** How a table turns keys into metric names. */
export class NameScheme {
  /** Text before every name: a drain's `prefix.`, or `heroku_postgres_`. */
  readonly prefix: string;
  readonly labels: readonly string[];
  readonly help: string;
  /** A platform family: `sample#` keys only, reserved prefixes allowed, known keys. */
  readonly known: ReadonlyMap<string, KnownSample> | null;

  constructor(prefix: string, labels: readonly string[], help: string, known: ReadonlyMap<string, KnownSample> | null = null) {
    this.prefix = prefix;
    this.labels = labels;
    this.help = help;
    this.known = known;
  }

  /** An app's metrics under a drain prefix (`''` for none). */
  static app(prefix: string): NameScheme {
    return new NameScheme(prefix === '' ? '' : prefix + '.', SOURCE_LABELS, APP_HELP);
  }
}

const SOURCE_LABELS = ['source'] as const;
const APP_HELP = 'From log lines (l2met conventions).';
const PLATFORM_ONLY_SAMPLES = new NameEntry(null, 0, 1, RESERVED_NAME);
const FULL = new NameEntry(null, 0, 1, SERIES_LIMIT);
const TOO_LONG = new NameEntry(null, 0, 1, BAD_NAME);

export class NameTable {
  readonly scheme: NameScheme;
  /** Names built so far (a test and benchmark probe: it rises once per new key). */
  built = 0;
  /** Bytes of the names budget this table holds. */
  bytes = 0;
  private table: ByteTable<NameEntry>;
  private readonly catalog: Catalog;
  private readonly budget: Budget;
  private readonly tenant: Tenant;

  constructor(catalog: Catalog, scheme: NameScheme, budget: Budget, tenant: Tenant) {
    this.catalog = catalog;
    this.scheme = scheme;
    this.budget = budget;
    this.tenant = tenant;
    this.table = new ByteTable<NameEntry>(Number.MAX_SAFE_INTEGER, 16);
  }

  get entries(): number {
    return this.table.size;
  }

  /** The entry for a metric of `kind` named by bytes [ns, ne) with unit bytes [us, ue). */
  lookup(kind: Kind, buf: Buffer, ns: number, ne: number, us: number, ue: number): NameEntry {
    if (ne - ns > MAX_NAME_BYTES || ue - us > MAX_UNIT_BYTES) return TOO_LONG;
    const hit = this.table.get(kind, buf, ns, ne, us, ue);
    if (hit !== undefined) {
      // One field read per observation: an entry whose family retired is made again.
      const m = hit.metric ?? hit.blocker;
      if (m === null || !m.retired) return hit;
      const entry = this.build(buf.toString('utf8', ns, ne), buf.toString('utf8', us, ue), kind);
      this.table.replace(kind, buf, ns, ne, us, ue, entry);
      return entry;
    }
    const cost = ENTRY_BYTES + (ne - ns) + (ue - us);
    if (!this.budget.take(this.tenant, cost)) return FULL;
    this.bytes += cost;
    const entry = this.build(buf.toString('utf8', ns, ne), buf.toString('utf8', us, ue), kind);
    this.table.insert(kind, buf, ns, ne, us, ue, entry);
    return entry;
  }

  /** Forgets every entry and gives their bytes back. */
  clear(): void {
    this.budget.give(this.tenant, this.bytes);
    this.bytes = 0;
    this.table = new ByteTable<NameEntry>(Number.MAX_SAFE_INTEGER, 16);
  }

  private build(name: string, unitText: string, kind: Kind): NameEntry {
    this.built++;
    if (name === '') return new NameEntry(null, 0, 1, BAD_NAME);
    const scheme = this.scheme;
    let help = scheme.help;
    if (scheme.known !== null) {
      // Heroku writes its platform values as samples; anything else there is forged.
      if (kind !== SAMPLE) return PLATFORM_ONLY_SAMPLES;
      const known = scheme.known.get(name);
      if (known !== undefined) {
        if (unitText === '' && known.unit !== undefined) unitText = known.unit;
        if (known.name !== undefined) name = known.name;
        help = known.help;
      } else {
        help = `${scheme.help} (${name})`;
      }
    }
    const unit = unitFor(unitText);
    let full = sanitizeName(scheme.prefix + name);
    if (!full.endsWith(unit.suffix)) full += unit.suffix;
    if (kind === COUNTER && !full.endsWith('_total')) full += '_total';
    // A gauge or measure named like another type's sample (`q_sum`, `jobs_total`)
    // would read as one: promtool lints it, OpenMetrics reserves the suffixes. It
    // gets `_value` (docs/cli.md, "Strict expositions"). Once per name, not per line.
    else if (kind !== COUNTER && OTHER_TYPE_SUFFIX.test(full)) full += '_value';
    if (scheme.known === null && isReserved(full)) return new NameEntry(null, 0, 1, RESERVED_NAME);
    const metric = this.catalog.metric(full, kind, scheme.labels, help, this.tenant.name);
    if (metric instanceof Metric) return new NameEntry(metric, unit.shift, unit.mul, 0);
    return new NameEntry(null, unit.shift, unit.mul, TYPE_CONFLICT, metric.blocker);
  }
}
