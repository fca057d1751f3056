// RFC 3339 timestamps read straight from bytes: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
// Epoch milliseconds, with the sub-millisecond fraction. No Date, no string.

const ZERO = 0x30;

// Fixed-width fields read unrolled; `(d >>> 0) > 9` rejects anything but a digit
// (bench/ingest.ts end to end: faster than a digit loop per field).
function d2(buf: Buffer, at: number): number {
  const a = buf[at] - ZERO;
  const b = buf[at + 1] - ZERO;
  return (a >>> 0) > 9 || (b >>> 0) > 9 ? -1 : a * 10 + b;
}

function d4(buf: Buffer, at: number): number {
  const hi = d2(buf, at);
  const lo = d2(buf, at + 2);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MS_PER_DAY = 86_400_000;

/** Where a parsed time goes: the caller's reused object. */
export interface TimeHolder {
  time: number;
}

const scratch: TimeHolder = { time: NaN };

/** The timestamp that is exactly buf[start, end), or NaN. */
export function parseTimestamp(buf: Buffer, start: number, end: number): number {
  return readTimestamp(buf, start, end, scratch) === end ? scratch.time : NaN;
}

/**
 * Reads a timestamp at `start`, no further than `limit`, into `out.time`; returns the
 * index just after it, or -1. The end is found by parsing, not by a scan for SP.
 */
export function readTimestamp(buf: Buffer, start: number, limit: number, out: TimeHolder): number {
  const end = limit;
  // The shortest form is 2026-11-22T10:00:01Z (20 bytes).
  if (end - start < 20) return -1;
  const year = d4(buf, start);
  const month = d2(buf, start + 5);
  const day = d2(buf, start + 8);
  const hour = d2(buf, start + 11);
  const min = d2(buf, start + 14);
  const sec = d2(buf, start + 17);
  const t = buf[start + 10];
  if (
    year < 0 || month < 1 || month > 12 || day < 1 || day > 31 ||
    hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60 ||
    buf[start + 4] !== 0x2d || buf[start + 7] !== 0x2d || (t !== 0x54 && t !== 0x74) ||
    buf[start + 13] !== 0x3a || buf[start + 16] !== 0x3a
  ) {
    return -1;
  }
  let i = start + 19;
  let frac = 0;
  if (buf[i] === 0x2e) {
    i++;
    let scale = 100; // first fraction digit is hundreds of milliseconds
    const from = i;
    while (i < end) {
      const d = buf[i] - ZERO;
      if (d < 0 || d > 9) break;
      frac += d * scale;
      scale /= 10;
      i++;
    }
    if (i === from) return -1;
  }
  let offsetMin = 0;
  const z = buf[i];
  if (z === 0x5a || z === 0x7a) {
    i++;
  } else if (z === 0x2b || z === 0x2d) {
    if (end - i < 6 || buf[i + 3] !== 0x3a) return -1;
    const oh = d2(buf, i + 1);
    const om = d2(buf, i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return -1;
    offsetMin = (z === 0x2b ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return -1;
  }
  out.time = daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + min - offsetMin) * 60 + sec) * 1000 + frac;
  return i;
}
