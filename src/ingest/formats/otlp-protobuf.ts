// `application/x-protobuf` on /v1/logs: OTLP ExportLogsServiceRequest (SPEC §10),
// as Heroku Fir's telemetry drains and the OpenTelemetry exporters send it.

import { BAD_FRAME } from '../../model/index.js';
import { OtlpProtoDecoder, protoResponse, protoStatus, RecordTable } from '../otlp-logs.js';
import { contiguous, type InputFormat } from './format.js';

const decoder = new OtlpProtoDecoder();
const table = new RecordTable();
const INVALID_ARGUMENT = 3;

export const otlpProtobuf: InputFormat = {
  name: 'otlp-protobuf',
  path: '/v1/logs',
  contentTypes: ['application/x-protobuf', 'application/protobuf'],
  read(ingest, chunks) {
    const err = decoder.decode(contiguous(chunks), table);
    if (err !== null) {
      ingest.stats.rejected[BAD_FRAME]++;
      return { lines: 0, rejected: 0, error: `not an OTLP logs request: ${err}` };
    }
    ingest.records(table);
    ingest.stats.rejected[BAD_FRAME] += table.rejected;
    return { lines: table.count, rejected: table.rejected, error: null };
  },
  answers: {
    ok: protoResponse,
    error: (message) => protoStatus(INVALID_ARGUMENT, message),
  },
};
