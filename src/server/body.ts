// A request body as the Buffer chunks it arrived in (no copy into one ArrayBuffer),
// up to a limit, gzip decoded as it streams (docs/http-api.md: the limit holds for the decoded
// bytes too, so a zip bomb stops at the limit). From the Node request when the server
// is @hono/node-server; from the web stream otherwise (app.request() in tests).
// Nothing is parsed until the body is complete, so a body cut off or refused is never
// counted in part.
//
// The bytes a body holds are charged as they are kept (docs/limits.md): each decoded
// chunk grows the body's hold on the in-flight budget, so a gzip body is charged what
// it inflates to, not the few bytes it declared, and one that would pass its app's
// share or the total stops there ('over_share', 'over_total'), its chunks dropped.
//
// A body read from a socket registers itself in a BodyReads set: the server's tick
// stops reads that fall below the minimum rate (a slow body holds its bytes of the
// in-flight budget), with one timer for all of them rather than one a request.

import type { IncomingMessage } from 'node:http';
import { createGunzip, type Gunzip } from 'node:zlib';

export type Body = { chunks: Buffer[]; size: number } | 'too_large' | 'aborted' | 'bad_gzip' | 'too_slow' | 'over_share' | 'over_total';

/**
 * What an inflater holds besides its output: zlib's 32 KiB window, its state and
 * Node's 16 KiB output chunk, rounded up. Charged for every gzip body being read.
 */
export const GZIP_STATE_BYTES = 64 * 1024;

/** Grows a body's charge to `bytes` in all; why not, or null when charged. */
export type HoldBytes = (bytes: number) => 'share' | 'total' | null;

/** Bodies must arrive at this rate on average, bytes/s, once MIN_RATE_AFTER_MS has passed. */
export const MIN_BODY_RATE = 16 * 1024;
export const MIN_RATE_AFTER_MS = 5_000;

/** One body being read from a socket. */
export class BodyRead {
  readonly start: number;
  /** Bytes received on the wire (before decoding). */
  received = 0;
  /** The declared length, when given: a read that has it all is not slow. */
  readonly declared: number;
  stop: (why: 'too_slow') => void = () => {};

  constructor(start: number, declared: number) {
    this.start = start;
    this.declared = declared;
  }

  /** True when the body arrives more slowly than MIN_BODY_RATE allows by `now`. */
  slow(now: number): boolean {
    const elapsed = now - this.start;
    return elapsed > MIN_RATE_AFTER_MS && this.received < (elapsed / 1000) * MIN_BODY_RATE && this.received < this.declared;
  }
}

/** The bodies being read; check() stops the slow ones. */
export class BodyReads {
  private readonly reads = new Set<BodyRead>();

  add(r: BodyRead): void {
    this.reads.add(r);
  }

  delete(r: BodyRead): void {
    this.reads.delete(r);
  }

  check(now: number): void {
    for (const r of this.reads) if (r.slow(now)) r.stop('too_slow');
  }

  get size(): number {
    return this.reads.size;
  }
}

/** Collects decoded chunks up to `max` bytes, each charged through `hold` as it is kept. */
class Sink {
  readonly chunks: Buffer[] = [];
  size = 0;
  failed: 'too_large' | 'bad_gzip' | 'over_share' | 'over_total' | null = null;
  private readonly max: number;
  private readonly hold: HoldBytes | null;
  /** Charged beyond the kept bytes: the inflater's state. */
  private readonly extra: number;
  private readonly gunzip: Gunzip | null;
  private readonly ended: Promise<void> | null;
  /** Told when decoding fails between two wire chunks (the inflater works on its own time). */
  onFail: () => void = () => {};
  private closed = false;

  constructor(max: number, gzip: boolean, hold: HoldBytes | null) {
    this.max = max;
    this.hold = hold;
    this.extra = gzip ? GZIP_STATE_BYTES : 0;
    this.gunzip = gzip ? createGunzip() : null;
    const g = this.gunzip;
    this.ended =
      g === null
        ? null
        : new Promise<void>((resolve) => {
            g.on('data', (d: Buffer) => this.keep(d));
            g.on('error', () => {
              if (this.failed === null) {
                this.failed = 'bad_gzip';
                this.onFail();
              }
              resolve();
            });
            g.on('end', resolve);
            g.on('close', resolve);
          });
  }

