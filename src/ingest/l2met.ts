// The l2met conventions (docs/conventions.md): `measure#NAME=VALUE[UNIT]` (and legacy
// `measure.NAME=`), `count#NAME[=VALUE[UNIT]]`, `sample#NAME=VALUE[UNIT]`, and
// `source=S` labelling every metric of the line. `source` may come after the
// metrics, so a line is tokenized once into a scratch list of metric positions and
// the observations are made at its end.

import { ascii, equals, startsWith } from './bytes.js';
import { COUNTER, type Kind, MEASURE, SAMPLE } from '../model/catalog.js';
import type { LabelValues } from './label-values.js';
import type { LineHeader } from './line-header.js';
import { BARE, ESCAPED, Tokenizer } from './logfmt.js';
import type { NameTable } from './names.js';
import { NumberReader } from './number.js';
import type { ObservationSink } from '../model/sink.js';
import { BAD_LABEL, BAD_VALUE, type IngestStats } from '../model/stats.js';
import type { Tenant } from '../model/tenant.js';

const MEASURE_HASH = ascii('measure#');
const MEASURE_DOT = ascii('measure.');
const COUNT_HASH = ascii('count#');
const SAMPLE_HASH = ascii('sample#');
const SOURCE = ascii('source');
const ADDON = ascii('addon');
const a = 0x61;

const m = 0x6d;
const c = 0x63;
const s = 0x73;

// Per pending metric: name start, name end, value start, value end, kind+flags.
const FIELDS = 5;

export class L2met {
  private readonly sink: ObservationSink;
  private readonly labels: LabelValues;
  private readonly stats: IngestStats;
  private readonly tok = new Tokenizer();
  private readonly num = new NumberReader();
  private pending = new Int32Array(FIELDS * 32);

  constructor(sink: ObservationSink, labels: LabelValues, stats: IngestStats) {
    this.sink = sink;
    this.labels = labels;
    this.stats = stats;
  }

  /** Turns the line's message into observations. */
  line(buf: Buffer, h: LineHeader, app: Tenant, names: NameTable): void {
    const tok = this.tok;
    tok.reset(buf, h.msgStart, h.msgEnd);
    let pending = this.pending;
    let n = 0;
    // `source` labels every metric; a platform family of two labels takes `addon` too.
    // Without `source`, the header's PROCID stands in (a dyno's runtime metrics).
    let sourceStart = h.procStart;
    let sourceEnd = names.scheme.known === null ? h.procStart : h.procEnd;
    let addonStart = 0;
    let addonEnd = 0;
    const addon = names.scheme.labels.length > 1;
    while (tok.next()) {
      const ks = tok.keyStart;
      const ke = tok.keyEnd;
      const first = buf[ks];
      let kind: Kind;
      let ns: number;
      if (first === m && (startsWith(buf, ks, ke, MEASURE_HASH) || startsWith(buf, ks, ke, MEASURE_DOT))) {
        kind = MEASURE;
        ns = ks + 8;
      } else if (first === c && startsWith(buf, ks, ke, COUNT_HASH)) {
        kind = COUNTER;
        ns = ks + 6;
      } else if (first === s && startsWith(buf, ks, ke, SAMPLE_HASH)) {
        kind = SAMPLE;
        ns = ks + 7;
      } else {
        if (first === s && (tok.flags & BARE) === 0 && equals(buf, ks, ke, SOURCE)) {
          sourceStart = tok.valueStart;
          sourceEnd = tok.valueEnd;
        } else if (addon && first === a && (tok.flags & BARE) === 0 && equals(buf, ks, ke, ADDON)) {
          addonStart = tok.valueStart;
          addonEnd = tok.valueEnd;
        }
        continue;
      }
      if (n * FIELDS === pending.length) {
        const grown = new Int32Array(pending.length * 2);
        grown.set(pending);
        this.pending = pending = grown;
      }
      const p = n * FIELDS;
      pending[p] = ns;
      pending[p + 1] = ke;
      pending[p + 2] = tok.valueStart;
      pending[p + 3] = tok.valueEnd;
      pending[p + 4] = kind | (tok.flags << 4);
      n++;
    }
    if (n === 0) return;
    const source = this.labels.get(buf, sourceStart, sourceEnd);
    const second = addon ? this.labels.get(buf, addonStart, addonEnd) : '';
    if (source === null || second === null) {
      this.stats.rejected[BAD_LABEL] += n;
      return;
    }
    this.sink.at(app, h.time);
    const num = this.num;
    const stats = this.stats;
    for (let i = 0; i < n; i++) {
      const p = i * FIELDS;
      const vs = pending[p + 2];
      const ve = pending[p + 3];
      const kind = (pending[p + 4] & 0xf) as Kind;
      const flags = pending[p + 4] >> 4;
      let value = 1;
      let us = ve;
      let ue = ve;
      const counted = kind !== COUNTER || vs !== ve;
      if (counted) {
        // A bare or empty count# counts 1; every other value must be a number.
        if ((flags & ESCAPED) !== 0 || !num.read(buf, vs, ve)) {
          stats.rejected[BAD_VALUE]++;
          continue;
        }
        value = num.value;
        if (kind === COUNTER && value < 0) {
          stats.rejected[BAD_VALUE]++; // a Prometheus counter never goes down
          continue;
        }
        us = num.unitStart;
        ue = num.unitEnd;
      }
      const entry = names.lookup(kind, buf, pending[p], pending[p + 1], us, ue);
      const metric = entry.metric;
      if (metric === null) {
        stats.rejected[entry.reason]++;
        continue;
      }
      if (counted) {
        value = num.scaled(entry.shift) * entry.mul;
        // Finite as written, infinite in base units (1e308GB): not a value.
        if (value - value !== 0) {
          stats.rejected[BAD_VALUE]++;
          continue;
        }
      }
      stats.observations++;
      this.sink.observe(metric, source, second, value);
    }
  }
}
