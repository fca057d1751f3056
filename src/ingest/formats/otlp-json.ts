// `application/json` on /v1/logs: OTLP/JSON ExportLogsServiceRequest (docs/http-api.md).

import { OtlpJsonDecoder, RecordTable } from '../otlp/index.js';
import { contiguous, type InputFormat, readRecords } from './format.js';

const decoder = new OtlpJsonDecoder();
const table = new RecordTable();
const INVALID_ARGUMENT = 3;

export const otlpJson: InputFormat = {
  name: 'otlp-json',
  path: '/v1/logs',
  contentTypes: ['application/json'],
  read(ingest, chunks) {
    return readRecords(ingest, table, decoder.decode(contiguous(chunks).toString('utf8'), table));
  },
  answers: {
    ok: (rejected, message) =>
      Buffer.from(JSON.stringify(rejected === 0 ? {} : { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: message } })),
    error: (message) => Buffer.from(JSON.stringify({ code: INVALID_ARGUMENT, message })),
  },
};
