// What ingest counts for one body or stream: lines, and rejections by reason. The
// routes and the CLI turn these into the self-metrics of SPEC §6.

export const REASONS = [
  'bad_frame', // a frame or syslog header that could not be read
  'bad_value', // a metric value that is not a finite decimal with a unit
  'bad_name', // a metric key with an empty name
  'bad_timestamp', // a header timestamp that could not be read; the arrival time was used
  'type_conflict', // a name already taken by another kind
  'series_limit', // a new metric name or series past the configured limits
] as const;
export type Reason = (typeof REASONS)[number];

export const BAD_FRAME = 0;
export const BAD_VALUE = 1;
export const BAD_NAME = 2;
export const BAD_TIMESTAMP = 3;
export const TYPE_CONFLICT = 4;
export const SERIES_LIMIT = 5;

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
