// The history in PostgreSQL (DATABASE_URL; docs/history.md): `PostgresStore`, one
// pool and the pieces that use it. Closed 10 s steps are queued and written one batch
// a flush (writer.ts, batch.ts) under series ids kept within each app's budget
// (series-ids.ts); each receiver rolls its own rows up, 10 s → 1 min → 1 h
// (roll-up.ts); old rows go (retention.ts); a range is read with receivers' rows
// merged (range-read.ts, series-json.ts).

import pg from 'pg';
import type { Logger } from '../log.js';
import { readRange } from './range-read.js';
import { sslFor } from './schema.js';
import type { ClosedStep, HistoryStore, RangeQuery, Release, StoreStats } from './store.js';
import { Writer } from './writer.js';

export interface PostgresOptions {
  url: string;
  /** This receiver's name (DRAINMETER_INSTANCE, DYNO, host name). */
  instance: string;
  /** Series one app may keep in the store: each tier holds at most this × its steps for the app. */
  seriesPerApp: number;
  /** Bytes of steps that may wait for the database. */
  queueBytes: number;
  log: Logger;
  /** Wall clock, epoch ms. */
  now?: () => number;
}

export class PostgresStore implements HistoryStore {
  readonly stats: StoreStats = { up: false, queueBytes: 0, written: 0, dropped: 0, refused: 0 };
  private readonly pool: pg.Pool;
  private readonly now: () => number;
  private readonly writer: Writer;

  constructor(o: PostgresOptions) {
    this.now = o.now ?? Date.now;
    this.pool = new pg.Pool({ connectionString: o.url, max: 3, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, ssl: sslFor(o.url), application_name: 'drainmeter' });
    // A connection that breaks (the database restarting), idle or checked out, must not
    // crash the process: the query on it fails, and the writer retries.
    this.pool.on('error', () => {});
    this.pool.on('connect', (client) => client.on('error', () => {}));
    this.writer = new Writer(this.pool, o, this.stats, this.now);
  }

  add(s: ClosedStep): void {
    this.writer.add(s);
  }

  flush(through: number): void {
    this.writer.flush(through);
  }

  release(r: Release): void {
    this.writer.release(r);
  }

  async read(q: RangeQuery): Promise<string> {
    return readRange(this.pool, q, Math.floor(this.now() / 1000), this.writer);
  }

  async stop(deadline: number): Promise<void> {
    await this.writer.stop(deadline);
    await this.pool.end().catch(() => {});
  }
}
