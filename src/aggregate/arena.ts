// Regions of doubles cut from a few large Float64Arrays, for the sliding windows of
// one aggregator. A typed array per series cost 184 bytes of objects and a
// malloc'd store each, and every one grown (a dozen times on the way to a full
// minute) was external memory V8 answers with a full collection: at 100,000 series
// a third of the time went to the collector (bench/series.ts, --cpu-prof).
//
// Sizes come in classes a quarter apart; a freed region goes on its class's free
// list and is reused as it is. Series that grow together (every one of a busy
// minute) leave every smaller class free behind them, so when more is free than in
// use, the aggregator's sweep moves every region into fresh slabs (renew(), then
// SlidingWindow.move()) and the old slabs go. A region larger than a slab's quarter
// is an array of its own.

/** Doubles per slab (2 MB). */
const SLAB = 1 << 18;
const LARGEST = SLAB >> 2;

/** Region sizes, a quarter apart, from 8 doubles to LARGEST. */
const CLASSES: number[] = [];
for (let size = 8; size < LARGEST; size = Math.max(size + 1, Math.ceil(size * 1.25))) CLASSES.push(size);
CLASSES.push(LARGEST);

/** The smallest class index holding `n` doubles, or -1 past LARGEST. */
export function classOf(n: number): number {
  if (n > LARGEST) return -1;
  let lo = 0;
  let hi = CLASSES.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CLASSES[mid] < n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Arena {
  readonly slabs: Float64Array[] = [];
  /** Free regions by class, as slab × SLAB + offset. */
  private readonly free: number[][] = CLASSES.map(() => []);
  /** Where the next fresh region starts in the last slab. */
  private top = SLAB;
  /** Doubles in regions handed out and not given back. */
  private used = 0;

  /** Bytes of slabs held. */
  get bytes(): number {
    return this.slabs.length * SLAB * 8;
  }

  /** True when the slabs hold more free than used, by a slab at least: time to renew. */
  get sparse(): boolean {
    const free = this.slabs.length * SLAB - this.used;
    return free > this.used && free > SLAB;
  }

  /**
   * Starts over with no slab: regions allocated from now on come from new ones.
   * The caller moves every region (SlidingWindow.move()); the old slabs are then
   * nobody's.
   */
  renew(): void {
    this.slabs.length = 0;
    for (const list of this.free) list.length = 0;
    this.top = SLAB;
    this.used = 0;
  }

  /** A region of at least `n` doubles: sets `region` (its array, offset and size). */
  alloc(n: number, region: Region): void {
    const c = classOf(n);
    if (c === -1) {
      region.data = new Float64Array(n);
      region.base = 0;
      region.size = n;
      return;
    }
    const size = CLASSES[c];
    this.used += size;
    const list = this.free[c];
    let at: number;
    if (list.length > 0) at = list.pop() as number;
    else {
      if (this.top + size > SLAB) {
        this.slabs.push(new Float64Array(SLAB));
        this.top = 0;
      }
      at = (this.slabs.length - 1) * SLAB + this.top;
      this.top += size;
    }
    region.data = this.slabs[Math.floor(at / SLAB)];
    region.base = at % SLAB;
    region.size = size;
  }

  /** Gives a region back (one of its own is left to the collector). */
  release(data: Float64Array, base: number, size: number): void {
    const slab = this.slabs.indexOf(data);
    if (slab === -1) return;
    this.used -= size;
    this.free[classOf(size)].push(slab * SLAB + base);
  }
}

/** A region as alloc() sets it. */
export interface Region {
  data: Float64Array;
  base: number;
  size: number;
}
