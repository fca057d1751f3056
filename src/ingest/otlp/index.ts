// OTLP logs (docs/http-api.md, Heroku Fir's telemetry drains) to a table of records
// over one buffer: each record's body range, time and platform source, so the ingest
// reads them as it reads logplex frames, with no object per record. Protobuf is walked
// over the bytes (proto-decoder.ts over proto-reader.ts), JSON parsed and its strings
// copied into one buffer (json-decoder.ts); responses.ts writes the answers.

export { JSON_BYTES_PER_CONTAINER, JSON_CONTAINERS_FREE, MAX_JSON_DEPTH, OtlpJsonDecoder } from './json-decoder.js';
export { OtlpProtoDecoder } from './proto-decoder.js';
export { RecordTable, SOURCE_APP, SOURCE_PGBOUNCER, SOURCE_POSTGRES, SOURCE_REDIS, SOURCE_ROUTER, SOURCE_RUNTIME } from './record-table.js';
export { protoResponse, protoStatus } from './responses.js';
