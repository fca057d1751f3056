// The bytes receivers exchange (scale/delta.ts): unsigned varints, zigzag varints,
// doubles and length-prefixed UTF-8, in one growing buffer. A Reader that runs past
// the end or meets a malformed varint throws WireError: a payload comes from our
// own processes, so a bad one is a bug or a foreign writer, never ingested.

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
    while (n >= 0x80) {
      this.buf[this.at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.at++] = n;
  }

  /** A whole number of either sign, |n| < 2^52. */
  int(n: number): void {
    this.uint(n < 0 ? -2 * n - 1 : 2 * n);
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

export class Reader {
  private readonly buf: Buffer;
  private at = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  uint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.at >= this.buf.length) throw new WireError('payload cut short');
      const b = this.buf[this.at++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
    throw new WireError('varint too long');
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  double(): number {
    if (this.at + 8 > this.buf.length) throw new WireError('payload cut short');
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }

  string(): string {
    const n = this.uint();
    if (this.at + n > this.buf.length) throw new WireError('payload cut short');
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
}
