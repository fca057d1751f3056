// Metric keys (kind measure, name `db.latency`, unit `ms`) to metrics
// (`db_latency_seconds`, ÷1000), looked up by their bytes. The name string is built
// the first time a key and unit are seen; every later line finds the entry without
// allocating.
//
// One table per app and drain prefix, its entries charged in bytes to the app's
// share of the names budget (SPEC §6): one app flooding new names fills its own
// share, never another app's, and the sweep gives the bytes back (Ingest.sweep).

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
  SERIES_LIMIT,
  type Tenant,
  TYPE_CONFLICT,
} from '../model/index.js';
import { sanitizeName, unitFor } from './units.js';

/** Longest NAME of a metric key, bytes (after `measure#`, before any drain prefix). */
export const MAX_NAME_BYTES = 128;
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

const SOURCE_LABELS = ['source'] as const;
const APP_HELP = 'From log lines (l2met conventions).';
const FULL = new NameEntry(null, 0, 1, SERIES_LIMIT);
const TOO_LONG = new NameEntry(null, 0, 1, BAD_NAME);

export class NameTable {
  /** A drain's `prefix`, with the `.` after it, or empty. */
  readonly prefix: string;
  /** Names built so far (a test and benchmark probe: it rises once per new key). */
  built = 0;
  /** Bytes of the names budget this table holds. */
  bytes = 0;
  private table: ByteTable<NameEntry>;
  private readonly catalog: Catalog;
  private readonly budget: Budget;
  private readonly tenant: Tenant;

  constructor(catalog: Catalog, prefix: string, budget: Budget, tenant: Tenant) {
    this.catalog = catalog;
    this.prefix = prefix === '' ? '' : prefix + '.';
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
    const unit = unitFor(unitText);
    let full = sanitizeName(this.prefix + name);
    if (!full.endsWith(unit.suffix)) full += unit.suffix;
    if (kind === COUNTER && !full.endsWith('_total')) full += '_total';
    if (isReserved(full)) return new NameEntry(null, 0, 1, RESERVED_NAME);
    const metric = this.catalog.metric(full, kind, SOURCE_LABELS, APP_HELP);
    if (metric instanceof Metric) return new NameEntry(metric, unit.shift, unit.mul, 0);
    return new NameEntry(null, unit.shift, unit.mul, TYPE_CONFLICT, metric.blocker);
  }
}
