// Logplex-Frame-Ids accepted in the last 10 minutes, per app (docs/http-api.md: logplex
// retries a batch with the same id, and a retry must not count twice). Each app has
// its own LRU, so one app's ids never push out another's; what an app remembers is
// charged in bytes to its share of the frame-id budget (docs/limits.md), and given back as
// ids expire or are pushed out. An id longer than 64 bytes is remembered by its
// SHA-256, so an entry costs the same whatever the sender puts in the header.

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Budget, Tenant } from '../model/index.js';

export const FRAME_ID_TTL_MS = 10 * 60_000;
/** What one remembered id costs besides its bytes: the LRU's slots and the map entry. */
export const FRAME_ID_BYTES = 128;
const LONGEST_KEPT = 64;

/** What an id is remembered by: itself up to 64 bytes, else its SHA-256 (43 characters). */
export function keyOf(id: string): string {
  return id.length <= LONGEST_KEPT ? id : createHash('sha256').update(id).digest('base64url');
}

function cost(key: string): number {
  return FRAME_ID_BYTES + key.length;
}

export class FrameIds {
  private readonly budget: Budget;
  private readonly now: () => number;
  private readonly byApp = new Map<Tenant, LRUCache<string, true>>();

  constructor(budget: Budget, now: () => number) {
    this.budget = budget;
    this.now = now;
  }

  /** True (and remembered) when the id is new for the app; false for a retry. */
  claim(app: Tenant, id: string): boolean {
    if (this.has(app, id)) return false;
    this.add(app, id);
    return true;
  }

  has(app: Tenant, id: string): boolean {
    return this.byApp.get(app)?.has(keyOf(id)) === true;
  }

  /**
   * Remembers an accepted batch's id. When the app's share is full its oldest id
   * goes first; when the total is full (many apps at once) the id is not kept, and
   * a retry of that batch would count again: the bound wins over the memory.
   */
  add(app: Tenant, id: string): void {
    const key = keyOf(id);
    if (this.byApp.get(app)?.has(key) === true) return;
    let ids = this.byApp.get(app);
    if (ids === undefined) {
      const budget = this.budget;
      ids = new LRUCache<string, true>({
        maxSize: budget.perApp,
        sizeCalculation: (_v, k) => cost(k),
        ttl: FRAME_ID_TTL_MS,
        perf: { now: this.now },
        ttlResolution: 0, // read the injected clock every time: tests move it within a tick
        // Whatever takes an id out (expiry, its app's share, purge) gives its bytes back.
        dispose: (_v, k) => budget.give(app, cost(k)),
      });
      this.byApp.set(app, ids);
    }
    const size = cost(key);
    while (ids.size > 0 && app.held[this.budget.slot] + size > this.budget.perApp) ids.pop();
    if (!this.budget.take(app, size)) return;
    ids.set(key, true);
  }

  /** Drops expired ids of every app (their bytes back), and the LRUs left empty. */
  purge(): void {
    for (const [app, ids] of this.byApp) {
      ids.purgeStale();
      if (ids.size === 0) this.byApp.delete(app);
    }
  }

  get apps(): number {
    return this.byApp.size;
  }
}
