// `application/json` on /v1/logs: OTLP/JSON ExportLogsServiceRequest (SPEC §10).

import { BAD_FRAME } from '../../model/index.js';
import { OtlpJsonDecoder, RecordTable } from '../otlp-logs.js';
import { contiguous, type InputFormat } from './format.js';

const decoder = new OtlpJsonDecoder();
const table = new RecordTable();
const INVALID_ARGUMENT = 3;

export const otlpJson: InputFormat = {
  name: 'otlp-json',
  path: '/v1/logs',
  contentTypes: ['application/json'],
  read(ingest, chunks) {
    const err = decoder.decode(contiguous(chunks).toString('utf8'), table);
    if (err !== null) {
      ingest.stats.rejected[BAD_FRAME]++;
      return { lines: 0, rejected: 0, error: `not an OTLP logs request: ${err}` };
    }
    ingest.records(table);
    ingest.stats.rejected[BAD_FRAME] += table.rejected;
    return { lines: table.count, rejected: table.rejected, error: null };
  },
  answers: {
    ok: (rejected, message) =>
      Buffer.from(JSON.stringify(rejected === 0 ? {} : { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: message } })),
    error: (message) => Buffer.from(JSON.stringify({ code: INVALID_ARGUMENT, message })),
  },
};
