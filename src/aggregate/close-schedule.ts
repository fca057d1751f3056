// When windows close. A window [start, start + resolution) closes once the clock
// reaches start + resolution + grace (docs/conventions.md); each series with an open
// window is listed under the second its earliest such window is due, so moving the
// clock visits the seconds it passes and nothing else.

import { type EpochMs, type EpochSec, epochSec, toMs } from '../model/index.js';
import type { Series, Window } from './series.js';

/** The start of the epoch-aligned window of `res` seconds holding second `sec`. */
export function windowStart(sec: EpochSec, res: number): EpochSec {
  return epochSec(Math.floor(sec / res) * res);
}

/** The second the window [start, start + res) closes at, `grace` seconds after its end. */
export function closeSecond(start: EpochSec, res: number, grace: number): EpochSec {
  return epochSec(start + res + grace);
}

/** True when the window [start, start + res) is due by `clock`, so closed. */
export function isDue(start: EpochSec, res: number, grace: number, clock: EpochMs): boolean {
  return toMs(closeSecond(start, res, grace)) <= clock;
}

/** What a closing window is handed to (the aggregator: listeners, sliding window, pool). */
export interface WindowCloser {
  closeWindow(s: Series, w: Window): void;
}

export class CloseSchedule {
  /** The second every window due by it has closed through. */
  closedTo: EpochSec;
  /** Series with a window closing at each second. */
  private readonly due = new Map<EpochSec, Series[]>();
  private readonly grace: number;
  private readonly closer: WindowCloser;

  constructor(grace: number, closedTo: EpochSec, closer: WindowCloser) {
    this.grace = grace;
    this.closedTo = closedTo;
    this.closer = closer;
  }

  /** Lists `s` under the second its window starting at `start` is due. */
  add(s: Series, start: EpochSec): void {
    const closeAt = closeSecond(start, s.resolution, this.grace);
    const list = this.due.get(closeAt);
    if (list === undefined) this.due.set(closeAt, [s]);
    else list.push(s);
  }

  /** Closes every window due by second `to`; false when the schedule was there already. */
  closeThrough(to: EpochSec): boolean {
    if (to <= this.closedTo) return false;
    if (to - this.closedTo > this.due.size * 4 + 64) {
      // A long jump (tail reading an old file, a test): visit the scheduled seconds only.
      const seconds = [...this.due.keys()].filter((t) => t <= to).sort((a, b) => a - b);
      for (const t of seconds) this.closeAt(t);
    } else {
      for (let t = this.closedTo + 1; t <= to; t++) this.closeAt(epochSec(t));
    }
    this.closedTo = to;
    return true;
  }

  /** Closes every open window (end of input, shutdown). */
  closeAll(): void {
    const seconds = [...this.due.keys()].sort((a, b) => a - b);
    for (const t of seconds) this.closeAt(t, true);
  }

  private closeAt(t: EpochSec, all = false): void {
    const list = this.due.get(t);
    if (list === undefined) return;
    this.due.delete(t);
    const grace = this.grace;
    for (const s of list) {
      let prev: Window | null = null;
      let w = s.firstOpen;
      while (w !== null) {
        const next: Window | null = w.next;
        if (!all && w.start + s.resolution + grace > t) {
          prev = w;
        } else {
          if (prev === null) s.firstOpen = next;
          else prev.next = next;
          s.openCount--;
          w.next = null;
          this.closer.closeWindow(s, w);
        }
        w = next;
      }
    }
  }
}
