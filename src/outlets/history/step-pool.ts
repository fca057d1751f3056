// The buckets a measure's step merges its windows into, kept for the next step to
// gather: bounded in count and in bucket room (the aggregator's rule for its windows).

import { PooledRoom, WindowBuckets } from '../../aggregate/index.js';

const POOL_MAX = 1024;
/** Bytes of bucket room the pooled steps keep, in all. */
const POOL_BUCKET_BYTES = 2 << 20;

export class StepPool {
  private readonly pool: WindowBuckets[] = [];
  /** The bucket room the pooled steps keep. */
  private readonly pooledRoom = new PooledRoom(POOL_BUCKET_BYTES);

  /** Empty buckets for a step: pooled ones, or new. */
  take(): WindowBuckets {
    const pooled = this.pool.pop();
    if (pooled !== undefined) this.pooledRoom.taken(pooled);
    const h = pooled ?? new WindowBuckets();
    h.clear();
    return h;
  }

  /** Pools a step's buckets, unless the pool is full or holds POOL_BUCKET_BYTES of room already. */
  give(h: WindowBuckets | null): void {
    if (h !== null && this.pool.length < POOL_MAX && this.pooledRoom.keep(h)) this.pool.push(h);
  }
}
