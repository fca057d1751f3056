// Every budget a tenant can use up (SPEC §6): bounded in total and per app, measured
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

export function budgetsFor(o: Limits): Budgets {
  return {
    series: new Budget(SERIES, o.maxSeries, o.maxSeriesPerApp),
    // Metric keys: 256 bytes a series (a key costs 160 bytes and its name and unit).
    names: new Budget(NAMES, o.maxSeries * 256, o.maxSeriesPerApp * 256),
    windows: new Budget(WINDOWS, o.maxWindowBytes ?? o.maxSeries * 1024, o.maxWindowBytesPerApp ?? o.maxSeriesPerApp * 2048),
    frameIds: new Budget(FRAME_IDS, o.maxFrameIdBytes ?? 32 << 20, o.maxFrameIdBytesPerApp ?? 2 << 20),
    inflight: new Budget(INFLIGHT, o.maxInflight ?? 64 << 20, o.maxInflightPerApp ?? 16 << 20),
    // The dashboard's history: 512 bytes a series in all (a measure's ring is charged
    // 2,040), an app's own series in full (outlets/history.ts).
    history: new Budget(HISTORY, o.maxSeries * 512, o.maxSeriesPerApp * 2048),
  };
}
