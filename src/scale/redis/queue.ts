// Payloads waiting for Redis (docs/scale-out.md, "Redis as a shared budget"): a queue
// bounded in bytes (QUEUE_BYTES; past it the oldest are dropped), each payload tried
// again with backoff whatever Redis answered; only one refused MAX_REFUSALS times in
// a row with an error that room cannot cure is set aside.

/** Payloads waiting for Redis, at most, bytes. */
export const QUEUE_BYTES = 64 * 1024 * 1024;
/** A payload refused this many times in a row with an error room cannot cure is set aside. */
export const MAX_REFUSALS = 8;
/** Tries again after 200 ms, doubling to this, ms. */
const MAX_BACKOFF_MS = 5_000;
/** Refusals that pass once Redis has room or a primary again: tried for as long as the queue holds. */
const PASSING = /\b(OOM|READONLY|LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|NOSCRIPT)\b/;

/** One payload, with the keys and arguments of its APPLY (apply-args.ts). */
export interface Item {
  seq: number;
  payload: Buffer;
  keys: string[];
  args: (string | Buffer)[];
  bytes: number;
}

export class PayloadQueue {
  /** Oldest first. */
  readonly items: Item[] = [];
  bytes = 0;
  /** Payloads dropped: the queue was full, or set aside after MAX_REFUSALS refusals. */
  dropped = 0;

  get length(): number {
    return this.items.length;
  }

  head(): Item | undefined {
    return this.items[0];
  }

  push(item: Item): void {
    this.items.push(item);
    this.bytes += item.bytes;
  }

  /** Drops the oldest payload (counted). */
  dropOldest(): void {
    const old = this.items.shift() as Item;
    this.bytes -= old.bytes;
    this.dropped++;
  }

  /** Takes the item off the queue if it is still at its head (it was written, or set aside). */
  remove(item: Item): boolean {
    if (this.items[0] !== item) return false;
    this.items.shift();
    this.bytes -= item.bytes;
    return true;
  }
}

/** The wait before the next try, after this many failures in a row, ms. */
export function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(failures - 1, 5));
}

/** A refusal that passes once Redis has room or a primary again (out of memory, read-only, loading…). */
export function passes(error: string): boolean {
  return PASSING.test(error);
}
