// Label values (`source=web.1`, `dyno=web.2`, `status=200`) as strings, built once
// per distinct value. Values come from outside, so the table is bounded: when it is
// full it starts over (strings already handed out stay valid).

import { ByteTable } from './byte-table.js';

export class LabelValues {
  private table: ByteTable<string>;

  constructor(maxValues: number) {
    this.table = new ByteTable<string>(maxValues, 256);
  }

  get(buf: Buffer, start: number, end: number): string {
    if (start === end) return '';
    const hit = this.table.get(0, buf, start, end, 0, 0);
    if (hit !== undefined) return hit;
    if (this.table.size >= this.table.maxEntries) this.table.clear();
    const text = buf.toString('utf8', start, end);
    this.table.insert(0, buf, start, end, 0, 0, text);
    return text;
  }
}
