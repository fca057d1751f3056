// The link's three connections to Redis, each with its scripts (scripts.ts,
// frame-ids.ts): the writer (payloads and snapshots; its queue is the link's, so it
// waits for nothing), the reader (the stream, blocking) and the claims (Frame-Ids and
// kinds, answered within CLAIM_TIMEOUT_MS or decided here).

import { Redis, type RedisOptions } from 'ioredis';
import { CLAIM } from './frame-ids.js';
import { APPLY, CLAIM_KIND, SNAPSHOT } from './scripts.js';

/** A Frame-Id claim waits at most this for Redis, then the receiver decides alone, ms. */
export const CLAIM_TIMEOUT_MS = 250;
/** A write (one payload) waits at most this before it is tried again, ms. */
export const WRITE_TIMEOUT_MS = 5_000;

export interface Scripted {
  dmApply(args: (string | Buffer | number)[]): Promise<number | string[]>;
  dmSnapshot(numKeys: number, ...args: string[]): Promise<unknown[]>;
}

export interface Claiming {
  dmClaim(...args: (string | number)[]): Promise<number>;
  dmClaimKind(numKeys: number, ...args: string[]): Promise<string>;
}

export interface Connections {
  writer: Redis & Scripted;
  reader: Redis;
  claims: Redis & Claiming;
}

function options(url: string, extra: RedisOptions): RedisOptions {
  // Heroku Redis serves TLS with a self-signed certificate (Dev Center, "Connecting to
  // Heroku Key-Value Store"): the connection is encrypted, the peer is not verified.
  const tls = url.startsWith('rediss://') ? { tls: { rejectUnauthorized: false } } : {};
  return { lazyConnect: false, connectTimeout: 5_000, retryStrategy: (n) => Math.min(200 * n, 2_000), ...tls, ...extra };
}

/** Opens the three connections; their errors are said once, by the link's up and down. */
export function connect(url: string, streamBytes: number): Connections {
  // Writes wait for nothing: the queue here holds them across reconnects.
  const writer = new Redis(url, options(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: WRITE_TIMEOUT_MS })) as Redis & Scripted;
  writer.defineCommand('dmApply', { lua: APPLY(streamBytes) });
  writer.defineCommand('dmSnapshot', { lua: SNAPSHOT });
  const reader = new Redis(url, options(url, { maxRetriesPerRequest: 0 }));
  // No ready check: its INFO would fall under the claims' 250 ms timeout while Redis
  // pauses clients (a failover), and the connection would never become ready.
  const claims = new Redis(url, options(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: CLAIM_TIMEOUT_MS, enableReadyCheck: false })) as Redis & Claiming;
  claims.defineCommand('dmClaim', { lua: CLAIM });
  claims.defineCommand('dmClaimKind', { lua: CLAIM_KIND });
  for (const c of [writer, reader, claims]) c.on('error', () => {}); // said once, by up/down
  return { writer, reader, claims };
}
