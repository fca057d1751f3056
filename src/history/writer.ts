// The write side of the PostgreSQL history (docs/history.md): closed 10 s steps are
// queued as the ring hands them over and written, one batch a flush (batch.ts), then
// rolled up (roll-up.ts); old rows are deleted now and then (retention.ts).
//
// The database going away blocks nothing: batches wait in a queue bounded in bytes
// (the oldest dropped and counted past it), the writer retries with backoff, and
// the log says when it goes and when it comes back.

import type pg from 'pg';
import { Batch, writeBatch } from './batch.js';
import type { PostgresOptions } from './postgres.js';
import { deleteExpired, RETENTION_MS } from './retention.js';
import { RollUps } from './roll-up.js';
import { migrate, MIGRATIONS } from './schema.js';
import { SeriesIds } from './series-ids.js';
import type { ClosedStep, Release, StoreStats } from './store.js';

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

interface Releases {
  app: string[];
  t: number[];
  text: string[];
}

/** The queue of batches and the one loop that writes them, with backoff while the database is away. */
export class Writer {
  private readonly stats: StoreStats;
  private readonly pool: pg.Pool;
  private readonly o: PostgresOptions;
  private readonly now: () => number;
  private readonly queue: Batch[] = [];
  private batch = new Batch();
  private releases: Releases = { app: [], t: [], text: [] };
  private readonly ids: SeriesIds;
  private readonly rollUps: RollUps;
  private receiver = -1;
  private ready = false;
  private pumping: Promise<void> | null = null;
  private stopping = false;
  private lastRetention = 0;
  /** The newest `through` whose steps are all written (this receiver's). */
  private doneThrough = -Infinity;
  /** Whether the log said the database is away (so it says when it is back). */
  private saidDown = false;
  private wake: (() => void) | null = null;

  /** Starts writing at once: the schema is made or migrated before the first batch. */
  constructor(pool: pg.Pool, o: PostgresOptions, stats: StoreStats, now: () => number) {
    this.pool = pool;
    this.o = o;
    this.stats = stats;
    this.now = now;
    this.ids = new SeriesIds(pool, o.seriesPerApp, stats, now);
    this.rollUps = new RollUps(pool);
    this.kick();
  }

  add(s: ClosedStep): void {
    this.batch.add(s);
  }

  flush(through: number): void {
    const b = this.batch;
    if (b.series.length === 0 && this.releases.app.length === 0) return;
    b.through = through;
    this.batch = new Batch();
    if (b.series.length > 0) {
      this.queue.push(b);
      this.stats.queueBytes += b.bytes;
      // Past the bound the oldest batches go, counted: the newest are what a chart shows next.
      while (this.stats.queueBytes > this.o.queueBytes && this.queue.length > 1) {
        const old = this.queue.shift() as Batch;
        this.stats.queueBytes -= old.bytes;
        this.stats.dropped += old.series.length;
      }
    }
    this.kick();
  }

  release(r: Release): void {
    // Bounded as a batch is: a release line is rare, a flood of them is one app's problem.
    if (this.releases.app.length >= 1000) return;
    this.releases.app.push(r.app);
    this.releases.t.push(r.t);
    this.releases.text.push(r.text);
    this.kick();
  }

  /** Starts the writer unless it runs; wakes it from a backoff sleep. */
  private kick(): void {
    if (this.wake !== null && this.stats.up) this.wake();
    if (this.pumping === null) {
      this.pumping = this.pump().finally(() => {
        this.pumping = null;
        if (!this.stopping && (this.queue.length > 0 || !this.ready)) this.kick();
      });
    }
  }

