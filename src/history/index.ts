// The history that outlives the process (docs/history.md): its options, and the store
// they choose. The ring (outlets/history/) is always there; a store only with
// DATABASE_URL.

import type { Logger } from '../log.js';
import { ConfigError, type Option } from '../options.js';
import type { HistoryStore } from './store.js';

export { type ClosedStep, type HistoryStore, MAX_POINTS, type RangeQuery, type Release, type StoreStats, TIERS, tierFor } from './store.js';

export const HISTORY_OPTIONS: Option[] = [
  { flag: 'database-url', env: 'DATABASE_URL', describe: "PostgreSQL keeping the dashboard's history (Heroku Postgres sets it)", default: '' },
  { flag: 'history-series-per-app', env: 'DRAINMETER_HISTORY_SERIES_PER_APP', describe: "series one app may keep in the database's history", default: '50' },
  { flag: 'history-queue-bytes', env: 'DRAINMETER_HISTORY_QUEUE_BYTES', describe: 'bytes of steps that wait while the database is away', default: '33554432' },
];

export interface HistorySettings {
  databaseUrl: string;
  seriesPerApp: number;
  queueBytes: number;
}

function whole(values: ReadonlyMap<string, string>, flag: string, env: string, min: number, max: number): number {
  const text = values.get(flag) ?? '';
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new ConfigError(`${env} (--${flag}) must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return n;
}

export function historySettings(values: ReadonlyMap<string, string>): HistorySettings {
  const databaseUrl = values.get('database-url') ?? '';
  if (databaseUrl !== '' && !/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL (--database-url) must be a postgres:// URL, not ${JSON.stringify(databaseUrl.replace(/:[^:@/]*@/, ':…@'))}`);
  }
  return {
    databaseUrl,
    seriesPerApp: whole(values, 'history-series-per-app', 'DRAINMETER_HISTORY_SERIES_PER_APP', 1, 10_000_000),
    queueBytes: whole(values, 'history-queue-bytes', 'DRAINMETER_HISTORY_QUEUE_BYTES', 65_536, 2 ** 34),
  };
}

/** The store the settings ask for, or null (history in memory only). The client loads only then. */
export async function openStore(s: HistorySettings, instance: string, log: Logger): Promise<HistoryStore | null> {
  if (s.databaseUrl === '') return null;
  const { PostgresStore } = await import('./postgres.js');
  return new PostgresStore({ url: s.databaseUrl, instance, seriesPerApp: s.seriesPerApp, queueBytes: s.queueBytes, log });
}
