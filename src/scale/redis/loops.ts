// The link's two loops. The write loop reads the totals when they are not read (at
// start, after a gap or a lost kind: SNAPSHOT, then the stream's windows the first
// time) and writes the queue's payloads in order (APPLY), with backoff (queue.ts).
// The read loop reads every other receiver's payloads and claims from the stream, in
// their numbered order: a gap (entries trimmed before it read them) reads the totals
// back whole.

import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import { encodeTotals, type MergeOptions } from '../delta.js';
import { decodeDef, type KindDef, staleAfterS } from '../kinds.js';
import type { Scripted } from './connections.js';
import { APPS, P, REQUESTS, SEQS, STREAM } from './keys.js';
import { backoffMs, type Item, MAX_REFUSALS, passes, type PayloadQueue } from './queue.js';
import { claimOf, entryOf, snapshotOf } from './replies.js';
import type { LinkStatus } from './status.js';

/** Which parts of a payload a merge takes: the totals Redis holds, the windows of the stream, or both. */
const TOTALS: MergeOptions = { totals: true, windows: false };
const WINDOWS: MergeOptions = { totals: false, windows: true };
const BOTH: MergeOptions = { totals: true, windows: true };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** What the link needs of the hub. */
export interface Joined {
  /** Another receiver's payload. */
  remote(payload: Buffer, parts: MergeOptions): void;
  /** Every total of the view to zero, before the stored totals are read back. */
  zeroTotals(): void;
  /** A claim Redis holds (another receiver's, or one that beat this receiver's). */
  claimed(d: KindDef): void;
}

export interface LoopsOptions {
  origin: string;
  /** How long the stream keeps payloads, ms (the quantile window and a margin). */
  retentionMs: number;
  /** An app's totals outlive its last line by this, s (the series TTL). */
  appTtlS: number;
  log: Logger;
}

export class Loops {
  /** Writes tried again (Redis refused or did not answer). */
  retries = 0;
  stopped = false;
  /** The loops, once started. */
  running: Promise<void>[] = [];
  private readonly writer: Redis & Scripted;
  private readonly reader: Redis;
  private readonly queue: PayloadQueue;
  private readonly status: LinkStatus;
  private readonly o: LoopsOptions;
  private hub: Joined | null = null;
  private lastId = '0-0';
  /** The number of the last stream entry read ({dm}:s:n). */
  private lastN = 0;
  private synced = false;
  /** Bumped by every read of the totals: a stream read begun before one is not merged. */
  private epoch = 0;
  /** The first sync also rebuilds the quantile window from the stream. */
  private rebuilt = false;
  private wake: (() => void) | null = null;

  constructor(writer: Redis & Scripted, reader: Redis, queue: PayloadQueue, status: LinkStatus, o: LoopsOptions) {
    this.writer = writer;
    this.reader = reader;
    this.queue = queue;
    this.status = status;
    this.o = o;
  }

  start(hub: Joined): void {
    this.hub = hub;
    this.running = [this.writeLoop(), this.readLoop()];
  }

  /** Wakes the write loop (a payload queued, Redis ready, a read of the totals asked). */
  nudge(): void {
    this.wake?.();
  }

  /** Reads the stored totals again (the view merged some under a kind that lost). */
  resync(): void {
    this.synced = false;
    this.nudge();
  }

  stop(): void {
    this.stopped = true;
    this.nudge();
  }

  /** The claims a payload's script found held as another kind: [app, name, definition]… */
  private lost(list: string[]): void {
    for (let i = 0; i + 2 < list.length; i += 3) {
      const d = decodeDef(list[i], list[i + 1], list[i + 2]);
      if (d !== null) (this.hub as Joined).claimed(d);
    }
  }

