// The alert evaluator (docs/alerts.md). Closed windows come from the aggregator's
// close listener (the line path never sees alerts); each rule keeps, per series or
// per app (`each: all`), the steps of its `over` (slots.ts). When the windows of a
// step boundary have closed (every 10 s) each rule is evaluated, and its alerts move:
//
//   inactive → pending (the condition holds) → firing (it has held for `for`, and
//   `rearm` has passed since the last firing) → inactive (it no longer holds:
//   resolved)
//
// Firing and resolving are transitions, given to `notify`; every change of state is
// given to `persist`, so another evaluator (a restart, or the next lease holder)
// goes on where this one stopped. Times are data times: the end of the last step
// evaluated, epoch s.

import type { Aggregator, ClosedWindow, Series } from '../aggregate/index.js';
import { type Matcher, matches, type Rule } from './rules.js';
import { Steps } from './slots.js';

export type State = 'inactive' | 'pending' | 'firing';

/** What is kept of an alert between evaluators (store.ts). */
export interface Entry {
  rule: string;
  app: string;
  labels: Record<string, string>;
  state: State;
  /** When the condition began to hold (pending or firing), epoch s; 0 when inactive. */
  since: number;
  /** When it last fired, epoch s; 0 never. */
  firedAt: number;
  /** A transition not yet delivered to every notifier. */
  owe: 'firing' | 'resolved' | null;
  value: number | null;
}

/** A firing or a resolve, for the notifiers. */
export interface Transition {
  key: string;
  rule: Rule;
  app: string;
  labels: Record<string, string>;
  state: 'firing' | 'resolved';
  value: number | null;
  since: number;
  /** When it happened, epoch s. */
  at: number;
}

export interface EvaluatorHooks {
  /** Called with each transition; resolves once every notifier has it (or gave up). */
  notify(t: Transition): Promise<void>;
  /** An alert's state changed (null: nothing left to keep). */
  persist(key: string, e: Entry | null): void;
  /** A transition, for the recent history. */
  record(t: Transition): void;
}

/** A sliced evaluation runs this long before it lets the event loop in, ms. */
const SLICE_MS = 8;

/** Bytes every alert's steps may hold together; past it, new alerts are refused and counted. */
export const ALERT_BYTES = 256 * 1024 * 1024;

/** One alert: a rule's series (or an app's merged series), its steps and state. */
export class Alert {
  readonly key: string;
  readonly steps: Steps;
  /** A share's denominator. */
  readonly base: Steps | null;
  entry: Entry;
  /** Bytes charged when it was made (the bound counts these). */
  charged = 0;
  /** Dropped (idle and inactive): a series still pointing here finds its alert again. */
  gone = false;

  constructor(key: string, rule: Rule, app: string, labels: Record<string, string>, step: number) {
    this.key = key;
    this.steps = new Steps(rule.overS, step, { quantiles: rule.q >= 0 });
    this.base = rule.of === null ? null : new Steps(rule.overS, step, { quantiles: false });
    this.entry = { rule: rule.name, app, labels, state: 'inactive', since: 0, firedAt: 0, owe: null, value: null };
  }

  get bytes(): number {
    return this.steps.bytes + (this.base?.bytes ?? 0) + 200;
  }
}

/** A rule and its alerts. */
class Compiled {
  readonly rule: Rule;
  readonly alerts = new Map<string, Alert>();
  /** Per series: the alert it feeds, the share's base it feeds, or neither. */
  readonly bySeries = new WeakMap<Series, { alert: Alert | null; base: Alert | null }>();

  constructor(rule: Rule) {
    this.rule = rule;
  }
}

function labelValue(s: Series): (label: string) => string {
  return (label) => {
    const i = s.metric.labels.indexOf(label);
    return i === 0 ? s.label1 : i === 1 ? s.label2 : '';
  };
}

