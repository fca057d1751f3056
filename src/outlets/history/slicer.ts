// A long answer (history.json, index.json, the overview) works in slices and lets the
// event loop in between them, as /metrics rendering does: drains are answered meanwhile.

import { setImmediate as yieldNow } from 'node:timers/promises';

/** Time a query runs before it lets the event loop in, ms. */
const SLICE_MS = 8;

/** Lets the event loop in every SLICE_MS of a query's work: drains are answered meanwhile. */
export class Slicer {
  private start = performance.now();

  /** Null while the slice lasts; else a promise to await. */
  pause(): Promise<void> | null {
    if (performance.now() - this.start < SLICE_MS) return null;
    return yieldNow().then(() => {
      this.start = performance.now();
    });
  }
}
