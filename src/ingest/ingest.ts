// One log line, whatever its framing, to observations: header (line-header.ts), then
// the platform's own lines (platform.ts) or the l2met conventions (l2met.ts). One
// instance serves every body in turn: begin() sets the drain's app, prefix and
// arrival time, then a FrameReader or LineReader feeds `frames` or `lines`.

import { EscapeFinder, stripAnsi } from './ansi.js';
import { ascii, equals, startsWith } from './bytes.js';
import { Budget, NAMES } from '../model/budget.js';
import { Catalog } from '../model/catalog.js';
import { FrameReader, type FrameSink } from './frame-reader.js';
import { LabelValues } from './label-values.js';
import { L2met } from './l2met.js';
import { FORMAT_BARE, FORMAT_SYSLOG, LineHeader, parseAnyLine, parseSyslog } from './line-header.js';
import { LineReader } from './line-reader.js';
import { NameScheme, NameTable } from './names.js';
import { Platform } from './platform.js';
import { type RecordTable, SOURCE_APP, SOURCE_PGBOUNCER, SOURCE_POSTGRES, SOURCE_REDIS, SOURCE_ROUTER, SOURCE_RUNTIME } from './otlp/index.js';
import { PLATFORM_DYNO, PLATFORM_PGBOUNCER, PLATFORM_POSTGRES, PLATFORM_REDIS, PLATFORM_SCHEMES } from './platform-samples.js';
import type { ObservationSink, ReleaseSink } from '../model/sink.js';
import { BAD_FRAME, BAD_TIMESTAMP, IngestStats } from '../model/stats.js';
import { Tenant } from '../model/tenant.js';

const HEROKU = ascii('heroku');
const ROUTER = ascii('router');
const LOGPLEX = ascii('logplex');
/** log-shuttle's own drop notices come as `TOKEN log-shuttle` (platform.ts logplex()). */
const LOG_SHUTTLE = ascii('log-shuttle');
const APP = ascii('app');
const API = ascii('api');
const RELEASE = ascii('Release v');
const DEPLOY = ascii('Deploy ');
/** The most of a release line kept. */
const RELEASE_TEXT = 200;
const HEROKU_POSTGRES = ascii('heroku-postgres');
const HEROKU_REDIS = ascii('heroku-redis');
const HEROKU_PGBOUNCER = ascii('heroku-pgbouncer');

export interface IngestOptions {
  /** Bytes of metric keys remembered, in total and per app. */
  names?: Budget;
  /** Distinct label values remembered before the table starts over. */
  maxLabelValues?: number;
  /** Distinct drain prefixes of one app. */
  maxPrefixesPerApp?: number;
  /**
   * What time a line without one takes (docs/conventions.md): `arrival` (serve), or `latest`,
   * the latest timestamp of the stream so far (tail: a bare line in a day-old file
   * must not make the rest of it late).
   */
  bareTime?: 'arrival' | 'latest';
}

/** Name tables of one app: by drain prefix, and one per platform sample source. */
class Tables {
  readonly prefixes = new Map<string, NameTable>();
  readonly platform: (NameTable | undefined)[] = [];

  *all(): Generator<NameTable> {
    yield* this.prefixes.values();
    for (const t of this.platform) if (t !== undefined) yield t;
  }
}

class SyslogFrames implements FrameSink {
  private readonly ingest: Ingest;
  constructor(ingest: Ingest) {
    this.ingest = ingest;
  }
  frame(buf: Buffer, start: number, end: number): void {
    this.ingest.syslogFrame(buf, start, end);
  }
}

class AnyLines implements FrameSink {
  private readonly ingest: Ingest;
  constructor(ingest: Ingest) {
    this.ingest = ingest;
  }
  frame(buf: Buffer, start: number, end: number): void {
    this.ingest.anyLine(buf, start, end);
  }
}

export class Ingest {
  readonly stats = new IngestStats();
  readonly catalog: Catalog;
  readonly platform: Platform;
  /** Feed octet-counted RFC 5424 frames here (FrameReader's sink). */
  readonly frames: FrameSink = new SyslogFrames(this);
  /** Feed lines of any docs/conventions.md format here (LineReader's sink). */
  readonly lines: FrameSink = new AnyLines(this);

