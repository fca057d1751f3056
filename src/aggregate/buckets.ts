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

/**
 * The upper bounds of the 64 buckets of one power of two, as fractions in [0.5, 1):
 * client_golang's nativeHistogramBounds[6], literally. `2 ** (j / 64) / 2` differs
 * from them by an ulp in 11 entries, and a value on a bound must land where a Go
 * client puts it. A 65th entry, 1, ends the table.
 */
export const BOUNDS = new Float64Array([
  0.5, 0.5054446430258502, 0.5109485743270583, 0.5165124395106142,
  0.5221368912137069, 0.5278225891802786, 0.5335702003384117, 0.5393803988785598,
  0.5452538663326288, 0.5511912916539204, 0.5571933712979462, 0.5632608093041209,
  0.5693943173783458, 0.5755946149764913, 0.5818624293887887, 0.5881984958251406,
  0.5946035575013605, 0.6010783657263515, 0.6076236799902344, 0.6142402680534349,
  0.620928906036742, 0.6276903785123455, 0.6345254785958666, 0.6414350080393891,
  0.6484197773255048, 0.6554806057623822, 0.6626183215798706, 0.6698337620266515,
  0.6771277734684463, 0.6845012114872953, 0.6919549409819159, 0.6994898362691555,
  0.7071067811865476, 0.714806669195985, 0.7225904034885233, 0.7304588970903235,
  0.7384130729697497, 0.7464538641456324, 0.7545822137967113, 0.7627990753722691,
  0.7711054127039705, 0.7795022001189186, 0.7879904225539432, 0.7965710756711335,
  0.8052451659746271, 0.8140137109286739, 0.8228777390769824, 0.8318382901633682,
  0.8408964152537146, 0.8500531768592618, 0.859309649061239, 0.8686669176368531,
  0.8781260801866497, 0.8876882462632606, 0.8973545375015536, 0.9071260877501994,
  0.9170040432046713, 0.9269895625416928, 0.93708381705515, 0.9472879907934829,
  0.9576032806985737, 0.9680308967461473, 0.9785720620877001, 0.9892280131939755,
  1,
]);

// The first bound at or above each 1/512 of [0.5, 1), by the top 8 bits of the
// mantissa: buckets are 1/93 of the range wide or more, so a cell holds at most one
// bound, and a value is in bucket LOOKUP[cell] or the one after.
const LOOKUP = new Uint8Array(256);
for (let cell = 0, j = 0; cell < 256; cell++) {
  const from = 0.5 + cell / 512;
  while (BOUNDS[j] < from) j++;
  LOOKUP[cell] = j;
}

const bits = new Float64Array(1);
// The high word of the double (sign, exponent, top 20 bits of the mantissa); the
// machine is little-endian (every platform Node ships for).
const words = new Uint32Array(bits.buffer);
const HIGH = 1;
/** 2^52, to bring a subnormal into the normal range. */
const P52 = 2 ** 52;

/**
 * The Prometheus bucket index of a positive value, as client_golang computes it:
 * frac, exp = frexp(v); index = search(BOUNDS, frac) + (exp − 1) × 64, the first
 * bound at or above frac (bucket i holds (2^((i−1)/64), 2^(i/64)]). Read from the
 * bits of the double: no logarithm and no search (bench/sketch.ts). +Infinity is
 * the bucket after the largest double's, as client_golang has it.
 */
export function bucketIndex(v: number): number {
  bits[0] = v;
  const high = words[HIGH];
  const biased = (high >>> 20) & 0x7ff;
  if (biased === 0) return bucketIndex(v * P52) - 52 * SCALE;
  if (biased === 0x7ff) return bucketIndex(Number.MAX_VALUE) + 1;
  // frac: the same mantissa with the exponent of [0.5, 1).
  words[HIGH] = (high & 0x000fffff) | 0x3fe00000;
  let j = LOOKUP[(high >>> 12) & 0xff];
  if (bits[0] > BOUNDS[j]) j++;
  return j + (biased - 1023) * SCALE;
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

/**
 * Bucket values by index, from -LIMIT: computed when first asked (a power is ~60 ns,
 * three a summary at every scrape; bench/series.ts). 0 is "not yet": only buckets
 * under the smallest subnormal have that value, and computing them again is right.
 * Pages never touched are never resident.
 */
const LIMIT = 1100 * SCALE;
const VALUES = new Float64Array(2 * LIMIT);

/** The value a bucket reports: within RELATIVE_ERROR of every value in it. */
export function valueOf(key: number): number {
  if (key === 0) return 0;
  const i = key > 0 ? key - OFFSET : -key - OFFSET;
  let v = VALUES[i + LIMIT];
  if (v === 0) {
    v = (2 * GAMMA ** i) / (GAMMA + 1);
    // The top buckets of the largest power of two: 2γ^i overflows where γ^i does not.
    if (v === Infinity) v = GAMMA ** i * (2 / (GAMMA + 1));
    VALUES[i + LIMIT] = v;
  }
  return key > 0 ? v : -v;
}
