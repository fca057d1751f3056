// The live series of every app, and what makes and drops them: the series budgets
// (total, per app, the platform's share), the count of series per metric, and the
// apps holding each metric that a scrape visits (docs/limits.md, docs/isolation.md).

import type { Budgets, Metric } from '../model/index.js';
import { AppState } from './app-state.js';
import type { Series } from './series.js';

/**
 * The share of an app's series only its `heroku_*` families may take: a fifth of
 * DRAINMETER_MAX_SERIES_PER_APP (2,000 of 10,000). A dyno reports about 20 series of
 * its own (runtime metrics, router measures, statuses, R and H codes), so the share
 * keeps the platform numbers of 100 dynos however many series the app's own metrics
 * try to make (docs/isolation.md).
 */
export const PLATFORM_SHARE = 0.2;

const NOBODY: ReadonlySet<AppState> = new Set();

export class SeriesRegistry {
  readonly apps = new Map<string, AppState>();
  /** Live series, all apps. */
  count = 0;
  /** Rises whenever a metric gains its first series or loses its last. */
  holdersVersion = 0;
  /** Series an app's own (not `heroku_*`) families may hold: the per-app limit less the platform's share. */
  readonly appShare: number;
  private readonly budgets: Budgets;
  /** Apps with a live series of each metric, by metric id: a scrape visits these only. */
  private readonly holders: (Set<AppState> | undefined)[] = [];

  constructor(budgets: Budgets) {
    this.budgets = budgets;
    const perApp = budgets.series.perApp;
    this.appShare = perApp - Math.ceil(perApp * PLATFORM_SHARE);
  }

  appState(name: string): AppState {
    let app = this.apps.get(name);
    if (app === undefined) {
      app = new AppState(name);
      this.apps.set(name, app);
    }
    return app;
  }

  /** Apps with a live series of `metric`. */
  holdersOf(metric: Metric): ReadonlySet<AppState> {
    return this.holders[metric.id] ?? NOBODY;
  }

  /** One series of the budget for `app`: its own families stay out of the platform's share. */
  take(app: AppState, metric: Metric): boolean {
    if (!metric.platform && app.series - app.platformSeries >= this.appShare) return false;
    return this.budgets.series.take(app, 1);
  }

  /** A series made (its budget taken). */
  add(app: AppState, s: Series): void {
    this.count++;
    if (s.metric.series++ === 0) this.holdersVersion++;
    if (s.metric.platform) app.platformSeries++;
    if (!app.add(s)) return;
    let set = this.holders[s.metric.id];
    if (set === undefined) {
      set = new Set();
      this.holders[s.metric.id] = set;
    }
    set.add(app);
  }

  /** A series gone: its budget and its sliding window's region given back. */
  remove(app: AppState, s: Series): void {
    this.count--;
    if (--s.metric.series === 0) this.holdersVersion++;
    if (s.metric.platform) app.platformSeries--;
    this.budgets.series.give(app, 1);
    s.sliding?.release();
    if (!app.remove(s)) return;
    const set = this.holders[s.metric.id];
    set?.delete(app);
    if (set?.size === 0) this.holders[s.metric.id] = undefined;
  }
}
