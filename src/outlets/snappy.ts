// Snappy block compression (the framing-less format remote write uses), a small
// greedy compressor after the reference one: 64 KB fragments, a hash of the next four
// bytes finds an earlier occurrence, matches become copies, the rest literals.
// Written here rather than taken from npm: `snappy` is a native addon (a binary per
// platform to install), `snappyjs` is unmaintained since 2021, and the format is one
// page of the snappy description. test/outlets/snappy.test.ts decodes our output with
// snappyjs, and the remote-write tests with a real Prometheus. The block's length in
// front is a varint (src/model/varint.ts).

import { varintSize, writeVarint } from '../model/varint.js';

const FRAGMENT = 1 << 16;
const HASH_BITS = 14;

function literal(out: Buffer, at: number, src: Buffer, start: number, end: number): number {
  const n = end - start - 1;
  if (n < 0) return at;
  if (n < 60) out[at++] = n << 2;
  else if (n < 0x100) (out[at++] = 60 << 2), (out[at++] = n);
  else if (n < 0x10000) (out[at++] = 61 << 2), (out[at++] = n & 0xff), (out[at++] = n >>> 8);
  else if (n < 0x1000000) (out[at++] = 62 << 2), (out[at++] = n & 0xff), (out[at++] = (n >>> 8) & 0xff), (out[at++] = n >>> 16);
  else (out[at++] = 63 << 2), out.writeUInt32LE(n, at), (at += 4);
  // Short literals byte by byte: Buffer.copy costs more than it moves below ~64 bytes.
  if (end - start < 64) {
    for (let k = start; k < end; k++) out[at++] = src[k];
    return at;
  }
  src.copy(out, at, start, end);
  return at + (end - start);
}

function copy(out: Buffer, at: number, offset: number, len: number): number {
  while (len >= 68) {
    (out[at++] = 2 | (63 << 2)), (out[at++] = offset & 0xff), (out[at++] = offset >>> 8);
    len -= 64;
  }
  if (len > 64) {
    (out[at++] = 2 | (59 << 2)), (out[at++] = offset & 0xff), (out[at++] = offset >>> 8);
    len -= 60;
  }
  if (len >= 12 || offset >= 2048) {
    (out[at++] = 2 | ((len - 1) << 2)), (out[at++] = offset & 0xff), (out[at++] = offset >>> 8);
  } else {
    (out[at++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5)), (out[at++] = offset & 0xff);
  }
  return at;
}

const table = new Int32Array(1 << HASH_BITS);

/** A compressed piece: snappy's elements for `length` bytes, without the length in front. */
export interface SnappyPiece {
  elements: Buffer;
  length: number;
}

/**
 * The elements of `src` compressed. Copies only reach back within the piece, so
 * pieces put one after another decode to their inputs one after another:
 * snappyBlock() joins them without compressing again.
 */
export function snappyPiece(src: Buffer): SnappyPiece {
  const n = src.length;
  const out = Buffer.allocUnsafe(32 + n + Math.ceil(n / 6));
  let at = 0;
  for (let frag = 0; frag < n; frag += FRAGMENT) {
    const end = Math.min(n, frag + FRAGMENT);
    table.fill(-1);
    let i = frag;
    let lit = frag;
    // The reference's match skipping: after 32 misses in a row, step 2 bytes, after
    // 64, 3… so input that does not compress is passed over quickly.
    let skip = 32;
    while (i + 4 <= end) {
      const word = src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24);
      const h = Math.imul(word, 0x1e35a7bd) >>> (32 - HASH_BITS);
      const cand = table[h];
      table[h] = i;
      if (cand >= frag && (src[cand] | (src[cand + 1] << 8) | (src[cand + 2] << 16) | (src[cand + 3] << 24)) === word) {
        at = literal(out, at, src, lit, i);
        let len = 4;
        while (i + len < end && src[cand + len] === src[i + len]) len++;
        at = copy(out, at, i - cand, len);
        i += len;
        lit = i;
        skip = 32;
      } else {
        i += skip++ >> 5;
      }
    }
    at = literal(out, at, src, lit, end);
  }
  return { elements: Buffer.from(out.subarray(0, at)), length: n };
}

/** One snappy block of the pieces' inputs, in order: their total length, then their elements. */
export function snappyBlock(pieces: readonly SnappyPiece[]): Buffer {
  let total = 0;
  for (const p of pieces) total += p.length;
  const head = Buffer.allocUnsafe(varintSize(total));
  writeVarint(head, 0, total);
  return Buffer.concat([head, ...pieces.map((p) => p.elements)]);
}

/** The snappy block encoding of `src`. */
export function snappyCompress(src: Buffer): Buffer {
  return snappyBlock([snappyPiece(src)]);
}
