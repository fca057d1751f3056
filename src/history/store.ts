// Where the dashboard's closed steps outlive the process (docs/history.md). The
// memory ring (outlets/history/) hands every closed step of 10 s to a store as it
// closes, and asks the store for a range older than it holds. One store today:
// PostgreSQL (postgres.ts), with DATABASE_URL; without it the ring is all there is.
//
// A store keeps three tiers, each at least as long as Librato kept them, rolled up
// exactly (counts, sums, min and max added; a measure's histogram buckets, schema 6
// keys, added, so a quantile at any step comes from the merged buckets):

import type { Series, WindowBuckets } from '../aggregate/index.js';

export interface Tier {
  /** What answers and the docs call it. */
  name: string;
  /** Seconds a step covers. */
  step: number;
  /** Seconds it is kept. */
  seconds: number;
}

const DAY = 86_400;
export const TIERS: readonly Tier[] = [
  { name: '10s', step: 10, seconds: DAY },
  { name: '1m', step: 60, seconds: 7 * DAY },
  // 13 months of 31 days: a year and a month back, whatever the month.
  { name: '1h', step: 3600, seconds: 13 * 31 * DAY },
];

/** The most points a series' answer holds: 6 h of 10 s steps. A longer range takes a coarser tier. */
export const MAX_POINTS = 2160;

/** The finest tier that still holds `from` (epoch s, at `now`) and draws [from, to) in MAX_POINTS or fewer. */
export function tierFor(from: number, to: number, now: number): Tier {
  for (const tier of TIERS) {
    if (from >= now - tier.seconds && (to - from) / tier.step <= MAX_POINTS) return tier;
  }
  return TIERS[TIERS.length - 1];
}

/**
 * One series' closed step of this receiver, as the ring gathered it: a measure's
 * count, sum, min, max and buckets (sorted), a counter's sum, a sample's last value
 * and its time (ms). Handed over and reused: a store copies what it keeps.
 */
export interface ClosedStep {
  series: Series;
  /** Epoch s; the step is [start, start + 10). */
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTime: number;
  buckets: WindowBuckets | null;
}

/** What a range read asks: as the ring's query (outlets/history/query.ts), with its range. */
export interface RangeQuery {
  scope: string | null;
  app?: string;
  metric?: string;
  /** Epoch s: steps starting at or after `from` and before `to`. */
  from: number;
  to: number;
  limit: number;
}

/** A release or deploy of an app (its `app[api]` line), drawn on every chart. */
export interface Release {
  app: string;
  /** Epoch s. */
  t: number;
  text: string;
}

/** What the store says about itself, for the self-metrics. */
export interface StoreStats {
  /** 1 while the database takes writes. */
  up: boolean;
  /** Bytes of steps waiting to be written. */
  queueBytes: number;
  /** Steps written (this process). */
  written: number;
  /** Steps dropped from a full queue while the database was away. */
  dropped: number;
  /** Series refused by an app's budget. */
  refused: number;
}

export interface HistoryStore {
  /** Takes a closed step (copying it): never blocks, never throws. */
  add(step: ClosedStep): void;
  /** Every step closed through `through` (epoch s) is handed over: written as one batch. */
  flush(through: number): void;
  /** A release line seen. */
  release(r: Release): void;
  /** The points of a range, merged across receivers, as the ring's read() answers. */
  read(q: RangeQuery): Promise<string>;
  readonly stats: StoreStats;
  /** Writes what waits, until the deadline (epoch ms), then lets go of the database. */
  stop(deadline: number): Promise<void>;
}
