// The outlet seam: an outlet is a file that declares its options, says from them
// whether it is configured, and, started, receives closed windows (and may read the
// aggregator's series) until flush(). `outlets/index.ts` lists them; config.ts
// gathers their options; serve and tail start every configured one and await their
// flush on SIGTERM and at EOF.

import type { Aggregator, CloseListener } from '../aggregate/index.js';
import type { Logger } from '../log.js';
import type { Option } from '../options.js';

/** What a started outlet is given. */
export interface OutletContext {
  aggregator: Aggregator;
  quantiles: readonly number[];
  log: Logger;
  /** Wall clock, epoch ms. */
  now: () => number;
  /** Standard output (the windows outlet). */
  write: (text: string) => void;
}

export interface Outlet {
  readonly name: string;
  /** Each window as it closes; the object is reused, read it at once. */
  readonly window?: CloseListener;
  /** Sends what is pending and stops; resolves by `deadline` (epoch ms) at the latest. */
  flush(deadline: number): Promise<void>;
  /** Counts of a push outlet, for its self-metrics. */
  readonly push?: PushStats;
}

export interface OutletDefinition<S = unknown> {
  readonly name: string;
  readonly options: readonly Option[];
  /** Validated settings when the options configure this outlet, else null; a bad value throws ConfigError. */
  configure(values: ReadonlyMap<string, string>): S | null;
  start(settings: S, ctx: OutletContext): Outlet;
}

/** A definition with its settings type forgotten, for the list of every outlet. */
export function defineOutlet<S>(d: OutletDefinition<S>): OutletDefinition<unknown> {
  return d as OutletDefinition<unknown>;
}

/** An outlet the configuration turned on, with its validated settings. */
export interface Configured {
  definition: OutletDefinition<unknown>;
  settings: unknown;
}

/** What a push outlet has done (docs/push.md self-metrics). */
export class PushStats {
  samples = 0;
  dropped = 0;
  queueBytes = 0;
  /** Failed attempts by reason (`http_500`, `http_400`, `network`, …). */
  readonly failures = new Map<string, number>();

  fail(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }
}
