// The Heroku platform's own lines (docs/conventions.md), turned into metrics with no code in the
// app: router request lines, dyno error codes (R14, …) and logplex drop notices.
// Runtime-metrics, Postgres, Redis and PgBouncer lines are `sample#` lines: l2met reads
// them into their own families (platform-samples.ts).

import { ascii, indexOf, startsWith } from './bytes.js';
import type { Catalog, Metric } from '../model/catalog.js';
import { COUNTER, MEASURE } from '../model/catalog.js';
import type { LabelValues } from './label-values.js';
import type { LineHeader } from './line-header.js';
import { Tokenizer } from './logfmt.js';
import { NumberReader } from './number.js';
import type { ObservationSink } from '../model/sink.js';
import { BAD_LABEL, BAD_VALUE, type IngestStats } from '../model/stats.js';
import type { Tenant } from '../model/tenant.js';

const ERROR_SP = ascii('Error ');
const MESSAGES = ascii(' messages');

// A dyno's lifecycle lines, as Heroku writes them (fixtures/heroku-real.ts).
const STATE_CHANGED = ascii('State changed from ');
const TO = ascii(' to ');
const PROCESS_EXITED = ascii('Process exited');
const PROCESS_RUNNING = ascii('Process running mem=');
const STOPPING = ascii('Stopping all processes with SIGTERM');
const CYCLING = ascii('Cycling');
const RESTARTING = ascii('Restarting');
/** `State changed from A to B`: the event for B, by B. */
const STATES: [Uint8Array, string][] = [
  [ascii('crashed'), 'crashed'],
  [ascii('up'), 'up'],
  [ascii('starting'), 'restarting'],
  [ascii('down'), 'down'],
];
const equalsWord = (buf: Buffer, start: number, end: number, word: Uint8Array) => end - start === word.length && startsWith(buf, start, end, word);

// HTTP status labels by code, made once: a router line's status is three digits,
// so no byte-table lookup is needed (bench/ingest.ts end to end).
const STATUS_LABELS: string[] = [];
for (let code = 0; code < 1000; code++) STATUS_LABELS.push(String(code).padStart(3, '0'));

export class Platform {
  readonly requests: Metric;
  readonly connect: Metric;
  readonly service: Metric;
  readonly responseBytes: Metric;
  readonly routerErrors: Metric;
  readonly dynoErrors: Metric;
  readonly logplexDropped: Metric;
  readonly dynoEvents: Metric;

  private readonly sink: ObservationSink;
  private readonly labels: LabelValues;
  private readonly stats: IngestStats;
  private readonly tok = new Tokenizer();
  private readonly num = new NumberReader();

  constructor(sink: ObservationSink, catalog: Catalog, labels: LabelValues, stats: IngestStats) {
    this.sink = sink;
    this.labels = labels;
    this.stats = stats;
    this.requests = catalog.fixed('heroku_router_requests_total', COUNTER, ['dyno', 'status'], 'Requests through the Heroku router.');
    this.connect = catalog.fixed('heroku_router_connect_seconds', MEASURE, ['dyno'], 'Router time to connect to the dyno.');
    this.service = catalog.fixed('heroku_router_service_seconds', MEASURE, ['dyno'], 'Router time from request sent to response received.');
    this.responseBytes = catalog.fixed('heroku_router_response_bytes', MEASURE, ['dyno'], 'Response sizes through the Heroku router.');
    this.routerErrors = catalog.fixed('heroku_router_errors_total', COUNTER, ['dyno', 'code'], 'Router errors and warnings by H code.');
    this.dynoErrors = catalog.fixed('heroku_dyno_errors_total', COUNTER, ['dyno', 'code'], 'Dyno errors by R code.');
    this.dynoEvents = catalog.fixed('heroku_dyno_events_total', COUNTER, ['dyno', 'event'], 'Dyno lifecycle events: crashed, up, restarting, down, exited, stopping, memory_exceeded.');
    this.logplexDropped = catalog.fixed('heroku_logplex_dropped_total', COUNTER, ['code'], 'Log lines logplex dropped or lost, by L code (L10: a drain too slow).');
  }

