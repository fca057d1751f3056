// The history's tables in PostgreSQL, made and migrated by drainmeter at start: a
// schema_version table says which of MIGRATIONS ran; each runs once, in order, in one
// transaction that holds the version table locked, so receivers starting together
// migrate once (docs/history.md).
//
// A step row is (series, t, receiver): the series' id, the step's start (epoch s) and
// the receiver that wrote it. Its values are what merges exactly: count, sum, min,
// max, a sample's last value with its time (ms), and a measure's histogram buckets as
// two arrays, schema 6 keys (aggregate/buckets.ts) ascending and their counts, and
// (version 3) the keys of the buckets holding its p50, p95 and p99 (q50, q95, q99:
// the nearest rank's bucket; 2^31 - 1 where the buckets end before the rank, which
// reads as the max). Reads add receivers' rows of one (series, t); a step one
// receiver wrote is read from its quantile keys, its arrays not fetched. The tables are ordered by the primary key;
// a BRIN index on t (a few pages: rows come in time order) finds what retention
// deletes and what a roll-up reads.
//
// Version 4 adds a series' `seen` (epoch s): when a receiver last registered it.
// Retention deletes a series with no step left in any tier once it has not been seen
// for a day (a series just registered has no step yet, and is kept).
//
// Version 2 adds the alerts' state (src/alerts/postgres-store.ts, docs/alerts.md): an
// alert's entry by its key, the recent transitions, and the one-row lease.

import type pg from 'pg';
import { TIERS } from './store.js';

export const VERSION_TABLE = 'drainmeter_schema_version';

/** The table of a tier: drainmeter_steps_10s, _1m, _1h. */
export function stepTable(tier: { name: string }): string {
  return `drainmeter_steps_${tier.name}`;
}

const steps = TIERS.map(
  (tier) => `
CREATE TABLE ${stepTable(tier)} (
  series integer NOT NULL,
  t integer NOT NULL,
  receiver smallint NOT NULL,
  count double precision,
  sum double precision,
  min double precision,
  max double precision,
  last double precision,
  last_t double precision,
  keys integer[],
  counts integer[],
  PRIMARY KEY (series, t, receiver)
);
CREATE INDEX ${stepTable(tier)}_t ON ${stepTable(tier)} USING brin (t);`,
).join('\n');

/** Each entry is one schema version's statements; never edit one that shipped, add the next. */
export const MIGRATIONS: readonly string[] = [
  `
CREATE TABLE drainmeter_receivers (
  id smallserial PRIMARY KEY,
  name text NOT NULL UNIQUE
);
CREATE TABLE drainmeter_series (
  id serial PRIMARY KEY,
  app text NOT NULL,
  metric text NOT NULL,
  kind smallint NOT NULL,
  labels text NOT NULL,
  UNIQUE (app, metric, labels)
);
${steps}
CREATE TABLE drainmeter_releases (
  app text NOT NULL,
  t integer NOT NULL,
  text text NOT NULL,
  PRIMARY KEY (app, t, text)
);`,
  `
CREATE TABLE drainmeter_alert_state (
  key bytea PRIMARY KEY,
  entry json NOT NULL
);
CREATE TABLE drainmeter_alert_log (
  id bigserial PRIMARY KEY,
  entry json NOT NULL
);
CREATE TABLE drainmeter_alert_lease (
  id smallint PRIMARY KEY CHECK (id = 1),
  holder text NOT NULL,
  expires timestamptz NOT NULL
);`,
  TIERS.map((tier) => `ALTER TABLE ${stepTable(tier)} ADD COLUMN q50 integer, ADD COLUMN q95 integer, ADD COLUMN q99 integer;`).join('\n'),
  `ALTER TABLE drainmeter_series ADD COLUMN seen integer NOT NULL DEFAULT extract(epoch FROM now())::integer;`,
];

/**
 * Makes the version table if absent, then runs the migrations not yet run, in one
 * transaction holding it locked. Returns the version found (0: a new database).
 */
export async function migrate(c: pg.ClientBase): Promise<number> {
  await c.query(`CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version integer NOT NULL)`);
  try {
    await c.query('BEGIN');
    await c.query(`LOCK TABLE ${VERSION_TABLE} IN EXCLUSIVE MODE`);
    const r = await c.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${VERSION_TABLE}`);
    const at = r.rows[0]?.v ?? 0;
    for (let v = at + 1; v <= MIGRATIONS.length; v++) {
      await c.query(MIGRATIONS[v - 1]);
      await c.query(`INSERT INTO ${VERSION_TABLE} (version) VALUES ($1)`, [v]);
    }
    await c.query('COMMIT');
    return at;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/**
 * Heroku Postgres takes TLS with a certificate no public CA signed (as Heroku Redis):
 * encrypted, not verified, unless the URL says sslmode itself. A loopback URL is plain.
 */
export function sslFor(url: string): pg.PoolConfig['ssl'] {
  if (/[?&]sslmode=/.test(url)) return undefined;
  const host = /^[a-z]+:\/\/(?:[^@/]*@)?\[?([^\]:/?]+)/i.exec(url)?.[1] ?? '';
  if (host === 'localhost' || host.startsWith('127.') || host === '::1' || host === '') return undefined;
  return { rejectUnauthorized: false };
}