  private async writeLoop(): Promise<void> {
    // Refusals in a row of the payload at the head of the queue.
    let refusals = 0;
    let failures = 0;
    while (!this.stopped) {
      if (this.writer.status !== 'ready' || (this.queue.length === 0 && this.synced)) {
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, 1_000).unref();
        });
        this.wake = null;
        continue;
      }
      let item: Item | undefined;
      try {
        if (!this.synced) await this.sync();
        item = this.queue.head();
        if (item === undefined) continue;
        const lost = await this.writer.dmApply([item.keys.length, ...item.keys, item.args].flat());
        refusals = failures = 0;
        this.status.took(this.retries);
        if (Array.isArray(lost)) this.lost(lost);
        this.queue.remove(item);
      } catch (err) {
        const e = err as Error;
        failures++;
        if (item !== undefined) this.retries++;
        if (e.name !== 'ReplyError') this.status.down(e.message);
        else {
          this.status.refused(e.message);
          // Out of memory, read-only, loading: room or a primary comes back, and the
          // payload waits for it as long as the queue holds. Any other refusal is tried
          // again too, but one that comes back MAX_REFUSALS times for the same payload
          // (a script error, another program's key of the wrong type) would come back
          // for ever and hold every payload behind it: that payload is set aside.
          refusals = passes(e.message) || item === undefined ? 0 : refusals + 1;
          if (refusals >= MAX_REFUSALS && item !== undefined && this.queue.remove(item)) {
            this.queue.dropped++;
            refusals = 0;
            this.o.log.error('redis: payload set aside after repeated refusals: other receivers will not see its lines', { error: e.message, refusals: MAX_REFUSALS, dropped: this.queue.dropped });
            continue;
          }
        }
        await sleep(backoffMs(failures));
      }
    }
  }

  /**
   * Reads the stored totals and the stream position in one script: the view's totals
   * become them plus this receiver's payloads not yet stored. The first time, the
   * stream's windows up to that position rebuild the quantile window.
   */
  private async sync(): Promise<void> {
    const hub = this.hub as Joined;
    const raw = (await this.writer.dmSnapshot(3, STREAM, REQUESTS, APPS, `${P}:a:`, `${P}:d:`, SEQS, this.o.origin)) as [string, string[], ...(string | string[])[]];
    const [id, requestFields, ...appParts] = raw;
    // The stream's last entry id, its number ({dm}:s:n), and the last of this
    // receiver's payloads applied (one whose reply was lost is in the totals already).
    const [lastId, lastN, applied] = id.split(' ');
    this.epoch++;
    const { totals, claims } = snapshotOf(requestFields, appParts, Date.now() / 1000 - staleAfterS(this.o.appTtlS));
    for (const d of claims) hub.claimed(d);
    hub.zeroTotals();
    hub.remote(encodeTotals(totals), TOTALS);
    for (const item of this.queue.items) if (item.seq > Number(applied)) hub.remote(item.payload, TOTALS);
    if (!this.rebuilt) {
      const min = Date.now() - this.o.retentionMs;
      const entries = await this.writer.xrangeBuffer(STREAM, String(min), lastId);
      for (const [, fields] of entries) {
        const e = entryOf(fields);
        if (e !== null && e.origin !== this.o.origin) hub.remote(e.payload, WINDOWS);
      }
      this.rebuilt = true;
    }
    this.lastId = lastId;
    this.lastN = Number(lastN);
    this.synced = true;
    this.status.read(appParts.length / 2);
    this.status.isUp();
  }

  private claimEntry(fields: Buffer[]): void {
    const d = claimOf(fields);
    if (d !== null) (this.hub as Joined).claimed(d);
  }

  private async readLoop(): Promise<void> {
    let failed = false;
    while (!this.stopped) {
      if (!this.synced) {
        await sleep(50);
        continue;
      }
      try {
        if (failed && this.lastId !== '0-0') {
          // Back after trouble: if the stream no longer holds where we were, payloads
          // were trimmed unread, and the totals are read back whole.
          const here = await this.reader.xrange(STREAM, this.lastId, this.lastId);
          failed = false;
          if (here.length === 0) {
            this.o.log.warn('redis: missed payloads while away, reading the totals again');
            this.synced = false;
            this.nudge();
            continue;
          }
        }
        const epoch = this.epoch;
        const got = await this.reader.xreadBuffer('COUNT', 512, 'BLOCK', 1_000, 'STREAMS', STREAM, this.lastId);
        if (got === null || epoch !== this.epoch || !this.synced) continue;
        read: for (const [, entries] of got) {
          for (const [entryId, fields] of entries) {
            const e = entryOf(fields);
            // (An entry without a number comes from a receiver of an earlier version.)
            if (e !== null && !Number.isNaN(e.n) && e.n !== this.lastN + 1) {
              // Entries trimmed before this receiver read them (a flood, or a long
              // pause): their totals are in the hashes, read back whole.
              this.o.log.warn('redis: stream entries trimmed before they were read, reading the totals again', { expected: this.lastN + 1, got: e.n });
              this.synced = false;
              this.nudge();
              break read;
            }
            this.lastId = entryId.toString();
            if (e === null) {
              this.claimEntry(fields);
              continue;
            }
            if (!Number.isNaN(e.n)) this.lastN = e.n;
            if (e.origin !== this.o.origin) (this.hub as Joined).remote(e.payload, BOTH);
          }
        }
      } catch (err) {
        if (this.stopped) return;
        failed = true;
        this.status.down((err as Error).message);
        await sleep(500);
      }
    }
  }
}
