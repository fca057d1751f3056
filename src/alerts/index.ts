// Alerts evaluated by drainmeter itself (docs/alerts.md): the options, and the
// running whole: the evaluator on an aggregator's closed windows, the notifiers, the
// store (PostgreSQL with DATABASE_URL, Redis when joined, else a local file) and its lease, the /alerts JSON and
// the self-metrics.

import type { Aggregator } from '../aggregate/index.js';
import type { Logger } from '../log.js';
import { type ByteWriter, labelPairs, writeHeader, writeSample } from '../outlets/exposition.js';
import { type Entry, Evaluator, type Transition } from './evaluator.js';
import { Notifiers } from './notify.js';
import { PostgresAlertStore } from './postgres-store.js';
import { RedisStore } from './redis-store.js';
import type { AlertSettings } from './options.js';
import { type AlertStore, FileStore, RECENT, type Recorded } from './store.js';

export { ALERT_OPTIONS, type AlertSettings, configureAlerts, readRules } from './options.js';
export { parseRules, type RuleSet } from './rules.js';

/** The store's lease is taken or renewed this often, ms. */
export const LEASE_RENEW_MS = 5_000;

export interface AlertsDeps {
  aggregator: Aggregator;
  log: Logger;
  now: () => number;
  /** Redis joining receivers ('' for none): state and lease live there. */
  redisUrl: string;
  /** PostgreSQL (DATABASE_URL; '' or absent for none): state and lease live there, before Redis. */
  databaseUrl?: string;
  instance: string;
}

function iso(s: number): string | null {
  return s > 0 ? new Date(s * 1000).toISOString() : null;
}

export class Alerts {
  readonly evaluator: Evaluator;
  readonly notifiers: Notifiers;
  readonly store: AlertStore;
  private readonly log: Logger;
  private lastWrite: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  /** What the store holds, as a process without the lease last read it. */
  private shared: Entry[] = [];
  /** Firing and resolve notifications, for the self-metric. */
  readonly transitions = { firing: 0, resolved: 0 };

  constructor(settings: AlertSettings, deps: AlertsDeps, store?: AlertStore) {
    this.log = deps.log;
    this.store = store ?? (deps.databaseUrl ? new PostgresAlertStore(deps.databaseUrl, deps.instance, deps.log) : deps.redisUrl !== '' ? new RedisStore(deps.redisUrl, deps.instance, deps.log) : new FileStore(settings.stateFile));
    this.notifiers = new Notifiers(settings.rules.notifiers, deps.now, deps.log);
    this.evaluator = new Evaluator(settings.rules.rules, deps.aggregator.options.resolution, {
      persist: (key, e) => {
        this.lastWrite = this.store.put(key, e === null ? null : { ...e });
      },
      // Sent once the entry saying it is owed has been kept.
      notify: (t) => this.lastWrite.then(() => this.notifiers.send(t)),
      record: (t) => this.record(t),
    });
    this.evaluator.active = false;
    this.evaluator.sliced = true;
    deps.aggregator.onClose((c) => this.evaluator.window(c));
    deps.aggregator.onAdvance((through) => {
      this.evaluator.advance(through);
      if (this.evaluator.active) this.notifiers.resend(this.evaluator.firing());
    });
  }

  /** Takes the lease if it can (and its state with it), then keeps checking. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), LEASE_RENEW_MS);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const held = await this.store.lease();
    if (held && !this.evaluator.active) {
      try {
        this.evaluator.restore(await this.store.load());
      } catch (err) {
        this.log.warn('alert state not read; trying again', { error: (err as Error).message });
        return;
      }
      this.evaluator.active = true;
      this.log.info('alerts: evaluating', { store: this.store.name, rules: this.evaluator.rules.length });
    } else if (!held && this.evaluator.active) {
      this.evaluator.active = false;
      this.log.warn('alerts: lease lost, another receiver evaluates', { store: this.store.name });
    }
    if (!held) this.shared = await this.store.entries();
  }

  private record(t: Transition): void {
    this.transitions[t.state]++;
    this.store.record({ alert: t.rule.name, app: t.app, labels: t.labels, state: t.state, value: t.value, at: t.at });
  }

  /** Each alert this reader may see (one app's, or all), as the evaluator or the store knows it. */
  private visible(scope: string | null): Entry[] {
    const out: Entry[] = [];
    if (this.evaluator.active) {
      for (const { alert } of this.evaluator.alerts()) if (scope === null || alert.entry.app === scope) out.push(alert.entry);
    } else {
      for (const e of this.shared) if (scope === null || e.app === scope) out.push(e);
    }
    return out;
  }

