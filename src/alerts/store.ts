// Where alert state outlives the process (docs/alerts.md): the entries another
// evaluator needs (an alert pending or firing, a transition not yet delivered, a
// rearm still running), the recent transitions, and the lease that says which
// evaluator moves alerts. One file per store: a local JSON file here, Redis in
// redis-store.ts, PostgreSQL in postgres-store.ts.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Entry } from './evaluator.js';

/** A transition as the recent history keeps it. */
export interface Recorded {
  alert: string;
  app: string;
  labels: Record<string, string>;
  state: 'firing' | 'resolved';
  value: number | null;
  /** Epoch s. */
  at: number;
}

/** Recent transitions kept, all alerts together. */
export const RECENT = 200;

export interface AlertStore {
  readonly name: string;
  /** Every entry kept. */
  load(): Promise<Entry[]>;
  /** Keeps (or, null, forgets) an entry; resolves once it is kept. */
  put(key: string, e: Entry | null): Promise<void>;
  record(r: Recorded): void;
  /** The recent transitions, newest first. */
  recent(): Promise<Recorded[]>;
  /** Every entry as kept (a reader that does not hold the lease). */
  entries(): Promise<Entry[]>;
  /** Takes or keeps the lease; true while this process holds it. Called every LEASE_RENEW_MS. */
  lease(): Promise<boolean>;
  /** Lets the lease go and closes. */
  close(): Promise<void>;
}

/**
 * A local file: written whole (to a temporary file, then renamed) at each change.
 * It is the only evaluator, so it always holds the lease. On a dyno the file lasts
 * until the dyno restarts (docs/alerts.md).
 */
export class FileStore implements AlertStore {
  readonly name = 'file';
  private readonly kept = new Map<string, Entry>();
  private readonly log: Recorded[] = [];

  constructor(private readonly path: string) {
    try {
      const saved = JSON.parse(readFileSync(path, 'utf8')) as { entries?: Record<string, Entry>; recent?: Recorded[] };
      for (const [k, e] of Object.entries(saved.entries ?? {})) this.kept.set(k, e);
      this.log.push(...(saved.recent ?? []).slice(0, RECENT));
    } catch {
      // no file yet, or not ours to read: start empty
    }
  }

  async load(): Promise<Entry[]> {
    return [...this.kept.values()];
  }

  entries(): Promise<Entry[]> {
    return this.load();
  }

  async put(key: string, e: Entry | null): Promise<void> {
    if (e === null) this.kept.delete(key);
    else this.kept.set(key, { ...e });
    this.write();
  }

  record(r: Recorded): void {
    this.log.unshift(r);
    if (this.log.length > RECENT) this.log.length = RECENT;
    this.write();
  }

  async recent(): Promise<Recorded[]> {
    return this.log;
  }

  async lease(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  private write(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ entries: Object.fromEntries(this.kept), recent: this.log }));
      renameSync(tmp, this.path);
    } catch {
      // A read-only directory: state lasts as long as the process (counted nowhere else).
    }
  }
}