  readonly budget: Budget;
  private app: Tenant;
  /** Where `app[api]` release and deploy lines go; null: nowhere (not looked for). */
  releases: ReleaseSink | null = null;
  private names: NameTable;
  private now = 0;
  /** The latest header time seen (for bareTime 'latest'); -Infinity before the first. */
  private latest = -Infinity;
  /**
   * The smallest time a bare line took from `latest` (bareTime 'latest'): -Infinity
   * when one came before any timestamp, Infinity when none came. A `tail` thread
   * reading a share of a file that began without the timestamps before it is exact
   * only if no bare line took a time older than those (tail/threads.ts).
   */
  bareFloor = Infinity;
  private readonly bareLatest: boolean;
  private readonly header = new LineHeader();
  private readonly l2met: L2met;
  private readonly tables = new Map<Tenant, Tables>();
  /** The tables of the app set by begin(), found on its first platform sample line. */
  private appTables: Tables | null = null;
  private readonly maxPrefixes: number;
  private readonly escapes = new EscapeFinder();
  private readonly sink: ObservationSink;
  private scratch = Buffer.allocUnsafe(4096);

  constructor(sink: ObservationSink, options: IngestOptions = {}, catalog = new Catalog()) {
    this.catalog = catalog;
    this.sink = sink;
    const labels = new LabelValues(options.maxLabelValues ?? 65_536);
    this.l2met = new L2met(sink, labels, this.stats);
    this.platform = new Platform(sink, catalog, labels, this.stats);
    this.budget = options.names ?? new Budget(NAMES, 2 ** 40, 2 ** 40);
    this.maxPrefixes = options.maxPrefixesPerApp ?? 64;
    this.bareLatest = options.bareTime === 'latest';
    this.app = new Tenant('default');
    this.names = new NameTable(catalog, NameScheme.app(''), this.budget, this.app);
  }

  private tablesOf(app: Tenant): Tables {
    let tables = this.tables.get(app);
    if (tables === undefined) {
      tables = new Tables();
      this.tables.set(app, tables);
    }
    return tables;
  }

  /** The name table of an app's drain prefix; null once the app has maxPrefixesPerApp. */
  nameTable(app: Tenant, prefix: string): NameTable | null {
    const tables = this.tablesOf(app).prefixes;
    let table = tables.get(prefix);
    if (table === undefined) {
      if (tables.size >= this.maxPrefixes) return null;
      table = new NameTable(this.catalog, NameScheme.app(prefix), this.budget, app);
      tables.set(prefix, table);
    }
    return table;
  }

  /** The current app's name table for a platform sample source (platform-samples.ts). */
  private platformTable(source: number): NameTable {
    const tables = (this.appTables ??= this.tablesOf(this.app));
    let table = tables.platform[source];
    if (table === undefined) {
      table = new NameTable(this.catalog, PLATFORM_SCHEMES[source], this.budget, this.app);
      tables.platform[source] = table;
    }
    return table;
  }

  /** The latest line time seen; -Infinity before the first. */
  get latestTime(): number {
    return this.latest;
  }

  /** Goes on from a stream whose latest line time was `latest` (a `tail` thread starting mid-file). */
  resume(latest: number): void {
    this.latest = latest;
  }

  /** Sets the drain for the lines that follow: its app, name table and arrival time. */
  begin(app: Tenant, names: NameTable, now: number): void {
    this.app = app;
    this.names = names;
    this.now = now;
    this.appTables = null;
  }

  /**
   * Gives back the names budget that expired series left behind: an app without
   * series loses its tables; a table holding many more keys than the app has live
   * metrics (keys of series that expired, refused keys) starts over. Keys in use are
   * made again on their next line, one string each.
   */
  sweep(): void {
    for (const [app, tables] of this.tables) {
      if (app.metrics === 0) {
        this.release(app);
        continue;
      }
      let entries = 0;
      for (const t of tables.all()) entries += t.entries;
      if (entries > 2 * app.metrics + 64) for (const t of tables.all()) t.clear();
    }
  }

  /** Drops an app's name tables and gives their bytes back. */
  release(app: Tenant): void {
    const tables = this.tables.get(app);
    if (tables === undefined) return;
    for (const t of tables.all()) t.clear();
    this.tables.delete(app);
    if (this.appTables === tables) this.appTables = null;
  }

