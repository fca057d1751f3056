// A real PostgreSQL for the history tests (fixtures/postgres.ts starts it), or a skip
// on a laptop without one (a failure in CI).

import { join } from 'node:path';
import { postgresBin } from '../../fixtures/postgres.js';
import { installed } from './real.js';

export { type Postgres, postgresBin, startPostgres } from '../../fixtures/postgres.js';

/** Whether a PostgreSQL can be started here (skip on a laptop without one, fail in CI). */
export function postgresInstalled(): boolean {
  const bin = postgresBin();
  return installed('the PostgreSQL history tests', 'postgresql', [bin === null ? 'false' : join(bin, 'pg_ctl'), '--version'], ['id', 'postgres']);
}
