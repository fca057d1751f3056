// The dashboard's history in memory: the 15-minute rings per series (docs/dashboard.md).

export { History } from './history.js';
export { labelText, number } from './history-json.js';
export { HISTORY_LIMIT, HISTORY_MAX_LIMIT, type HistoryQuery } from './query.js';
export { Slicer } from './slicer.js';
export { cadence, HISTORY_QUANTILES, HISTORY_SECONDS, HISTORY_STEP, type Track } from './track.js';
