// The platform's sample lines (docs/conventions.md) and the families they go to: dyno runtime
// metrics (`heroku web.1`, log-runtime-metrics), and the metrics logs of Heroku
// Postgres, Redis and PgBouncer (`app heroku-postgres`, …). Each source has its own
// family prefix, so a dyno's `memory_total` and Postgres' `memory-total` never share
// a family.
//
// Units are the ones Heroku documents: a value written with its unit (`21.00MB`,
// `16085844kB`, `147391814791bytes`) is scaled by it as any line's; the keys Heroku
// writes without a unit get the one its documentation gives (tmp-disk-used: bytes;
// PgBouncer's avg_query: microseconds, max_wait: seconds, as PgBouncer reports them).
// A key Heroku adds later is taken as written, under the same prefix.

import { type KnownSample, NameScheme } from './names.js';

const LOAD = (m: number, where: string): KnownSample => ({ help: `Load average of the ${where} over the last ${m} minute${m > 1 ? 's' : ''}.` });

const DYNO = new Map<string, KnownSample>([
  ['load_avg_1m', LOAD(1, 'dyno')],
  ['load_avg_5m', LOAD(5, 'dyno')],
  ['load_avg_15m', LOAD(15, 'dyno')],
  ['memory_total', { help: 'Memory the dyno uses: resident, cache and swap together.' }],
  ['memory_rss', { help: 'Dyno memory held in RAM.' }],
  ['memory_cache', { help: 'Dyno memory used as disk cache.' }],
  ['memory_swap', { help: 'Dyno memory swapped to disk.' }],
  ['memory_pgpgin', { help: 'Pages the dyno has written to disk, cumulative.' }],
  ['memory_pgpgout', { help: 'Pages the dyno has read from disk, cumulative.' }],
  ['memory_quota', { help: 'Resident memory at which the dyno gets an R14.' }],
]);

const SERVER = (what: string): [string, KnownSample][] => [
  ['load-avg-1m', LOAD(1, what)],
  ['load-avg-5m', LOAD(5, what)],
  ['load-avg-15m', LOAD(15, what)],
  ['read-iops', { help: `Read operations per second on the ${what}'s disk.` }],
  ['write-iops', { help: `Write operations per second on the ${what}'s disk.` }],
  ['memory-total', { help: `Memory of the ${what}'s server.` }],
  ['memory-free', { help: `Free memory on the ${what}'s server.` }],
  ['memory-cached', { help: `Memory the ${what}'s server uses as page cache.` }],
  ['active-connections', { help: `Connections open to the ${what}.` }],
];

const POSTGRES = new Map<string, KnownSample>([
  ...SERVER('database'),
  ['current_transaction', { help: 'Current transaction id: it rises with writes.' }],
  ['db_size', { unit: 'bytes', help: 'Database size: tables, indexes and bloat.' }],
  ['tables', { help: 'Tables in the database.' }],
  ['waiting-connections', { help: 'Connections waiting on a lock.' }],
  ['index-cache-hit-rate', { help: 'Ratio of index lookups served from the buffer cache.' }],
  ['table-cache-hit-rate', { help: 'Ratio of table lookups served from the buffer cache.' }],
  ['tmp-disk-used', { unit: 'bytes', help: 'Bytes used on the database server temporary disk.' }],
  ['tmp-disk-available', { unit: 'bytes', help: 'Bytes free on the database server temporary disk.' }],
  ['memory-postgres', { help: "Memory of the database's Postgres processes." }],
  ['wal-percentage-used', { help: 'Fraction of the WAL disk in use, 0 to 1.' }],
  ['follower-lag-commits', { help: 'Commits a follower is behind its leader.' }],
]);

const REDIS = new Map<string, KnownSample>([
  ...SERVER('Redis instance'),
  ['memory-redis', { unit: 'bytes', help: 'Memory Redis uses.' }],
  ['hit-rate', { help: 'Ratio of key lookups that found their key.' }],
  ['evicted-keys', { help: 'Keys evicted under the memory limit.' }],
]);

const PGBOUNCER = new Map<string, KnownSample>([
  ['client_active', { help: 'Client connections to the pooler holding a server connection.' }],
  ['client_waiting', { help: 'Client connections to the pooler waiting for a server connection.' }],
  ['server_active', { help: 'Server connections assigned to a client.' }],
  ['server_idle', { help: 'Server connections not assigned to a client.' }],
  ['max_wait', { unit: 's', help: 'Longest wait of a client for a server connection.' }],
  ['avg_query', { unit: 'us', help: 'Average duration of queries through the pooler.' }],
  ['avg_recv', { name: 'avg_recv_bytes_per_second', help: 'Bytes received from clients per second, average.' }],
  ['avg_sent', { name: 'avg_sent_bytes_per_second', help: 'Bytes sent to clients per second, average.' }],
]);

/** Platform sample sources, by index (Ingest keeps one name table per app and source). */
export const PLATFORM_DYNO = 0;
export const PLATFORM_POSTGRES = 1;
export const PLATFORM_REDIS = 2;
export const PLATFORM_PGBOUNCER = 3;

const ADDON_LABELS = ['source', 'addon'] as const;

export const PLATFORM_SCHEMES: readonly NameScheme[] = [
  new NameScheme('heroku_dyno_', ['dyno'], 'Dyno runtime metric', DYNO),
  new NameScheme('heroku_postgres_', ADDON_LABELS, 'Heroku Postgres metric', POSTGRES),
  new NameScheme('heroku_redis_', ADDON_LABELS, 'Heroku Redis metric', REDIS),
  new NameScheme('heroku_pgbouncer_', ADDON_LABELS, 'Heroku Postgres connection pooling metric', PGBOUNCER),
];
