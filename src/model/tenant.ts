// One app (a drain's user name; `default` without one): what it holds of every
// budget, and the self-metrics of docs/limits.md counted for it. The aggregator's AppState
// extends it with the app's series; ingest and the server see only this.

import { Holder } from './budget.js';
import { type IngestStats, REASONS } from './stats.js';

export class Tenant extends Holder {
  readonly name: string;
  lines = 0;
  late = 0;
  duplicates = 0;
  evicted = 0;
  readonly rejected = new Float64Array(REASONS.length);
  /** Metrics of which the app has at least one live series. */
  metrics = 0;
  /** Clock second of the app's last request or line, for expiry. */
  lastActive = 0;

  constructor(name: string) {
    super();
    this.name = name;
  }

  /** Adds what ingest counted for a body or chunk of this app's lines. */
  count(stats: IngestStats): void {
    this.lines += stats.lines;
    for (let r = 0; r < REASONS.length; r++) this.rejected[r] += stats.rejected[r];
  }
}