export function alertKey(rule: string, app: string, labels: Record<string, string>): string {
  return `${rule}\u0000${app}\u0000${Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;
}

export class Evaluator {
  readonly rules: Compiled[];
  private readonly byMetric = new Map<string, Compiled[]>();
  readonly step: number;
  private readonly hooks: EvaluatorHooks;
  /** Bytes the alerts' steps hold (estimated at creation). */
  bytes = 0;
  /** Alerts not made: the byte bound was reached. */
  refused = 0;
  /** Whether this evaluator moves alerts (it holds the lease, or there is no other). */
  active = true;
  /** The first closed-through second seen: a rule is evaluated once its `over` lies after it. */
  private startedAt = -1;
  /** The end of the last step evaluated, epoch s. */
  evaluatedTo = -1;
  /** Evaluations run. */
  evaluations = 0;

  constructor(rules: readonly Rule[], resolution: number, hooks: EvaluatorHooks) {
    this.step = resolution <= 10 && 10 % resolution === 0 ? 10 : resolution <= 30 ? 30 : 60;
    this.hooks = hooks;
    this.rules = rules.map((r) => new Compiled(r));
    for (const c of this.rules) {
      const names = [c.rule.metric];
      if (!c.rule.metric.endsWith('_total')) names.push(`${c.rule.metric}_total`);
      for (const n of names) this.byMetric.set(n, [...(this.byMetric.get(n) ?? []), c]);
      // An app named with nothing to tell series apart: one alert from the start, so
      // an app never seen is absent too.
      if (c.rule.app !== null && (c.rule.each === 'all' || c.rule.op === 'absent')) this.alertOf(c, c.rule.app, {});
    }
  }

  /** Listens to the aggregator's closed windows and clock. */
  attach(aggregator: Aggregator): void {
    aggregator.onClose((c) => this.window(c));
    aggregator.onAdvance((through) => this.advance(through));
  }

  /** A closed window: into the steps of every alert its series feeds. */
  window(c: ClosedWindow): void {
    const list = this.byMetric.get(c.series.metric.name);
    if (list === undefined) return;
    for (const compiled of list) {
      let fed = compiled.bySeries.get(c.series);
      if (fed === undefined || fed.alert?.gone === true || fed.base?.gone === true) {
        fed = this.feeds(compiled, c.series);
        compiled.bySeries.set(c.series, fed);
      }
      fed.alert?.steps.add(c);
      fed.base?.base?.add(c);
    }
  }

  private feeds(c: Compiled, s: Series): { alert: Alert | null; base: Alert | null } {
    const r = c.rule;
    const app = s.app.name;
    if (r.app !== null && r.app !== app) return { alert: null, base: null };
    const value = labelValue(s);
    const hit = matches(r.where, value);
    if (r.each === 'all') {
      const inBase = r.of !== null && matches(r.of, value);
      if (!hit && !inBase) return { alert: null, base: null };
      const a = this.alertOf(c, app, {});
      return { alert: hit ? a : null, base: inBase ? a : null };
    }
    if (!hit) return { alert: null, base: null };
    const labels: Record<string, string> = {};
    for (let i = 0; i < s.metric.labels.length; i++) {
      const v = i === 0 ? s.label1 : s.label2;
      if (v !== '') labels[s.metric.labels[i]] = v;
    }
    // The placeholder of an app never seen gives way to its first real series.
    if (r.op === 'absent' && Object.keys(labels).length > 0) {
      const placeholder = c.alerts.get(alertKey(r.name, app, {}));
      if (placeholder !== undefined && placeholder.entry.state === 'inactive' && placeholder.steps.lastEnd < 0) this.drop(c, placeholder);
    }
    return { alert: this.alertOf(c, app, labels), base: null };
  }

  private alertOf(c: Compiled, app: string, labels: Record<string, string>): Alert | null {
    const key = alertKey(c.rule.name, app, labels);
    let a = c.alerts.get(key);
    if (a !== undefined) return a;
    a = new Alert(key, c.rule, app, labels, this.step);
    if (this.bytes + a.bytes > ALERT_BYTES) {
      this.refused++;
      return null;
    }
    a.charged = a.bytes;
    this.bytes += a.charged;
    c.alerts.set(key, a);
    return a;
  }

  private drop(c: Compiled, a: Alert): void {
    c.alerts.delete(a.key);
    this.bytes -= a.charged;
    a.gone = true;
  }

  /**
   * Set (serve): an evaluation lets the event loop in every SLICE_MS, so drains are
   * answered during a long one (bench/README.md: 1,000 rules on 100,000 series).
   * Unset (tests, benchmarks): it runs through at once.
   */
  sliced = false;
  /** An evaluation in slices is running. */
  private running = false;

  /** The windows ending at or before `through` have closed: evaluates at each new step boundary. */
  advance(through: number): void {
    if (!Number.isFinite(through)) return;
    if (this.startedAt < 0) this.startedAt = through;
    const to = Math.floor(through / this.step) * this.step;
    // A boundary reached while a sliced evaluation runs waits for the next one.
    if (to <= this.evaluatedTo || this.running) return;
    this.evaluatedTo = to;
    if (!this.active) return;
    if (this.sliced) void this.evaluateSliced(to);
    else this.evaluate(to);
  }

  /** Evaluates every rule over the steps that end at `to` (epoch s, a step boundary). */
  evaluate(to: number): void {
    this.evaluations++;
    for (const c of this.rules) this.evaluateRule(c, to);
  }

  private async evaluateSliced(to: number): Promise<void> {
    this.running = true;
    try {
      this.evaluations++;
      let slice = performance.now();
      for (const c of this.rules) {
        this.evaluateRule(c, to);
        if (performance.now() - slice > SLICE_MS) {
          await new Promise((r) => setImmediate(r));
          slice = performance.now();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private evaluateRule(c: Compiled, to: number): void {
    // Until the evaluator has watched a whole `over`, it knows too little to say.
    if (to - c.rule.overS < this.startedAt || !this.active) return;
    for (const a of c.alerts.values()) this.move(c, a, to);
  }

  /** The value of an alert at `to`: the stat (or the share, or seconds since the last line for absent). */
  value(r: Rule, a: Alert, to: number): number | null {
    if (r.op === 'absent') return a.steps.lastEnd < 0 ? null : to - a.steps.lastEnd;
    const v = a.steps.stat(r.stat, r.q, to, r.overS);
    if (a.base === null) return v;
    const b = a.base.stat(r.stat, r.q, to, r.overS);
    return b > 0 ? v / b : NaN;
  }

  private move(c: Compiled, a: Alert, to: number): void {
    const r = c.rule;
    const e = a.entry;
    const value = this.value(r, a, to);
    e.value = value === null || Number.isNaN(value) ? null : value;
    const holds = r.op === 'absent' ? value === null || value >= r.threshold : value !== null && (r.op === 'above' ? value > r.threshold : value < r.threshold);
    const before = e.state;
    if (holds) {
      if (e.state === 'inactive') {
        e.state = 'pending';
        e.since = to;
      }
      if (e.state === 'pending' && to - e.since >= r.forS && (e.firedAt === 0 || to - e.firedAt >= r.rearmS)) {
        e.state = 'firing';
        e.firedAt = to;
      }
    } else if (e.state === 'firing') {
      e.state = 'inactive';
    } else if (e.state === 'pending') {
      e.state = 'inactive';
      e.since = 0;
    }
    if (e.state === before) {
      // nothing moved
    } else if (e.state === 'firing' || before === 'firing') {
      // Kept (with what is owed) before it is sent: a crash between the two sends it again, never loses it.
      const t = this.transition(c, a, e.state === 'firing' ? 'firing' : 'resolved', to);
      this.hooks.persist(a.key, this.kept(r, e, to) ? e : null);
      this.deliver(c, a, t);
      if (e.state === 'inactive') e.since = 0;
    } else this.hooks.persist(a.key, this.kept(r, e, to) ? e : null);
    // An alert without data for its whole span, and nothing to keep, goes (its series will make it again).
    if (e.state === 'inactive' && e.owe === null && !this.kept(r, e, to) && r.op !== 'absent' && r.of === null && !(r.app !== null && r.each === 'all') && a.steps.idleSince(to - r.overS - this.step)) {
      this.drop(c, a);
    }
  }

  /** Whether an entry says anything another evaluator needs: a state, a debt, or a rearm still running. */
  private kept(r: Rule, e: Entry, to: number): boolean {
    return e.state !== 'inactive' || e.owe !== null || (e.firedAt > 0 && to - e.firedAt < r.rearmS);
  }

  private transition(c: Compiled, a: Alert, state: 'firing' | 'resolved', at: number): Transition {
    const e = a.entry;
    const t: Transition = { key: a.key, rule: c.rule, app: e.app, labels: e.labels, state, value: e.value, since: e.since, at };
    e.owe = state;
    this.hooks.record(t);
    return t;
  }

  private deliver(c: Compiled, a: Alert, t: Transition): void {
    const e = a.entry;
    this.hooks.notify(t).then(() => {
      if (e.owe !== t.state) return;
      e.owe = null;
      this.hooks.persist(a.key, this.kept(c.rule, e, this.evaluatedTo) ? e : null);
    });
  }

  /**
   * Takes over stored entries (a restart, or the lease changing hands): each becomes
   * its alert's state, and a transition still owed is sent again.
   */
  restore(entries: Iterable<Entry>): void {
    const byName = new Map(this.rules.map((c) => [c.rule.name, c]));
    for (const { alert } of this.alerts()) alert.entry = { ...alert.entry, state: 'inactive', since: 0, firedAt: 0, owe: null };
    for (const stored of entries) {
      const c = byName.get(stored.rule);
      if (c === undefined) continue; // a rule since removed
      const a = this.alertOf(c, stored.app, stored.labels);
      if (a === null) continue;
      a.entry = { ...stored };
      if (stored.owe !== null) {
        const t: Transition = { key: a.key, rule: c.rule, app: stored.app, labels: stored.labels, state: stored.owe, value: stored.value, since: stored.since, at: stored.owe === 'firing' ? stored.firedAt : this.evaluatedTo };
        this.deliver(c, a, t);
      }
    }
  }

  /** Every alert, by rule. */
  *alerts(): Generator<{ rule: Rule; alert: Alert }> {
    for (const c of this.rules) for (const a of c.alerts.values()) yield { rule: c.rule, alert: a };
  }

  /** Alerts currently firing (for the Alertmanager's re-sends). */
  *firing(): Generator<Transition> {
    for (const { rule, alert } of this.alerts()) {
      const e = alert.entry;
      if (e.state === 'firing') yield { key: alert.key, rule, app: e.app, labels: e.labels, state: 'firing', value: e.value, since: e.since, at: e.firedAt };
    }
  }
}

export type { Matcher };
