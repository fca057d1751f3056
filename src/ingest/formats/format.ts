// An input format: the content types it takes, the route it arrives on, and how a
// whole body (its chunks in order) is read into the ingest. A new format is one file
// here and one line in index.ts.

import { BAD_FRAME } from '../../model/index.js';
import type { Ingest } from '../ingest.js';
import type { RecordTable } from '../otlp/index.js';

export interface ReadResult {
  /** Lines (frames, records) read, with metrics or without. */
  lines: number;
  /** Records refused whole (OTLP partial success); 0 for line formats. */
  rejected: number;
  /** Why the body cannot be used, in words a user understands; null when it can. */
  error: string | null;
}

/** How an OTLP route encodes its answers in the request's own encoding. */
export interface OtlpAnswers {
  /** ExportLogsServiceResponse: a partial success when records were rejected. */
  ok(rejected: number, message: string): Buffer;
  /** google.rpc.Status for a body that cannot be decoded. */
  error(message: string): Buffer;
}

export interface InputFormat {
  readonly name: string;
  /** The route the format arrives on. */
  readonly path: '/logs' | '/v1/logs';
  /** Media types, lower case, without parameters. */
  readonly contentTypes: readonly string[];
  read(ingest: Ingest, chunks: readonly Buffer[], size: number, maxLine: number): ReadResult;
  /** For OTLP formats: how answers are encoded. */
  readonly answers?: OtlpAnswers;
}

/** The chunks of a body as one buffer (a decoder that needs contiguous bytes). */
export function contiguous(chunks: readonly Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks as Buffer[]);
}

/** An OTLP request decoded into `table` (or not: `err`), read into the ingest. */
export function readRecords(ingest: Ingest, table: RecordTable, err: string | null): ReadResult {
  if (err !== null) {
    ingest.stats.rejected[BAD_FRAME]++;
    return { lines: 0, rejected: 0, error: `not an OTLP logs request: ${err}` };
  }
  ingest.records(table);
  ingest.stats.rejected[BAD_FRAME] += table.rejected;
  return { lines: table.count, rejected: table.rejected, error: null };
}
