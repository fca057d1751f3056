// One log line, whatever its framing, to observations: header (line-header.ts), then
// the platform's own lines (platform.ts) or the l2met conventions (l2met.ts). One
// instance serves every body in turn: begin() sets the drain's app, prefix and
// arrival time, then a FrameReader or LineReader feeds `frames` or `lines`.

import { EscapeFinder, stripAnsi } from './ansi.js';
import { ascii, equals } from './bytes.js';
import { Catalog } from '../model/catalog.js';
import { FrameReader, type FrameSink } from './frame-reader.js';
import { LabelValues } from './label-values.js';
import { L2met } from './l2met.js';
import { FORMAT_BARE, LineHeader, parseAnyLine, parseSyslog } from './line-header.js';
import { LineReader } from './line-reader.js';
import { NameBudget, NameTable } from './names.js';
import { Platform } from './platform.js';
import type { ObservationSink } from '../model/sink.js';
import { BAD_FRAME, BAD_TIMESTAMP, IngestStats } from '../model/stats.js';

const HEROKU = ascii('heroku');
const ROUTER = ascii('router');
const LOGPLEX = ascii('logplex');

export interface IngestOptions {
  /** Distinct metric keys remembered, all prefixes together. */
  maxNames?: number;
  /** Distinct metric keys one app may add. */
  maxNamesPerApp?: number;
  /** Distinct label values remembered before the table starts over. */
  maxLabelValues?: number;
  /** Distinct drain prefixes. */
  maxPrefixes?: number;
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
  /** Feed lines of any SPEC §4 format here (LineReader's sink). */
  readonly lines: FrameSink = new AnyLines(this);

  private app = 'default';
  private names: NameTable;
  private now = 0;
  private readonly header = new LineHeader();
  private readonly l2met: L2met;
  private readonly budget: NameBudget;
  private readonly tables = new Map<string, NameTable>();
  private readonly maxPrefixes: number;
  private readonly escapes = new EscapeFinder();
  private scratch = Buffer.allocUnsafe(4096);

  constructor(sink: ObservationSink, options: IngestOptions = {}, catalog = new Catalog()) {
    this.catalog = catalog;
    const labels = new LabelValues(options.maxLabelValues ?? 65_536);
    this.l2met = new L2met(sink, labels, this.stats);
    this.platform = new Platform(sink, catalog, labels, this.stats);
    this.budget = new NameBudget(options.maxNames ?? 200_000, options.maxNamesPerApp ?? options.maxNames ?? 200_000);
    this.maxPrefixes = options.maxPrefixes ?? 1000;
    this.names = this.nameTable('') as NameTable;
  }

  /** The name table of a drain prefix; null once maxPrefixes distinct prefixes exist. */
  nameTable(prefix: string): NameTable | null {
    let table = this.tables.get(prefix);
    if (table === undefined) {
      if (this.tables.size >= this.maxPrefixes) return null;
      table = new NameTable(this.catalog, prefix, this.budget);
      this.tables.set(prefix, table);
    }
    return table;
  }

  /** Sets the drain for the lines that follow: its app label, name table and arrival time. */
  begin(app: string, names: NameTable, now: number): void {
    this.app = app;
    this.budget.app = app;
    this.names = names;
    this.now = now;
  }

  /** A logplex frame: its MSG must be RFC 5424. */
  syslogFrame(buf: Buffer, start: number, end: number): void {
    if (parseSyslog(buf, start, end, this.header)) this.message(buf, this.header);
    else this.stats.rejected[BAD_FRAME]++;
  }

  /** A line in any format of SPEC §4, colour codes removed. */
  anyLine(buf: Buffer, start: number, end: number): void {
    if (this.escapes.within(buf, start, end)) {
      if (this.scratch.length < end - start) this.scratch = Buffer.allocUnsafe(end - start);
      end = stripAnsi(buf, start, end, this.scratch);
      buf = this.scratch;
      start = 0;
    }
    parseAnyLine(buf, start, end, this.header);
    this.message(buf, this.header);
  }

  private message(buf: Buffer, h: LineHeader): void {
    const stats = this.stats;
    stats.lines++;
    if (h.time !== h.time) {
      h.time = this.now;
      if (h.badTime) stats.rejected[BAD_TIMESTAMP]++;
    }
    // The header travels instead of its time: a double argument to a call too big
    // to inline is boxed (bench/ingest.ts: 16 bytes a line less to collect).
    if (h.format !== FORMAT_BARE && equals(buf, h.appStart, h.appEnd, HEROKU)) {
      if (equals(buf, h.procStart, h.procEnd, ROUTER)) {
        this.platform.router(buf, h, this.app);
        return;
      }
      if (equals(buf, h.procStart, h.procEnd, LOGPLEX)) {
        this.platform.logplex(buf, h, this.app);
        return;
      }
      if (this.platform.dynoError(buf, h, this.app)) return;
    }
    this.l2met.line(buf, h, this.app, this.names);
  }
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
