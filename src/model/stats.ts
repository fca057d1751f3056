// What ingest counts for one body or stream: lines, and rejections by reason. The
// routes and the CLI turn these into the self-metrics of docs/limits.md; every reason is
// exposed from the start, at 0.

export const REASONS = [
  'bad_frame', // a frame or syslog header that could not be read
  'bad_value', // a metric value that is not a finite decimal with a unit, or not finite in base units
  'bad_name', // a metric key with an empty name, or a name or unit longer than the limits
  'bad_label', // a label value (source=, dyno=) longer than the limit
  'bad_timestamp', // a header timestamp that could not be read; the arrival time was used
  'reserved_name', // an app metric named heroku_*, drainmeter_*, process_* or nodejs_*
  'type_conflict', // a name (or a sample name it would write) already taken by another family
  'series_limit', // a new metric name or series past the app's share or the total
  'window_limit', // a value for a window past the series' open windows or the app's window bytes: counted in totals only
] as const;
export type Reason = (typeof REASONS)[number];

export const BAD_FRAME = 0;
export const BAD_VALUE = 1;
export const BAD_NAME = 2;
export const BAD_LABEL = 3;
export const BAD_TIMESTAMP = 4;
export const RESERVED_NAME = 5;
export const TYPE_CONFLICT = 6;
export const SERIES_LIMIT = 7;
export const WINDOW_LIMIT = 8;

export class IngestStats {
  /** Lines read from accepted frames, with metrics or without. */
  lines = 0;
  /** Observations handed to the sink. */
  observations = 0;
  /** Rejections, indexed by the reason constants above. */
  readonly rejected = new Float64Array(REASONS.length);

  reset(): void {
    this.lines = 0;
    this.observations = 0;
    this.rejected.fill(0);
  }

  rejectedTotal(): number {
    let n = 0;
    for (let i = 0; i < this.rejected.length; i++) n += this.rejected[i];
    return n;
  }

  /** Reasons with a non-zero count, for messages and tests. */
  rejections(): Partial<Record<Reason, number>> {
    const out: Partial<Record<Reason, number>> = {};
    for (let i = 0; i < REASONS.length; i++) if (this.rejected[i] > 0) out[REASONS[i]] = this.rejected[i];
    return out;
  }
}
