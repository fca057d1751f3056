// Receivers joined through Redis (docs/scale-out.md); the keys are in keys.ts.
//
// One script adds a payload to the stream and its totals to the hashes at once, and
// only once: an origin (instance and boot) numbers its payloads, and a number already
// applied is skipped, so a payload re-sent after a lost reply never counts twice.
// A receiver shows its own payloads as it makes them and others' as it reads the
// stream; at start it reads the hashes and the stream position in one script, then
// the stream's windows up to there. It reads the stream entries in their numbered
// order: a gap (entries trimmed before it read them) reads the totals back whole.
//
// Redis is a budget every app shares (docs/scale-out.md, "Redis as a shared budget").
// Redis trouble never stops a drain and a refusal never loses a payload: payloads wait
// in a queue bounded in bytes (QUEUE_BYTES; past it the oldest are dropped, counted
// and logged) and are tried again with backoff whatever Redis answered (out of
// memory, read-only, loading, any error); only a payload refused MAX_REFUSALS times
// with an error that room cannot cure is set aside (counted, logged). Frame-Id claims
// give up after CLAIM_TIMEOUT_MS and fall back to this receiver's memory, and the
// link reconnects by itself. drainmeter_redis_up says which. Until the first read of
// the totals (or START_TIMEOUT_MS without Redis) the receiver is not ready.
//
// The parts: scripts.ts (the Lua), connections.ts, queue.ts (the payloads waiting,
// their backoff), apply-args.ts (a payload as APPLY's arguments), loops.ts (writing
// and reading), replies.ts (what Redis answers, as data), claims.ts (Frame-Ids and
// kinds), status.ts (up and ready).

import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import type { TotalsVisitor } from '../delta.js';
import type { KindDef } from '../kinds.js';
import { ApplyArgs } from './apply-args.js';
import { Claims } from './claims.js';
import { connect, type Scripted } from './connections.js';
import { type Joined, Loops, sleep } from './loops.js';
import { PayloadQueue, QUEUE_BYTES } from './queue.js';
import { STREAM_BYTES } from './scripts.js';
import { LinkStatus } from './status.js';

export interface RedisLinkOptions {
  url: string;
  /** This receiver, for logs (DRAINMETER_INSTANCE). */
  instance: string;
  /** How long the stream keeps payloads, ms (the quantile window and a margin). */
  retentionMs: number;
  /** An app's totals outlive its last line by this, s (the series TTL). */
  appTtlS: number;
  /** Payloads the stream holds, at most, bytes; default STREAM_BYTES. */
  streamBytes?: number;
  log: Logger;
}

export class RedisLink {
  readonly origin: string;
  readonly visitor: TotalsVisitor;
  private readonly writer: Redis & Scripted;
  private readonly reader: Redis;
  private readonly claims: Claims;
  private readonly o: RedisLinkOptions;
  private readonly queue = new PayloadQueue();
  private readonly status: LinkStatus;
  private readonly loops: Loops;
  private readonly args = new ApplyArgs();
  private seq = 0;

  constructor(o: RedisLinkOptions) {
    this.o = o;
    this.origin = `${o.instance}:${randomBytes(4).toString('hex')}`;
    const c = connect(o.url, o.streamBytes ?? STREAM_BYTES);
    this.writer = c.writer;
    this.reader = c.reader;
    this.status = new LinkStatus(o.log, this.origin, this.queue);
    this.claims = new Claims(c.claims, this.origin, o.appTtlS, this.status);
    this.loops = new Loops(c.writer, c.reader, this.queue, this.status, { origin: this.origin, retentionMs: o.retentionMs, appTtlS: o.appTtlS, log: o.log });
    this.writer.on('ready', () => this.loops.nudge());
    this.writer.on('close', () => this.status.down('connection closed'));
    this.visitor = this.args.visitor;
  }

  /** Reachable and answering: drainmeter_redis_up. */
  get up(): boolean {
    return this.status.up;
  }

  /** The view holds the global totals read from Redis (false until the first read). */
  get totalsRead(): boolean {
    return this.status.totalsRead;
  }

  /** Ready: the totals were read, or START_TIMEOUT_MS passed without them. */
  get ready(): boolean {
    return this.status.ready;
  }

  /** Payloads dropped: the queue was full, or set aside after MAX_REFUSALS refusals. */
  get dropped(): number {
    return this.queue.dropped;
  }

  /** Writes tried again (Redis refused or did not answer). */
  get retries(): number {
    return this.loops.retries;
  }

  /** Frame-Ids decided by this receiver's memory alone: their app's share (or the total) in Redis was full. */
  get frameIdsLocal(): number {
    return this.claims.frameIdsLocal;
  }

  start(hub: Joined): void {
    this.loops.start(hub);
    this.status.bound(() => this.loops.stopped);
  }

  /** Why this receiver is not ready yet (healthz and /metrics answer 503), or null. */
  starting(): string | null {
    return this.status.starting();
  }

  /** Queues the payload the visitor just saw, for every other receiver. */
  send(payload: Buffer): void {
    this.queue.push(this.args.take(this.origin, ++this.seq, payload, this.o.retentionMs, this.o.appTtlS));
    while (this.queue.bytes > QUEUE_BYTES && this.queue.length > 1) {
      this.queue.dropOldest();
      this.status.warn('full', 'redis: queue full, oldest payload dropped: other receivers will not see its lines', { queue_bytes: this.queue.bytes, dropped: this.queue.dropped });
    }
    this.loops.nudge();
  }

  /** Forgets what the visitor saw of a payload that was refused. */
  discard(): void {
    this.args.discard();
  }

  /**
   * True when no receiver accepted this batch id for the app in the last 10 minutes;
   * true also when Redis cannot tell in time or keeps no more of the app's ids (this
   * receiver's memory has decided already).
   */
  claim(app: string, id: string): Promise<boolean> {
    return this.claims.claim(app, id);
  }

  /**
   * Claims a name for an app (scale/kinds.ts); resolves with the claim Redis holds, null
   * when Redis cannot tell in time (the payload's script decides then).
   */
  claimKind(d: KindDef): Promise<KindDef | null> {
    return this.claims.claimKind(d);
  }

  /** Reads the stored totals again (the view merged some under a kind that lost). */
  resync(): void {
    this.loops.resync();
  }

  get pending(): number {
    return this.queue.length;
  }

  get pendingBytes(): number {
    return this.queue.bytes;
  }

  async stop(deadline: number): Promise<void> {
    while (this.queue.length > 0 && this.status.up && Date.now() < deadline) await sleep(20);
    this.loops.stop();
    if (this.queue.length > 0) this.o.log.warn('redis: payloads not sent by shutdown', { payloads: this.queue.length });
    this.reader.disconnect();
    await Promise.race([Promise.allSettled(this.loops.running), sleep(Math.max(0, deadline - Date.now()))]);
    this.writer.disconnect();
    this.claims.disconnect();
  }
}