  /** A logplex frame: its MSG must be RFC 5424. */
  syslogFrame(buf: Buffer, start: number, end: number): void {
    if (parseSyslog(buf, start, end, this.header)) this.message(buf, this.header);
    else this.stats.rejected[BAD_FRAME]++;
  }

  /** A line in any format of docs/conventions.md, colour codes removed. */
  anyLine(buf: Buffer, start: number, end: number): void {
    if (this.escapes.within(buf, start, end)) {
      if (this.scratch.length < end - start) this.scratch = Buffer.allocUnsafe(end - start);
      end = stripAnsi(buf, start, end, this.scratch);
      buf = this.scratch;
      start = 0;
    }
    if (isFramed(buf, start, end)) {
      this.framedLine(buf, start, end);
      return;
    }
    parseAnyLine(buf, start, end, this.header);
    this.message(buf, this.header);
  }

  /**
   * A line of a saved logplex body (`229 <158>1 …`): the frames in it, by their
   * octet counts. A count may run one past the line (the LF it included); bytes left
   * that do not start another frame are a bad frame.
   */
  private framedLine(buf: Buffer, start: number, end: number): void {
    let i = start;
    while (i < end && isFramed(buf, i, end)) {
      let len = 0;
      while (buf[i] !== 0x20) len = len * 10 + (buf[i++] - 0x30);
      i++;
      const stop = Math.min(end, i + len);
      this.syslogFrame(buf, i, stop);
      i = stop;
    }
    if (i < end) this.stats.rejected[BAD_FRAME]++;
  }

  /**
   * The records of an OTLP logs request (otlp/): each body a line at its
   * record's time, through the platform's readers when its service is Heroku's own.
   */
  records(table: RecordTable): void {
    const h = this.header;
    const buf = table.buf;
    for (let i = 0; i < table.count; i++) {
      const start = table.bodyStart(i);
      let end = table.bodyEnd(i);
      while (end > start && (buf[end - 1] === 0x0a || buf[end - 1] === 0x0d)) end--;
      h.reset(start, end);
      h.format = FORMAT_SYSLOG;
      h.time = table.times[i];
      h.procStart = table.procStart(i);
      h.procEnd = table.procEnd(i);
      const source = table.source(i);
      this.timed(h);
      switch (source) {
        case SOURCE_APP:
          this.l2met.line(buf, h, this.app, this.names);
          break;
        case SOURCE_ROUTER:
          this.platform.router(buf, h, this.app);
          break;
        case SOURCE_RUNTIME:
          if (!this.platform.dynoError(buf, h, this.app) && !this.platform.dynoEvent(buf, h, this.app)) this.l2met.line(buf, h, this.app, this.platformTable(PLATFORM_DYNO));
          break;
        case SOURCE_POSTGRES:
          this.l2met.line(buf, h, this.app, this.platformTable(PLATFORM_POSTGRES));
          break;
        case SOURCE_REDIS:
          this.l2met.line(buf, h, this.app, this.platformTable(PLATFORM_REDIS));
          break;
        case SOURCE_PGBOUNCER:
          this.l2met.line(buf, h, this.app, this.platformTable(PLATFORM_PGBOUNCER));
          break;
      }
    }
  }

  /** Counts the line and settles its time (docs/conventions.md). */
  private timed(h: LineHeader): void {
    const stats = this.stats;
    stats.lines++;
    if (h.time !== h.time) {
      if (this.latest < this.bareFloor) this.bareFloor = this.latest;
      h.time = this.bareLatest && this.latest > -Infinity ? this.latest : this.now;
      if (h.badTime) stats.rejected[BAD_TIMESTAMP]++;
    } else if (h.time > this.latest) {
      if (this.latest === -Infinity && this.bareLatest) this.sink.rebase?.(h.time);
      this.latest = h.time;
    }
  }

