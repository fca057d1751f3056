// Alert state in PostgreSQL, with DATABASE_URL (docs/alerts.md), on a small pool of
// its own. Its tables are made and migrated with the history's (src/history/schema.ts,
// version 2):
//
//   drainmeter_alert_state   an alert's key (bytes: it holds NULs) → its entry (JSON)
//   drainmeter_alert_log     the recent transitions (JSON), trimmed to RECENT
//   drainmeter_alert_lease   one row: the evaluator holding the lease and when it
//                            runs out, by the database's clock
//
// The lease is a row, not an advisory lock: it is taken or renewed by one INSERT …
// ON CONFLICT DO UPDATE … WHERE (it is ours, or it has run out), which PostgreSQL
// checks against the row it has locked, so two receivers never both get it. It runs
// out LEASE_MS after its last renewal whatever became of its holder (a session lock
// lasts as long as the holder's connection, which a vanished dyno may leave open for
// minutes), needs no connection set aside for it, goes through a connection pooler,
// and times the lease by one clock, the database's, not each dyno's.
//
// Writes (entries and transitions) go out one after another in the order made, so a
// later state of an alert is never overwritten by an earlier one. An entry is written
// only while the lease row names this process: one that lost it (paused past
// LEASE_MS while another took over) writes nothing over the new holder's state.

import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { migrate, MIGRATIONS, sslFor } from '../history/schema.js';
import type { Logger } from '../log.js';
import type { Entry } from './evaluator.js';
import { type AlertStore, RECENT, type Recorded } from './store.js';

/** The lease runs out this long after its last renewal, ms (as in Redis). */
export const LEASE_MS = 15_000;

const TAKE = `
INSERT INTO drainmeter_alert_lease (id, holder, expires) VALUES (1, $1, clock_timestamp() + $2 * interval '1 millisecond')
ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
WHERE drainmeter_alert_lease.holder = excluded.holder OR drainmeter_alert_lease.expires < clock_timestamp()
RETURNING holder`;
const PUT = `
INSERT INTO drainmeter_alert_state (key, entry) SELECT $1, $2::json
WHERE EXISTS (SELECT 1 FROM drainmeter_alert_lease WHERE holder = $3)
ON CONFLICT (key) DO UPDATE SET entry = excluded.entry`;
const FORGET = 'DELETE FROM drainmeter_alert_state WHERE key = $1 AND EXISTS (SELECT 1 FROM drainmeter_alert_lease WHERE holder = $2)';
const TRIM = `DELETE FROM drainmeter_alert_log WHERE id < (SELECT id FROM drainmeter_alert_log ORDER BY id DESC OFFSET ${RECENT - 1} LIMIT 1)`;

export class PostgresAlertStore implements AlertStore {
  readonly name = 'postgres';
  /** This process: instance and boot, so a restart is a new holder. */
  readonly me: string;
  private readonly pool: Promise<pg.Pool>;
  private prepared: Promise<void> | null = null;
  /** Writes, in the order made. */
  private writes: Promise<void> = Promise.resolve();
  private saidDown = false;

  constructor(url: string, instance: string, private readonly log: Logger) {
    this.me = `${instance}:${process.pid}:${randomBytes(4).toString('hex')}`;
    // The client loads only when DATABASE_URL asks for it.
    this.pool = import('pg').then(({ default: pgm }) => {
      const pool = new pgm.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, ssl: sslFor(url), application_name: 'drainmeter-alerts' });
      // A connection that breaks must not crash the process: its query fails instead.
      pool.on('error', () => {});
      pool.on('connect', (c) => c.on('error', () => {}));
      return pool;
    });
  }

  /** The pool, once the schema is made or migrated (tried again after a failure). */
  private async ready(): Promise<pg.Pool> {
    const pool = await this.pool;
    if (this.prepared === null) {
      this.prepared = (async () => {
        const c = await pool.connect();
        try {
          const at = await migrate(c);
          if (at < MIGRATIONS.length) this.log.info('alert schema migrated', { from: at, to: MIGRATIONS.length });
        } finally {
          c.release();
        }
      })();
      this.prepared.catch(() => (this.prepared = null));
    }
    await this.prepared;
    return pool;
  }

  private away(err: unknown): void {
    if (this.saidDown) return;
    this.saidDown = true;
    this.log.warn('alert database away', { error: (err as Error).message.replace(/\s+/g, ' ').slice(0, 200) });
  }

  private write(run: (pool: pg.Pool) => Promise<unknown>): Promise<void> {
    this.writes = this.writes.then(async () => {
      try {
        await run(await this.ready());
      } catch (err) {
        this.log.warn('alert state not written to PostgreSQL', { error: (err as Error).message.replace(/\s+/g, ' ').slice(0, 200) });
      }
    });
    return this.writes;
  }

  async load(): Promise<Entry[]> {
    const pool = await this.ready();
    const r = await pool.query<{ entry: Entry }>('SELECT entry FROM drainmeter_alert_state');
    return r.rows.map((row) => row.entry);
  }

  entries(): Promise<Entry[]> {
    return this.load().catch(() => []);
  }

  put(key: string, e: Entry | null): Promise<void> {
    const json = e === null ? null : JSON.stringify(e);
    const k = Buffer.from(key, 'utf8');
    return this.write(async (pool) => {
      const r = json === null ? await pool.query(FORGET, [k, this.me]) : await pool.query(PUT, [k, json, this.me]);
      if (json !== null && r.rowCount === 0) this.log.warn('alert state not written: another receiver holds the lease', { key });
    });
  }

  record(r: Recorded): void {
    const json = JSON.stringify(r);
    void this.write(async (pool) => {
      await pool.query('INSERT INTO drainmeter_alert_log (entry) VALUES ($1::json)', [json]);
      await pool.query(TRIM);
    });
  }

  async recent(): Promise<Recorded[]> {
    try {
      const pool = await this.ready();
      const r = await pool.query<{ entry: Recorded }>(`SELECT entry FROM drainmeter_alert_log ORDER BY id DESC LIMIT ${RECENT}`);
      return r.rows.map((row) => row.entry);
    } catch {
      return [];
    }
  }

  async lease(): Promise<boolean> {
    try {
      const pool = await this.ready();
      const r = await pool.query(TAKE, [this.me, LEASE_MS]);
      if (this.saidDown) {
        this.saidDown = false;
        this.log.info('alert database back');
      }
      return r.rowCount === 1;
    } catch (err) {
      this.away(err);
      return false;
    }
  }

  async close(): Promise<void> {
    await this.writes;
    const pool = await this.pool;
    try {
      await pool.query('DELETE FROM drainmeter_alert_lease WHERE holder = $1', [this.me]);
    } catch {
      // gone already: the lease runs out by itself
    }
    await pool.end().catch(() => {});
  }
}
