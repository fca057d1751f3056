// Units become Prometheus base units (docs/conventions.md). Resolved once per metric name, when
// the name is first seen, so this works on strings.

export class Unit {
  /** Name suffix, `_seconds`, `_bytes`, `_percent`, `_pages` or empty. */
  readonly suffix: string;
  /** The value in base units is value × 10^-shift × mul (shift: 3 for ms; mul: 1024 for kB). */
  readonly shift: number;
  readonly mul: number;

  constructor(suffix: string, shift: number, mul: number) {
    this.suffix = suffix;
    this.shift = shift;
    this.mul = mul;
  }
}

const NONE = new Unit('', 0, 1);
const KIB = 1024;

const KNOWN = new Map<string, Unit>([
  ['ns', new Unit('_seconds', 9, 1)],
  ['us', new Unit('_seconds', 6, 1)],
  ['µs', new Unit('_seconds', 6, 1)],
  ['μs', new Unit('_seconds', 6, 1)],
  ['ms', new Unit('_seconds', 3, 1)],
  ['s', new Unit('_seconds', 0, 1)],
  ['B', new Unit('_bytes', 0, 1)],
  ['byte', new Unit('_bytes', 0, 1)],
  ['bytes', new Unit('_bytes', 0, 1)],
  ['kB', new Unit('_bytes', 0, KIB)],
  ['KB', new Unit('_bytes', 0, KIB)],
  ['KiB', new Unit('_bytes', 0, KIB)],
  ['MB', new Unit('_bytes', 0, KIB * KIB)],
  ['MiB', new Unit('_bytes', 0, KIB * KIB)],
  ['GB', new Unit('_bytes', 0, KIB * KIB * KIB)],
  ['GiB', new Unit('_bytes', 0, KIB * KIB * KIB)],
  ['%', new Unit('_percent', 0, 1)],
]);

/** The unit for the text after a number: known units scale, others only name. */
export function unitFor(text: string): Unit {
  if (text === '') return NONE;
  return KNOWN.get(text) ?? new Unit('_' + sanitizeName(text), 0, 1);
}

/** Every character outside [a-zA-Z0-9_:] becomes `_`; a leading digit gets a `_` before it. */
export function sanitizeName(text: string): string {
  const s = text.replace(/[^a-zA-Z0-9_:]/gu, '_');
  return s.length > 0 && s.charCodeAt(0) >= 0x30 && s.charCodeAt(0) <= 0x39 ? '_' + s : s;
}
