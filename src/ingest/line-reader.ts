// LF-separated lines (text/plain bodies, `tail`), across chunk boundaries. A line
// inside one chunk is handed out as a range of that chunk; only a line that spans
// chunks is copied. A line longer than `maxLine` is skipped and counted, never
// buffered without bound. A trailing CR is dropped.

import type { FrameSink } from './frame-reader.js';

const LF = 0x0a;
const CR = 0x0d;

export class LineReader {
  lines = 0;
  /** Lines longer than maxLine, skipped. */
  longLines = 0;

  private readonly sink: FrameSink;
  private readonly maxLine: number;
  private carry: Buffer;
  private filled = 0;
  /** Inside an over-long line: discard up to the next LF. */
  private skipping = false;

  constructor(sink: FrameSink, maxLine: number) {
    this.sink = sink;
    this.maxLine = maxLine;
    this.carry = Buffer.allocUnsafe(Math.min(maxLine, 64 * 1024));
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      const lf = chunk.indexOf(LF, i);
      const stop = lf === -1 ? n : lf;
      if (this.skipping) {
        if (lf !== -1) this.skipping = false;
      } else if (this.filled === 0 && lf !== -1) {
        if (stop - i > this.maxLine) this.longLines++;
        else this.emit(chunk, i, stop);
      } else {
        this.append(chunk, i, stop);
        if (lf !== -1 && !this.skipping) {
          const len = this.filled;
          this.filled = 0;
          this.emit(this.carry, 0, len);
        } else if (lf !== -1) {
          this.skipping = false;
        }
      }
      i = lf === -1 ? n : lf + 1;
    }
  }

  /** End of input: a last line without LF still counts. */
  end(): void {
    if (this.filled > 0) {
      const len = this.filled;
      this.filled = 0;
      this.emit(this.carry, 0, len);
    }
    this.skipping = false;
  }

  private append(chunk: Buffer, start: number, stop: number): void {
    const need = this.filled + (stop - start);
    if (need > this.maxLine) {
      this.longLines++;
      this.filled = 0;
      this.skipping = true;
      return;
    }
    if (need > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxLine, Math.max(need, this.carry.length * 2)));
      this.carry.copy(grown, 0, 0, this.filled);
      this.carry = grown;
    }
    chunk.copy(this.carry, this.filled, start, stop);
    this.filled = need;
  }

  private emit(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    if (end === start) return; // blank lines are not lines
    this.lines++;
    this.sink.frame(buf, start, end);
  }
}
