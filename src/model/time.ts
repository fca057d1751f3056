// Instants, branded by unit. Line times and the clock are epoch milliseconds; window
// starts, close seconds and TTL cutoffs are epoch seconds. The brands are types only
// (no runtime cost, as lru-cache brands its indexes): a value of one unit passed or
// assigned where the other is expected is a type error, and crossing is one of the
// converters below. Arithmetic on a branded value gives a plain number: say what it
// is again with epochMs() or epochSec().

/** Epoch milliseconds. */
export type EpochMs = number & { readonly __unit: 'ms' };
/** Epoch seconds (whole, for window starts and close seconds). */
export type EpochSec = number & { readonly __unit: 's' };

/** `n`, taken as epoch milliseconds. */
export function epochMs(n: number): EpochMs {
  return n as EpochMs;
}

/** `n`, taken as epoch seconds. */
export function epochSec(n: number): EpochSec {
  return n as EpochSec;
}

/** The whole second holding `ms` (floor, not %: % on doubles is a call to fmod). */
export function toSec(ms: EpochMs): EpochSec {
  return Math.floor(ms / 1000) as EpochSec;
}

/** The first millisecond of second `sec`. */
export function toMs(sec: EpochSec): EpochMs {
  return (sec * 1000) as EpochMs;
}
