// Types every layer shares: metrics and their kinds, the catalog of names,
// rejection reasons and ingest counts, and the sink observations go to.
export { Catalog, COUNTER, KIND_NAMES, type Kind, MEASURE, Metric, SAMPLE } from './catalog.js';
export type { ObservationSink } from './sink.js';
export { BAD_FRAME, BAD_NAME, BAD_TIMESTAMP, BAD_VALUE, IngestStats, type Reason, REASONS, SERIES_LIMIT, TYPE_CONFLICT } from './stats.js';
