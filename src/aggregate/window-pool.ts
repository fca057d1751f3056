// Closed windows kept for the next ones to open: every series' window closes each
// second and opens again with its next line, so a window is taken from here and
// given back rather than made and collected (bench/serve-memory.ts).

import type { Budget } from '../model/index.js';
import { Window } from './series.js';
import { PooledRoom } from './window-buckets.js';

/**
 * Closed windows kept for reuse: this many, or one a live series when there are more.
 * Every series' window closes each second and opens again with its next line; a pool
 * of 4,096 let 100,000 series drop 96,000 windows a second for the collector, and
 * `serve`'s RSS swung by 300 MB between its collections (bench/serve-memory.ts).
 */
const POOL_MIN = 4096;
/**
 * Bytes of bucket room the pooled windows keep, in all: past it a window leaves its
 * WindowBuckets behind. A busy series' windows grow to the same room second after
 * second; keeping only 64 buckets a window made them grow again each time
 * (`tail`, bench/README.md: 4% of a run in WindowBuckets.grow).
 */
const POOL_BUCKET_BYTES = 4 << 20;

export class WindowPool {
  private readonly pool: Window[] = [];
  /** The bucket room the pooled windows keep. */
  private readonly pooledRoom = new PooledRoom(POOL_BUCKET_BYTES);
  /** What open windows cost their apps. */
  private readonly budget: Budget;

  constructor(budget: Budget) {
    this.budget = budget;
  }

  /** A window from the pool, or a new one. */
  take(): Window {
    const w = this.pool.pop();
    if (w === undefined) return new Window();
    if (w.more !== null) this.pooledRoom.taken(w.more);
    return w;
  }

  /**
   * Gives back what an open window cost its app and pools it, up to POOL_MIN or one
   * a live series (`live`), with its bucket room while the pool's is under
   * POOL_BUCKET_BYTES: what the pool keeps is bounded whatever windows were open at
   * the peak.
   */
  recycle(w: Window, live: number): void {
    if (w.owner !== null) this.budget.give(w.owner, w.charged);
    w.charged = 0;
    w.owner = null;
    if (this.pool.length >= POOL_MIN && this.pool.length >= live) return;
    if (w.more !== null && !this.pooledRoom.keep(w.more)) w.more = null;
    this.pool.push(w);
  }

  /** The pool shrinks with the series it serves (`live` of them). */
  shrink(live: number): void {
    while (this.pool.length > POOL_MIN && this.pool.length > live) {
      const w = this.pool.pop() as Window;
      if (w.more !== null) this.pooledRoom.taken(w.more);
    }
  }
}
