// What a reader asks of the history (docs/dashboard.md, docs/history.md): the routes,
// `tail --listen` and the hub ask the ring, and the store behind it, the same way.

export interface HistoryQuery {
  /** One app's series (Basic credentials), or every app's (null). */
  scope: string | null;
  /** Only this app (a bearer's choice), when given. */
  app?: string;
  /** Only this metric (family name), when given. */
  metric?: string;
  /** Points whose step starts at or after this, epoch s (a poll asks for what is new). */
  since?: number;
  /** A range, epoch s: steps starting in [from, to) (docs/history.md); older than the ring, the store answers. */
  from?: number;
  to?: number;
  /** The busiest this many series (HISTORY_LIMIT when not given). */
  limit?: number;
  /** One line per value of this label, merged exactly; '' merges every series into one. */
  group?: string;
  /** Only series whose labels, written `k=v k=v`, hold this text (any case). */
  search?: string;
  /** The reader's clock, epoch s: the wall clock in serve, the stream's in tail. */
  now?: number;
}

/** Series a history answer holds unless asked for fewer: what the page draws. */
export const HISTORY_LIMIT = 30;
/** The most a query may ask for: 1,000 series of 15 minutes is ~3 MB of JSON, ~0.25 s to write. */
export const HISTORY_MAX_LIMIT = 1000;