  /** GET /alerts: the rules, each alert's state, value and since, and the recent transitions. */
  async json(scope: string | null): Promise<string> {
    // Without the lease, what the holder last kept (read now, not at the last lease check).
    if (!this.evaluator.active) this.shared = await this.store.entries();
    const recent = (await this.store.recent()).filter((r: Recorded) => scope === null || r.app === scope).slice(0, RECENT);
    const rules = this.evaluator.rules
      .map((c) => c.rule)
      .filter((r) => scope === null || r.app === null || r.app === scope)
      .map((r) => ({ name: r.name, app: r.app, metric: r.metric, stat: r.op === 'absent' ? 'absent' : r.stat, op: r.op, threshold: r.threshold, over: r.overS, for: r.forS, rearm: r.rearmS, each: r.each, notify: r.notify }));
    const alerts = this.visible(scope).map((e) => ({ alert: e.rule, app: e.app, labels: e.labels, state: e.state, value: e.value, since: iso(e.since), fired_at: iso(e.firedAt) }));
    return JSON.stringify({
      evaluator: { active: this.evaluator.active, store: this.store.name, evaluated_to: iso(this.evaluator.evaluatedTo) },
      rules,
      alerts,
      recent: recent.map((r) => ({ ...r, at: iso(r.at) })),
    });
  }

  /** The self-metrics, for /metrics of one app's reader or (null) all. */
  writeMetrics(out: ByteWriter, scope: string | null, om: boolean): void {
    const counts = new Map<string, { pending: number; firing: number }>();
    for (const c of this.evaluator.rules) if (scope === null || c.rule.app === null || c.rule.app === scope) counts.set(c.rule.name, { pending: 0, firing: 0 });
    for (const e of this.visible(scope)) {
      const n = counts.get(e.rule);
      if (n !== undefined && e.state !== 'inactive') n[e.state]++;
    }
    writeHeader(out, 'drainmeter_alerts', 'Alerts pending (the condition holds, not yet for `for`) and firing, by rule.', 'gauge', om);
    for (const [alert, n] of counts) {
      writeSample(out, 'drainmeter_alerts', labelPairs([['alert', alert], ['state', 'pending']]), n.pending);
      writeSample(out, 'drainmeter_alerts', labelPairs([['alert', alert], ['state', 'firing']]), n.firing);
    }
    if (scope !== null) return;
    writeHeader(out, 'drainmeter_alert_evaluator', '1 while this process evaluates the alerts (holds the lease), else 0.', 'gauge', om);
    writeSample(out, 'drainmeter_alert_evaluator', '', this.evaluator.active ? 1 : 0);
    writeHeader(out, 'drainmeter_alert_transitions_total', 'Alerts that fired or resolved here.', 'counter', om);
    writeSample(out, 'drainmeter_alert_transitions_total', 'state="firing"', this.transitions.firing);
    writeSample(out, 'drainmeter_alert_transitions_total', 'state="resolved"', this.transitions.resolved);
    writeHeader(out, 'drainmeter_alert_notifications_total', 'Notifications by notifier: sent (taken by the receiver) or dropped (refused, or failing past the retry time).', 'counter', om);
    for (const [name, c] of this.notifiers.channels) {
      writeSample(out, 'drainmeter_alert_notifications_total', labelPairs([['notifier', name], ['outcome', 'sent']]), c.stats.samples);
      writeSample(out, 'drainmeter_alert_notifications_total', labelPairs([['notifier', name], ['outcome', 'dropped']]), c.stats.dropped);
    }
    writeHeader(out, 'drainmeter_alert_notification_failures_total', 'Failed notification attempts by notifier and reason; 5xx, 429 and network errors are retried.', 'counter', om);
    for (const [name, c] of this.notifiers.channels) {
      for (const [reason, n] of c.stats.failures) writeSample(out, 'drainmeter_alert_notification_failures_total', labelPairs([['notifier', name], ['reason', reason]]), n);
    }
    writeHeader(out, 'drainmeter_alert_refused_total', 'Alerts not made: their steps would pass the bound on alert memory.', 'counter', om);
    writeSample(out, 'drainmeter_alert_refused_total', '', this.evaluator.refused);
  }

  /** Sends what is queued by the deadline, lets the lease go. */
  async stop(deadline: number): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.lastWrite;
    await this.notifiers.flush(deadline);
    await this.store.close();
  }
}
