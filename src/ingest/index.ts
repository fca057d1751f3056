// bytes → frames/lines → headers → key/value pairs → observations.
export { EscapeFinder, stripAnsi } from './ansi.js';
export { type FrameErrorCode, FrameReader, type FrameSink } from './frame-reader.js';
export { Ingest, type IngestOptions, ingestLogplex, ingestText } from './ingest.js';
export { FORMAT_BARE, FORMAT_CLI, FORMAT_SYSLOG, LineHeader, parseAnyLine, parseSyslog } from './line-header.js';
export { LineReader } from './line-reader.js';
export { BARE, ESCAPED, QUOTED, Tokenizer, valueText } from './logfmt.js';
export { NameTable } from './names.js';
export { NumberReader } from './number.js';
export { parseTimestamp } from './timestamp.js';
