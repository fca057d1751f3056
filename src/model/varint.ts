// Varints (base-128, least significant group first, the high bit set on every byte but
// the last) and zigzag, as protobuf and our own payloads write them: the one codec the
// OTLP walker (ingest), the push encoders and snappy (outlets) and the receivers'
// payloads (scale/wire.ts) share. It lives in src/model, the folder every layer already
// imports, so no layer gains an arrow and none points up.
//
// Whole numbers below 2^53 only, kept as doubles (`% 0x80`, `/ 0x80`: no 32-bit
// truncation). Nothing here allocates or throws: a writer returns where it stopped,
// a reader returns a value or a negative code, and the caller decides what an error
// is (data in the walker, WireError in scale/wire.ts).

/** Where a reader is: the bytes and the position of the next one (advanced by readVarint). */
export interface VarintCursor {
  buf: Buffer;
  pos: number;
}

/** readVarint: the bytes ran out (at `end`) before the varint's last byte. */
export const VARINT_TRUNCATED = -1;
/** readVarint: `maxBytes` bytes read and the varint goes on. */
export const VARINT_TOO_LONG = -2;

/** The bytes the varint of `n` takes (1 to 8 below 2^53). */
export function varintSize(n: number): number {
  let size = 1;
  for (; n >= 0x80; n = Math.floor(n / 0x80)) size++;
  return size;
}

/** Writes the varint of 0 ≤ n < 2^53 at `at`; returns the position after it. The caller makes room (8 bytes). */
export function writeVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[at++] = n;
  return at;
}

/**
 * Reads a varint at `c.pos`, of at most `maxBytes` bytes, none at or past `end`;
 * returns it, or VARINT_TRUNCATED / VARINT_TOO_LONG. `c.pos` moves past every byte
 * read, on error too. A varint longer than 8 bytes reads as a double (its low bits
 * lost past 2^53).
 */
export function readVarint(c: VarintCursor, end: number, maxBytes: number): number {
  const buf = c.buf;
  let v = 0;
  let mul = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (c.pos >= end) return VARINT_TRUNCATED;
    const b = buf[c.pos++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v;
    mul *= 0x80;
  }
  return VARINT_TOO_LONG;
}

/** A whole number of either sign, |n| < 2^52, as zigzag's unsigned one (0, -1, 1, -2 … → 0, 1, 2, 3 …). */
export function zigzag(n: number): number {
  return n < 0 ? -2 * n - 1 : 2 * n;
}

/** The signed number of a zigzag varint's value. */
export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}
