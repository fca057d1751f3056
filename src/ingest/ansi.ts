// Terminal colour codes, as `heroku logs -t` prints them, removed into a scratch
// buffer (the caller's bytes are never changed). Only lines that hold an ESC pay.

const ESC = 0x1b;
const LBRACKET = 0x5b;

/**
 * Finds ESC bytes in a buffer read line after line in increasing order. It remembers
 * where the next ESC is, so a buffer of N lines costs one native scan, not N scans
 * each to the buffer's end.
 */
export class EscapeFinder {
  private buf: Buffer | null = null;
  private last = -1;
  private next = -1;

  /** True when buf[start, end) holds an ESC byte. Each line is asked about once. */
  within(buf: Buffer, start: number, end: number): boolean {
    // A start at or before the last one means new bytes in a reused buffer.
    if (buf !== this.buf || start <= this.last || (this.next !== -1 && this.next < start)) {
      this.buf = buf;
      this.next = buf.indexOf(ESC, start);
    }
    this.last = start;
    return this.next !== -1 && this.next < end;
  }
}

/**
 * Copies `buf[start, end)` into `out` without ANSI escape sequences (CSI
 * `ESC [ params final` and two-byte `ESC x`); returns the bytes written.
 * `out` must hold at least `end - start` bytes.
 */
export function stripAnsi(buf: Buffer, start: number, end: number, out: Buffer): number {
  let w = 0;
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b !== ESC) {
      out[w++] = b;
      i++;
      continue;
    }
    i++;
    if (i < end && buf[i] === LBRACKET) {
      i++;
      // parameter and intermediate bytes, then one final byte in 0x40–0x7e
      while (i < end && (buf[i] < 0x40 || buf[i] > 0x7e)) i++;
      i++;
    } else {
      i++;
    }
  }
  return w;
}
