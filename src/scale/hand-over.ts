// How much of what a receiver collected goes into one hand-over (docs/scale-out.md,
// "Redis as a shared budget"). Every hand-over is bounded in bytes, and each app has
// a share of it: an app churning thousands of series fills its own share, and what
// does not fit waits in the collecting aggregator, where the next lines of the same
// series add to it (counts and sums add, windows merge), for a later hand-over. What
// waited goes first next time, so every series is handed over within a few ticks
// however many others churn. Nothing is dropped: it is late, and only for the app
// that is over its share.

import type { AppState, Series } from '../aggregate/index.js';

/** One hand-over, at most (then a series more), bytes. */
export const HAND_OVER_BYTES = 1024 * 1024;
/** One app's part of one hand-over, at most (then a series more), bytes. */
export const HAND_OVER_APP_BYTES = 256 * 1024;

export class HandOverShare {
  readonly totalBytes: number;
  readonly appBytes: number;
  /** Series whose changes wait for a later hand-over, after the last one. */
  waitingSeries = 0;
  /** Apps with changes waiting after the last hand-over. */
  readonly waitingApps: string[] = [];
  private series = new Map<AppState, Series[]>();
  private apps: AppState[] = [];

  constructor(totalBytes = HAND_OVER_BYTES, appBytes = HAND_OVER_APP_BYTES) {
    this.totalBytes = totalBytes;
    this.appBytes = appBytes;
  }

  /** The apps in the order this hand-over takes them: those left out last time first. */
  *order(all: Map<string, AppState>): Generator<AppState> {
    const first = this.apps;
    this.apps = [];
    this.waitingSeries = 0;
    this.waitingApps.length = 0;
    const seen = new Set<AppState>();
    for (const a of first) {
      if (all.get(a.name) !== a) continue;
      seen.add(a);
      yield a;
    }
    for (const a of all.values()) if (!seen.has(a)) yield a;
  }

  /** The app's series with something to hand over (`pick`), those left out last time first. */
  offer(app: AppState, pick: (s: Series) => boolean): Series[] {
    const first = this.series.get(app);
    const out: Series[] = [];
    if (first === undefined) {
      for (const s of app.each()) if (pick(s)) out.push(s);
      return out;
    }
    this.series.delete(app);
    const seen = new Set<Series>();
    for (const s of first) {
      seen.add(s);
      if (pick(s)) out.push(s);
    }
    for (const s of app.each()) if (!seen.has(s) && pick(s)) out.push(s);
    return out;
  }

  /** The whole app waits (the hand-over is full), its series in the order offered. */
  later(app: AppState, series: Series[]): void {
    this.apps.push(app);
    if (series.length > 0) this.series.set(app, series);
    this.waitingSeries += series.length;
    this.waitingApps.push(app.name);
  }

  /** `series` from `from` on wait: the app's share is full. */
  wait(app: AppState, series: Series[], from: number): void {
    this.series.set(app, series.slice(from));
    this.waitingSeries += series.length - from;
    this.waitingApps.push(app.name);
  }
}
