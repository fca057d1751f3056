// The bytes receivers exchange (scale/delta.ts): unsigned varints, zigzag varints,
// doubles and length-prefixed UTF-8, in one growing buffer. A Reader that runs past
// the end or meets a malformed varint throws WireError: a payload comes from our
// own processes, so a bad one is a bug or a foreign writer, never ingested. Varints
// and zigzag are src/model/varint.ts's.

import { readVarint, unzigzag, VARINT_TRUNCATED, type VarintCursor, writeVarint, zigzag } from '../model/varint.js';

import { WireError } from '../model/errors.js';
export { WireError };

export class Writer {
  private buf: Buffer;
  private at = 0;

  constructor(size = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  get length(): number {
    return this.at;
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  /** A whole number 0 ≤ n < 2^53. */
  uint(n: number): void {
    this.ensure(8);
    this.at = writeVarint(this.buf, this.at, n);
  }

  /** A whole number of either sign, |n| < 2^52. */
  int(n: number): void {
    this.uint(zigzag(n));
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }

  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.uint(n);
    this.ensure(n);
    this.buf.write(s, this.at, n, 'utf8');
    this.at += n;
  }

  /** Appends what `other` holds; `other` starts again. */
  append(other: Writer): void {
    this.ensure(other.at);
    other.buf.copy(this.buf, this.at, 0, other.at);
    this.at += other.at;
    other.at = 0;
  }

  /** The bytes written, as a copy; the writer starts again. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.at));
    this.at = 0;
    return out;
  }
}

export class Reader implements VarintCursor {
  readonly buf: Buffer;
  /** The next byte to read. */
  pos = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  uint(): number {
    const n = readVarint(this, this.buf.length, 8);
    if (n >= 0) return n;
    throw new WireError(n === VARINT_TRUNCATED ? 'payload cut short' : 'varint too long');
  }

  int(): number {
    return unzigzag(this.uint());
  }

  double(): number {
    if (this.pos + 8 > this.buf.length) throw new WireError('payload cut short');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  string(): string {
    const n = this.uint();
    if (this.pos + n > this.buf.length) throw new WireError('payload cut short');
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}
