// The k-th smallest or largest of a range of doubles without sorting it: what the
// sliding window's quantiles of one-value windows select (sliding-window.ts).

/** Past this many from the top, a rank is selected; nearer, the largest are kept in one pass. */
export const TOP = 8;
const top = new Float64Array(TOP);

/**
 * Rearranges a[lo..hi] so that a[k] is the value a sort would put there, the ones
 * before it no larger and the ones after no smaller (Hoare's selection, the median
 * of three as pivot; insertion sort below 16 values).
 */
export function select(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1;
    // Order a[lo], a[mid], a[hi]; the median is the pivot.
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // a[lo..j] ≤ pivot ≤ a[i..hi], and a[j+1..i-1] equal the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

/**
 * The k-th largest of a[lo..hi] (k ≤ TOP, k ≤ hi - lo + 1), a untouched: one pass
 * keeping the k largest seen, in order. A p95 or p99 of a minute is the 4th or 1st
 * from the top: few values enter, so the branch is predicted where a selection's
 * partitioning is not (bench/series.ts scrape).
 */
export function largest(a: Float64Array, lo: number, hi: number, k: number): number {
  let n = 0;
  for (let i = lo; i <= hi; i++) {
    const v = a[i];
    if (n === k && v <= top[k - 1]) continue;
    // Insert v into top[0..n) (descending), the smallest falling off when full.
    let j = n < k ? n++ : k - 1;
    while (j > 0 && top[j - 1] < v) {
      top[j] = top[j - 1];
      j--;
    }
    top[j] = v;
  }
  return top[k - 1];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
