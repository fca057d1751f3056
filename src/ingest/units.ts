// Units become Prometheus base units (SPEC §2). Resolved once per metric name, when
// the name is first seen, so this works on strings.

export class Unit {
  /** Name suffix, `_seconds`, `_bytes`, `_percent`, `_pages` or empty. */
  readonly suffix: string;
  /** value × mul ÷ div is the value in base units (division keeps 21ms → 0.021 exact). */
  readonly mul: number;
  readonly div: number;

  constructor(suffix: string, mul: number, div: number) {
    this.suffix = suffix;
    this.mul = mul;
    this.div = div;
  }
}

const NONE = new Unit('', 1, 1);
const KIB = 1024;

const KNOWN = new Map<string, Unit>([
  ['ns', new Unit('_seconds', 1, 1e9)],
  ['us', new Unit('_seconds', 1, 1e6)],
  ['µs', new Unit('_seconds', 1, 1e6)],
  ['μs', new Unit('_seconds', 1, 1e6)],
  ['ms', new Unit('_seconds', 1, 1e3)],
  ['s', new Unit('_seconds', 1, 1)],
  ['B', new Unit('_bytes', 1, 1)],
  ['byte', new Unit('_bytes', 1, 1)],
  ['bytes', new Unit('_bytes', 1, 1)],
  ['kB', new Unit('_bytes', KIB, 1)],
  ['KB', new Unit('_bytes', KIB, 1)],
  ['KiB', new Unit('_bytes', KIB, 1)],
  ['MB', new Unit('_bytes', KIB * KIB, 1)],
  ['MiB', new Unit('_bytes', KIB * KIB, 1)],
  ['GB', new Unit('_bytes', KIB * KIB * KIB, 1)],
  ['GiB', new Unit('_bytes', KIB * KIB * KIB, 1)],
  ['%', new Unit('_percent', 1, 1)],
]);

/** The unit for the text after a number: known units scale, others only name. */
export function unitFor(text: string): Unit {
  if (text === '') return NONE;
  return KNOWN.get(text) ?? new Unit('_' + sanitizeName(text), 1, 1);
}

/** Every character outside [a-zA-Z0-9_:] becomes `_`; a leading digit gets a `_` before it. */
export function sanitizeName(text: string): string {
  const s = text.replace(/[^a-zA-Z0-9_:]/gu, '_');
  return s.length > 0 && s.charCodeAt(0) >= 0x30 && s.charCodeAt(0) <= 0x39 ? '_' + s : s;
}
