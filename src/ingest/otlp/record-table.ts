// The records of one OTLP logs request (index.ts), as the decoders leave them: each
// record's body range, dyno range, platform source and time in typed arrays over one
// buffer, so the ingest reads them as it reads logplex frames, with no object per record.

/** Where a record comes from, by the resource's `service.name` (docs/http-api.md). */
export const SOURCE_APP = 0; // the app's own lines: l2met conventions
export const SOURCE_ROUTER = 1; // heroku-router
export const SOURCE_RUNTIME = 2; // heroku-runtime: a dyno's platform lines
export const SOURCE_POSTGRES = 3; // heroku-postgres
export const SOURCE_REDIS = 4; // heroku-redis
export const SOURCE_PGBOUNCER = 5; // heroku-pgbouncer

/** The Heroku services by their `service.name`; any other is SOURCE_APP. */
export const SERVICES: [string, number][] = [
  ['heroku-router', SOURCE_ROUTER],
  ['heroku-runtime', SOURCE_RUNTIME],
  ['heroku-postgres', SOURCE_POSTGRES],
  ['heroku-redis', SOURCE_REDIS],
  ['heroku-pgbouncer', SOURCE_PGBOUNCER],
];

/** Fields per record in RecordTable.ints. */
const F = 5;
const BODY_START = 0;
const BODY_END = 1;
const PROC_START = 2;
const PROC_END = 3;
const SOURCE = 4;

/** The records of one request, over `buf`. */
export class RecordTable {
  buf: Buffer = Buffer.alloc(0);
  /** Records with a string body. */
  count = 0;
  /** Records refused (a body that is not a string): partial success. */
  rejected = 0;
  ints = new Int32Array(F * 64);
  /** Epoch ms of each record; NaN when it gave none. */
  times = new Float64Array(64);

  reset(buf: Buffer): void {
    this.buf = buf;
    this.count = 0;
    this.rejected = 0;
  }

  add(bodyStart: number, bodyEnd: number, procStart: number, procEnd: number, source: number, time: number): void {
    const i = this.count;
    if (i === this.times.length) {
      const ints = new Int32Array(this.ints.length * 2);
      ints.set(this.ints);
      this.ints = ints;
      const times = new Float64Array(this.times.length * 2);
      times.set(this.times);
      this.times = times;
    }
    const p = i * F;
    this.ints[p + BODY_START] = bodyStart;
    this.ints[p + BODY_END] = bodyEnd;
    this.ints[p + PROC_START] = procStart;
    this.ints[p + PROC_END] = procEnd;
    this.ints[p + SOURCE] = source;
    this.times[i] = time;
    this.count = i + 1;
  }

  bodyStart(i: number): number {
    return this.ints[i * F + BODY_START];
  }
  bodyEnd(i: number): number {
    return this.ints[i * F + BODY_END];
  }
  procStart(i: number): number {
    return this.ints[i * F + PROC_START];
  }
  procEnd(i: number): number {
    return this.ints[i * F + PROC_END];
  }
  source(i: number): number {
    return this.ints[i * F + SOURCE];
  }
}