  /** `heroku router`: `at=info … dyno=web.1 connect=1ms service=37ms status=201 bytes=1548`. */
  router(buf: Buffer, h: LineHeader, app: Tenant): void {
    const tok = this.tok;
    tok.reset(buf, h.msgStart, h.msgEnd);
    let codeS = 0, codeE = 0, dynoS = 0, dynoE = 0, statusS = 0, statusE = 0;
    let connS = 0, connE = 0, servS = 0, servE = 0, bytesS = 0, bytesE = 0;
    while (tok.next()) {
      const ks = tok.keyStart;
      const vs = tok.valueStart;
      const ve = tok.valueEnd;
      const a = buf[ks];
      const b = buf[ks + 1];
      // Keys told apart by length and two bytes; the router's key set is fixed.
      switch (tok.keyEnd - ks) {
        case 4: // code, dyno
          if (a === 0x63 && b === 0x6f) (codeS = vs), (codeE = ve);
          else if (a === 0x64 && b === 0x79) (dynoS = vs), (dynoE = ve);
          break;
        case 5: // bytes
          if (a === 0x62 && b === 0x79) (bytesS = vs), (bytesE = ve);
          break;
        case 6: // status
          if (a === 0x73 && b === 0x74) (statusS = vs), (statusE = ve);
          break;
        case 7: // connect, service
          if (a === 0x63 && b === 0x6f) (connS = vs), (connE = ve);
          else if (a === 0x73 && b === 0x65) (servS = vs), (servE = ve);
          break;
      }
    }
    const dyno = this.labels.get(buf, dynoS, dynoE);
    const d0 = buf[statusS] - 0x30;
    const d1 = buf[statusS + 1] - 0x30;
    const d2 = buf[statusS + 2] - 0x30;
    const status =
      statusE - statusS === 3 && (d0 >>> 0) <= 9 && (d1 >>> 0) <= 9 && (d2 >>> 0) <= 9
        ? STATUS_LABELS[d0 * 100 + d1 * 10 + d2]
        : this.labels.get(buf, statusS, statusE);
    // Every H code counts as an error, whatever `at=` says (H27 and H28 are warnings).
    const code = codeE > codeS ? this.labels.get(buf, codeS, codeE) : '';
    if (dyno === null || status === null || code === null) {
      this.stats.rejected[BAD_LABEL]++;
      return;
    }
    const sink = this.sink;
    sink.at(app, h.time);
    sink.observe(this.requests, dyno, status, 1);
    let n = 1;
    if (connE > connS) n += this.seconds(buf, connS, connE, this.connect, dyno);
    if (servE > servS) n += this.seconds(buf, servS, servE, this.service, dyno);
    if (bytesE > bytesS) {
      if (this.num.read(buf, bytesS, bytesE) && this.num.unitEnd === this.num.unitStart) {
        sink.observe(this.responseBytes, dyno, '', this.num.value);
        n++;
      } else {
        this.stats.rejected[BAD_VALUE]++;
      }
    }
    if (code !== '') {
      sink.observe(this.routerErrors, dyno, code, 1);
      n++;
    }
    this.stats.observations += n;
  }

  /** `Error R14 (Memory quota exceeded)` from `heroku web.1`; false when the message is not an error. */
  dynoError(buf: Buffer, h: LineHeader, app: Tenant): boolean {
    const start = h.msgStart;
    const end = h.msgEnd;
    if (!startsWith(buf, start, end, ERROR_SP)) return false;
    let i = start + ERROR_SP.length;
    const codeStart = i;
    while (i < end && buf[i] !== 0x20) i++;
    if (i === codeStart) return false;
    const dyno = this.labels.get(buf, h.procStart, h.procEnd);
    const code = this.labels.get(buf, codeStart, i);
    if (dyno === null || code === null) {
      this.stats.rejected[BAD_LABEL]++;
      return true;
    }
    this.sink.at(app, h.time);
    this.sink.observe(this.dynoErrors, dyno, code, 1);
    this.stats.observations++;
    return true;
  }

