// Where observations go. The aggregator implements it; tests and benchmarks use
// small sinks of their own. One reused instance.
//
// Each line with at least one observation calls at() once, then observe() per
// observation: the line's app and time are set once, not passed (and boxed) with
// every value, and the receiver can find the line's window once.

import type { Metric } from './catalog.js';
import type { Tenant } from './tenant.js';

export interface ObservationSink {
  /** The app and time (epoch ms) of the observations that follow. */
  at(app: Tenant, time: number): void;
  /**
   * One observation. `label1` and `label2` are the values of metric.labels[0] and
   * [1] ('' when absent); `value` is in base units.
   */
  observe(metric: Metric, label1: string, label2: string, value: number): void;
  /**
   * The stream's first own timestamp, after lines without one took their arrival
   * time (tail, docs/conventions.md): a clock those lines moved goes back to it, so a day-old
   * file that starts with a bare line is not late from its second line on.
   */
  rebase?(time: number): void;
}

/**
 * Where an app's release and deploy lines go (`app[api]: Release v42 created by …`,
 * `Deploy 1a2b3c4 by …`): the dashboard marks them on every chart (docs/history.md).
 * `time` is epoch ms; `text` is the line's message, at most 200 characters.
 */
export interface ReleaseSink {
  release(app: string, time: number, text: string): void;
}
