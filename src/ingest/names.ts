// Metric keys (kind measure, name `db.latency`, unit `ms`) to metrics
// (`db_latency_seconds`, ÷1000), looked up by their bytes. The name string is built the first time a key
// and unit are seen; every later line finds the entry without allocating.

import { ByteTable } from './byte-table.js';
import { type Catalog, COUNTER, type Kind, type Metric } from '../model/catalog.js';
import { SERIES_LIMIT, TYPE_CONFLICT, BAD_NAME } from '../model/stats.js';
import { sanitizeName, unitFor } from './units.js';

export class NameEntry {
  /** null when the key is refused; `reason` says why. */
  readonly metric: Metric | null;
  /** Base units: the value × 10^-shift × mul (see units.ts). */
  readonly shift: number;
  readonly mul: number;
  readonly reason: number;

  constructor(metric: Metric | null, shift: number, mul: number, reason: number) {
    this.metric = metric;
    this.shift = shift;
    this.mul = mul;
    this.reason = reason;
  }
}

/**
 * Bounds on metric keys remembered: one across every prefix's table (memory stays
 * bounded) and one per app, so an app that floods new names exhausts its own share,
 * not the others' (SPEC §6).
 */
export class NameBudget {
  readonly max: number;
  readonly maxPerApp: number;
  used = 0;
  /** Keys made by each app, by app name. */
  private readonly byApp = new Map<string, number>();
  /** The app whose lines are being read (set by Ingest.begin). */
  app = '';

  constructor(max: number, maxPerApp = max) {
    this.max = max;
    this.maxPerApp = maxPerApp;
  }

  /** Takes one key for the current app; false when the app or everyone is out. */
  take(): boolean {
    const mine = this.byApp.get(this.app) ?? 0;
    if (this.used >= this.max || mine >= this.maxPerApp) return false;
    this.used++;
    this.byApp.set(this.app, mine + 1);
    return true;
  }
}

const SOURCE_LABELS = ['source'] as const;
const APP_HELP = 'From log lines (l2met conventions).';

export class NameTable {
  /** A drain's `prefix`, with the `.` after it, or empty. */
  readonly prefix: string;
  /** Names built so far (a test and benchmark probe: it rises once per new key). */
  built = 0;
  private readonly table: ByteTable<NameEntry>;
  private readonly catalog: Catalog;
  private readonly budget: NameBudget;
  private readonly full = new NameEntry(null, 0, 1, SERIES_LIMIT);

  constructor(catalog: Catalog, prefix: string, budget: NameBudget) {
    this.catalog = catalog;
    this.prefix = prefix === '' ? '' : prefix + '.';
    this.budget = budget;
    this.table = new ByteTable<NameEntry>(budget.max, 256);
  }

  /** The entry for a metric of `kind` named by bytes [ns, ne) with unit bytes [us, ue). */
  lookup(kind: Kind, buf: Buffer, ns: number, ne: number, us: number, ue: number): NameEntry {
    const hit = this.table.get(kind, buf, ns, ne, us, ue);
    if (hit !== undefined) return hit;
    if (!this.budget.take()) return this.full;
    const entry = this.build(buf.toString('utf8', ns, ne), buf.toString('utf8', us, ue), kind);
    this.table.insert(kind, buf, ns, ne, us, ue, entry);
    return entry;
  }

  private build(name: string, unitText: string, kind: Kind): NameEntry {
    this.built++;
    if (name === '') return new NameEntry(null, 0, 1, BAD_NAME);
    const unit = unitFor(unitText);
    let full = sanitizeName(this.prefix + name);
    if (!full.endsWith(unit.suffix)) full += unit.suffix;
    if (kind === COUNTER && !full.endsWith('_total')) full += '_total';
    const metric = this.catalog.metric(full, kind, SOURCE_LABELS, APP_HELP);
    return new NameEntry(metric, unit.shift, unit.mul, metric === null ? TYPE_CONFLICT : 0);
  }
}
