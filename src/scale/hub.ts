// Where a dyno's numbers meet (docs/scale-out.md). Receivers (the workers of a dyno, or the
// one process) collect with exporting aggregators and hand their payloads here every
// tick; the hub merges them into the view /metrics shows, decides Frame-Ids, runs the
// push outlets once for the dyno, and, with Redis, sends its payloads to every other
// receiver and merges theirs.
//
// The view closes a window MERGE_MARGIN_S later than a receiver would: a payload
// comes at most one tick after its lines, so a line a receiver took in time is in
// time here too.

import { Alerts } from '../alerts/index.js';
import type { Config } from '../config.js';
import type { HistoryStore } from '../history/index.js';
import type { Logger } from '../log.js';
import { flushOutlets, type Outlet, startOutlets } from '../outlets/index.js';
import { type Look, lookAt } from '../outlets/look.js';
import type { Rendering } from '../outlets/prometheus.js';
import { type Pipeline, pipeline, sweep as sweepPipeline } from '../pipeline.js';
import { type MergeOptions, type MergeTarget, mergeDelta, zeroTotals } from './delta.js';
import { FrameIds } from './frame-ids.js';
import { claimKind, forceKind, type KindDef } from './kinds.js';
import type { RedisLink } from './redis/index.js';

export const MERGE_MARGIN_S = 1;
/** How often receivers hand over what they collected, ms. */
export const HAND_OVER_MS = 250;

function targetOf(p: Pipeline): MergeTarget {
  return { aggregator: p.aggregator, catalog: p.catalog, requests: p.outlet.requests };
}

export class Hub {
  /** What /metrics shows: this dyno's lines, and every other receiver's with Redis. */
  readonly view: Pipeline;
  /** This dyno's lines only, for the push outlets, when Redis brings in others'. */
  private readonly own: Pipeline | null;
  readonly frameIds: FrameIds;
  readonly outlets: Outlet[];
  redis: RedisLink | null = null;
  private readonly log: Logger;
  private readonly now: () => number;
  /** The dashboard's data, from the view's history. */
  readonly look: Look;
  /** Where the dashboard's steps outlive the process (docs/history.md), if anywhere. */
  readonly store: HistoryStore | null;
  /** Payloads that could not be read (a bug, or a foreign writer on our Redis keys). */
  refused = 0;
  /** Alerts, evaluated on the merged view (one evaluator of all receivers holds the lease). */
  readonly alerts: Alerts | null;
  /** Tells this dyno's receivers a claim they must hold (a kind that won elsewhere: kinds.ts). */
  onForce: ((d: KindDef) => void) | null = null;
  /** Series whose changes wait for a later hand-over, by worker (0: this process). */
  readonly waiting = new Map<number, number>();

  constructor(config: Config, log: Logger, now: () => number, joined: boolean, store: HistoryStore | null = null) {
    this.log = log;
    this.now = now;
    this.store = store;
    const merged = { ...config, grace: config.grace + MERGE_MARGIN_S };
    this.view = pipeline(merged, now());
    // Pushes and the store take this dyno's lines only: with Redis the view holds every receiver's.
    this.own = joined && (config.outlets.length > 0 || store !== null) ? pipeline(merged, now(), { history: store !== null }) : null;
    const writer = (this.own ?? this.view).history;
    if (writer !== null) writer.store = store;
    this.frameIds = new FrameIds(this.view.budgets.frameIds, now);
    const pushFrom = this.own ?? this.view;
    this.outlets = startOutlets(config.outlets, {
      aggregator: pushFrom.aggregator,
      quantiles: config.quantiles,
      log,
      now,
      write: (t) => process.stdout.write(t),
    });
    this.view.outlet.pushers = this.outlets;
    this.view.outlet.log = log;
    const looked = lookAt(this.view.history, store, now);
    this.alerts = config.alerts === null ? null : new Alerts(config.alerts, { aggregator: this.view.aggregator, log, now, redisUrl: config.redisUrl, databaseUrl: config.history.databaseUrl, instance: config.instance });
    const alerts = this.alerts;
    if (alerts !== null) {
      this.view.outlet.families.push((out, scope, om) => alerts.writeMetrics(out, scope, om));
      void alerts.start();
    }
    this.look = (what, q) => (what === 'alerts' && alerts !== null ? alerts.json(q.scope) : looked(what, q));
  }

