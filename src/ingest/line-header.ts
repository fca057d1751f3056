// The header in front of a log message, in the three shapes drainmeter reads
// (docs/conventions.md). Fills one reused LineHeader with ranges over the caller's buffer.
//
//   RFC 5424 (logplex, log-shuttle):  <PRI>1 TIMESTAMP HOST APPNAME PROCID MSGID [SD] MESSAGE
//   `heroku logs -t`:                 TIMESTAMP APPNAME[PROCID]: MESSAGE
//   bare logfmt:                      MESSAGE (its time is the arrival time)

import { readTimestamp } from './timestamp.js';

export const FORMAT_BARE = 0;
export const FORMAT_SYSLOG = 1;
export const FORMAT_CLI = 2;

const SP = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const LT = 0x3c;
const GT = 0x3e;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

export class LineHeader {
  format = FORMAT_BARE;
  /** Epoch ms from the header, NaN when the line carries none (use arrival time). */
  time = NaN;
  /** A timestamp was present but could not be read. */
  badTime = false;
  appStart = 0;
  appEnd = 0;
  procStart = 0;
  procEnd = 0;
  msgStart = 0;
  msgEnd = 0;

  reset(start: number, end: number): void {
    this.format = FORMAT_BARE;
    this.time = NaN;
    this.badTime = false;
    this.appStart = this.appEnd = this.procStart = this.procEnd = start;
    this.msgStart = start;
    this.msgEnd = end;
  }
}

function trimEnd(buf: Buffer, start: number, end: number): number {
  while (end > start && (buf[end - 1] === LF || buf[end - 1] === CR)) end--;
  return end;
}

// Searches here are bounded loops, not buf.indexOf: indexOf cannot stop at `end`,
// and a miss inside a short line would scan the rest of the body (quadratic).

/** The index of the first `byte` in [i, end), or `end`. */
function find(buf: Buffer, byte: number, i: number, end: number): number {
  while (i < end && buf[i] !== byte) i++;
  return i;
}

/** The index of the next SP at or after `i`, or `end`. */
function token(buf: Buffer, i: number, end: number): number {
  return find(buf, SP, i, end);
}

/** Reads the TIMESTAMP token at `start` into h; returns the index of the SP after it (or end). */
function readTime(buf: Buffer, start: number, end: number, h: LineHeader): number {
  const after = readTimestamp(buf, start, end, h);
  if (after !== -1 && (after === end || buf[after] === SP)) return after;
  h.time = NaN;
  const sp = token(buf, start, end);
  h.badTime = !(sp - start === 1 && buf[start] === DASH); // `-` is NILVALUE: no time given
  return sp;
}

/** Skips RFC 5424 SD-ELEMENTs (`[id k="v"]…`) from `i`; returns the index after them, or -1. */
function skipStructuredData(buf: Buffer, i: number, end: number): number {
  while (i < end && buf[i] === LBRACKET) {
    let quoted = false;
    i++;
    while (i < end) {
      const b = buf[i];
      if (quoted && b === BACKSLASH) i++;
      else if (b === QUOTE) quoted = !quoted;
      else if (b === RBRACKET && !quoted) break;
      i++;
    }
    if (i >= end) return -1;
    i++;
  }
  return i;
}

/** RFC 5424. Returns false (leaving h as a bare line) when the bytes are not that shape. */
export function parseSyslog(buf: Buffer, start: number, end: number, h: LineHeader): boolean {
  end = trimEnd(buf, start, end);
  h.reset(start, end);
  if (buf[start] !== LT) return false;
  const gt = find(buf, GT, start, Math.min(end, start + 5));
  if (gt === Math.min(end, start + 5) || gt === start + 1) return false;
  let i = token(buf, gt + 1, end); // VERSION
  if (i === end) return false;
  const tsEnd = readTime(buf, i + 1, end, h);
  const hostEnd = token(buf, tsEnd + 1, end);
  const appStart = hostEnd + 1;
  const appEnd = token(buf, appStart, end);
  const procStart = appEnd + 1;
  const procEnd = token(buf, procStart, end);
  const msgIdEnd = token(buf, procEnd + 1, end);
  if (procEnd >= end) {
    h.reset(start, end);
    return false;
  }
  i = msgIdEnd + 1;
  // STRUCTURED-DATA: Heroku leaves it out; log-shuttle and RFC senders put `-`.
  if (i < end && buf[i] === DASH && (i + 1 === end || buf[i + 1] === SP)) {
    i += 2;
  } else if (i < end && buf[i] === LBRACKET) {
    // Heroku sends no structured data, so a `[` that opens no well-formed SD-ELEMENT
    // (`[ERROR count#x=1`) is the message's own text, not a broken frame.
    const after = skipStructuredData(buf, i, end);
    if (after !== -1) i = after + 1;
  }
  if (i > end) i = end;
  // A UTF-8 BOM may open MSG (RFC 5424 §6.4).
  if (end - i >= 3 && buf[i] === 0xef && buf[i + 1] === 0xbb && buf[i + 2] === 0xbf) i += 3;
  h.format = FORMAT_SYSLOG;
  h.appStart = appStart;
  h.appEnd = appEnd;
  h.procStart = procStart;
  h.procEnd = procEnd;
  h.msgStart = i;
  return true;
}

/** `heroku logs -t`: `TIMESTAMP app[web.1]: MESSAGE`; a timestamp alone before MESSAGE also counts. */
function parseCli(buf: Buffer, start: number, end: number, h: LineHeader): boolean {
  const tsEnd = readTimestamp(buf, start, end, h);
  if (tsEnd === -1 || (tsEnd < end && buf[tsEnd] !== SP)) {
    h.time = NaN;
    return false;
  }
  h.format = FORMAT_CLI;
  const tagStart = tsEnd + 1;
  const tagEnd = token(buf, tagStart, end);
  // APPNAME[PROCID]:
  if (tagEnd - tagStart >= 4 && buf[tagEnd - 1] === COLON && buf[tagEnd - 2] === RBRACKET) {
    const lb = find(buf, LBRACKET, tagStart, tagEnd - 2);
    if (lb < tagEnd - 2) {
      h.appStart = tagStart;
      h.appEnd = lb;
      h.procStart = lb + 1;
      h.procEnd = tagEnd - 2;
      h.msgStart = tagEnd < end ? tagEnd + 1 : end;
      return true;
    }
  }
  h.msgStart = tagStart < end ? tagStart : end;
  return true;
}

/** Any line of docs/conventions.md, detected by its first byte: `<` syslog, a digit a timestamp, else bare. */
export function parseAnyLine(buf: Buffer, start: number, end: number, h: LineHeader): void {
  end = trimEnd(buf, start, end);
  const b = buf[start];
  if (b === LT && parseSyslog(buf, start, end, h)) return;
  h.reset(start, end);
  if (b >= 0x30 && b <= 0x39) parseCli(buf, start, end, h);
}
