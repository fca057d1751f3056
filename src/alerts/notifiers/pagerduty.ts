// PagerDuty Events API v2 (POST https://events.pagerduty.com/v2/enqueue): a trigger
// with payload.summary (≤ 1024 characters), source and severity, and a resolve with
// the same dedup_key, stable for an alert (≤ 255 characters: a hash when longer).

import { createHash } from 'node:crypto';
import type { Transition } from '../evaluator.js';
import { iso, labelText, summary } from './text.js';

export function dedupKey(t: Transition): string {
  const key = `drainmeter/${t.rule.name}/${t.app}${labelText(t.labels)}`;
  return key.length <= 255 ? key : `drainmeter/${createHash('sha256').update(key).digest('hex')}`;
}

export function pagerdutyBody(t: Transition, routingKey: string): unknown {
  if (t.state === 'resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey(t) };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey(t),
    payload: {
      summary: summary(t).slice(0, 1024),
      source: t.app,
      severity: t.rule.severity,
      timestamp: iso(t.at),
      component: t.rule.metric,
      group: t.app,
      class: t.rule.name,
      custom_details: { labels: t.labels, value: t.value, threshold: t.rule.threshold, stat: t.rule.op === 'absent' ? 'absent' : t.rule.stat, since: iso(t.since) },
    },
  };
}
