// Nothing is lost silently: what a 204 took but refused (bad values, series over the
// limit, type conflicts …) is counted in drainmeter_rejected_total and, every
// REPORT_MS at most, said in the log: one line per app and reason that grew, at most
// MAX_LINES a report (then one line saying how many more), so a flood of refusals is
// a bounded trickle of log lines.
//
//   at=warn msg=refused app=shop reason=bad_value lines=3 seconds=10

import type { AppState } from '../aggregate/index.js';
import type { Logger } from '../log.js';
import { REASONS } from '../model/index.js';

export const REPORT_MS = 10_000;
const MAX_LINES = 20;

/** Reports, on each call, the refusals counted since the last call. */
export function refusalReporter(apps: ReadonlyMap<string, AppState>, log: Logger, seconds = REPORT_MS / 1000): () => void {
  const told = new WeakMap<AppState, Float64Array>();
  return () => {
    let lines = 0;
    let more = 0;
    for (const app of apps.values()) {
      let seen = told.get(app);
      if (seen === undefined) {
        seen = new Float64Array(REASONS.length);
        told.set(app, seen);
      }
      for (let r = 0; r < REASONS.length; r++) {
        const grew = app.rejected[r] - seen[r];
        if (grew <= 0) continue;
        seen[r] = app.rejected[r];
        if (lines < MAX_LINES) {
          log.warn('refused', { app: app.name, reason: REASONS[r], lines: grew, seconds });
          lines++;
        } else more++;
      }
    }
    if (more > 0) log.warn('refused, more', { reports: more, seconds, see: 'drainmeter_rejected_total on /metrics' });
  };
}
