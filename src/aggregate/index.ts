// observations → series → windows → histograms.
export { Aggregator, type AggregatorOptions, type CloseListener, type ClosedWindow, type MergeWindowOptions, type PartialWindow } from './aggregator.js';
export { AppState } from './app-state.js';
export { indexOfKey, RELATIVE_ERROR, SCHEMA } from './buckets.js';
export { Histogram } from './histogram.js';
export { Series, Window } from './series.js';
export { SlidingWindow } from './sliding-window.js';
export { PooledRoom, WindowBuckets } from './window-buckets.js';