  push(chunk: Buffer): void {
    if (this.failed !== null) return;
    if (this.gunzip === null) this.keep(chunk);
    else this.gunzip.write(chunk);
  }

  async end(): Promise<void> {
    if (this.gunzip === null || this.failed !== null) return;
    this.gunzip.end();
    await this.ended;
  }

  /** Drops what was kept and the inflater: the read ended without this body. */
  discard(): void {
    this.closed = true;
    this.chunks.length = 0;
    this.gunzip?.destroy();
  }

  private keep(d: Buffer): void {
    if (this.failed !== null || this.closed) return;
    this.size += d.length;
    if (this.size > this.max) return this.fail('too_large');
    const refused = this.hold === null ? null : this.hold(this.size + this.extra);
    if (refused !== null) return this.fail(refused === 'share' ? 'over_share' : 'over_total');
    this.chunks.push(d);
  }

  private fail(why: 'too_large' | 'over_share' | 'over_total'): void {
    this.failed = why;
    this.chunks.length = 0;
    this.gunzip?.destroy();
    this.onFail();
  }

  result(): Body {
    return this.failed ?? { chunks: this.chunks, size: this.size };
  }
}

export interface BodyOptions {
  max: number;
  gzip: boolean;
  /** Where a socket read registers, and the clock it is judged by. */
  reads?: BodyReads;
  now?: () => number;
  declared?: number;
  /** Charges the bytes kept as they arrive (the in-flight budget). */
  hold?: HoldBytes;
}

export function readBody(incoming: IncomingMessage | undefined, web: ReadableStream<Uint8Array> | null, o: BodyOptions): Promise<Body> {
  return incoming !== undefined ? fromSocket(incoming, o) : fromWeb(web, o);
}

function fromSocket(incoming: IncomingMessage, o: BodyOptions): Promise<Body> {
  const sink = new Sink(o.max, o.gzip, o.hold ?? null);
  const read = new BodyRead((o.now ?? Date.now)(), o.declared ?? Infinity);
  return new Promise<Body>((resolve) => {
    let done = false;
    const finish = (result: Body | null) => {
      if (done) return;
      done = true;
      o.reads?.delete(read);
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onAbort);
      incoming.off('close', onClose);
      if (result !== null) {
        sink.discard();
        resolve(result);
      } else sink.end().then(() => resolve(sink.result()));
    };
    const onData = (chunk: Buffer) => {
      read.received += chunk.length;
      // The wire bytes are bounded too: a gzip body larger than the limit is refused unread.
      if (read.received > o.max) return finish('too_large');
      sink.push(chunk);
      if (sink.failed !== null) finish(sink.failed);
    };
    const onEnd = () => finish(incoming.complete ? null : 'aborted');
    const onAbort = () => finish('aborted');
    // A client that went away mid-body ends the stream without an error on some paths.
    const onClose = () => finish(incoming.complete ? null : 'aborted');
    sink.onFail = () => {
      incoming.pause();
      finish(sink.failed);
    };
    read.stop = (why) => {
      incoming.pause();
      finish(why);
    };
    o.reads?.add(read);
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onAbort);
    incoming.on('close', onClose);
  });
}

async function fromWeb(web: ReadableStream<Uint8Array> | null, o: BodyOptions): Promise<Body> {
  const sink = new Sink(o.max, o.gzip, o.hold ?? null);
  if (web === null) return sink.result();
  const reader = web.getReader();
  let wire = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      wire += value.byteLength;
      sink.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      if (wire > o.max || sink.failed !== null) {
        await reader.cancel();
        return wire > o.max ? 'too_large' : (sink.failed as Body);
      }
    }
  } catch {
    return 'aborted';
  }
  await sink.end();
  return sink.result();
}
