// Whether the link is up and ready, said in the log once per change (warnings at
// most once per WARN_EVERY_MS each): drainmeter_redis_up and drainmeter_redis_synced
// read it, and the receiver is not ready (healthz and /metrics answer 503) until the
// first read of the totals, or START_TIMEOUT_MS without Redis.

import type { Logger } from '../../log.js';
import type { PayloadQueue } from './queue.js';

/** A receiver waits at most this at start for the totals in Redis, then is ready alone, ms. */
export const START_TIMEOUT_MS = 10_000;
/** The same warning at most this often, ms. */
const WARN_EVERY_MS = 60_000;

export class LinkStatus {
  /** Reachable and answering: drainmeter_redis_up. */
  up = false;
  /** The view holds the global totals read from Redis (false until the first read). */
  totalsRead = false;
  /** Ready: the totals were read, or START_TIMEOUT_MS passed without them. */
  ready = false;
  /** Redis refused the last write (it is answering, but not taking). */
  private refusing = false;
  private warned = new Map<string, number>();
  private readonly log: Logger;
  private readonly origin: string;
  private readonly queue: PayloadQueue;

  constructor(log: Logger, origin: string, queue: PayloadQueue) {
    this.log = log;
    this.origin = origin;
    this.queue = queue;
  }

  /** Ready alone START_TIMEOUT_MS from now unless the totals are read first (or the link stopped). */
  bound(stopped: () => boolean): void {
    setTimeout(() => {
      if (this.ready || stopped()) return;
      this.ready = true;
      this.log.warn('redis: totals not read within the start bound, ready alone: this receiver shows its own lines until Redis answers', { after_ms: START_TIMEOUT_MS });
    }, START_TIMEOUT_MS).unref();
  }

  /** Why this receiver is not ready yet (healthz and /metrics answer 503), or null. */
  starting(): string | null {
    return this.ready ? null : 'starting: reading totals from Redis';
  }

  /** The totals were read from Redis: ready. */
  read(apps: number): void {
    this.totalsRead = true;
    if (!this.ready) {
      this.ready = true;
      this.log.info('redis: totals read, ready', { apps });
    }
  }

  /** Logs at most once per WARN_EVERY_MS for each `what`. */
  warn(what: string, msg: string, fields: Record<string, string | number>, level: 'warn' | 'info' = 'warn'): void {
    const now = Date.now();
    if ((this.warned.get(what) ?? -Infinity) > now - WARN_EVERY_MS) return;
    if (this.warned.size > 1_000) this.warned.clear();
    this.warned.set(what, now);
    this.log[level](msg, fields);
  }

  down(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.log.warn('redis down: taking drains alone, will catch up', { reason, pending: this.queue.length });
  }

  isUp(): void {
    if (this.up) return;
    this.up = true;
    this.log.info('redis up', { origin: this.origin, pending: this.queue.length });
  }

  /** Redis answered a write with a refusal: down, said once per WARN_EVERY_MS. */
  refused(error: string): void {
    this.up = false;
    if (this.refusing) return;
    this.refusing = true;
    this.warn('refusing', 'redis refusing payloads: they wait here and are tried again', { error, pending: this.queue.length, pending_bytes: this.queue.bytes });
  }

  /** A write went through (`retries`: writes tried again so far). */
  took(retries: number): void {
    if (!this.refusing) return this.isUp();
    this.refusing = false;
    this.up = true;
    this.warn('taking', 'redis taking payloads again', { pending: this.queue.length, pending_bytes: this.queue.bytes, retries }, 'info');
  }
}
