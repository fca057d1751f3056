// `application/x-protobuf` on /v1/logs: OTLP ExportLogsServiceRequest (docs/http-api.md),
// as Heroku Fir's telemetry drains and the OpenTelemetry exporters send it.

import { OtlpProtoDecoder, protoResponse, protoStatus, RecordTable } from '../otlp/index.js';
import { contiguous, type InputFormat, readRecords } from './format.js';

const decoder = new OtlpProtoDecoder();
const table = new RecordTable();
const INVALID_ARGUMENT = 3;

export const otlpProtobuf: InputFormat = {
  name: 'otlp-protobuf',
  path: '/v1/logs',
  contentTypes: ['application/x-protobuf', 'application/protobuf'],
  read(ingest, chunks) {
    return readRecords(ingest, table, decoder.decode(contiguous(chunks), table));
  },
  answers: {
    ok: protoResponse,
    error: (message) => protoStatus(INVALID_ARGUMENT, message),
  },
};
