// VALUE[UNIT] read straight from bytes (docs/conventions.md): optional sign, digits, optional
// fraction, optional exponent, then a unit made of letters, `%` or `µ` up to the end
// of the value. The decimal is exact: the mantissa is gathered as an integer and
// scaled by one exact power of ten (Clinger's fast path), which is correctly rounded
// while the mantissa is at most 2^53 and the power at most 10^22; anything longer
// falls back to Number() on the digits.

const ZERO = 0x30;
const DOT = 0x2e;
const PLUS = 0x2b;
const MINUS = 0x2d;
const PERCENT = 0x25;

const POW10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POW10.push(p);

export class NumberReader {
  value = 0;
  unitStart = 0;
  unitEnd = 0;
  /** The decimal read: mantissa × 10^exponent, and whether the fast path holds it exactly. */
  private mantissa = 0;
  private exponent = 0;
  private negative = false;
  private exact = false;

  /**
   * The value × 10^-shift, rounded once: `4.2ms` in seconds is 42 ÷ 10^4 = 0.0042,
   * where 4.2 ÷ 1000 would round twice (0.004200000000000001).
   */
  scaled(shift: number): number {
    if (shift === 0) return this.value;
    const e = this.exponent - shift;
    // Past 2^53 the mantissa is inexact already: the result may be 1 ulp off.
    if (!this.exact) return this.value / 10 ** shift;
    const v = e >= -22 && e <= 22 ? (e < 0 ? this.mantissa / POW10[-e] : this.mantissa * POW10[e]) : Number(`${this.mantissa}e${e}`);
    return this.negative ? -v : v;
  }

  /** Reads buf[start, end); false when it is not a finite number with a unit. */
  read(buf: Buffer, start: number, end: number): boolean {
    let i = start;
    let b = buf[i];
    const neg = b === MINUS;
    if (neg || b === PLUS) i++;
    let mant = 0;
    let scale = 0;
    let nd = 0;
    while (i < end) {
      const d = buf[i] - ZERO;
      if (d < 0 || d > 9) break;
      mant = mant * 10 + d;
      nd++;
      i++;
    }
    if (i < end && buf[i] === DOT) {
      i++;
      while (i < end) {
        const d = buf[i] - ZERO;
        if (d < 0 || d > 9) break;
        mant = mant * 10 + d;
        scale--;
        nd++;
        i++;
      }
    }
    if (nd === 0) return false;
    b = buf[i];
    if (i < end && (b === 0x65 || b === 0x45)) {
      // An exponent only when digits follow; otherwise `e` opens the unit (`5em`).
      let j = i + 1;
      const eneg = buf[j] === MINUS;
      if (eneg || buf[j] === PLUS) j++;
      if (j < end && buf[j] >= ZERO && buf[j] <= 0x39) {
        let e = 0;
        while (j < end) {
          const d = buf[j] - ZERO;
          if (d < 0 || d > 9) break;
          if (e < 100_000) e = e * 10 + d;
          j++;
        }
        scale += eneg ? -e : e;
        i = j;
      }
    }
    const numEnd = i;
    this.unitStart = i;
    while (i < end) {
      b = buf[i];
      if ((b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === PERCENT) i++;
      else if ((b === 0xc2 && buf[i + 1] === 0xb5) || (b === 0xce && buf[i + 1] === 0xbc)) i += 2; // µ, μ
      else return false;
    }
    if (i > end) return false;
    this.unitEnd = end;
    let v: number;
    this.mantissa = mant;
    this.exponent = scale;
    this.negative = neg;
    this.exact = mant <= Number.MAX_SAFE_INTEGER;
    if (this.exact && scale >= -22 && scale <= 22) {
      v = scale < 0 ? mant / POW10[-scale] : mant * POW10[scale];
    } else {
      v = Number(buf.toString('latin1', neg || buf[start] === PLUS ? start + 1 : start, numEnd));
    }
    if (v === Infinity || v !== v) return false;
    this.value = neg ? -v : v;
    return true;
  }
}
