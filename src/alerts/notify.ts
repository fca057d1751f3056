// Delivery: one queue per notifier (outlets/push.ts's PushQueue: in order, bounded
// in bytes, retried with backoff on 5xx, 429 and network errors, dropped and counted
// on other 4xx or after MAX_RETRY_MS). Posting never blocks anything: the evaluator
// is told when every notifier of a transition is done with it.

import type { Logger } from '../log.js';
import { PushStats } from '../outlets/outlet.js';
import { type Outcome, type Pending, postBody, PushQueue } from '../outlets/push.js';
import type { Transition } from './evaluator.js';
import { alertmanagerBody, RESEND_MS } from './notifiers/alertmanager.js';
import { pagerdutyBody } from './notifiers/pagerduty.js';
import { slackBody } from './notifiers/slack.js';
import { webhookBody } from './notifiers/webhook.js';
import type { Notifier } from './rules.js';

/** Bytes of notifications one notifier may hold waiting. */
const QUEUE_BYTES = 4 * 1024 * 1024;
/** A notification failing for longer than this is dropped and counted. */
export const NOTIFY_RETRY_MS = 10 * 60_000;
const TIMEOUT_MS = 10_000;

interface Item extends Pending {
  body: Buffer;
  done: () => void;
}

/** The request body a notifier sends for a transition. */
export function bodyFor(n: Notifier, t: Transition, nowMs: number): unknown {
  switch (n.kind) {
    case 'slack':
      return slackBody(t);
    case 'webhook':
      return webhookBody(t);
    case 'pagerduty':
      return pagerdutyBody(t, n.routingKey);
    case 'alertmanager':
      return alertmanagerBody(t, nowMs);
  }
}

class Channel {
  readonly stats = new PushStats();
  readonly queue: PushQueue<Item>;

  constructor(
    readonly notifier: Notifier,
    private readonly now: () => number,
    retryMs: number,
  ) {
    this.queue = new PushQueue<Item>(this.stats, { queueBytes: QUEUE_BYTES, maxRetryMs: retryMs }, now, (p) => this.post(p, retryMs));
  }

  private async post(p: Item, retryMs: number): Promise<Outcome> {
    const r = await postBody(this.notifier.url, { 'Content-Type': 'application/json', 'User-Agent': 'drainmeter' }, p.body, TIMEOUT_MS, this.stats);
    const outcome: Outcome = r === null || r.status === 429 || r.status >= 500 ? 'retry' : r.status >= 200 && r.status < 300 ? 'ok' : 'drop';
    if (outcome !== 'retry' || this.now() - p.since > retryMs) p.done();
    return outcome;
  }

  send(body: unknown, done: () => void): void {
    const bytes = Buffer.from(JSON.stringify(body));
    const item: Item = { body: bytes, bytes: bytes.length, samples: 1, since: this.now(), attempts: 0, done };
    this.queue.add(item);
    if (!this.queue.items.includes(item)) done(); // the queue was full: dropped and counted
  }
}

export class Notifiers {
  readonly channels = new Map<string, Channel>();
  private readonly now: () => number;
  private readonly log: Logger;
  private lastResend = 0;

  constructor(notifiers: ReadonlyMap<string, Notifier>, now: () => number, log: Logger, retryMs = NOTIFY_RETRY_MS) {
    this.now = now;
    this.log = log;
    this.lastResend = now();
    for (const [name, n] of notifiers) this.channels.set(name, new Channel(n, now, retryMs));
  }

  /** Queues a transition to each of its rule's notifiers; resolves when all are done with it. */
  send(t: Transition): Promise<void> {
    this.log.info(`alert ${t.state}`, { alert: t.rule.name, app: t.app, value: t.value ?? 'null', labels: JSON.stringify(t.labels) });
    const all = t.rule.notify.map(
      (name) =>
        new Promise<void>((resolve) => {
          const c = this.channels.get(name);
          if (c === undefined) return resolve();
          c.send(bodyFor(c.notifier, t, this.now()), resolve);
        }),
    );
    return Promise.all(all).then(() => undefined);
  }

  /** Alertmanager forgets an alert not sent again: every RESEND_MS, the firing ones again. */
  resend(firing: Iterable<Transition>): void {
    const now = this.now();
    if (now - this.lastResend < RESEND_MS) return;
    this.lastResend = now;
    for (const t of firing) {
      for (const name of t.rule.notify) {
        const c = this.channels.get(name);
        if (c?.notifier.kind === 'alertmanager') c.send(bodyFor(c.notifier, t, now), () => {});
      }
    }
  }

  async flush(deadline: number): Promise<void> {
    await Promise.all([...this.channels.values()].map((c) => c.queue.flush(deadline)));
  }
}
