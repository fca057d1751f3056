// Where observations go. The aggregator implements it; tests and benchmarks use
// small sinks of their own. One reused instance, called once per observation.

import type { Metric } from './catalog.js';

export interface ObservationSink {
  /**
   * One observation of `metric` for `app`. `label1` and `label2` are the values of
   * metric.labels[0] and [1] ('' when absent); `value` is in base units; `time` is
   * epoch milliseconds.
   */
  observe(app: string, metric: Metric, label1: string, label2: string, value: number, time: number): void;
}
