// Retention of the PostgreSQL history (docs/history.md): each tier's rows older than
// the tier keeps, releases as old as the coarsest tier's, and series with no step left.

import type pg from 'pg';
import { stepTable } from './schema.js';
import { TIERS } from './store.js';

/** How often old rows are deleted. */
export const RETENTION_MS = 10 * 60_000;
/** A series with no steps is deleted only this long after it was last registered. */
const SERIES_GRACE_S = 24 * 3600;

/** Deletes what every tier has kept long enough; `now` is epoch s. */
export async function deleteExpired(pool: pg.Pool, now: number): Promise<void> {
  for (const tier of TIERS) await pool.query(`DELETE FROM ${stepTable(tier)} WHERE t < $1`, [now - tier.seconds]);
  await pool.query('DELETE FROM drainmeter_releases WHERE t < $1', [now - TIERS[TIERS.length - 1].seconds]);
  // A series with no step left, not registered for a day, gives its app's budget back.
  // A receiver registering it meanwhile updates `seen` first (the row lock orders the
  // two), so a series a receiver holds an id of is never deleted under it.
  const none = TIERS.map((tier) => `NOT EXISTS (SELECT 1 FROM ${stepTable(tier)} x WHERE x.series = s.id)`).join(' AND ');
  await pool.query(`DELETE FROM drainmeter_series s WHERE s.seen < $1 AND ${none}`, [now - SERIES_GRACE_S]);
}
