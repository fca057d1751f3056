// A FIFO of doubles in one region: data[head, tail) inside data[base, base + size),
// the region cut from an arena (arena.ts) or an array of its own. Appending past the
// region's end compacts in place while there is room, and moves to a region a
// quarter larger when there is not. The sliding window (sliding-window.ts) builds
// its records on it.

import { type Arena, classOf } from './arena.js';

const EMPTY = new Float64Array(0);

export class RegionFifo {
  // The region (a Region, which the arena sets).
  data: Float64Array = EMPTY;
  base = 0;
  size = 0;
  /** The first double held. */
  protected head = 0;
  /** Past the last double held. */
  protected tail = 0;
  /** Where regions come from (arena.ts); null: an array of its own. */
  protected readonly arena: Arena | null;

  constructor(arena: Arena | null) {
    this.arena = arena;
    if (arena === null) {
      this.data = new Float64Array(8);
      this.size = 8;
    } else {
      arena.alloc(8, this);
      this.head = this.tail = this.base;
    }
  }

  /**
   * After the arena was renewed: copies the doubles into a new region of it, sized
   * to them (a tenth more: room to take a window as one expires), from a slab no
   * longer the arena's.
   */
  move(): void {
    const arena = this.arena;
    if (arena === null || this.data === EMPTY || classOf(this.size) === -1) return;
    this.relocate(Math.max(8, Math.ceil((this.tail - this.head) * 1.1)));
  }

  /** Gives the region back to the arena (the owner is gone). */
  release(): void {
    this.arena?.release(this.data, this.base, this.size);
    this.data = EMPTY;
    this.base = this.size = this.head = this.tail = 0;
  }

  get empty(): boolean {
    return this.head === this.tail;
  }

  bytes(): number {
    return this.size * 8;
  }

  /** Room for `need` more doubles at the tail. */
  protected ensure(need: number): void {
    if (this.tail + need <= this.base + this.size) return;
    const live = this.tail - this.head;
    // Compact in place while there is room; grow by a quarter only when there is not
    // (bench/series.ts: 1.5× growth left half of every series' array empty).
    if (live + need <= this.size * 0.9) {
      this.data.copyWithin(this.base, this.head, this.tail);
      this.head = this.base;
      this.tail = this.base + live;
      return;
    }
    const { data, base, size } = this;
    this.relocate(Math.ceil((live + need) * 1.25));
    this.arena?.release(data, base, size);
  }

  /** Copies the doubles to a new region of at least `want`; the old one is the caller's. */
  private relocate(want: number): void {
    const old = this.data;
    const from = this.head;
    const live = this.tail - this.head;
    if (this.arena === null) {
      this.data = new Float64Array(want);
      this.base = 0;
      this.size = want;
    } else this.arena.alloc(want, this);
    this.data.set(old.subarray(from, from + live), this.base);
    this.head = this.base;
    this.tail = this.base + live;
  }
}
