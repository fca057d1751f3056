// Octet-counted frames (RFC 6587 §3.4.1): `MSG-LEN SP SYSLOG-MSG`, back to back.
// A state machine over bytes, so a frame split anywhere between two chunks reads
// the same as a whole one. It never throws: a malformed length is counted, and the
// reader resynchronises after the next LF (every logplex message ends in one).

/** Receives each frame as a range of a buffer it must not keep after the call. */
export interface FrameSink {
  frame(buf: Buffer, start: number, end: number): void;
}

export type FrameErrorCode = 'FRAME_BAD_LENGTH' | 'FRAME_TOO_LONG' | 'FRAME_TRUNCATED';

const LEN = 0; // reading MSG-LEN digits
const BODY = 1; // copying a frame that crosses a chunk boundary into `carry`
const SKIP = 2; // after a bad length: discarding up to and including the next LF

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const ZERO = 0x30;
const NINE = 0x39;

export class FrameReader {
  /** Frames handed to the sink. */
  frames = 0;
  /** Frames skipped: bad or oversized lengths, and a truncated last frame. */
  badFrames = 0;
  /** The first error met; it stays set for the life of the reader. */
  err: FrameErrorCode | null = null;

  private readonly sink: FrameSink;
  private readonly maxFrame: number;
  private state = LEN;
  private len = 0;
  private digits = 0;
  private carry: Buffer = Buffer.alloc(0);
  private filled = 0;

  constructor(sink: FrameSink, maxFrame: number) {
    this.sink = sink;
    this.maxFrame = maxFrame;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.state === LEN) {
        const b = chunk[i];
        if (b >= ZERO && b <= NINE && (this.digits > 0 || b !== ZERO)) {
          this.len = this.len * 10 + (b - ZERO);
          this.digits++;
          i++;
          if (this.len > this.maxFrame) this.fail('FRAME_TOO_LONG');
        } else if (b === SP && this.digits > 0) {
          i++;
          const len = this.len;
          this.len = 0;
          this.digits = 0;
          if (n - i >= len) {
            // The whole frame is in this chunk: hand out the range, no copy.
            this.frames++;
            this.sink.frame(chunk, i, i + len);
            i += len;
          } else {
            if (this.carry.length < len) this.carry = Buffer.allocUnsafe(len);
            this.len = len;
            this.filled = 0;
            this.state = BODY;
          }
        } else if (this.digits === 0 && (b === LF || b === CR)) {
          i++; // a stray line break between frames is tolerated, not counted
        } else {
          this.fail('FRAME_BAD_LENGTH');
        }
      } else if (this.state === BODY) {
        const take = Math.min(this.len - this.filled, n - i);
        chunk.copy(this.carry, this.filled, i, i + take);
        this.filled += take;
        i += take;
        if (this.filled === this.len) {
          this.state = LEN;
          this.len = 0;
          this.frames++;
          this.sink.frame(this.carry, 0, this.filled);
        }
      } else {
        const lf = chunk.indexOf(LF, i);
        if (lf === -1) {
          i = n;
        } else {
          i = lf + 1;
          this.state = LEN;
        }
      }
    }
  }

  /** The body is complete: a frame still open is truncated. */
  end(): void {
    if (this.state === BODY || (this.state === LEN && this.digits > 0)) {
      this.badFrames++;
      if (this.err === null) this.err = 'FRAME_TRUNCATED';
    }
    this.state = LEN;
    this.len = 0;
    this.digits = 0;
  }

  private fail(code: FrameErrorCode): void {
    this.badFrames++;
    if (this.err === null) this.err = code;
    this.state = SKIP;
    this.len = 0;
    this.digits = 0;
  }
}
