// Comparing a byte range with a constant, without a string.

export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** buf[start, end) equals `word`. */
export function equals(buf: Buffer, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word[i]) return false;
  return true;
}

/** buf[start, end) begins with `word`. */
export function startsWith(buf: Buffer, start: number, end: number, word: Uint8Array): boolean {
  if (end - start < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word[i]) return false;
  return true;
}

/** The index of `word` in buf[start, end), or -1 (a bounded search: indexOf cannot stop at end). */
export function indexOf(buf: Buffer, word: Uint8Array, start: number, end: number): number {
  const last = end - word.length;
  const first = word[0];
  for (let i = start; i <= last; i++) {
    if (buf[i] !== first) continue;
    let k = 1;
    while (k < word.length && buf[i + k] === word[k]) k++;
    if (k === word.length) return i;
  }
  return -1;
}
