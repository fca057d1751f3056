// A logfmt tokenizer that reports positions in the caller's buffer: no string per
// key, no object per pair. Pull-style, like l2met's lpx reader: reset() to a range,
// then next() until false, reading keyStart/keyEnd/valueStart/valueEnd/flags.
//
// Grammar (bytes compared as bytes; only SP separates pairs):
//   pair   = key [ "=" value ]          a key without "=" is BARE
//   key    = 1*( any byte but SP and "=" )
//   value  = quoted / *( any byte but SP )
//   quoted = DQUOTE *( "\" any / any but DQUOTE ) DQUOTE   (range excludes the quotes)
// An unterminated quote runs to the end of the range. Bytes between a closing quote
// and the next SP are ignored. Escapes are left in place and flagged: unescape()
// decodes them for the rare caller that needs the text.

export const QUOTED = 1;
export const ESCAPED = 2;
export const BARE = 4;

const SP = 0x20;
const EQ = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class Tokenizer {
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  flags = 0;

  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;

  reset(buf: Buffer, start: number, end: number): void {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  next(): boolean {
    const buf = this.buf;
    const end = this.end;
    let i = this.pos;
    while (i < end && buf[i] === SP) i++;
    if (i >= end) {
      this.pos = end;
      return false;
    }
    this.keyStart = i;
    let b = 0;
    while (i < end) {
      b = buf[i];
      // Key bytes are mostly letters, above "=": one compare rules them out
      // (bench/ingest.ts tokenizer: measurably faster than two equality tests).
      if (b <= EQ && (b === SP || b === EQ)) break;
      i++;
    }
    this.keyEnd = i;
    if (i >= end || b === SP) {
      this.valueStart = this.valueEnd = i;
      this.flags = BARE;
      this.pos = i;
      return true;
    }
    i++; // "="
    if (i < end && buf[i] === QUOTE) {
      let flags = QUOTED;
      i++;
      this.valueStart = i;
      while (i < end) {
        b = buf[i];
        if (b === QUOTE) break;
        if (b === BACKSLASH) {
          flags = QUOTED | ESCAPED;
          i++;
        }
        i++;
      }
      if (i > end) i = end;
      this.valueEnd = i;
      this.flags = flags;
      while (i < end && buf[i] !== SP) i++; // the closing quote and anything glued to it
    } else {
      this.valueStart = i;
      while (i < end && buf[i] !== SP) i++;
      this.valueEnd = i;
      this.flags = 0;
    }
    this.pos = i;
    return true;
  }
}

/** The text of a value, escapes decoded (`\x` is `x`). Not for the hot path. */
export function valueText(buf: Buffer, start: number, end: number, flags: number): string {
  if ((flags & ESCAPED) === 0) return buf.toString('utf8', start, end);
  const out = Buffer.allocUnsafe(end - start);
  let w = 0;
  for (let i = start; i < end; i++) {
    let b = buf[i];
    if (b === BACKSLASH && i + 1 < end) b = buf[++i];
    out[w++] = b;
  }
  return out.toString('utf8', 0, w);
}
