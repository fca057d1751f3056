// Types every layer shares: metrics and their kinds, the catalog of names,
// rejection reasons and ingest counts, the sink observations go to, the errors with
// their codes, and instants branded by unit.
export { Catalog, claimedNames, SHARED, COUNTER, isReserved, KIND_NAMES, type Kind, MEASURE, Metric, RESERVED_PREFIXES, SAMPLE } from './catalog.js';
export { Budget, type Budgets, budgetsFor, type Limits, BUDGET_NAMES, BUDGET_SLOTS, FRAME_ID_BYTES, FRAME_ID_BYTES_PER_APP, FRAME_IDS, HISTORY, Hold, Holder, SERIES_DEFAULT, seriesForMemory, INFLIGHT, NAMES, SERIES, WINDOWS } from './budget.js';
export { Tenant } from './tenant.js';
export { ConfigError, DrainmeterError, ERROR_CODES, type ErrorCode, errorCode, InputError, PortBusyError, UnreachableError, UsageError, WireError } from './errors.js';
export type { ObservationSink, ReleaseSink } from './sink.js';
export { BAD_FRAME, BAD_LABEL, BAD_NAME, BAD_TIMESTAMP, BAD_VALUE, IngestStats, type Reason, REASONS, RESERVED_NAME, SERIES_LIMIT, TYPE_CONFLICT, WINDOW_LIMIT } from './stats.js';
export { type EpochMs, type EpochSec, epochMs, epochSec, toMs, toSec } from './time.js';
