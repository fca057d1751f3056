// Every budget a tenant can use up (docs/limits.md): bounded in total and per app, measured
// in bytes where entries can be large, and given back when what used it expires.
// A Budget is one such bound; a Tenant records what it holds of each, so one app's
// use can never take what another app's drain needs beyond its own share.

/** Budget slots, one per resource (Tenant.held is indexed by them). */
export const SERIES = 0; // live series (count)
export const NAMES = 1; // metric keys remembered, with their tables (bytes)
export const WINDOWS = 2; // open windows and their buckets (bytes)
export const FRAME_IDS = 3; // Logplex-Frame-Ids remembered for 10 minutes (bytes)
export const INFLIGHT = 4; // request body bytes being read
export const HISTORY = 5; // the dashboard's rings of closed windows (bytes)
export const BUDGET_SLOTS = 6;

export const BUDGET_NAMES = ['series', 'names', 'windows', 'frame_ids', 'inflight', 'history'] as const;

/** What one app holds of every budget. */
export class Holder {
  readonly held = new Float64Array(BUDGET_SLOTS);

  /** True when nothing of any budget is held. */
  holdsNothing(): boolean {
    for (let i = 0; i < BUDGET_SLOTS; i++) if (this.held[i] !== 0) return false;
    return true;
  }
}

export class Budget {
  readonly slot: number;
  /** Units all apps together may hold. */
  readonly total: number;
  /** Units one app may hold. */
  readonly perApp: number;
  used = 0;

  constructor(slot: number, total: number, perApp: number) {
    this.slot = slot;
    this.total = total;
    this.perApp = Math.min(perApp, total);
  }

  /** Takes n units for `h`; false (nothing taken) past its share or the total. */
  take(h: Holder, n: number): boolean {
    const mine = h.held[this.slot];
    if (mine + n > this.perApp || this.used + n > this.total) return false;
    h.held[this.slot] = mine + n;
    this.used += n;
    return true;
  }

  give(h: Holder, n: number): void {
    h.held[this.slot] -= n;
    this.used -= n;
  }

  /** Why take(h, n) would refuse: the app's share, the total, or null when it would not. */
  refusal(h: Holder, n: number): 'share' | 'total' | null {
    if (h.held[this.slot] + n > this.perApp) return 'share';
    return this.used + n > this.total ? 'total' : null;
  }
}

/**
 * What one holder keeps of a budget while it grows: a body's in-flight bytes as
 * they are decoded. grow() takes only the difference; release() gives all back.
 */
export class Hold {
  private readonly budget: Budget;
  private readonly holder: Holder;
  /** Units taken so far. */
  taken = 0;

  constructor(budget: Budget, holder: Holder) {
    this.budget = budget;
    this.holder = holder;
  }

  /** Holds `to` units in all (never less than now); why not, or null when held. */
  grow(to: number): 'share' | 'total' | null {
    if (to <= this.taken) return null;
    const more = to - this.taken;
    if (!this.budget.take(this.holder, more)) return this.budget.refusal(this.holder, more) ?? 'total';
    this.taken = to;
    return null;
  }

  release(): void {
    if (this.taken === 0) return;
    this.budget.give(this.holder, this.taken);
    this.taken = 0;
  }
}

/** The budgets of one pipeline. */
export interface Budgets {
  series: Budget;
  names: Budget;
  windows: Budget;
  frameIds: Budget;
  inflight: Budget;
  history: Budget;
}

/** The limits budgets are made from (Config has them all; tests give a few). */
export interface Limits {
  maxSeries: number;
  maxSeriesPerApp: number;
  maxWindowBytes?: number;
  maxWindowBytesPerApp?: number;
  maxFrameIdBytes?: number;
  maxFrameIdBytesPerApp?: number;
  maxInflight?: number;
  maxInflightPerApp?: number;
}

/** Live series of all apps when nothing says how much memory there is. */
export const SERIES_DEFAULT = 100_000;
/** What `serve` holds before its first series, MB, and what a live measure series costs it with its history (bench/serve-memory.ts), with room to spare. */
const BASE_MB = 96;
const BYTES_PER_SERIES = 10 * 1024;

/**
 * The default live series for a machine of `mb` megabytes (null: unknown): one for
 * every 10 KB above 96 MB, in whole thousands, from 1,000 to 100,000. A Standard-1X
 * dyno (512 MB) gets 42,000 (docs/limits.md).
 */
export function seriesForMemory(mb: number | null): number {
  if (mb === null) return SERIES_DEFAULT;
  const fits = Math.floor(((mb - BASE_MB) * 1024 * 1024) / BYTES_PER_SERIES / 1000) * 1000;
  return Math.max(1000, Math.min(SERIES_DEFAULT, fits));
}

/** Logplex-Frame-Ids remembered, bytes: all apps, and one app. */
export const FRAME_ID_BYTES = 32 << 20;
export const FRAME_ID_BYTES_PER_APP = 2 << 20;

export function budgetsFor(o: Limits): Budgets {
  return {
    series: new Budget(SERIES, o.maxSeries, o.maxSeriesPerApp),
    // Metric keys: 256 bytes a series (a key costs 160 bytes and its name and unit).
    names: new Budget(NAMES, o.maxSeries * 256, o.maxSeriesPerApp * 256),
    windows: new Budget(WINDOWS, o.maxWindowBytes ?? o.maxSeries * 1024, o.maxWindowBytesPerApp ?? o.maxSeriesPerApp * 2048),
    frameIds: new Budget(FRAME_IDS, o.maxFrameIdBytes ?? FRAME_ID_BYTES, o.maxFrameIdBytesPerApp ?? FRAME_ID_BYTES_PER_APP),
    inflight: new Budget(INFLIGHT, o.maxInflight ?? 64 << 20, o.maxInflightPerApp ?? 16 << 20),
    // The dashboard's history: 512 bytes a series in all (a measure's ring is charged
    // 2,040), an app's own series in full (outlets/history/track.ts).
    history: new Budget(HISTORY, o.maxSeries * 512, o.maxSeriesPerApp * 2048),
  };
}