  private message(buf: Buffer, h: LineHeader): void {
    this.timed(h);
    // The header travels instead of its time: a double argument to a call too big
    // to inline is boxed (bench/ingest.ts: 16 bytes a line less to collect).
    if (h.format !== FORMAT_BARE && h.appEnd - h.appStart <= 6) {
      if (equals(buf, h.appStart, h.appEnd, HEROKU)) {
        if (equals(buf, h.procStart, h.procEnd, ROUTER)) {
          this.platform.router(buf, h, this.app);
          return;
        }
        if (equals(buf, h.procStart, h.procEnd, LOGPLEX)) {
          this.platform.logplex(buf, h, this.app);
          return;
        }
        if (this.releases !== null && equals(buf, h.procStart, h.procEnd, API)) {
          this.releaseLine(buf, h, this.releases);
          return;
        }
        if (this.platform.dynoError(buf, h, this.app) || this.platform.dynoEvent(buf, h, this.app)) return;
        // Any other `heroku PROC` line is the platform's: runtime metrics of that dyno.
        this.l2met.line(buf, h, this.app, this.platformTable(PLATFORM_DYNO));
        return;
      }
      if (equals(buf, h.appStart, h.appEnd, APP)) {
        const source = this.addonSource(buf, h);
        if (source >= 0) {
          this.l2met.line(buf, h, this.app, this.platformTable(source));
          return;
        }
        if (this.releases !== null && equals(buf, h.procStart, h.procEnd, API)) {
          this.releaseLine(buf, h, this.releases);
          return;
        }
      }
    }
    // One length compare a line: only log-shuttle's PROCID has 11 bytes and a '-' at 3.
    if (h.procEnd - h.procStart === 11 && buf[h.procStart + 3] === 0x2d && equals(buf, h.procStart, h.procEnd, LOG_SHUTTLE)) {
      this.platform.logplex(buf, h, this.app);
      return;
    }
    this.l2met.line(buf, h, this.app, this.names);
  }

  /** An `app[api]` (or `heroku[api]`) line: a release or a deploy goes to the sink, as text (control characters escaped). */
  private releaseLine(buf: Buffer, h: LineHeader, sink: ReleaseSink): void {
    const start = h.msgStart;
    if (!startsWith(buf, start, h.msgEnd, RELEASE) && !startsWith(buf, start, h.msgEnd, DEPLOY)) return;
    const text = buf.toString('utf8', start, Math.min(h.msgEnd, start + RELEASE_TEXT));
    // A release line is rare: the regex runs for it alone, never for a metrics line.
    sink.release(this.app.name, h.time, text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  }

  /** `app heroku-postgres` and the like: the platform source, or -1 for an app's own process. */
  private addonSource(buf: Buffer, h: LineHeader): number {
    const len = h.procEnd - h.procStart;
    if (len < 12 || buf[h.procStart] !== 0x68) return -1; // 'h'
    if (equals(buf, h.procStart, h.procEnd, HEROKU_POSTGRES)) return PLATFORM_POSTGRES;
    if (equals(buf, h.procStart, h.procEnd, HEROKU_REDIS)) return PLATFORM_REDIS;
    if (equals(buf, h.procStart, h.procEnd, HEROKU_PGBOUNCER)) return PLATFORM_PGBOUNCER;
    return -1;
  }
}

/** `LEN <`: 1 to 7 digits, a space and a syslog PRI's `<` (no timestamp or logfmt key starts so). */
function isFramed(buf: Buffer, start: number, end: number): boolean {
  let i = start;
  while (i < end && i - start < 8 && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  return i > start && i - start <= 7 && i + 1 < end && buf[i] === 0x20 && buf[i + 1] === 0x3c;
}

/** Reads a whole logplex body (its chunks in order) into `ingest`; returns the reader's counts. */
export function ingestLogplex(ingest: Ingest, chunks: readonly Buffer[], maxFrame: number): FrameReader {
  const reader = new FrameReader(ingest.frames, maxFrame);
  for (let i = 0; i < chunks.length; i++) reader.push(chunks[i]);
  reader.end();
  ingest.stats.rejected[BAD_FRAME] += reader.badFrames;
  return reader;
}

/** Reads a whole text body (its chunks in order) into `ingest`. */
export function ingestText(ingest: Ingest, chunks: readonly Buffer[], maxLine: number): LineReader {
  const reader = new LineReader(ingest.lines, maxLine);
  for (let i = 0; i < chunks.length; i++) reader.push(chunks[i]);
  reader.end();
  ingest.stats.rejected[BAD_FRAME] += reader.longLines;
  return reader;
}
