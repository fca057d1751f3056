// Label values (`source=web.1`, `dyno=web.2`, `status=200`) as strings, built once
// per distinct value. Values come from outside, so both their length and their number
// are bounded: a value over MAX_LABEL_BYTES is refused (the caller counts
// `bad_label`), and a full table starts over (strings already handed out stay valid),
// so the table never holds more than maxValues × MAX_LABEL_BYTES.

import { ByteTable } from './byte-table.js';

/** Longest label value, bytes. */
export const MAX_LABEL_BYTES = 256;

export class LabelValues {
  private table: ByteTable<string>;

  constructor(maxValues: number) {
    this.table = new ByteTable<string>(maxValues, 256);
  }

  /** The value of bytes [start, end) as a string; null when it is too long. */
  get(buf: Buffer, start: number, end: number): string | null {
    if (start === end) return '';
    if (end - start > MAX_LABEL_BYTES) return null;
    const hit = this.table.get(0, buf, start, end, 0, 0);
    if (hit !== undefined) return hit;
    if (this.table.size >= this.table.maxEntries) this.table.clear();
    const text = buf.toString('utf8', start, end);
    this.table.insert(0, buf, start, end, 0, 0, text);
    return text;
  }
}
