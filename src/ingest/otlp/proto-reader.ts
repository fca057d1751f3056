// A reader over protobuf bytes for the OTLP walker (proto-decoder.ts): tags, varints,
// lengths and skipped fields, every read bounded by the end of the message it is in.
// Nothing throws: the first error is kept as a message naming its byte (later ones
// are dropped), and the walker's loops stop on it.

import { readVarint, VARINT_TRUNCATED, type VarintCursor } from '../../model/varint.js';

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32', 'type 6', 'type 7'];

/** A walker over protobuf bytes; every read is bounded by `end`, and the first error stays. */
export class Proto implements VarintCursor {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  err: string | null = null;

  fail(why: string): void {
    this.err ??= `${why} at byte ${this.pos}`;
  }

  /** A varint of up to 2^53 (larger values read as their low 53 bits are of no use here). */
  varint(end: number): number {
    const v = readVarint(this, end, 10);
    if (v >= 0) return v;
    this.fail(v === VARINT_TRUNCATED ? 'truncated varint' : 'varint longer than 10 bytes');
    return -1;
  }

  /** The end of a length-delimited field starting at pos, or -1. */
  length(end: number): number {
    const n = this.varint(end);
    if (n < 0) return -1;
    if (n > end - this.pos) {
      this.fail(`length ${n} runs past the end of its message`);
      return -1;
    }
    return this.pos + n;
  }

  /** Skips a field of wire type `wt`; false on error. */
  skip(wt: number, end: number): boolean {
    switch (wt) {
      case 0:
        return this.varint(end) >= 0;
      case 1:
        if (end - this.pos < 8) break;
        this.pos += 8;
        return true;
      case 2: {
        const e = this.length(end);
        if (e < 0) return false;
        this.pos = e;
        return true;
      }
      case 5:
        if (end - this.pos < 4) break;
        this.pos += 4;
        return true;
      default:
        this.fail(`unsupported wire type ${WIRE_NAMES[wt]}`);
        return false;
    }
    this.fail('truncated fixed-width field');
    return false;
  }

  /** Reads a tag; returns it, or -1 (error set) . */
  tag(end: number): number {
    const t = this.varint(end);
    if (t < 0) return -1;
    if (t >>> 3 === 0) {
      this.fail('field number 0');
      return -1;
    }
    return t;
  }

  /** A field the schema says is length-delimited, read with another wire type. */
  wrongType(field: number, wt: number, message: string): void {
    this.fail(`${message} field ${field} has wire type ${WIRE_NAMES[wt]}`);
  }
}
