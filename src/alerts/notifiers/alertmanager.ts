// Alertmanager's v2 API (POST /api/v2/alerts): a list of alerts with labels
// (alertname, app and the series' labels), annotations, startsAt and endsAt. A
// firing alert carries an endsAt ahead (RESEND_MS × 4, as Prometheus does) and is
// sent again every RESEND_MS while it fires; a resolve sends endsAt = now.

import type { Transition } from '../evaluator.js';
import { iso, statName, summary } from './text.js';

/** A firing alert is sent again this often, ms. */
export const RESEND_MS = 60_000;

export function alertmanagerBody(t: Transition, nowMs: number): unknown {
  const labels: Record<string, string> = { ...t.labels, alertname: t.rule.name, app: t.app, severity: t.rule.severity };
  return [
    {
      labels,
      annotations: {
        summary: summary(t),
        value: t.value === null ? 'null' : String(t.value),
        threshold: String(t.rule.threshold),
        stat: statName(t),
      },
      startsAt: iso(t.since),
      endsAt: t.state === 'firing' ? new Date(nowMs + 4 * RESEND_MS).toISOString() : new Date(nowMs).toISOString(),
    },
  ];
}