  /**
   * A dyno's lifecycle line from `heroku web.1`, counted as
   * `heroku_dyno_events_total{dyno,event}`: `State changed from up to crashed`
   * (crashed), `… to up` (up), `… to starting`, `Restarting`, `Cycling` (restarting),
   * `… to down` (down), `Process exited with status 143` (exited), `Stopping all
   * processes with SIGTERM` (stopping), `Process running mem=1025M(200.2%)`
   * (memory_exceeded: Heroku writes it only past the quota, before its R14 or R15).
   * False when the message is none of these.
   */
  dynoEvent(buf: Buffer, h: LineHeader, app: Tenant): boolean {
    const start = h.msgStart;
    let end = h.msgEnd;
    while (end > start && (buf[end - 1] === 0x20 || buf[end - 1] === 0x0d)) end--;
    let event = '';
    switch (buf[start]) {
      case 0x53: // S
        if (startsWith(buf, start, end, STATE_CHANGED)) {
          const to = indexOf(buf, TO, start + STATE_CHANGED.length, end);
          if (to < 0) return false;
          for (const [word, name] of STATES) if (equalsWord(buf, to + TO.length, end, word)) event = name;
        } else if (equalsWord(buf, start, end, STOPPING)) event = 'stopping';
        break;
      case 0x50: // P
        if (startsWith(buf, start, end, PROCESS_EXITED)) event = 'exited';
        else if (startsWith(buf, start, end, PROCESS_RUNNING)) event = 'memory_exceeded';
        break;
      case 0x43: // C
        if (equalsWord(buf, start, end, CYCLING)) event = 'restarting';
        break;
      case 0x52: // R
        if (equalsWord(buf, start, end, RESTARTING)) event = 'restarting';
        break;
    }
    if (event === '') return false;
    const dyno = this.labels.get(buf, h.procStart, h.procEnd);
    if (dyno === null) {
      this.stats.rejected[BAD_LABEL]++;
      return true;
    }
    this.sink.at(app, h.time);
    this.sink.observe(this.dynoEvents, dyno, event, 1);
    this.stats.observations++;
    return true;
  }

  /**
   * Logplex's notices of lines it could not deliver, from `heroku logplex`:
   * `Error L10 (output buffer overflow): 7 messages dropped since …`, the newer
   * `… drain 'd.cfcd3264-…' dropped 7 messages since …`, `Error L12: 222 messages
   * dropped …`, `Error L13: 111 messages lost …`, and a tail's `L11 (Tail buffer
   * overflow) -> This tail session dropped 1101 messages …`. log-shuttle writes its own
   * L12 and L13 in a frame of its own (`<172>1 TIME heroku TOKEN log-shuttle - - Error
   * L12: 222 messages dropped since …`): APPNAME is the token, PROCID `log-shuttle`,
   * so ingest.ts sends it here by its PROCID. The count is the number
   * right before ` messages`, so digits inside a drain id are never read as one.
   */
  logplex(buf: Buffer, h: LineHeader, app: Tenant): void {
    let i = h.msgStart;
    const end = h.msgEnd;
    if (startsWith(buf, i, end, ERROR_SP)) i += ERROR_SP.length;
    const codeStart = i;
    if (buf[i] !== 0x4c) return; // 'L'
    i++;
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
    if (i - codeStart < 2) return;
    const m = indexOf(buf, MESSAGES, i, end);
    let d = m;
    while (d > i && buf[d - 1] >= 0x30 && buf[d - 1] <= 0x39 && m - d < 15) d--;
    const code = this.labels.get(buf, codeStart, i);
    if (m < 0 || d === m || code === null) {
      this.stats.rejected[BAD_VALUE]++;
      return;
    }
    let dropped = 0;
    for (let k = d; k < m; k++) dropped = dropped * 10 + (buf[k] - 0x30);
    this.sink.at(app, h.time);
    this.sink.observe(this.logplexDropped, code, '', dropped);
    this.stats.observations++;
  }

  /** A router duration (`37ms`; no unit means ms) as seconds; returns observations made. */
  private seconds(buf: Buffer, start: number, end: number, metric: Metric, dyno: string): number {
    const num = this.num;
    const us = num.read(buf, start, end) ? num.unitStart : -1;
    const ul = num.unitEnd - us;
    let shift = -1;
    if (us < 0) shift = -1;
    else if (ul === 0 || (ul === 2 && buf[us] === 0x6d && buf[us + 1] === 0x73)) shift = 3; // ms
    else if (ul === 1 && buf[us] === 0x73) shift = 0; // s
    if (shift < 0) {
      this.stats.rejected[BAD_VALUE]++;
      return 0;
    }
    this.sink.observe(metric, dyno, '', num.scaled(shift));
    return 1;
  }
}