  private async pump(): Promise<void> {
    let backoff = RETRY_MIN_MS;
    for (;;) {
      try {
        if (!this.ready) await this.prepare();
        if (this.releases.app.length > 0) await this.writeReleases();
        const b = this.queue[0];
        if (b === undefined) {
          if (this.now() - this.lastRetention > RETENTION_MS) {
            this.lastRetention = this.now();
            await deleteExpired(this.pool, Math.floor(this.now() / 1000));
          }
          this.up();
          return;
        }
        const written = await writeBatch(this.pool, this.receiver, b, this.ids, this.rollUps);
        this.stats.written += written;
        if (b.through > this.doneThrough) this.doneThrough = b.through;
        this.queue.shift();
        this.stats.queueBytes -= b.bytes;
        await this.rollUps.run(this.receiver, b.through);
        this.up();
        backoff = RETRY_MIN_MS;
      } catch (err) {
        this.down(err as Error);
        if (this.stopping) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          timer.unref();
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
        backoff = Math.min(RETRY_MAX_MS, backoff * 2);
      }
    }
  }

  private up(): void {
    this.stats.up = true;
    if (this.saidDown) {
      this.saidDown = false;
      this.o.log.info('history database back', { waiting_steps: this.queue.reduce((n, b) => n + b.series.length, 0), dropped_steps: this.stats.dropped });
    }
  }

  private down(err: Error): void {
    this.stats.up = false;
    if (!this.saidDown) {
      this.saidDown = true;
      this.o.log.warn('history database away, steps wait in memory', { error: err.message.replace(/\s+/g, ' ').slice(0, 200) });
    }
  }

  /** Makes or migrates the schema, and learns this receiver's id. */
  private async prepare(): Promise<void> {
    const c = await this.pool.connect();
    try {
      const at = await migrate(c);
      if (at < MIGRATIONS.length) this.o.log.info('history schema migrated', { from: at, to: MIGRATIONS.length });
      const id = await c.query<{ id: number }>('INSERT INTO drainmeter_receivers (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id', [this.o.instance]);
      this.receiver = id.rows[0].id;
      // What this receiver wrote before a restart and had not rolled up yet.
      await this.rollUps.catchUp(c, this.receiver, Math.floor(this.now() / 1000));
      this.ready = true;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
    if (this.rollUps.pending) await this.rollUps.run(this.receiver, Math.floor(this.now() / 1000));
  }

  private async writeReleases(): Promise<void> {
    const r = this.releases;
    await this.pool.query('INSERT INTO drainmeter_releases (app, t, text) SELECT * FROM unnest($1::text[], $2::integer[], $3::text[]) ON CONFLICT DO NOTHING', [r.app, r.t, r.text]);
    this.releases = { app: [], t: [], text: [] };
  }

  /** The newest `through` whose steps are all written (this receiver's), or null while steps wait or none is. */
  writtenThrough(): number | null {
    return Number.isFinite(this.doneThrough) && this.queue.length === 0 ? this.doneThrough : null;
  }

  /** Writes what waits while the deadline allows, then stops the loop and rolls up what it wrote. */
  async stop(deadline: number): Promise<void> {
    // Whatever waits is written while the deadline allows, the database away or not.
    while (Date.now() < deadline && (this.queue.length > 0 || this.releases.app.length > 0 || this.pumping !== null)) {
      this.kick();
      this.wake?.();
      await Promise.race([this.pumping, new Promise((r) => setTimeout(r, 100))]);
    }
    this.stopping = true;
    this.wake?.();
    await byDeadline(this.pumping, deadline);
    // The minutes and hour this receiver wrote into so far, rolled up as they stand: a
    // receiver that does not come back (scaled down) still has its last hour in the
    // 1 min and 1 h tiers. One that does recomputes them from its rows (start's catch-up).
    if (this.pumping === null && this.stats.up && this.queue.length === 0 && Date.now() < deadline) {
      await byDeadline(this.rollUps.run(this.receiver, Infinity).catch(() => {}), deadline);
    }
  }
}

/** Waits for `p`, or until `deadline` (epoch ms) if that comes first; leaves no timer behind. */
async function byDeadline(p: Promise<unknown> | null, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
  } finally {
    clearTimeout(timer);
  }
}
