// The bucket scheme of Prometheus native histograms and OpenTelemetry exponential
// histograms, at schema 6: bucket i holds values in (γ^(i-1), γ^i], γ = 2^(2^-6).
// Reporting a bucket by 2γ^i/(γ+1) puts every value of the bucket within
// (γ-1)/(γ+1) ≈ 0.54% of it, inside the 1% the contract allows (schema 5 would give
// 1.08%). Buckets of the same schema merge by adding counts, exactly.
//
// One sortable integer key per bucket, so both signs and zero share one order:
//   v > 0: key = i + OFFSET (always > 0)   v = 0: key = 0   v < 0: key = -(i(|v|) + OFFSET)

export const SCHEMA = 6;
const SCALE = 2 ** SCHEMA; // buckets per power of two
export const GAMMA = 2 ** (2 ** -SCHEMA);
/** Worst relative error of a reported value against any value of its bucket. */
export const RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1);
// |i| < 1100 × 64 for every finite double, so keys never cross zero.
const OFFSET = 1 << 20;

/** The Prometheus bucket index of a positive value: ceil(log2(v) × 2^schema). */
export function bucketIndex(v: number): number {
  return Math.ceil(Math.log2(v) * SCALE);
}

/** The bucket index of a key's value (of |v| for a negative one); keys of 0 have none. */
export function indexOfKey(key: number): number {
  return key > 0 ? key - OFFSET : -key - OFFSET;
}

export function keyOf(v: number): number {
  if (v > 0) return bucketIndex(v) + OFFSET;
  if (v < 0) return -(bucketIndex(-v) + OFFSET);
  return 0;
}

/** The value a bucket reports: within RELATIVE_ERROR of every value in it. */
export function valueOf(key: number): number {
  if (key === 0) return 0;
  const i = key > 0 ? key - OFFSET : -key - OFFSET;
  const v = (2 * GAMMA ** i) / (GAMMA + 1);
  return key > 0 ? v : -v;
}
