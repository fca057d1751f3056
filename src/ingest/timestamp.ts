// RFC 3339 timestamps read straight from bytes: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
// Returns epoch milliseconds (with sub-millisecond fraction), or NaN when the bytes
// are not such a timestamp. No Date, no string.

const ZERO = 0x30;

function digits(buf: Buffer, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const d = buf[i] - ZERO;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
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

export function parseTimestamp(buf: Buffer, start: number, end: number): number {
  // The shortest form is 2026-11-22T10:00:01Z (20 bytes).
  if (end - start < 20) return NaN;
  const year = digits(buf, start, 4);
  const month = digits(buf, start + 5, 2);
  const day = digits(buf, start + 8, 2);
  const hour = digits(buf, start + 11, 2);
  const min = digits(buf, start + 14, 2);
  const sec = digits(buf, start + 17, 2);
  const t = buf[start + 10];
  if (
    year < 0 || month < 1 || month > 12 || day < 1 || day > 31 ||
    hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60 ||
    buf[start + 4] !== 0x2d || buf[start + 7] !== 0x2d || (t !== 0x54 && t !== 0x74) ||
    buf[start + 13] !== 0x3a || buf[start + 16] !== 0x3a
  ) {
    return NaN;
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
    if (i === from) return NaN;
  }
  let offsetMin = 0;
  const z = buf[i];
  if (z === 0x5a || z === 0x7a) {
    i++;
  } else if (z === 0x2b || z === 0x2d) {
    if (end - i < 6 || buf[i + 3] !== 0x3a) return NaN;
    const oh = digits(buf, i + 1, 2);
    const om = digits(buf, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMin = (z === 0x2b ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return NaN;
  }
  if (i !== end) return NaN;
  const days = daysFromCivil(year, month, day);
  return days * MS_PER_DAY + ((hour * 60 + min - offsetMin) * 60 + sec) * 1000 + frac;
}