  /** A payload of this dyno's lines: merged here, pushed, and sent to the others. */
  apply(payload: Buffer): void {
    try {
      mergeDelta(targetOf(this.view), payload, { totals: true, windows: true, visitor: this.redis?.visitor });
      if (this.own !== null) mergeDelta(targetOf(this.own), payload);
    } catch (err) {
      this.refused++;
      this.redis?.discard();
      this.log.error('payload refused', { error: (err as Error).message });
      return;
    }
    this.redis?.send(payload);
  }

  /** A payload of another receiver's lines (Redis): merged into the view only. */
  applyRemote(payload: Buffer, parts: MergeOptions): void {
    try {
      mergeDelta(targetOf(this.view), payload, parts);
    } catch (err) {
      this.refused++;
      this.log.error('payload refused', { error: (err as Error).message });
    }
  }

  /**
   * A receiver of this dyno claimed a name for an app (kinds.ts): the first claim
   * wins. Returns the claim that stands when this one lost (the receiver forces
   * it), else null; with Redis, Redis is asked too and may force another kind later.
   */
  claimKind(d: KindDef): KindDef | null {
    const lost = claimKind(this.view, d);
    if (lost !== null) return lost;
    if (this.own !== null) claimKind(this.own, d);
    const redis = this.redis;
    if (redis !== null) {
      redis.claimKind(d).then(
        (stands) => {
          if (stands !== null && stands.kind !== d.kind) this.forceKind(stands);
        },
        () => {}, // Redis away: the payload's script decides (redis/scripts.ts)
      );
    }
    return null;
  }

  /** A claim Redis holds: the view takes it, or forces it over another kind it held. */
  remoteClaim(d: KindDef): void {
    if (claimKind(this.view, d) === null) {
      if (this.own !== null) claimKind(this.own, d);
      return;
    }
    this.forceKind(d);
  }

  /**
   * A claim that won elsewhere (Redis): held in the view and by this dyno's
   * receivers. When the view held another kind, the totals it merged under that are
   * read back from Redis.
   */
  forceKind(d: KindDef): void {
    const dropped = forceKind(this.view, d);
    if (this.own !== null) forceKind(this.own, d);
    this.onForce?.(d);
    if (dropped > 0) {
      this.log.warn('metric kind claimed first by another receiver: its lines here count as type_conflict', { app: d.app, metric: d.name });
      this.redis?.resync();
    }
  }

  /** Series waiting for a later hand-over, every worker together. */
  get waitingSeries(): number {
    let n = 0;
    for (const v of this.waiting.values()) n += v;
    return n;
  }

  /** Why this dyno is not ready yet (the totals not read from Redis), or null. */
  starting(): string | null {
    return this.redis === null ? null : this.redis.starting();
  }

  /** A release line (docs/history.md): kept in the view's history, and in the store. */
  release(app: string, time: number, text: string): void {
    this.view.history?.release(app, time, text);
    this.store?.release({ app, t: Math.floor(time / 1000), text });
  }

  /** Every total of the view to zero (Redis reads them back whole). */
  zeroTotals(): void {
    zeroTotals(targetOf(this.view));
  }

  /** True when the batch id is new for the app everywhere we can tell. */
  claim(app: string, id: string): boolean | Promise<boolean> {
    const tenant = this.view.aggregator.appState(app);
    if (!this.frameIds.claim(tenant, id)) return false;
    return this.redis === null ? true : this.redis.claim(app, id);
  }

  render(scope: string | null, openMetrics: boolean): Promise<Rendering> {
    this.view.aggregator.advance(this.now());
    return this.view.outlet.scrape(scope, { openMetrics });
  }

  tick(): void {
    const t = this.now();
    this.view.aggregator.advance(t);
    this.own?.aggregator.advance(t);
  }

  sweep(): { series: number; apps: number } {
    this.frameIds.purge();
    if (this.own !== null) sweepPipeline(this.own);
    return sweepPipeline(this.view);
  }

  /** Closes every window, flushes the outlets and Redis by the deadline. */
  async stop(deadline: number): Promise<void> {
    const t = this.now();
    for (const p of [this.view, this.own]) {
      if (p === null) continue;
      p.aggregator.advance(t);
      p.aggregator.closeAll();
    }
    await Promise.all([flushOutlets(this.outlets, deadline, this.log), this.redis?.stop(deadline), this.alerts?.stop(deadline), this.store?.stop(deadline)]);
  }
}
